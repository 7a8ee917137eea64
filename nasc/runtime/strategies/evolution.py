"""Regularized evolution (Real et al., AAAI 2019), as AMEIR App. C.4 runs it for Table 4.

An initial population of ``population`` distinct children drawn uniformly from the space; then
each cycle samples ``sample`` members of the population, mutates the best of them in one choice
(an operator, a cell node, one interaction of an interaction set, a width), trains the new child
from scratch for the strategy's epochs, adds it and removes the oldest member (aging: the
"regularized" part). ``sample 1`` is a uniformly random parent, as App. C.4 words it. The search
stops when the population's best member has not changed for ``patience`` cycles or after
``cycles`` cycles, or once the children took ``seconds``; the answer is the best child by
validation ``monitor`` of all trained, or with ``top`` > 1 the best of the top children trained
again in full (App. C.4's form, nasc.runtime.strategies.finalists).

The population is the last ``population`` children trained, and each cycle draws from a
generator seeded by the seed and the child's number, so children.json (one row per child with its
parent and the label it mutated) is all a resumed search needs: it ends as an uninterrupted one.
"""
from __future__ import annotations

import random

from nasc.compiler.fix import fix_spec
from nasc.compiler.sampling import sample_assignment
from nasc.compiler.space import choices
from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies import finalists
from nasc.runtime.strategies.common import (SearchContext, assignment_key, export_best_so_far,
                                            from_json, sort_key, train_child)
from nasc.runtime.strategies.random_search import distinct_draws
from nasc.runtime.train import TrainConfig

# Mutations tried before a parent counts as having no new neighbour.
TRIES = 200


def mutate(ctx: SearchContext, parent: dict, rng: random.Random, seen: set[str]):
    """``parent`` with one choice changed: (child, label), or None when no new, valid child
    is found. The new value comes from a uniform draw of the whole space, so it follows the
    space's sampling rules; an interaction set changes one of its products."""
    names = [f.name for f in ctx.dataset.schema.fields]
    interaction_sets = {c.label for c in choices(ctx.program) if c.construct == "interactions"}
    labels = sorted(parent)
    for _ in range(TRIES):
        label = rng.choice(labels)
        value = sample_assignment(ctx.program, rng, names)[label]
        if label in interaction_sets:
            kept = list(parent[label])
            new = [t for t in value if t not in kept]
            if not new:
                continue
            kept[rng.randrange(len(kept))] = rng.choice(new)
            value = tuple(kept)
        child = {**parent, label: value}
        if assignment_key(child) in seen:
            continue
        try:  # e.g. a width that breaks a `monotone` MLP
            fix_spec(ctx.spec, ctx.program, child, drop_search=True)
        except ValueError:
            continue
        return child, label
    return None


def population_best(history: list[dict], size: int, end: int, key) -> int:
    """The child number of the best member of the population after child ``end - 1``."""
    members = history[max(0, end - size):end]
    return min(members, key=lambda r: (key(r["valid"]), r["child"]))["child"]


def unchanged_cycles(history: list[dict], size: int, key) -> int:
    """Cycles (children after the initial population) since the population's best changed."""
    count, latest = 0, population_best(history, size, len(history), key)
    for end in range(len(history) - 1, size - 1, -1):
        if population_best(history, size, end, key) != latest:
            break
        count += 1
    return count


def search(ctx: SearchContext) -> dict:
    s = ctx.settings
    size, monitor = s["population"], s["monitor"]
    key = sort_key(monitor)
    saved = SearchCheckpoint(ctx, finalists.views)
    state = saved.load() if ctx.resume else None
    history: list[dict] = state["history"] if state else []
    config = TrainConfig.from_settings(ctx.program.train, epochs=s["epochs"], batch=s["batch"],
                                       seed=ctx.seed, device=str(ctx.device), monitor=monitor)
    initial = distinct_draws(ctx, size)
    stop = ""
    while not stop:
        n = len(history)
        if finalists.out_of_time(history, s["seconds"]):
            stop = f"{s['seconds']:g} s of child training spent"
            continue
        if n < len(initial):
            child, parent, label = initial[n], None, None
        elif n - len(initial) >= s["cycles"]:
            stop = f"{s['cycles']} cycles"
            continue
        elif n >= size and unchanged_cycles(history, size, key) >= s["patience"]:
            stop = f"the population's best unchanged for {s['patience']} cycles"
            continue
        else:
            rng = random.Random(ctx.seed * 1_000_003 + n)
            members = history[-size:]
            contenders = rng.sample(members, min(s["sample"], len(members)))
            parent = min(contenders, key=lambda r: (key(r["valid"]), r["child"]))
            found = mutate(ctx, from_json(parent["choices"]), rng,
                           {assignment_key(r["choices"]) for r in history})
            if found is None:
                stop = "no new child within one mutation of the parent"
                continue
            child, label = found
            parent = parent["child"]
        row = {"child": n, "parent": parent, "mutated": label,
               **train_child(ctx, child, config, n)}
        history.append(row)
        saved.save({"done": len(history), "history": history})
        best = min(history, key=lambda r: (key(r["valid"]), r["child"]))
        export_best_so_far(ctx, from_json(best["choices"]), f"child {n + 1}")
        if ctx.show_progress:
            origin = "initial" if parent is None else f"child {parent} with {label} mutated"
            print(f"child {n} ({origin}): valid auc {row['valid']['auc']:.5f} "
                  f"logloss {row['valid']['logloss']:.5f}", flush=True)
    best, notes = finalists.best_child(ctx, history, monitor, state, lambda rows: saved.save(
        {"done": len(history), "history": history, "finalists": rows}))
    ctx.record.update({"strategy": "evolution", "children": len(history),
                       "best_child": best["child"], "stopped": stop,
                       f"best_valid_{monitor}": round(best["valid"][monitor], 6), **notes})
    return from_json(best["choices"])
