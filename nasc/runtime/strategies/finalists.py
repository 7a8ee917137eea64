"""What the strategies that train children on a short budget (random, evolution, rl) share with
AMEIR's App. C.4: a time budget, and the further evaluation of their best few.

- ``seconds``: no new child is started once the children trained so far took this long (their
  training and validation seconds, as each row records them); the first always is. App. C.4
  gives the brute-force methods ten times the one-shot search's cost. The rows hold the
  seconds, so a resumed search stops where its own rows say; only the child cut by the
  interruption is timed anew.
- ``top``: the ``top`` best distinct children by the search's short-budget score are trained
  again from scratch with the train block's own recipe (its epochs, early stopping and decay,
  as ``--retrain`` will train the answer), and the best of them on validation is the answer.
  A budget of one or two epochs ranks fast starters; this judges the finalists as they will
  be trained. ``top 1`` keeps the best child as trained.

Resume: each finalist trained is one row of the strategy's checkpoint (``finalists``, with
finalists.json as its view), so a finished one is not trained again.
"""
from __future__ import annotations

from typing import Callable

from nasc.runtime.strategies.common import (SearchContext, export_best_so_far, from_json,
                                            sort_key, train_child)
from nasc.runtime.train import TrainConfig


def out_of_time(rows: list[dict], seconds: float | None) -> bool:
    """Whether the children of ``rows`` have spent the budget (None: no budget). The first
    child always runs: a search needs one answer, however small the budget."""
    return seconds is not None and bool(rows) and sum(r["seconds"] for r in rows) >= seconds


def ranked(rows: list[dict], key) -> list[dict]:
    """Distinct children best first (a row that repeats an earlier child's score, as rl's
    re-sampled ones, is left out); ties to the earlier child."""
    own = [r for r in rows if r.get("repeat_of") is None]
    return sorted(own, key=lambda r: (key(r["valid"]), r["child"]))


def best_finalist(finals: list[dict], key) -> dict:
    """The best finalist on its full training; ties to the better short-budget rank."""
    return min(finals, key=lambda r: (key(r["valid"]), r["rank"]))


def views(state: dict) -> dict:
    """The files of a brute-force strategy's checkpoint: children.json, and finalists.json
    once the further evaluation has begun."""
    out = {"children.json": state["history"]}
    if state.get("finalists"):
        out["finalists.json"] = state["finalists"]
    return out


def best_child(ctx: SearchContext, rows: list[dict], monitor: str, state: dict | None,
               save: Callable[[list[dict]], None]) -> tuple[dict, dict]:
    """The answer's row: the best of ``rows`` by ``monitor``, or with ``top`` > 1 the best of
    the finalists trained in full (``state``: a resumed checkpoint; ``save(finalists)`` writes
    the checkpoint after each); and what arch.nas's header should add about it."""
    key = sort_key(monitor)
    order = ranked(rows, key)
    top = ctx.settings["top"]
    if top <= 1 or len(order) <= 1:
        return order[0], {}
    done: list[dict] = list(state.get("finalists", [])) if state else []
    config = TrainConfig.from_settings(ctx.program.train, seed=ctx.seed, device=str(ctx.device))
    chosen = order[:top]
    for rank, row in enumerate(chosen):
        if any(r["child"] == row["child"] for r in done):
            continue
        result = train_child(ctx, from_json(row["choices"]), config, row["child"])
        done.append({"child": row["child"], "rank": rank, "short_valid": row["valid"], **result})
        save(done)
        export_best_so_far(ctx, from_json(best_finalist(done, key)["choices"]),
                           f"finalist {len(done)} of {len(chosen)}")
        if ctx.show_progress:
            print(f"finalist {len(done)} of {len(chosen)} (child {row['child']}), trained in "
                  f"full ({result['epochs']} epochs): valid auc {result['valid']['auc']:.5f} "
                  f"logloss {result['valid']['logloss']:.5f}", flush=True)
    winner = best_finalist(done, key)
    return winner, {"finalists": len(done), "finalist_rank": winner["rank"]}
