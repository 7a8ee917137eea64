"""PC-DARTS' partial channel connections (Xu et al., ICLR 2020, §3.2) for a cell's mixed edges.

A mixed edge sends 1/K of its input's channels through the candidate operators and lets the rest
bypass them: f(x) = shuffle_K(concat(sum_o w_o o(x[..., :d/K]), x[..., d/K:])), as PC-DARTS'
reference code does it (a fixed slice, then a channel shuffle with K groups, so a later edge
slices other channels). On AutoPI's field matrices (B, m, d) the channels are the embedding
width d: the candidates are built for (m, d/K), so a step computes and keeps less (AutoPI on
Frappe, batch 4096, one thread: K = 2 a 1.4x faster step saving 0.59x the activations, K = 5
1.7x and 0.32x; benchmarks/search_speed.py --partial-channels). It changes the method (the
operators search on a slice of the embedding, with fewer weights), so it is a setting
(`partial_channels K`, default 1: off), not a speed-up with the same numbers. PC-DARTS' other half, edge normalisation (weights
over a node's input edges), is what AutoPI's beta already is.

The generated supernet.py reads the same either way: ``mixed_edge`` builds the narrower
candidates while ``narrowed_edges(K)`` is in force (nasc.runtime.strategies.common).
"""
from __future__ import annotations

import contextlib
import contextvars

import torch

_PARTIAL = contextvars.ContextVar("partial_channels", default=1)


class PartialChannelsError(Exception):
    """A partial_channels K that does not divide a cell edge's width (reported at the search
    block; not a ValueError, which model building reports as the dataset not fitting)."""


@contextlib.contextmanager
def narrowed_edges(k: int):
    """While in force, cell edges are built as PC-DARTS partial-channel edges with K groups."""
    token = _PARTIAL.set(k)
    try:
        yield
    finally:
        _PARTIAL.reset(token)


def edge_groups(label: str, width: int) -> int:
    """The K in force for a mixed edge of ``width`` channels (1: a whole edge)."""
    k = _PARTIAL.get()
    if k > 1 and width % k:
        divisors = ", ".join(str(d) for d in range(2, width + 1) if width % d == 0) or "none"
        raise PartialChannelsError(
            f"`partial_channels {k}` does not divide the width {width} of the cell edge "
            f"`{label}`; use 1 (off) or a divisor of {width} ({divisors})")
    return k


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(..., d) -> (..., d): channel c = g * (d / groups) + i moves to i * groups + g, PC-DARTS'
    (and ShuffleNet's) shuffle on the last axis."""
    *lead, d = x.shape
    return x.reshape(*lead, groups, d // groups).transpose(-1, -2).reshape(*lead, d)


def split(x: torch.Tensor, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(the first d/K channels, contiguous, for the operators; the rest, which bypass them)."""
    width = x.shape[-1] // groups
    return x[..., :width].contiguous(), x[..., width:]


def join(mixed: torch.Tensor, bypass: torch.Tensor, groups: int) -> torch.Tensor:
    return channel_shuffle(torch.cat([mixed, bypass], -1), groups)
