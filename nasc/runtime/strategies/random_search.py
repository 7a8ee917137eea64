"""Random search (AutoPI-R, and AMEIR App. C.4's Random): children drawn uniformly from the space
with a seeded generator, each trained from scratch for the strategy's budget of epochs, the best
by validation logloss (or AUC) kept. Children already trained are not trained again on resume:
after each child one atomic checkpoint holds the rows of all trained so far (children.json is its
view).
"""
from __future__ import annotations

import random

import torch

from nasc.compiler.fix import fix_spec
from nasc.compiler.sampling import sample_assignment
from nasc.compiler.frontend import compile_text
from nasc.compiler.printer import print_spec
from nasc.runtime.model import build_fixed
from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.train import TrainConfig, train_model
from nasc.runtime.strategies.common import SearchContext, from_json, jsonable, sort_key


def children(ctx: SearchContext) -> list[dict]:
    rng = random.Random(ctx.seed)
    names = [f.name for f in ctx.dataset.schema.fields]
    return [sample_assignment(ctx.program, rng, names) for _ in range(ctx.settings["children"])]


def search(ctx: SearchContext) -> dict:
    s = ctx.settings
    monitor = s["monitor"]
    saved = SearchCheckpoint(ctx, lambda state: {"children.json": state["history"]})
    state = saved.load() if ctx.resume else None
    done = state["history"] if state else []
    config = TrainConfig.from_settings(ctx.program.train, epochs=s["epochs"], batch=s["batch"],
                                       seed=ctx.seed, device=str(ctx.device), monitor=monitor)
    for n, assignment in enumerate(children(ctx)):
        if n < len(done):
            continue
        fixed = fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)
        _, program = compile_text(print_spec(fixed), f"{ctx.spec_path}#child{n}")
        # Seeded as `nasc train` seeds: a child's init must not depend on what the children
        # before it left in the global RNG, or a resumed search differs from an uninterrupted one.
        torch.manual_seed(ctx.seed)
        model = build_fixed(program, ctx.dataset.schema)
        result = train_model(model, ctx.dataset, config, show_progress=False)
        done.append({"child": n, "valid": result.valid, "epochs": result.epochs_run,
                     "seconds": result.train_seconds, "choices": jsonable(assignment)})
        saved.save({"done": len(done), "history": done})
        if ctx.show_progress:
            print(f"child {n + 1}/{s['children']}: valid auc "
                  f"{result.valid['auc']:.5f} logloss {result.valid['logloss']:.5f}", flush=True)
    key = sort_key(monitor)
    best = min(done, key=lambda r: key(r["valid"]))
    ctx.record.update({"strategy": "random", "children": len(done), "best_child": best["child"],
                       f"best_valid_{monitor}": round(best["valid"][monitor], 6)})
    return from_json(best["choices"])

