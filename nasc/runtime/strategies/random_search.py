"""Random search (AutoPI-R, and AMEIR App. C.4's Random): children drawn uniformly from the space
with a seeded generator, each trained from scratch for the strategy's budget of epochs, the best
by validation logloss (or AUC) kept. App. C.4's form: `seconds` stops the drawing at a time
budget and `top` trains the best few again in full (nasc.runtime.strategies.finalists).
Children already trained are not trained again on resume: after each child one atomic checkpoint
holds the rows of all trained so far (children.json is its view).
"""
from __future__ import annotations

import random

from nasc.compiler.sampling import sample_assignment
from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.train import TrainConfig
from nasc.runtime.strategies import finalists
from nasc.runtime.strategies.common import (SearchContext, assignment_key, export_best_so_far,
                                            from_json, sort_key, train_child)


# Consecutive draws that repeat a child already drawn before the space counts as exhausted.
REDRAWS = 1000


def children(ctx: SearchContext) -> list[dict]:
    return distinct_draws(ctx, ctx.settings["children"])


def distinct_draws(ctx: SearchContext, count: int) -> list[dict]:
    """``count`` distinct architectures: the run's start architectures (``--start``) first,
    then draws made uniformly in order from one seeded stream, a draw equal to an earlier child
    redrawn (the first draws are those of plain sampling). A space with fewer architectures than
    ``count`` gives all it has."""
    rng = random.Random(ctx.seed)
    names = [f.name for f in ctx.dataset.schema.fields]
    drawn, repeats = list(ctx.starts), 0
    seen = {assignment_key(a) for a in drawn}
    while len(drawn) < count and repeats < REDRAWS:
        assignment = sample_assignment(ctx.program, rng, names)
        key = assignment_key(assignment)
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        drawn.append(assignment)
        repeats = 0
    return drawn


def search(ctx: SearchContext) -> dict:
    s = ctx.settings
    monitor = s["monitor"]
    saved = SearchCheckpoint(ctx, finalists.views)
    state = saved.load() if ctx.resume else None
    done = state["history"] if state else []
    config = TrainConfig.from_settings(ctx.program.train, epochs=s["epochs"], batch=s["batch"],
                                       seed=ctx.seed, device=str(ctx.device), monitor=monitor)
    drawn = children(ctx)
    if len(drawn) < s["children"] and ctx.show_progress:
        print(f"the space holds {len(drawn)} distinct architectures: training all of them "
              f"(children {s['children']} asked for)", flush=True)
    for n, assignment in enumerate(drawn):
        if n < len(done):
            continue
        if finalists.out_of_time(done, s["seconds"]):
            break
        done.append({"child": n, **train_child(ctx, assignment, config, n)})
        saved.save({"done": len(done), "history": done})
        best = min(done, key=lambda r: sort_key(monitor)(r["valid"]))
        export_best_so_far(ctx, from_json(best["choices"]), f"child {n + 1} of {len(drawn)}")
        if ctx.show_progress:
            valid = done[-1]["valid"]
            print(f"child {n} ({n + 1} of {len(drawn)}): valid auc {valid['auc']:.5f} "
                  f"logloss {valid['logloss']:.5f}", flush=True)
    best, notes = finalists.best_child(ctx, done, monitor, state, lambda rows: saved.save(
        {"done": len(done), "history": done, "finalists": rows}))
    ctx.record.update({"strategy": "random", "children": len(done), "best_child": best["child"],
                       f"best_valid_{monitor}": round(best["valid"][monitor], 6), **notes})
    return from_json(best["choices"])
