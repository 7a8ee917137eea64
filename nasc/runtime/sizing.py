"""A model too large to train is refused before anything is allocated, at the construct that
makes it so, with the estimate (``width 1000000000`` asked the allocator for 320 GB, reported
at line 0).

The model is first built on torch's ``meta`` device (shapes, no storage) to count parameters per
construct; a training run holds each parameter about four times (the weight, its gradient and
Adam's two moments), activations come on top. ``nasc.runtime.memory`` says what is available.
"""
from __future__ import annotations

import torch

from nasc.compiler.lower import Build, Plan, Section
from nasc.compiler.program import Program
from nasc.errors import Diagnostic, UsageError
from nasc.runtime.memory import TooLarge, human_bytes, require

BYTES_PER_PARAMETER = 16  # float32 weight + gradient + Adam's exp_avg and exp_avg_sq


def parameters_per_construct(plan: Plan, schema) -> dict[str, int]:
    """Parameters of each construct of a plan (``"mlp dnn"`` -> count), counted on the meta
    device, so nothing is allocated whatever the sizes. Buffers (index tables, running
    statistics) are left out: they are small beside the weights and take no gradient."""
    from nasc.runtime.model import materialize

    with torch.device("meta"):
        root = materialize(plan, schema)
    owner, counts = None, {}
    for item in plan.init:
        if isinstance(item, Section):
            owner = item.title
        elif isinstance(item, Build):
            params = getattr(root, item.attr).parameters()
            counts[owner] = counts.get(owner, 0) + sum(p.numel() for p in params)
    return counts


def check_model_fits(program: Program, plan: Plan, schema,
                     device: torch.device | str = "cpu") -> None:
    """Refuse a model whose training state alone cannot fit, at its largest construct."""
    counts = parameters_per_construct(plan, schema)
    total = sum(counts.values())
    try:
        require(total * BYTES_PER_PARAMETER, f"model `{program.name}`", device)
    except TooLarge as err:
        title, largest = max(counts.items(), key=lambda kv: kv[1])
        line, col = span_of(program, title)
        raise UsageError([Diagnostic(
            program.path, line, col,
            f"model `{program.name}` has {total:,} parameters, which need about "
            f"{human_bytes(err.needed)} to train (weights, gradients and Adam's state, before "
            f"activations), but only {human_bytes(err.available)} is available; "
            f"{title} alone has {largest:,}",
            "make it smaller (a lower width, dim or number of layers)")]) from None


def span_of(program: Program, title: str | None) -> tuple[int, int]:
    """Line and column of the statement a plan section (``"mlp dnn"``, ``"head ctr"``) lowers;
    the model's own when there is no section."""
    name = title.split()[-1] if title else None
    for stmt in program.spec.model.statements:
        if name is not None and stmt.name == name:
            return stmt.span.line or 1, stmt.span.column or 1
    return program.spec.model.span.line or 1, program.spec.model.span.column or 1
