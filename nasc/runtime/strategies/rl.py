"""RL search (Zoph & Le 2017), as AMEIR App. C.4 runs it for Table 4.

The LSTM controller (nasc.runtime.strategies.controller) emits one child at a time; the child is
trained from scratch for the strategy's ``epochs`` and its validation AUC is the reward. Every
``controller_batch`` children the controller takes its PPO steps on their rewards. A child the
controller samples again is not retrained: training is seeded, so its earlier score is exactly
what a retrain would give. The search stops after ``children`` samples, or when the best
validation AUC has not grown for ``patience`` children, or once the children took ``seconds``;
the answer is the best child by validation AUC, or with ``top`` > 1 the best of the top children
trained again in full (App. C.4's form, nasc.runtime.strategies.finalists).

Resume: after each child one atomic checkpoint holds the rows of children.json (each with its
decisions and their log-probability when sampled) and the controller, its optimizer and its
baseline; child n is drawn from a generator salted by n, so a resumed search ends as an
uninterrupted one would (on CPU).
"""
from __future__ import annotations

from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies import finalists
from nasc.runtime.strategies.common import (SearchContext, assignment_key, export_best_so_far,
                                            from_json, generator, train_child)
from nasc.runtime.strategies.controller import Policy
from nasc.runtime.strategies.decisions import decision_groups
from nasc.runtime.train import TrainConfig

SALT = 40  # the generator salt of the controller's draws


def since_best(history: list[dict]) -> int:
    """Children sampled after the first one with the best validation AUC so far."""
    best = max(range(len(history)), key=lambda n: (history[n]["valid"]["auc"], -n))
    return len(history) - 1 - best


def search(ctx: SearchContext) -> dict:
    s = ctx.settings
    names = [f.name for f in ctx.dataset.schema.fields]
    policy = Policy(decision_groups(ctx.program, names), s, ctx.seed)
    saved = SearchCheckpoint(ctx, finalists.views)
    state = saved.load() if ctx.resume else None
    history: list[dict] = state["history"] if state else []
    if state:
        policy.load_state_dict(state["policy"])
    config = TrainConfig.from_settings(ctx.program.train, epochs=s["epochs"], batch=s["batch"],
                                       seed=ctx.seed, device=str(ctx.device), monitor="auc")
    trained = {assignment_key(r["choices"]): r for r in history
               if r["repeat_of"] is None}
    stop = f"{s['children']} children"
    while len(history) < s["children"]:
        if history and since_best(history) >= s["patience"]:
            stop = f"the best validation AUC unchanged for {s['patience']} children"
            break
        if finalists.out_of_time(history, s["seconds"]):
            stop = f"{s['seconds']:g} s of child training spent"
            break
        n = len(history)
        sample = policy.sample(generator(ctx.seed, SALT, n))
        key = assignment_key(sample.assignment)
        earlier = trained.get(key)
        if earlier is None:
            result = train_child(ctx, sample.assignment, config, n)
            row = {"child": n, "repeat_of": None, **result}
            trained[key] = row
        else:
            row = {"child": n, "repeat_of": earlier["child"], "valid": earlier["valid"],
                   "epochs": 0, "seconds": 0.0, "choices": earlier["choices"]}
        row.update(decisions=sample.tokens, log_prob=sample.log_prob)
        history.append(row)
        if len(history) % policy.batch == 0:
            batch = history[-policy.batch:]
            update = policy.update([(r["decisions"], r["log_prob"], r["valid"]["auc"])
                                    for r in batch])
            row["baseline"] = update["baseline"]
        saved.save({"done": len(history), "history": history, "policy": policy.state_dict()})
        best = max(history, key=lambda r: (r["valid"]["auc"], -r["child"]))
        export_best_so_far(ctx, from_json(best["choices"]), f"child {n + 1}")
        if ctx.show_progress:
            origin = "trained" if row["repeat_of"] is None else f"as child {row['repeat_of']}"
            print(f"child {n} ({origin}): valid auc {row['valid']['auc']:.5f} "
                  f"logloss {row['valid']['logloss']:.5f}", flush=True)
    best, notes = finalists.best_child(ctx, history, "auc", state, lambda rows: saved.save(
        {"done": len(history), "history": history, "policy": policy.state_dict(),
         "finalists": rows}))
    ctx.record.update({"strategy": "rl", "children": len(history),
                       "trained": len(trained), "best_child": best["child"], "stopped": stop,
                       "best_valid_auc": round(best["valid"]["auc"], 6), **notes})
    return from_json(best["choices"])
