"""Choice modules: the supernet's only moving parts, and the interface every strategy uses.

A choice module has a stable ``label`` (the spec's) and ``options`` (their spec texts). It is
either *relaxed* (a mix of its options weighted by ``weighting(alpha, tau)``, alpha a registered
parameter) or *fixed* to one option (one-shot sampling, export). The weighting is the strategy's
policy, handed in with ``Supernet.set_weighting``: DARTS' softmax(alpha / tau) by default; a
Gumbel-softmax or a straight-through hard sample is one function, not an edit here (a hard one
sets ``one_hot``, and a one-of or cell node then computes only the option it picked). Strategies
only call ``fix``, ``relax``, ``sample_path`` and read ``alpha``/``beta``; a new strategy is one
new module. Draws follow nasc.compiler.sampling, the rules random search samples a Program by.
"""
from __future__ import annotations

import itertools
import random

import torch
from torch import nn

from nasc.compiler.sampling import draw_node, draw_option, draw_widths, sample_tuples
from nasc.runtime import partial_channels
from nasc.runtime.normed_mix import normed_mix, plain_batch_norms
from nasc.runtime.recompute import recomputed


def hot_index(weighting, weights: torch.Tensor) -> int | None:
    """The option a hard weighting (``one_hot`` set: a GDAS sample, one-hot in value) picked, so
    only it is computed; None for a soft mix. A flag, not a look at the values, keeps DARTS' mix
    free of a device sync per choice."""
    return int(weights.argmax()) if getattr(weighting, "one_hot", False) else None


def softmax_weights(logits: torch.Tensor, tau: float) -> torch.Tensor:
    """DARTS' relaxation (AutoPI eq. 6-7): softmax(logits / tau) over the options (the last
    axis: a choice with several slots holds one row of logits per slot)."""
    return torch.softmax(logits / tau, dim=-1)


class ChoiceModule(nn.Module):
    label: str
    exposed: bool = True  # listed among the model's choices (edges inside a searched node are not)
    tau: float = 1.0
    weighting = staticmethod(softmax_weights)

    def arch_logits(self) -> dict[str, nn.Parameter]:
        """The architecture weights a relaxation of this choice learns, by name (none here)."""
        return {}

    def strongest(self):
        """The value its architecture weights favour (the discretisation of a relaxed search)."""
        raise ValueError(f"`{self.label}` has no architecture weights")

    def fix(self, value) -> None:
        raise NotImplementedError

    def draw(self, rng: random.Random):
        """A uniformly drawn value, as ``fix`` takes it (nothing is fixed)."""
        raise NotImplementedError

    def relax(self) -> None:
        raise ValueError(f"`{self.label}` cannot be relaxed (it has no architecture weights)")


class OneOf(ChoiceModule):
    """One operator among ``candidates``; relaxed: sum_o weighting(alpha, tau)_o * o(x)."""

    def __init__(self, label: str, options: list[str], candidates: list[nn.Module],
                 relaxable: bool):
        super().__init__()
        self.label = label
        self.options = list(options)
        self.candidates = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(torch.zeros(len(candidates))) if relaxable else None
        self.tau = 1.0
        self.weighting = softmax_weights
        self.index: int | None = None if relaxable else 0
        self.exposed = len(candidates) > 1
        self.out_shape = getattr(candidates[0], "out_shape", None)
        self.recompute = False  # `memory recompute`: the mix recomputed in backward
        self.partial = 1  # PC-DARTS: the candidates see 1/partial of the channels

    def forward(self, *args):
        if self.partial == 1:
            return self.choose(*args)
        inner, bypass = partial_channels.split(args[0], self.partial)
        return partial_channels.join(self.choose(inner), bypass, self.partial)

    def choose(self, *args):
        """The fixed option, or the relaxed mix, on what the candidates see."""
        if self.index is not None:
            return self.candidates[self.index](*args)
        weights = self.weighting(self.alpha, self.tau)
        hot = hot_index(self.weighting, weights)
        if hot is not None:  # the others weigh 0; the chosen weight carries alpha's gradient
            return weights[hot] * self.candidates[hot](*args)
        if self.recompute and torch.is_grad_enabled():
            return recomputed(self, self.mix, weights, *args)
        return self.mix(weights, *args)

    def mix(self, weights: torch.Tensor, *args):
        norms = plain_batch_norms(self.candidates)
        if norms is not None:  # operators that each end in batch norm: one fused node
            return normed_mix(self.normed_terms(weights, *args), norms)
        out = 0
        for w, cand in zip(weights, self.candidates):
            out = out + w * cand(*args)
        return out

    def normed_terms(self, weights: torch.Tensor, *args):
        """(weight, operator output before its norm) per candidate, each operator run when its
        pair is asked for (nasc.runtime.normed_mix)."""
        return ((w, cand.op(*args)) for w, cand in zip(weights, self.candidates))

    def fix(self, value) -> None:
        self.index = value if isinstance(value, int) else self.options.index(value)

    def draw(self, rng: random.Random) -> str:
        return draw_option(rng, self.options)

    def relax(self) -> None:
        if self.alpha is None:
            super().relax()
        self.index = None

    def arch_logits(self) -> dict[str, nn.Parameter]:
        return {} if self.alpha is None else {"alpha": self.alpha}

    def strongest(self) -> str:
        return self.options[int(self.alpha.detach().argmax())]

    @property
    def value(self):
        return None if self.index is None else self.options[self.index]


class CellNode(ChoiceModule):
    """Intermediate node j of a cell: mixes the edges from its predecessors.

    Relaxed (AutoPI eq. 6): X_j = sum_i weighting(beta, tau)_i * f_ij(X_i). Fixed: the sum of the
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
        self.weighting = softmax_weights
        self.kept: tuple[int, ...] | None = None if searched else tuple(self.sources)
        self.exposed = searched
        self.out_shape = next(iter(edges.values())).out_shape

    def forward(self, *inputs):
        if self.kept is not None:
            out = 0
            for i in self.kept:
                out = out + self.edges[str(i)](inputs[self.sources.index(i)])
            return out
        weights = self.weighting(self.beta, self.tau)
        hot = hot_index(self.weighting, weights)
        if hot is not None:
            return weights[hot] * self.edges[str(self.sources[hot])](inputs[hot])
        fused = self.normed_mix(weights, inputs)
        if fused is not None:
            return fused
        out = 0
        for w, i, x in zip(weights, self.sources, inputs):
            out = out + w * self.edges[str(i)](x)
        return out

    def normed_mix(self, weights: torch.Tensor, inputs) -> torch.Tensor | None:
        """The relaxed node as one fused normalise-and-mix over every edge's operators
        (nasc.runtime.normed_mix), weight softmax(beta)_i * softmax(alpha_i)_o, when each edge is
        a soft mix of operators ending in plain batch norm; None otherwise. Partial-channel
        edges (PC-DARTS) are fused on their slices, and the node joins the fused sum with the
        weighted sum of their bypassed channels: shuffle and concatenation are linear."""
        edges = [self.edges[str(i)] for i in self.sources]
        norms = [plain_batch_norms(e.candidates) for e in edges]
        if any(n is None or e.index is not None or e.recompute or e.partial != edges[0].partial
               or getattr(e.weighting, "one_hot", False) for n, e in zip(norms, edges)):
            return None
        groups = edges[0].partial
        parts = [partial_channels.split(x, groups) for x in inputs] if groups > 1 else None
        seen = [p[0] for p in parts] if parts else inputs

        def terms():  # in the modules' order: the same random draws
            for w, edge, x in zip(weights, edges, seen):
                yield from edge.normed_terms(w * edge.weighting(edge.alpha, edge.tau), x)

        mixed = normed_mix(terms(), [bn for n in norms for bn in n])
        if parts is None:
            return mixed
        bypass = sum(w * bypassed for w, (_, bypassed) in zip(weights, parts))
        return partial_channels.join(mixed, bypass, groups)

    def fix(self, value) -> None:
        """``value``: ((input, op_text), ...) for a searched node."""
        inputs = [i for i, _ in value]
        if len(set(inputs)) != len(inputs) or not set(inputs) <= set(self.sources):
            raise ValueError(f"`{self.label}`: bad inputs {inputs}")
        for i, op in value:
            self.edges[str(i)].fix(op)
        self.kept = tuple(sorted(inputs))

    def draw(self, rng: random.Random):
        # All edges of a searched cell share one option set (checked by the compiler).
        return draw_node(rng, self.sources, self.keep, self.edges[str(self.sources[0])].options)

    def relax(self) -> None:
        self.kept = None
        for e in self.edges.values():
            e.relax()

    def arch_logits(self) -> dict[str, nn.Parameter]:
        return {} if self.beta is None else {"beta": self.beta}

    def strongest(self) -> tuple:
        """The top-``keep`` (input, operator) pairs from distinct inputs by strength
        softmax(alpha)_o * softmax(beta)_i (AutoPI §4.4.1); ties go to the lower input."""
        beta = torch.softmax(self.beta.detach(), 0)
        best = []
        for k, i in enumerate(self.sources):
            edge = self.edges[str(i)]
            alpha = torch.softmax(edge.alpha.detach(), 0)
            o = int(alpha.argmax())
            best.append((float(alpha[o] * beta[k]), -i, i, edge.options[o]))
        top = sorted(best, reverse=True)[: self.keep]
        return tuple(sorted((i, op) for _, _, i, op in top))

    @property
    def value(self):
        if self.kept is None:
            return None
        return tuple((i, self.edges[str(i)].value) for i in self.kept)


class WidthChoice(ChoiceModule):
    """An MLP layer whose width is chosen; all widths share one max-size weight by slicing.

    Relaxed (DARTS, SNAS; FBNetV2's channel masking, as NNI relaxes a width): the layer runs at
    its widest and feature j is scaled by the weight of the widths that include it,
    sum over w > j of weighting(alpha, tau)_w, a mixture of the masked outputs."""

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
        self.alpha = nn.Parameter(torch.zeros(len(widths))) if self.exposed else None
        self.register_buffer("below", torch.arange(max(widths))[None, :] <
                             torch.tensor(widths)[:, None], persistent=False)  # (W, max)

    @property
    def width(self) -> int:
        return max(self.widths) if self.index is None else self.widths[self.index]

    def feature_weights(self) -> torch.Tensor:
        """(max,): the relaxed weight of each feature of the widest layer."""
        weights = self.weighting(self.alpha, self.tau)
        return weights @ self.below.to(weights.dtype)

    def relax(self) -> None:
        self.index = None

    def arch_logits(self) -> dict[str, nn.Parameter]:
        return {} if self.alpha is None else {"alpha": self.alpha}

    def strongest(self):
        return self.values[int(self.alpha.detach().argmax())]

    def fix(self, value) -> None:
        self.index = self.options.index(value) if isinstance(value, str) else \
            [float(o) for o in self.options].index(float(value))

    def draw(self, rng: random.Random):
        """Independent of the other layers; a `monotone` MLP's widths are drawn together by
        ``sample_path``."""
        return draw_option(rng, self.values)

    @property
    def values(self) -> list:
        """The options as the spec writes them: an int width or a float fraction."""
        return [float(text) if "." in text else int(text) for text in self.options]

    @property
    def value(self):
        return None if self.index is None else self.values[self.index]


def monotone_groups(net: nn.Module) -> dict[str, list[WidthChoice]]:
    """The width choices of each `monotone` MLP of ``net``, in layer order, by MLP."""
    groups: dict[str, list[WidthChoice]] = {}
    for m in net.modules():
        if isinstance(m, WidthChoice) and m.monotone:
            groups.setdefault(m.group, []).append(m)
    return groups


def strongest_monotone(layers: list[WidthChoice]) -> dict:
    """The widths of a `monotone` MLP's searched layers that its weights favour together: the
    non-increasing sequence of largest summed log softmax(alpha) (layers with one width held),
    by dynamic programming over the layers. Each layer's own strongest width may increase."""
    best: dict[int, tuple[float, list]] = {}  # last width -> (score, values so far)
    for layer in layers:
        logp = torch.log_softmax(layer.alpha.detach(), 0).tolist() if layer.alpha is not None \
            else [0.0]
        options = list(zip(layer.widths, layer.values, logp)) if layer.alpha is not None \
            else [(layer.width, layer.value, 0.0)]
        step = {}
        for width, value, score in options:
            before = [b for w, b in best.items() if w >= width] if best else [(0.0, [])]
            if before:
                total, values = max(before, key=lambda b: b[0])
                if width not in step or total + score > step[width][0]:
                    step[width] = (total + score, values + [value])
        best = step
    _, values = max(best.values(), key=lambda b: b[0])
    return {layer.label: v for layer, v in zip(layers, values) if layer.alpha is not None}


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

    def draw(self, rng: random.Random):
        return sample_tuples(rng, self.field_names, self.order, self.keep)

    @property
    def value(self):
        return tuple(tuple(self.field_names[i] for i in t) for t in self.tuples)


def sample_path(net: nn.Module, generator: torch.Generator, labels=None) -> dict:
    """Fix a uniformly drawn value for each choice in ``labels`` (every exposed choice when None)
    and return them; the other choices keep theirs.

    Choices are drawn independently, except the widths of a `monotone` MLP: those are drawn
    together, uniformly over the non-increasing sequences, with the layers outside ``labels``
    (and the layers that have one width) held at their widths. One number from ``generator``
    seeds the draw, so a path depends only on the generator's state.
    """
    rng = random.Random(int(torch.randint(2 ** 62, (1,), generator=generator)))
    modules = {m.label: m for m in net.modules() if isinstance(m, ChoiceModule) and m.exposed}
    wanted = list(modules) if labels is None else list(labels)
    unknown = sorted(set(wanted) - set(modules))
    if unknown:
        raise KeyError(f"no choice labelled {unknown}; labels: {sorted(modules)}")
    groups = monotone_groups(net)
    path = {}
    for label in wanted:
        m = modules[label]
        if not (isinstance(m, WidthChoice) and m.monotone):
            path[label] = m.draw(rng)
    chosen = set(wanted)
    for layers in groups.values():
        if any(m.exposed and m.label in chosen for m in layers):
            options = [m.values if m.exposed and m.label in chosen else [m.value] for m in layers]
            for m, width in zip(layers, draw_widths(rng, options, True)):
                if m.exposed and m.label in chosen:
                    path[m.label] = width
    for label, value in path.items():
        modules[label].fix(value)
    return {label: path[label] for label in wanted}
