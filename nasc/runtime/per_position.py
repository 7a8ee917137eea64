"""A next-item model's output at every position of its sequence, for the objectives that train
every position (``objective seq2seq`` and ``cloze``).

A next-item model ends ``user = last(h); head next_item(user)``: its forward returns
head(last(h)), one vector per row. The per-position model is the same fx graph with the
``last`` pooling removed, so the head maps every position of h: (B, T, d) instead of (B, d).
It is a second GraphModule over the same submodules, so it shares every weight with the model
and trains them; the model's own forward (what evaluation ranks with) is untouched.

A one-shot supernet is not one fx graph (its forward follows the path drawn for the step), so
its twin is the supernet itself called with its one ``last`` pooling swapped, for that call, for
:class:`AllPositions` (``objective seq2seq`` of the supernet, ``supernet_objective seq2seq``).

The front end (``nasc.compiler.seq2seq_fit``) has already refused specs whose head input is not
``last`` of a causal sequence; the checks here guard models built by other means.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.fx
from torch import nn

from nasc.runtime.data.table import TensorTable
from nasc.runtime.ops.pooling import LastPool
from nasc.runtime.retrieval import NextItemObjective
from nasc.runtime.swaps import Swaps


class NoPerPositionOutput(ValueError):
    """The model's user vector is not head(last(sequence))."""


class AllPositions(nn.Module):
    """``last`` that keeps every position: (B, T, d), mask -> (B, T, d)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


class SwappedLast:
    """A model that is not an fx graph (a supernet), called with its one LastPool (at ``path``)
    replaced by AllPositions for the duration of the call, so the head maps every position."""

    def __init__(self, model: nn.Module, path: str):
        self.model, self.path = model, path

    def __call__(self, batch: dict) -> torch.Tensor:
        swaps = Swaps(self.model)
        swaps.put(self.path, AllPositions())
        try:
            return self.model(batch)
        finally:
            swaps.restore()


def per_position_model(model: nn.Module) -> torch.fx.GraphModule | SwappedLast:
    """model(batch) = head(last(h)) -> a module whose forward(batch) is head(h), (B, T, d).

    A model that is not an fx graph (a supernet) must hold exactly one LastPool, the one before
    its head (the front end has checked that the head reads `last` of a causal sequence at
    every point of the space): its twin is :class:`SwappedLast`."""
    if not isinstance(model, torch.fx.GraphModule):
        pools = [path for path, m in model.named_modules() if isinstance(m, LastPool)]
        if len(pools) != 1:
            raise NoPerPositionOutput(
                f"seq2seq training needs a fixed model (an fx graph) or a model with exactly one "
                f"`last` pooling; this {type(model).__name__} has {len(pools)}")
        return SwappedLast(model, pools[0])
    graph = copy.deepcopy(model.graph)
    (head,) = [node.args[0] for node in graph.nodes if node.op == "output"]
    pool = head.args[0] if head.op == "call_module" and len(head.args) == 1 else None
    if not (isinstance(pool, torch.fx.Node) and pool.op == "call_module"
            and isinstance(model.get_submodule(pool.target), LastPool)):
        raise NoPerPositionOutput("seq2seq training needs a model whose head reads `last(S)` "
                                  "of a sequence S")
    pool.replace_all_uses_with(pool.args[0])  # the head now reads the sequence itself
    graph.erase_node(pool)
    graph.lint()
    return torch.fx.GraphModule(model, graph, class_name=type(model).__name__ + "PerPosition")


class PerPositionObjective(NextItemObjective):
    """A next-item objective that trains the model's per-position twin (built once per model, it
    shares the model's weights) on rows of its own, one per user: seq2seq and cloze."""

    def __init__(self, dataset, config, device: torch.device):
        super().__init__(dataset, config, device)
        self._twins: dict[int, torch.fx.GraphModule] = {}

    def set_rows(self, users: np.ndarray, sequences: np.ndarray, mask: np.ndarray,
                 **columns: np.ndarray) -> None:
        """The training rows: users (R,), item sequences (R, T), their mask (R, T), and the
        objective's own (R, T) columns."""
        self.rows = TensorTable({
            "fields": torch.zeros((len(users), 0), dtype=torch.long),
            "sequence": torch.from_numpy(sequences[:, :, None]),
            "seq_mask": torch.from_numpy(mask),
            **{name: torch.from_numpy(values) for name, values in columns.items()},
            "user": torch.from_numpy(users),
        }).to(self.device)

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.rows) / self.config.batch)

    def per_position(self, model: nn.Module) -> torch.fx.GraphModule | SwappedLast:
        key = id(model)
        if key not in self._twins:
            self._twins[key] = per_position_model(model)
        return self._twins[key]
