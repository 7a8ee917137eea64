"""The modules of the constructs: cell edges, nodes and merges, residual behavior blocks,
Hadamard interactions, MLP layers (fixed or with a width choice), the SE shortcut and the heads."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from nasc.runtime import ops
from nasc.runtime.builders import act, layer, norm, op, seq_norm
from nasc.runtime.choices import CellNode, OneOf, TupleChoice, WidthChoice
from nasc.runtime.partial_channels import edge_groups
from nasc.runtime.shapes import Shape, _shaped, _spec, spec_text


# ------------------------------------------------------------------------------------------ cells
class EdgeOp(nn.Module):
    """An operator on a cell edge followed by the cell's normalisation (AutoPI §4.3.3)."""

    def __init__(self, op_module: nn.Module, norm_module: nn.Module):
        super().__init__()
        self.op = op_module
        self.norm = norm_module
        self.out_shape = op_module.out_shape

    def forward(self, x):
        return self.norm(self.op(x))


def edge_op(spec, shapes: list[Shape], norm_spec) -> EdgeOp:
    name, _ = _spec(norm_spec)
    norm_module = norm(norm_spec, shapes) if name != "none" else _shaped(ops.NoNorm(), shapes[0])
    return EdgeOp(op(spec, shapes), norm_module)


def one_of(label: str, table, shapes: list[Shape], *extra, factory: str = "op",
           relaxable: bool = False) -> OneOf:
    build = FACTORIES[factory]
    candidates = [build(spec, shapes, *extra) for spec in table]
    return OneOf(label, [spec_text(s) for s in table], candidates, relaxable)


def mixed_op(label: str, table, shapes: list[Shape], *extra, factory: str = "op") -> OneOf:
    """A one-of that DARTS and SNAS relax into a mixed op but that starts fixed to its first
    option, as it was before it was relaxable, so one-shot sampling and fixed paths are unchanged
    (behaviour-block parts, MLP activation choices)."""
    module = one_of(label, table, shapes, *extra, factory=factory, relaxable=True)
    module.fix(module.options[0])
    return module


def mixed_edge(label: str, table, shape: Shape, norm_spec) -> OneOf:
    """A cell edge's one-of; under PC-DARTS' partial channels (nasc.runtime.partial_channels)
    its candidates are built for 1/K of the width and the edge joins their mix with the rest."""
    groups = edge_groups(label, shape.dim)
    inner = replace(shape, dim=shape.dim // groups)
    edge = one_of(label, table, [inner], norm_spec, factory="edge_op", relaxable=True)
    edge.partial, edge.out_shape = groups, shape
    return edge


def cell_node(label: str, edges: dict, keep: int, searched: bool) -> CellNode:
    return CellNode(label, edges, keep, searched)


class FixedNode(nn.Module):
    """A fixed intermediate node: the sum of its edges, one per kept input (in order)."""

    def __init__(self, edges: dict[int, nn.Module]):
        super().__init__()
        self.edges = nn.ModuleDict({str(i): e for i, e in edges.items()})
        self.out_shape = next(iter(edges.values())).out_shape

    def forward(self, *inputs):
        out = 0
        for edge, x in zip(self.edges.values(), inputs):
            out = out + edge(x)
        return out


def fixed_node(edges: dict) -> FixedNode:
    return FixedNode(edges)


class CellMerge(nn.Module):
    """The output node: sum, mean, concat (flattened) or a 1x1 convolution over the nodes."""

    def __init__(self, kind: str, nodes: int, shape: Shape):
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(nodes, 1, kernel_size=1) if kind == "conv1x1" else None
        self.out_shape = Shape("vector", 0, nodes * shape.flat) if kind == "concat" else shape

    def forward(self, *nodes):
        if self.kind == "concat":
            return torch.cat([n.flatten(1) for n in nodes], dim=1)  # (B, N m k)
        stacked = torch.stack(nodes, dim=1)  # (B, N, m, k)
        if self.kind == "sum":
            return stacked.sum(1)
        if self.kind == "mean":
            return stacked.mean(1)
        # The 1x1 convolution written as the weighted sum it is: on the CPU, a Conv2d's forward
        # + backward of four (4096, 10, 10) nodes took 90 ms (its weight gradient), this 5 ms.
        weight = self.conv.weight[0, :, 0, 0]  # (N,)
        return torch.einsum("bnmk,n->bmk", stacked, weight) + self.conv.bias  # (B, m, k)


def cell_merge(kind: str, nodes: int, shape: Shape) -> CellMerge:
    return CellMerge(kind, nodes, shape)


# ----------------------------------------------------------------------------------------- blocks
class ResidualBlock(nn.Module):
    """AMEIR eq. 3: H_l = Act(Layer(Norm(H_{l-1}))) + H_{l-1}, padded positions kept at zero."""

    def __init__(self, norm: nn.Module, layer: nn.Module, act: nn.Module, dropout: float):
        super().__init__()
        self.norm = norm
        self.layer = layer
        self.act = act
        self.dropout = nn.Dropout(dropout)
        self.out_shape = layer.out_shape

    def forward(self, h, mask, target=None):
        out = self.act(self.layer(self.norm(h, mask), mask, target))
        return (self.dropout(out) + h) * mask.unsqueeze(-1).to(h.dtype)


def residual_block(norm, layer, act, dropout: float = 0.0) -> ResidualBlock:
    return ResidualBlock(norm, layer, act, dropout)


# ----------------------------------------------------------------------------------- interactions
def _field_index(names: list[str], tuples) -> list[tuple[int, ...]]:
    index = {n: i for i, n in enumerate(names)}
    missing = sorted({f for t in tuples for f in t if f not in index})
    if missing:
        raise ValueError(f"interactions name fields the dataset does not have: {missing}; "
                         f"its fields are {names}")
    return [tuple(index[f] for f in t) for t in tuples]


def hadamard(shape: Shape, names: list[str], tuples) -> nn.Module:
    module = ops.HadamardInteractions(_field_index(names, tuples))
    return _shaped(module, Shape("matrix", len(tuples), shape.dim))


# A relaxed interaction set computes every candidate product on each batch: (B, C, k) floats,
# 800 MB at batch 4096, k 10 and this many candidates.
MAX_RELAXED_PRODUCTS = 5000


class InteractionChoice(TupleChoice):
    """The searched interaction set: the products of the tuples currently fixed.

    Relaxed (DARTS, SNAS) it is ``keep`` slots, each a mixed operation over every candidate
    product (all tuples of order 2..order): slot r = sum_c weighting(alpha_r)_c * prod_c, alpha
    one row of logits per slot. Each slot feeds its own downstream weights, so the slots learn
    apart from zero logits. Discretised, each slot keeps its strongest product, distinct from
    the other slots' (the strongest (slot, product) pair first). While relaxed, each product is
    batch-normalised without affine. Per-pair gates over pairwise
    interactions (AutoFIS, Liu et al. KDD 2020) are the order-2 case of this relaxation.
    """

    def __init__(self, label, names, order, keep, shape: Shape):
        super().__init__(label, names, order, keep)
        self.out_shape = Shape("matrix", keep, shape.dim)
        self.alpha = nn.Parameter(torch.zeros(keep, len(self.candidates)))
        for o in range(2, order + 1):  # candidate indices by order, for one gather per order
            index = [c for c in self.candidates if len(c) == o]
            self.register_buffer(f"order{o}", torch.tensor(index, dtype=torch.long).view(-1, o),
                                 persistent=False)
        # Each product normalised with its batch statistics, no affine (AutoFIS §3.2's BN, as
        # AutoPI's cells): products of freshly initialised embeddings are ~init_std^2, and the
        # logits would otherwise get no usable gradient, nor compare the candidates on one scale.
        # A module (no state: always the batch's statistics), so that scoring in chunks can give
        # it the whole split's (nasc.runtime.split_norms).
        self.product_norm = nn.BatchNorm1d(len(self.candidates), affine=False,
                                           track_running_stats=False)

    def forward(self, x):  # (B, m, k) -> (B, M, k)
        if self.tuples is None:
            return self.relaxed(x)
        rows = [x[:, list(t), :].prod(dim=1) for t in self.tuples]
        return torch.stack(rows, dim=1)

    def relaxed(self, x):
        products = torch.cat([x[:, getattr(self, f"order{o}")].prod(dim=2)
                              for o in range(2, self.order + 1)], dim=1)  # (B, C, k)
        products = self.product_norm(products)
        weights = self.weighting(self.alpha, self.tau)  # (M, C), each row sums to 1
        return torch.einsum("rc,bck->brk", weights, products)

    def relax(self) -> None:
        if len(self.candidates) > MAX_RELAXED_PRODUCTS:
            raise ValueError(
                f"`{self.label}`: {len(self.candidates):,} candidate products of order 2..{self.order}"
                f" over {len(self.field_names)} fields are too many to relax (each batch would "
                f"hold all of them; at most {MAX_RELAXED_PRODUCTS:,}): lower the interactions' "
                "`order`, or search them with oneshot_random")
        self.tuples = None

    def arch_logits(self) -> dict[str, nn.Parameter]:
        return {"alpha": self.alpha}

    def strongest(self) -> tuple:
        weights = torch.softmax(self.alpha.detach(), -1)
        order = sorted(((float(weights[r, c]), -r, -c) for r in range(self.keep)
                        for c in range(len(self.candidates))), reverse=True)
        slots: dict[int, int] = {}
        for _, r, c in order:
            if -r not in slots and -c not in slots.values():
                slots[-r] = -c
        return tuple(tuple(self.field_names[i] for i in self.candidates[slots[r]])
                     for r in range(self.keep))

    @property
    def value(self):
        return None if self.tuples is None else super().value


def interaction_choice(label: str, shape: Shape, names: list[str], order: int, keep: int):
    return InteractionChoice(label, names, order, keep, shape)


# -------------------------------------------------------------------------------------------- mlp
def _resolve_width(width, in_dim: int) -> int:
    return max(1, round(width * in_dim)) if isinstance(width, float) else int(width)


class DenseLayer(nn.Module):
    """Linear -> [batch-norm] -> activation -> [dropout]; fixed or with a width choice.

    With a ``choice`` the weights are one max-size matrix and each width uses its top-left block
    (AMEIR §2.3 step 3), so a fixed model loads a supernet's weights by slicing.
    """

    def __init__(self, in_dim: int, out_dim: int, act, dropout: float, batch_norm: bool,
                 choice: WidthChoice | None = None):
        super().__init__()
        self.choice = choice
        self.linear = ops.SlicedLinear(in_dim, out_dim) if choice else nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim) if batch_norm else None
        self.act = act
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        if self.choice is None:
            h = self.linear(x)
        else:
            h = self.linear(x, self.choice.width)
        width = h.shape[-1]
        if self.bn is not None and self.choice is None:
            h = self.bn(h)
        elif self.bn is not None:  # a searched width uses the leading statistics of the max size
            h = nn.functional.batch_norm(
                h, self.bn.running_mean[:width], self.bn.running_var[:width],
                self.bn.weight[:width], self.bn.bias[:width], self.training,
                self.bn.momentum, self.bn.eps)
        out = self.dropout(_sliced_act(self.act, h))
        if self.choice is not None and self.choice.index is None:  # relaxed: masks mixed
            out = out * self.choice.feature_weights()
        return out


def _sliced_act(module, h):
    """Apply an activation to the first ``h.shape[-1]`` features of a max-size activation."""
    target = module.candidates[module.index] if isinstance(module, OneOf) and \
        module.index is not None else module
    if isinstance(target, ops.Dice) and h.shape[-1] < target.dim:
        width = h.shape[-1]
        if target.training:
            mean = h.mean(0)
            var = h.var(0, unbiased=False)
            with torch.no_grad():
                target.running_mean[:width].lerp_(mean.detach(), target.momentum)
                target.running_var[:width].lerp_(h.var(0).detach(), target.momentum)
        else:
            mean, var = target.running_mean[:width], target.running_var[:width]
        p = torch.sigmoid((h - mean) / torch.sqrt(var + target.eps))
        return p * h + (1 - p) * target.alpha[:width] * h
    return module(h)


@dataclass(frozen=True)
class ActChoice:
    label: str
    table: tuple


def choice_of(label: str, table) -> ActChoice:
    return ActChoice(label, tuple(table))


def _act_module(spec, dim: int):
    if isinstance(spec, ActChoice):
        return mixed_op(spec.label, spec.table, [Shape("vector", 0, dim)], factory="act")
    return act(spec, [Shape("vector", 0, dim)])


def dense_layer(prev: Shape, in_shape: Shape, width, act, dropout: float = 0.0,
                batch_norm: bool = False) -> DenseLayer:
    out = _resolve_width(width, in_shape.flat)
    module = DenseLayer(prev.flat, out, _act_module(act, out), dropout, batch_norm)
    return _shaped(module, Shape("vector", 0, out))


def width_choice(label: str, prev: Shape, in_shape: Shape, widths, act, dropout: float = 0.0,
                 batch_norm: bool = False, monotone: bool = False) -> DenseLayer:
    resolved = [_resolve_width(w, in_shape.flat) for w in widths]
    options = [repr(w) if isinstance(w, float) else str(w) for w in widths]
    choice = WidthChoice(label, resolved, options, label.rsplit(".", 2)[0], monotone)
    out = max(resolved)
    module = DenseLayer(prev.flat, out, _act_module(act, out), dropout, batch_norm, choice)
    return _shaped(module, Shape("vector", 0, out))


def se_shortcut(shapes: list[Shape], expansion: float = 1.0) -> nn.Module:
    items = sum(s.fields for s in shapes)
    module = _SEOverMatrices(ops.SEShortcut(items, shapes[0].dim, expansion))
    return _shaped(module, Shape("vector", 0, shapes[0].dim))


class _SEOverMatrices(nn.Module):  # noqa: D101
    """Stacks the field matrices into Q (B, N + M, k) and applies the SE shortcut."""

    def __init__(self, se: nn.Module):
        super().__init__()
        self.se = se

    def forward(self, *matrices):
        return self.se(torch.cat(matrices, dim=1))


# ------------------------------------------------------------------------------------------ heads
class CTRHead(nn.Module):
    """The logit: logits pass through, vectors and matrices are projected to one logit, summed."""

    def __init__(self, shapes: list[Shape]):
        super().__init__()
        self.projections = nn.ModuleList(
            nn.Identity() if s.kind == "logit" else nn.Linear(s.flat, 1, bias=False) for s in shapes)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, *inputs):
        out = self.bias
        for proj, x in zip(self.projections, inputs):
            if isinstance(proj, nn.Identity):
                out = out + x
                continue
            x = x.flatten(1)
            # After a searched MLP the input may be narrower than the max: use the leading columns.
            out = out + nn.functional.linear(x, proj.weight[:, : x.shape[1]]).squeeze(-1)
        return out  # (B,)


def ctr_head(shapes: list[Shape]) -> CTRHead:
    return _shaped(CTRHead(shapes), Shape("logit"))


def next_item_head(shapes: list[Shape], items: Shape, projection: str = "linear") -> nn.Module:
    """h -> W h in the item embedding space (AMEIR eq. 7 scores e_i^T W h), or with
    ``projection="none"`` h itself (SASRec scores e_i^T h), which must then be as wide as one item
    embedding."""
    item_dim = items.dim // max(1, items.fields)  # one behavior field's embedding width
    if projection == "none":
        if shapes[0].flat != item_dim:
            raise ValueError(f"`projection none` scores the user vector against item embeddings "
                             f"directly, but it has width {shapes[0].flat} and an item embedding "
                             f"{item_dim}: make them equal, or use `projection linear`")
        return _shaped(nn.Identity(), Shape("vector", 0, item_dim))
    return _shaped(nn.Linear(shapes[0].flat, item_dim, bias=False), Shape("vector", 0, item_dim))


FACTORIES = {"op": op, "norm": norm, "seq_norm": seq_norm, "layer": layer, "act": act,
             "edge_op": edge_op}
