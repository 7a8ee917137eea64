"""Uniform draws from a search space: the one place the rules of sampling a choice live.

Random search draws whole assignments from a Program (:func:`sample_assignment`); the supernet
(``Supernet.sample``, which one-shot stages use for a subset of labels) draws from its choice
modules with the same primitives, so both give the same distribution and every path either draws
is one ``fix_spec`` accepts:

- an operator choice: uniformly among its options (:func:`draw_option`);
- a searched cell node: a uniformly random ``min(keep, J)``-subset of its J inputs, each with a
  uniformly random operator (:func:`draw_node`);
- interactions: ``keep`` distinct products of order 2..order, uniformly without replacement
  (:func:`sample_tuples`);
- the widths of an MLP (:func:`draw_widths`): independent per layer, or, under ``monotone``,
  uniform over the non-increasing sequences, compared as the spec writes the widths (two
  fractions that round to one layer width still must not increase).

No torch here: this is front-end code.
"""
from __future__ import annotations

import math
import random
from collections.abc import Sequence

from nasc.compiler.program import (
    Apply, BlocksDef, CellDef, InteractionsDef, MlpDef, NodeDef, Program,
)

Assignment = dict[str, object]  # label -> chosen value (see nasc.compiler.fix)


def draw_option(rng: random.Random, options: Sequence):
    return rng.choice(options)


def draw_node(rng: random.Random, sources: Sequence[int], keep: int,
              ops: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """The inputs a searched cell node keeps (sorted), each with its operator text."""
    kept = sorted(rng.sample(sources, min(keep, len(sources))))
    return tuple((i, rng.choice(ops)) for i in kept)


def sample_assignment(program: Program, rng: random.Random,
                      field_names: list[str] | None = None) -> Assignment:
    """A uniformly random value for every open choice of ``program``.

    Uniform per label: each operator choice uniformly among its options; a searched cell node
    keeps a uniformly random ``min(keep, J)``-subset of its inputs, each with a uniformly random
    operator (all edges of a searched cell share one option set, so this is uniform over the
    node's configurations); interactions: ``keep`` distinct products drawn uniformly without
    replacement among all products of order 2..order of ``field_names`` (left open when
    ``field_names`` is None). MLP widths under ``monotone`` are drawn by exact sequential
    sampling: layer n takes width w with probability proportional to the number of valid
    (non-increasing) completions from w, so every valid width sequence is equally likely (no
    rejection loop). Note that uniform over labels is not uniform over distinct networks where
    labels become irrelevant (e.g. the norm of a `zero` block layer).
    """
    from nasc.compiler.space import choices

    open_labels = {c.label for c in choices(program)}
    out: Assignment = {}
    for b in program.bindings:
        if isinstance(b, NodeDef):
            if isinstance(b.expr, Apply) and b.expr.op.label in open_labels:
                out[b.expr.op.label] = draw_option(rng, b.expr.op.options).text()
        elif isinstance(b, CellDef):
            if b.searched:
                ops = b.edges[0][2].options
                for j in b.intermediate():
                    out[b.node_label(j)] = draw_node(rng, range(j), b.keep,
                                                     [o.text() for o in ops])
            else:
                for _, _, choice in b.edges:
                    if choice.label in open_labels:
                        out[choice.label] = draw_option(rng, choice.options).text()
        elif isinstance(b, BlocksDef):
            for block in b.blocks:
                for part in (block.norm, block.layer, block.act):
                    if part.label in open_labels:
                        out[part.label] = draw_option(rng, part.options).text()
        elif isinstance(b, InteractionsDef):
            if b.label in open_labels and field_names is not None:
                out[b.label] = sample_tuples(rng, list(field_names), b.order, b.keep)
        elif isinstance(b, MlpDef):
            widths = draw_widths(rng, [l.width.options for l in b.layers], b.monotone)
            for layer, w in zip(b.layers, widths):
                if layer.width.label in open_labels:
                    out[layer.width.label] = w
                if layer.act.label in open_labels:
                    out[layer.act.label] = draw_option(rng, layer.act.options).text()
    return out


def count_monotone(options: list[list]) -> int:
    return sum(_completions(options)[0].values()) if options else 1


def _completions(options: list[list]) -> list[dict]:
    """ways[n][w]: non-increasing sequences of layers n.. that start with width w at layer n."""
    ways: list[dict] = [dict() for _ in options]
    ways[-1] = {w: 1 for w in options[-1]}
    for n in range(len(options) - 2, -1, -1):
        ways[n] = {w: sum(c for v, c in ways[n + 1].items() if v <= w) for w in options[n]}
    return ways


def draw_widths(rng: random.Random, options: list[tuple], monotone: bool) -> list:
    if not options:
        return []
    if not monotone:
        return [rng.choice(opts) for opts in options]
    ways = _completions([list(o) for o in options])
    out, prev = [], None
    for n, opts in enumerate(options):
        cands = [(w, ways[n][w]) for w in opts if prev is None or w <= prev]
        total = sum(c for _, c in cands)
        if total == 0:
            raise ValueError("no non-increasing width sequence fits the options")
        r = rng.randrange(total)
        for w, c in cands:
            if r < c:
                break
            r -= c
        out.append(w)
        prev = w
    return out


def sample_tuples(rng: random.Random, field_names: list[str], order: int,
                  keep: int) -> tuple[tuple[str, ...], ...]:
    """``keep`` distinct products of 2..order distinct fields, uniformly without replacement;
    each product lists its fields in ``field_names`` order; products sorted by (order, fields)."""
    m = len(field_names)
    sizes = [math.comb(m, o) for o in range(2, order + 1)]
    total = sum(sizes)
    if keep > total:
        raise ValueError(f"cannot keep {keep} interactions: only {total} products of order "
                         f"2..{order} over {m} fields")
    picked = []
    for r in rng.sample(range(total), keep):
        o = 2
        for size in sizes:
            if r < size:
                break
            r -= size
            o += 1
        picked.append(_unrank(r, m, o))
    picked.sort(key=lambda idx: (len(idx), idx))
    return tuple(tuple(field_names[i] for i in idx) for idx in picked)


def _unrank(r: int, m: int, k: int) -> tuple[int, ...]:
    """The r-th k-subset of range(m) in lexicographic order."""
    out, start = [], 0
    for slot in range(k, 0, -1):
        for i in range(start, m):
            below = math.comb(m - i - 1, slot - 1)
            if r < below:
                out.append(i)
                start = i + 1
                break
            r -= below
    return tuple(out)
