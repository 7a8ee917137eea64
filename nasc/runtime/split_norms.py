"""Score a split in chunks with batch-norm normalising by the whole split's statistics.

A supernet is scored with batch-norm on batch statistics (``train.ScoringMode``). With the whole
split as one batch that is one forward, but its activations must fit at once; in chunks, each
chunk would normalise with its own statistics and the scores would depend on the chunk size.
Here every batch-norm's mean and (biased) variance over the whole split are found first, then the
chunks are scored with them fixed, which gives the one-batch scores (to float rounding) with one
chunk's activations held at a time.

A batch-norm's statistics over the split are exact only once every batch-norm upstream of it
normalises with exact statistics, so they are found level by level: level 0 are the batch-norms
that no other batch-norm feeds, level L those fed by level L - 1 at most. The levels come from one
small probe forward whose autograd graph says which batch-norm outputs reach each batch-norm's
input. Each level takes one pass over the chunks, stopped as soon as the level's batch-norms have
all run (the rest of the network is not needed yet), and a last pass scores.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

PROBE_ROWS = 64  # rows of the forward that finds the levels (batch-norm needs more than one)


class _LevelDone(Exception):
    """Raised inside a forward once the level being measured has all its statistics."""


def batch_norms(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _reduce_dims(x: Tensor) -> list[int]:
    """Batch-norm's statistics are per channel (dim 1) over every other dim."""
    return [0, *range(2, x.dim())]


def levels(model: nn.Module, norms: list[nn.Module], probe: dict) -> list[int | None] | None:
    """Each batch-norm's level (see the module's doc), from one forward of ``probe`` with grad,
    None for one the forward does not run (a supernet's module off the sampled path); None for
    all when a batch-norm runs more than once per forward (levels are then undefined)."""
    markers = [torch.zeros((), requires_grad=True) for _ in norms]
    inputs: dict[int, Tensor] = {}
    calls = [0] * len(norms)
    handles = []
    for i, norm in enumerate(norms):
        def before(module, args, i=i):
            calls[i] += 1
            inputs[i] = args[0]

        def after(module, args, output, i=i):
            return output + markers[i].to(output.device, output.dtype)
        handles += [norm.register_forward_pre_hook(before), norm.register_forward_hook(after)]
    try:
        with torch.enable_grad():
            model(probe)
    finally:
        for h in handles:
            h.remove()
    if any(c > 1 for c in calls):
        return None
    owner = {id(m): i for i, m in enumerate(markers)}
    reach: dict = {}  # grad_fn node -> the batch-norms whose outputs flow into it

    def upstream(node) -> frozenset:
        stack = [(node, False)] if node is not None else []
        while stack:  # iterative post-order: supernet graphs are deeper than Python's recursion
            n, expanded = stack.pop()
            if n in reach:
                continue
            children = [c for c, _ in n.next_functions if c is not None]
            if not expanded:
                stack.append((n, True))
                stack.extend((c, False) for c in children if c not in reach)
                continue
            found = set().union(*(reach[c] for c in children))
            variable = getattr(n, "variable", None)
            if variable is not None and id(variable) in owner:
                found.add(owner[id(variable)])
            reach[n] = frozenset(found)
        return reach.get(node, frozenset())

    feeds = [upstream(inputs[i].grad_fn) if calls[i] else frozenset()
             for i in range(len(norms))]
    level: dict[int, int] = {}

    def level_of(i: int) -> int:
        if i not in level:
            level[i] = 1 + max((level_of(j) for j in feeds[i]), default=-1)
        return level[i]
    return [level_of(i) if calls[i] else None for i in range(len(norms))]


def _fixed(norm: nn.Module, mean: Tensor, var: Tensor):
    def forward(x: Tensor) -> Tensor:
        return F.batch_norm(x, mean.to(x.dtype), var.to(x.dtype), norm.weight, norm.bias,
                            False, 0.0, norm.eps)
    return forward


def _identity(x: Tensor) -> Tensor:
    return x


def whole_split_statistics(model: nn.Module, batches, norms: list[nn.Module],
                           level: list[int]) -> list[tuple[Tensor, Tensor]]:
    """(mean, biased variance) of each batch-norm's input over all ``batches`` (a callable that
    makes the chunks again for each pass), level by level. In the pass that measures a level, the
batch-norms from that level on pass their input through: what they would give is not needed
before their own statistics are known (and a one-row last chunk has no batch statistics)."""
    stats: list[tuple[Tensor, Tensor] | None] = [None] * len(norms)
    try:
        for current in range(max(level) + 1):
            measured = [i for i, lv in enumerate(level) if lv == current]
            for i, lv in enumerate(level):  # from this level on, outputs are not read yet:
                norms[i].forward = _fixed(norms[i], *stats[i]) if lv < current else _identity
            sums = {i: None for i in measured}
            seen: set[int] = set()
            handles = []
            for i in measured:
                def hook(module, args, i=i):
                    x = args[0].detach()
                    dims = _reduce_dims(x)
                    xd = x.double()
                    part = (xd.sum(dims), (xd * xd).sum(dims), x.numel() // x.shape[1])
                    sums[i] = part if sums[i] is None else \
                        (sums[i][0] + part[0], sums[i][1] + part[1], sums[i][2] + part[2])
                    seen.add(i)
                    if len(seen) == len(measured):
                        raise _LevelDone
                handles.append(norms[i].register_forward_pre_hook(hook))
            try:
                for batch in batches():
                    seen.clear()
                    try:
                        model(batch)
                    except _LevelDone:
                        pass
            finally:
                for h in handles:
                    h.remove()
            for i in measured:
                total, squares, count = sums[i]
                mean = total / count
                stats[i] = (mean, (squares / count - mean * mean).clamp_min(0.0))
    finally:
        for norm in norms:
            norm.__dict__.pop("forward", None)
    return stats


def predict_with_split_norms(model: nn.Module, table, batch_size: int, run) -> Tensor:
    """Probabilities of ``table`` in chunks of ``batch_size`` rows (``run(batches)``: the scoring
    loop), every batch-norm normalising with the whole split's statistics, so the result is the
    one a single whole-split batch gives. The model is already in its scoring mode."""
    norms = batch_norms(model)
    chunks = lambda: table.batches(batch_size, shuffle=False)  # noqa: E731
    with torch.no_grad():
        level = levels(model, norms, next(iter(table.batches(PROBE_ROWS)))) if norms else None
    # batch-norms off the path the model runs now are never called and need no statistics
    running = [] if level is None else [i for i, lv in enumerate(level) if lv is not None]
    if not running:  # none that runs, or one called more than once: chunks as they are
        return run(chunks())
    norms, level = [norms[i] for i in running], [level[i] for i in running]
    with torch.no_grad():
        stats = whole_split_statistics(model, chunks, norms, level)
    for norm, (mean, var) in zip(norms, stats):
        norm.forward = _fixed(norm, mean, var)
    try:
        return run(chunks())
    finally:
        for norm in norms:
            norm.__dict__.pop("forward", None)
