"""`compile` of a search or train block: the training steps compute their loss through
`torch.compile` (fused kernels for a step instead of one launch per operator).

``auto`` compiles on an accelerator and not on a CPU. benchmarks/search_speed.py measured a
DARTS step of the AutoPI supernet on this project's 2-core CPU at best 1.06x faster compiled
(no skip noise; 1.10-1.13x before this module, with graph breaks), for 200-270 s of
compilation, and slower than eager with AutoPI's noisy skip. On a GPU, where a step is
milliseconds of many small kernels, fusing them is the larger share.

Only the training steps' loss is compiled; scoring, the running-statistics refresh and DARTS'
second-order step run eagerly (their shapes and grad modes differ: each would compile again).
The compiled function reads the module's own parameters and buffers, so checkpoints, state
dicts and the exported model are the eager module's.
"""
from __future__ import annotations

from typing import Callable

import torch

from nasc.compiler.settings import COMPILE

SETTINGS = COMPILE.choices

# The compiler torch.compile hands the traced graph to. Tests set "aot_eager" (the same tracing
# and autograd graph, no C++ build) to keep the suite fast.
BACKEND = "inductor"

# torch._dynamo's record of where compilation spent its seconds: the forward's tracing and
# compiling, and the backward graph's compilation (lazy, at the first backward).
_COMPILE_METRICS = ("_compile.compile_inner", "compile_fx.<locals>.bw_compiler")


def wants_compile(setting: str, device: torch.device) -> bool:
    if setting not in SETTINGS:
        raise ValueError(f"compile: unknown setting {setting!r}; one of {', '.join(SETTINGS)}")
    return setting == "on" or (setting == "auto" and device.type != "cpu")


def training_loss(loss: Callable, setting: str, device: torch.device) -> Callable:
    """What the training steps call for a batch's loss: ``loss`` itself, or its compiled form
    (traced through the model and the objective, so a next-item head's item table and
    per-position outputs are in the graph too)."""
    if not wants_compile(setting, device):
        return loss
    # Random draws inside the step (the noisy skip, SNAS' Gumbel noise, dropout) through ATen's
    # generators rather than inductor's own: on the CPU its generated draws made the AutoPI
    # step 2x slower than eager (benchmarks/results/search_speed.json, compile).
    options = {"fallback_random": True} if BACKEND == "inductor" else None
    return torch.compile(loss, backend=BACKEND, options=options)


def compile_seconds() -> float:
    """Seconds this process has spent compiling so far, as torch._dynamo records them."""
    from torch._dynamo.utils import compilation_time_metrics

    return float(sum(sum(compilation_time_metrics.get(key, ())) for key in _COMPILE_METRICS))


class CompileClock:
    """The compile seconds of one run: started before its first step, read after its last."""

    def __init__(self, setting: str, device: torch.device):
        self.setting, self.on = setting, wants_compile(setting, device)
        self.start = compile_seconds()

    def record(self) -> dict:
        seconds = compile_seconds() - self.start if self.on else 0.0
        return {"setting": self.setting, "compiled": self.on, "compile_seconds": round(seconds, 3)}
