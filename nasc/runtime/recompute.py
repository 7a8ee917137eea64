"""``memory recompute`` (DARTS, SNAS): a mixed edge keeps only its inputs for backward and runs
its candidates again when the gradient reaches it (``torch.utils.checkpoint``), so a relaxed
supernet holds about one edge's activations at a time instead of every candidate's of every edge
(DARTS' memory complaint: a supernet step held 10x a discrete child's activations).

The gradients are those of the plain forward, exactly: checkpoint already replays the global
random state (dropout); the two states of its own that an edge changes are put back for the
second run -- the generator a noisy skip draws from (AutoPI §4.4.2) is rewound to where the
first run started and returned afterwards, and batch norm's running statistics, which a second
run would update twice, are restored.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def recomputed(region: nn.Module, fn, *args):
    """``fn(*args)`` whose activations inside ``region`` are recomputed in backward."""
    return checkpoint(fn, *args, use_reentrant=False,
                      context_fn=lambda: _replay_contexts(region))


def _generators(region: nn.Module) -> list[torch.Generator]:
    found = {}
    for m in region.modules():
        g = getattr(m, "generator", None)
        if isinstance(g, torch.Generator):
            found[id(g)] = g
    return list(found.values())


def _running_stats(region: nn.Module) -> list[torch.Tensor]:
    return [b for m in region.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
            for b in (m.running_mean, m.running_var, m.num_batches_tracked) if b is not None]


def _replay_contexts(region: nn.Module):
    generators, started = _generators(region), []

    @contextmanager
    def first_run():
        started[:] = [g.get_state() for g in generators]
        yield

    @contextmanager
    def second_run():
        now = [g.get_state() for g in generators]
        buffers = _running_stats(region)
        kept = [b.clone() for b in buffers]
        for g, state in zip(generators, started):
            g.set_state(state)
        try:
            yield
        finally:
            for g, state in zip(generators, now):
                g.set_state(state)
            with torch.no_grad():
                for b, k in zip(buffers, kept):
                    b.copy_(k)

    return first_run(), second_run()
