"""Successive halving (Jamieson & Talwalkar, AISTATS 2016; the inner loop of Hyperband, Li et al.,
JMLR 2018): many children for a few epochs, the best few for many.

``children`` distinct architectures are drawn as random search draws them and each is trained
from scratch for ``min_epochs``; the best 1/``eta`` by validation (``monitor``) are trained for
``eta`` times as many epochs, and so on, until one child is left or the next rung's budget would
pass ``epochs``. The answer is the best child of the last rung. Under one budget this sees
``children`` architectures where random search with full training sees a handful, and spends
most epochs on the promising ones.

Each rung trains its children from scratch with its own budget (no weights carry over from a
lower rung): every score is that of a plain training for that many epochs under the train
block's rules (early stopping included), the same thing random search measures. Resume: after
each child one atomic checkpoint holds every row (children.json: child, rung, budget, scores), so
nothing trained is trained again, and the rungs are recomputed from the rows. Start
architectures (``--start``) are the first children and are promoted to every rung beside the
best, so the answer is never worse on validation than they are at the last rung's budget.
"""
from __future__ import annotations

from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies.common import (SearchContext, export_best_so_far, from_json,
                                            sort_key, train_child)
from nasc.runtime.strategies.random_search import distinct_draws
from nasc.runtime.train import TrainConfig


def rungs(children: int, eta: int, min_epochs: int, max_epochs: int) -> list[tuple[int, int]]:
    """(children, epochs) of each rung: ``children`` at ``min_epochs``, then the best
    ``count // eta`` (at least 1) at ``eta`` times the epochs, while the budget fits
    ``max_epochs`` and more than one child is left to choose among."""
    out = [(children, min(min_epochs, max_epochs))]
    while out[-1][0] > 1 and out[-1][1] * eta <= max_epochs:
        count, epochs = out[-1]
        out.append((max(1, count // eta), epochs * eta))
    return out


def promoted(rows: list[dict], count: int, key) -> list[int]:
    """The ``count`` best children of one rung's rows (ties to the earlier child)."""
    ranked = sorted(rows, key=lambda r: (key(r["valid"]), r["child"]))
    return [r["child"] for r in ranked[:count]]


def search(ctx: SearchContext) -> dict:
    s = ctx.settings
    key = sort_key(s["monitor"])
    saved = SearchCheckpoint(ctx, lambda state: {"children.json": state["history"]})
    state = saved.load() if ctx.resume else None
    done: list[dict] = state["history"] if state else []
    drawn = distinct_draws(ctx, s["children"])
    plan = rungs(len(drawn), s["eta"], s["min_epochs"], s["epochs"])
    if len(drawn) < s["children"] and ctx.show_progress:
        print(f"the space holds {len(drawn)} distinct architectures: starting with all of them "
              f"(children {s['children']} asked for)", flush=True)
    contenders = list(range(len(drawn)))
    total = sum(count for count, _ in plan)
    for rung, (count, epochs) in enumerate(plan):
        if rung:
            contenders = promoted([r for r in done if r["rung"] == rung - 1], count, key)
            # `--start` architectures go up every rung: the user's known points are judged at
            # the full budget, not dropped after a rung too short for them
            contenders += [n for n in range(len(ctx.starts)) if n not in contenders]
        config = TrainConfig.from_settings(ctx.program.train, epochs=epochs, batch=s["batch"],
                                           seed=ctx.seed, device=str(ctx.device),
                                           monitor=s["monitor"])
        for n in contenders:
            if any(r["rung"] == rung and r["child"] == n for r in done):
                continue
            row = train_child(ctx, drawn[n], config, n)
            done.append({"child": n, "rung": rung, "budget": epochs, **row})
            saved.save({"done": len(done), "history": done})
            top = [r for r in done if r["rung"] == rung]
            best = min(top, key=lambda r: (key(r["valid"]), r["child"]))
            export_best_so_far(ctx, from_json(best["choices"]),
                               f"child {len(done)} of {total} (rung {rung + 1} of {len(plan)})")
            if ctx.show_progress:
                valid = row["valid"]
                print(f"rung {rung + 1}/{len(plan)} ({epochs} epochs), child {n}: valid auc "
                      f"{valid['auc']:.5f} logloss {valid['logloss']:.5f}", flush=True)
    last = [r for r in done if r["rung"] == len(plan) - 1]
    best = min(last, key=lambda r: (key(r["valid"]), r["child"]))
    ctx.record.update({"strategy": "halving", "children": len(drawn),
                       "rungs": [{"children": c, "epochs": e} for c, e in plan],
                       "trainings": len(done), "best_child": best["child"],
                       f"best_valid_{s['monitor']}": round(best["valid"][s["monitor"]], 6)})
    return from_json(best["choices"])
