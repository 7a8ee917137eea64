"""`compile` of a search or train block: the training steps compute their loss through
`torch.compile` (fused kernels for a step instead of one launch per operator).

``auto`` compiles on an accelerator and not on a CPU. benchmarks/search_speed.py measured a
DARTS step of the AutoPI supernet on this project's 2-core CPU at best 1.06x faster compiled
(no skip noise; 1.10-1.13x before this module, with graph breaks), for 200-270 s of
compilation, and slower than eager with AutoPI's noisy skip. On a GPU, where a step is
milliseconds of many small kernels, fusing them is the larger share, and launching them the
rest: ``graphs`` also has inductor replay each compiled step on CUDA as CUDA graphs (its
cudagraph trees; a shape not seen before, such as the ragged last batch, records its own).
It is not measured on a GPU yet, so ``auto`` does not choose it.

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
    return setting in ("on", "graphs") or (setting == "auto" and device.type != "cpu")


def wants_graphs(setting: str, device: torch.device) -> bool:
    """CUDA graphs exist on CUDA only: elsewhere ``graphs`` compiles as ``on`` does."""
    return setting == "graphs" and device.type == "cuda"


def training_loss(loss: Callable, setting: str, device: torch.device) -> Callable:
    """What the training steps call for a batch's loss: ``loss`` itself, or its compiled form
    (traced through the model and the objective, so a next-item head's item table and
    per-position outputs are in the graph too)."""
    if not wants_compile(setting, device):
        return loss
    # Random draws inside the step (the noisy skip, SNAS' Gumbel noise, dropout) through ATen's
    # generators rather than inductor's own: on the CPU its generated draws made the AutoPI
    # step 2x slower than eager (benchmarks/results/search_speed.json, compile).
    if BACKEND != "inductor":
        return torch.compile(loss, backend=BACKEND)
    # What torch.compile's mode "reduce-overhead" sets; a mode and options exclude each other.
    options = {"fallback_random": True, "triton.cudagraphs": wants_graphs(setting, device)}
    return torch.compile(loss, backend=BACKEND, options=options)


def compile_seconds() -> float:
    """Seconds this process has spent compiling so far, as torch._dynamo records them."""
    from torch._dynamo.utils import compilation_time_metrics

    return float(sum(sum(compilation_time_metrics.get(key, ())) for key in _COMPILE_METRICS))


def cuda_graph_skips() -> int:
    """Compiled graphs inductor ran without a CUDA graph so far (it logs each reason: a CPU
    tensor in the step, a mutated input, ...), as torch._dynamo counts them."""
    from torch._dynamo.utils import counters

    return int(counters["inductor"]["cudagraph_skips"])


class CompileClock:
    """The compile seconds of one run: started before its first step, read after its last."""

    def __init__(self, setting: str, device: torch.device):
        self.setting, self.on = setting, wants_compile(setting, device)
        self.graphs = wants_graphs(setting, device)
        self.start, self.skips = compile_seconds(), cuda_graph_skips()

    def record(self) -> dict:
        seconds = compile_seconds() - self.start if self.on else 0.0
        out = {"setting": self.setting, "compiled": self.on, "compile_seconds": round(seconds, 3)}
        if self.graphs:  # graphs that ran without one: the run paid compilation for less
            out.update(cuda_graphs=True, cuda_graph_skips=cuda_graph_skips() - self.skips)
        return out
