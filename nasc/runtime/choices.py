"""Choice modules: the supernet's only moving parts, and the interface every strategy uses.

A choice module has a stable ``label`` (the spec's) and ``options`` (their spec texts). It is
either *relaxed* (DARTS: a softmax(alpha / tau)-weighted mix, alpha a registered parameter) or
*fixed* to one option (one-shot sampling, export). Strategies only call ``fix``, ``relax``,
``sample`` and read ``alpha``/``beta``; a new strategy is one new module.
"""
from __future__ import annotations

import itertools

import torch
from torch import nn


class ChoiceModule(nn.Module):
    label: str
    exposed: bool = True  # listed among the model's choices (edges inside a searched node are not)

    def fix(self, value) -> None:
        raise NotImplementedError

    def sample(self, generator: torch.Generator):
        """Fix a uniformly drawn option and return its value (as ``fix`` takes it)."""
        raise NotImplementedError

    def relax(self) -> None:
        raise ValueError(f"`{self.label}` cannot be relaxed (it has no architecture weights)")


def _draw(n: int, generator: torch.Generator) -> int:
    return int(torch.randint(n, (1,), generator=generator))


class OneOf(ChoiceModule):
    """One operator among ``candidates``; relaxed: sum_o softmax(alpha / tau)_o * o(x)."""

    def __init__(self, label: str, options: list[str], candidates: list[nn.Module],
                 relaxable: bool):
        super().__init__()
        self.label = label
        self.options = list(options)
        self.candidates = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(torch.zeros(len(candidates))) if relaxable else None
        self.tau = 1.0
        self.index: int | None = None if relaxable else 0
        self.exposed = len(candidates) > 1
        self.out_shape = getattr(candidates[0], "out_shape", None)

    def forward(self, *args):
        if self.index is not None:
            return self.candidates[self.index](*args)
        weights = torch.softmax(self.alpha / self.tau, dim=0)
        out = 0
        for w, cand in zip(weights, self.candidates):
            out = out + w * cand(*args)
        return out

    def fix(self, value) -> None:
        self.index = value if isinstance(value, int) else self.options.index(value)

    def sample(self, generator: torch.Generator) -> str:
        self.index = _draw(len(self.candidates), generator)
        return self.options[self.index]

    def relax(self) -> None:
        if self.alpha is None:
            super().relax()
        self.index = None

    @property
    def value(self):
        return None if self.index is None else self.options[self.index]


class CellNode(ChoiceModule):
    """Intermediate node j of a cell: mixes the edges from its predecessors.

    Relaxed (AutoPI eq. 6): X_j = sum_i softmax(beta / tau)_i * f_ij(X_i). Fixed: the sum of the
    kept edges, each with its own fixed operator; the other edges are not computed.
    """

    def __init__(self, label: str, edges: dict[int, OneOf], keep: int, searched: bool):
        super().__init__()
        self.label = label
        self.sources = sorted(edges)
        self.edges = nn.ModuleDict({str(i): e for i, e in edges.items()})
        for e in self.edges.values():
            e.exposed = e.exposed and not searched
        self.keep = keep
        self.searched = searched
        self.beta = nn.Parameter(torch.zeros(len(edges))) if searched else None
        self.tau = 1.0
        self.kept: tuple[int, ...] | None = None if searched else tuple(self.sources)
        self.exposed = searched
        self.out_shape = next(iter(edges.values())).out_shape

    def forward(self, *inputs):
        if self.kept is not None:
            out = 0
            for i in self.kept:
                out = out + self.edges[str(i)](inputs[self.sources.index(i)])
            return out
        weights = torch.softmax(self.beta / self.tau, dim=0)
        out = 0
        for w, i, x in zip(weights, self.sources, inputs):
            out = out + w * self.edges[str(i)](x)
        return out

    def fix(self, value) -> None:
        """``value``: ((input, op_text), ...) for a searched node."""
        inputs = [i for i, _ in value]
        if len(set(inputs)) != len(inputs) or not set(inputs) <= set(self.sources):
            raise ValueError(f"`{self.label}`: bad inputs {inputs}")
        for i, op in value:
            self.edges[str(i)].fix(op)
        self.kept = tuple(sorted(inputs))

    def sample(self, generator: torch.Generator):
        order = torch.randperm(len(self.sources), generator=generator)[: self.keep]
        value = tuple((self.sources[int(k)], self.edges[str(self.sources[int(k)])].sample(generator))
                      for k in sorted(order.tolist()))
        self.kept = tuple(i for i, _ in value)
        return value

    def relax(self) -> None:
        self.kept = None
        for e in self.edges.values():
            e.relax()

    @property
    def value(self):
        if self.kept is None:
            return None
        return tuple((i, self.edges[str(i)].value) for i in self.kept)


class WidthChoice(ChoiceModule):
    """An MLP layer whose width is chosen; all widths share one max-size weight by slicing."""

    def __init__(self, label: str, widths: list[int], options: list[str], group: str = "",
                 monotone: bool = False):
        super().__init__()
        self.label = label
        self.group = group        # the MLP it belongs to
        self.monotone = monotone  # its layers' widths never increase
        self.widths = list(widths)
        self.options = list(options)
        self.index = widths.index(max(widths))
        self.exposed = len(widths) > 1

    @property
    def width(self) -> int:
        return self.widths[self.index]

    def fix(self, value) -> None:
        self.index = self.options.index(value) if isinstance(value, str) else \
            [float(o) for o in self.options].index(float(value))

    def sample(self, generator: torch.Generator):
        self.index = _draw(len(self.widths), generator)
        return self.value

    @property
    def value(self):
        text = self.options[self.index]
        return float(text) if "." in text else int(text)


class TupleChoice(ChoiceModule):
    """AMEIR's interaction set: ``keep`` Hadamard products of distinct fields, order 2..order."""

    def __init__(self, label: str, field_names: list[str], order: int, keep: int):
        super().__init__()
        self.label = label
        self.field_names = list(field_names)
        self.order = order
        self.keep = keep
        self.candidates = [c for o in range(2, order + 1)
                           for c in itertools.combinations(range(len(field_names)), o)]
        if len(self.candidates) < keep:
            raise ValueError(f"`{label}`: only {len(self.candidates)} interactions exist for "
                             f"{len(field_names)} fields, fewer than keep = {keep}")
        self.tuples: tuple[tuple[int, ...], ...] = tuple(self.candidates[:keep])

    def fix(self, value) -> None:
        index = {n: i for i, n in enumerate(self.field_names)}
        self.tuples = tuple(tuple(index[n] for n in t) for t in value)

    def sample(self, generator: torch.Generator):
        picks = torch.randperm(len(self.candidates), generator=generator)[: self.keep]
        self.tuples = tuple(self.candidates[int(p)] for p in sorted(picks.tolist()))
        return self.value

    @property
    def value(self):
        return tuple(tuple(self.field_names[i] for i in t) for t in self.tuples)
