"""A search space as a sequence of categorical decisions, the form an RL controller emits.

Each open choice of a Program becomes a *group* of decisions, in source order (the order
nasc.compiler.sampling walks a Program), and every decision sequence decodes into an assignment
that ``fix_spec`` accepts, because a decision's mask removes the tokens that would break a rule:

- :class:`Pick` -- an operator choice or a width: one decision over its options;
- :class:`NodeInputs` -- a searched cell node: ``min(keep, J)`` decisions over the (input,
  operator) pairs of its J inputs, the pairs of an input already taken masked;
- :class:`Products` -- an interaction set: ``keep`` decisions over the candidate products of
  order 2..order (as ``TupleChoice`` lists them), those already taken masked;
- :class:`MonotoneWidths` -- the open widths of a ``monotone`` MLP: one decision per layer, the
  widths that would increase on the layer before, or leave a later layer no allowed width, masked.

A group's decisions are exchangeable in NodeInputs and Products (``shared``: one controller head
serves them all); MonotoneWidths has one head per layer. No torch here.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from nasc.compiler.program import (
    BlocksDef, CellDef, InteractionsDef, MlpDef, NodeDef, Program,
)
from nasc.compiler.sampling import _completions
from nasc.compiler.space import _expr_choices, choices


@dataclass(frozen=True)
class Pick:
    label: str
    options: tuple
    shared = False

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.options),)

    def allowed(self, taken: list[int]) -> list[bool]:
        return [True] * len(self.options)

    def decode(self, taken: list[int]) -> dict:
        return {self.label: self.options[taken[0]]}

    def encode(self, assignment: dict) -> list[int]:
        return [self.options.index(assignment[self.label])]


@dataclass(frozen=True)
class NodeInputs:
    label: str
    sources: tuple[int, ...]
    ops: tuple[str, ...]
    keep: int
    shared = True

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.sources) * len(self.ops),) * min(self.keep, len(self.sources))

    def pair(self, token: int) -> tuple[int, str]:
        return self.sources[token // len(self.ops)], self.ops[token % len(self.ops)]

    def allowed(self, taken: list[int]) -> list[bool]:
        used = {self.pair(t)[0] for t in taken}
        return [self.pair(t)[0] not in used for t in range(self.sizes[0])]

    def decode(self, taken: list[int]) -> dict:
        return {self.label: tuple(sorted(self.pair(t) for t in taken))}

    def encode(self, assignment: dict) -> list[int]:
        return [self.sources.index(i) * len(self.ops) + self.ops.index(op)
                for i, op in assignment[self.label]]


@dataclass(frozen=True)
class Products:
    label: str
    candidates: tuple[tuple[str, ...], ...]
    keep: int
    shared = True

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.candidates),) * self.keep

    def allowed(self, taken: list[int]) -> list[bool]:
        used = set(taken)
        return [t not in used for t in range(len(self.candidates))]

    def decode(self, taken: list[int]) -> dict:
        # Candidates are listed by (order, fields), the order sample_tuples writes a set in.
        return {self.label: tuple(self.candidates[t] for t in sorted(taken))}

    def encode(self, assignment: dict) -> list[int]:
        return [self.candidates.index(tuple(p)) for p in assignment[self.label]]


@dataclass(frozen=True)
class MonotoneWidths:
    """Every layer of a ``monotone`` MLP; a decision for each open one (``labels[n]`` None for a
    layer whose width is fixed: it still bounds the layers after it)."""
    labels: tuple[str | None, ...]
    options: tuple[tuple, ...]
    shared = False

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(o) for o, label in zip(self.options, self.labels) if label is not None)

    def widths(self, taken: list[int]) -> list:
        """The widths of the layers up to the next open one after ``taken``."""
        tokens, out = iter(taken), []
        for label, opts in zip(self.labels, self.options):
            if label is None:
                out.append(opts[0])
                continue
            token = next(tokens, None)
            if token is None:
                break
            out.append(opts[token])
        return out

    def allowed(self, taken: list[int]) -> list[bool]:
        widths = self.widths(taken)
        n = len(widths)
        ways = _completions([list(o) for o in self.options])
        prev = widths[-1] if widths else None
        return [ways[n][w] > 0 and (prev is None or w <= prev) for w in self.options[n]]

    def decode(self, taken: list[int]) -> dict:
        return {label: w for label, w in zip(self.labels, self.widths(taken)) if label is not None}

    def encode(self, assignment: dict) -> list[int]:
        return [opts.index(assignment[label])
                for label, opts in zip(self.labels, self.options) if label is not None]


Group = Pick | NodeInputs | Products | MonotoneWidths


def decision_groups(program: Program, field_names: list[str]) -> list[Group]:
    """The open choices of ``program`` as decision groups, in source order."""
    open_labels = {c.label for c in choices(program)}
    groups: list[Group] = []

    def pick(choice) -> None:
        if choice.label in open_labels:
            groups.append(Pick(choice.label, tuple(o.text() for o in choice.options)))

    for b in program.bindings:
        if isinstance(b, NodeDef):
            for op in _expr_choices(b.expr):
                pick(op)
        elif isinstance(b, CellDef) and b.searched:
            ops = tuple(o.text() for o in b.edges[0][2].options)
            groups.extend(NodeInputs(b.node_label(j), tuple(range(j)), ops, b.keep)
                          for j in b.intermediate())
        elif isinstance(b, CellDef):
            for _, _, choice in b.edges:
                pick(choice)
        elif isinstance(b, BlocksDef):
            for block in b.blocks:
                for part in (block.norm, block.layer, block.act):
                    pick(part)
        elif isinstance(b, InteractionsDef) and b.label in open_labels:
            groups.append(Products(b.label, candidate_products(field_names, b.order), b.keep))
        elif isinstance(b, MlpDef):
            groups.extend(_mlp_groups(b, open_labels))
    return groups


def _mlp_groups(mlp: MlpDef, open_labels: set[str]) -> list[Group]:
    widths = [layer.width for layer in mlp.layers]
    out: list[Group] = []
    if mlp.monotone and any(w.label in open_labels for w in widths):
        out.append(MonotoneWidths(
            tuple(w.label if w.label in open_labels else None for w in widths),
            tuple(tuple(w.options) for w in widths)))
    elif not mlp.monotone:
        out.extend(Pick(w.label, tuple(w.options)) for w in widths if w.label in open_labels)
    for layer in mlp.layers:
        if layer.act.label in open_labels:
            out.append(Pick(layer.act.label, tuple(o.text() for o in layer.act.options)))
    return out


def candidate_products(field_names: list[str], order: int) -> tuple[tuple[str, ...], ...]:
    """Every product of 2..order distinct fields, by (order, fields): TupleChoice's candidates."""
    return tuple(tuple(field_names[i] for i in c) for o in range(2, order + 1)
                 for c in itertools.combinations(range(len(field_names)), o))


def decode(groups: list[Group], tokens: list[int]) -> dict:
    """The assignment of a whole decision sequence."""
    out, at = {}, 0
    for group in groups:
        n = len(group.sizes)
        out.update(group.decode(list(tokens[at:at + n])))
        at += n
    return out


def encode(groups: list[Group], assignment: dict) -> list[int]:
    """The decision sequence of ``assignment`` (the inverse of ``decode``)."""
    return [t for group in groups for t in group.encode(assignment)]
