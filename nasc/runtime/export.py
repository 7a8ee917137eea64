"""A trained model as a self-contained scorer: TorchScript or ONNX, read back for scoring.

The scorer takes the model's input tensors positionally, in the order ``input_names`` gives
("fields" (N, m_c + n_mh L) int64: categorical ids, then each multi-hot bag's L ids;
"sequence" (N, T, n_a), "seq_mask" (N, T) bool,
"target" (N, n_t) where the model reads them), and returns the click probability (N,). Dimension
0 is the batch in both formats (ONNX: a dynamic axis named "batch").
"""
from __future__ import annotations

import operator
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from nasc.errors import Diagnostic, UsageError
from nasc.runtime.data.featuremap import FeatureMap

FORMATS = {"torchscript": "model.pt", "onnx": "model.onnx"}
OUTPUT = "probability"
BATCH = 65536  # rows scored at once


class Scorer(nn.Module):
    """The fixed model (it reads a batch dict) as a function of positional tensors, with the
    sigmoid inside: what a tracer and ONNX can take, and what a user of the export wants."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, list(names)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(dict(zip(self.names, inputs))))


def input_names(model: torch.fx.GraphModule) -> list[str]:
    """The batch keys the fixed model reads, in graph order (each once)."""
    batch = next(n for n in model.graph.nodes if n.op == "placeholder")
    keys = [n.args[1] for n in model.graph.nodes
            if n.op == "call_function" and n.target is operator.getitem and n.args[0] is batch]
    return list(dict.fromkeys(keys))


def input_shapes(features: FeatureMap, names: list[str]) -> dict[str, list]:
    """Each input's shape, "batch" for dimension 0."""
    kinds = [r.kind for r in features.fields]
    width = {"fields": [kinds.count("categorical")
                        + kinds.count("multi_hot") * features.multi_hot_width],
             "sequence": [features.max_len, kinds.count("sequence")],
             "seq_mask": [features.max_len], "target": [kinds.count("target")]}
    return {name: ["batch", *width[name]] for name in names}


def example_inputs(shapes: dict[str, list], rows: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs to trace with: id 1 everywhere (a real, non-padding id), every mask position set.
    Two rows, not one: an operator that squeezes would otherwise trace a batch of one."""
    return tuple(torch.ones((rows, *shape[1:]), dtype=torch.bool if name == "seq_mask"
                            else torch.int64) for name, shape in shapes.items())


# torch 2.13 marks TorchScript deprecated; it still traces, saves and loads, and the warning says
# nothing the user of `nasc export --format torchscript` can act on.
_QUIET_JIT = {"action": "ignore", "category": DeprecationWarning, "message": ".*torch.jit"}


def write_torchscript(scorer: Scorer, example: tuple, path: Path) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings(**_QUIET_JIT)
        traced = torch.jit.trace(scorer.eval(), example, check_trace=False)
    traced.save(str(path))


def write_onnx(scorer: Scorer, example: tuple, path: Path) -> None:
    names = scorer.names
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript-based exporter (dynamo=False) is deprecated but needs no onnxscript,
        # and it takes dynamic_axes; its warnings say nothing about this model.
        warnings.simplefilter("ignore")
        torch.onnx.export(scorer.eval(), example, str(path), dynamo=False, input_names=names,
                          output_names=[OUTPUT],
                          dynamic_axes={n: {0: "batch"} for n in [*names, OUTPUT]})
    import onnx

    onnx.checker.check_model(str(path), full_check=True)  # a graph onnxruntime will accept


def load_scorer(fmt: str, path: Path, names: list[str]) -> Callable[[dict], np.ndarray]:
    """The exported model as columns -> probabilities; a file that does not load is a located
    error (an export directory is meant to be copied around, and copies get damaged)."""
    try:
        if fmt == "onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            return lambda cols: session.run([OUTPUT], {n: cols[n].numpy() for n in names})[0]
        with warnings.catch_warnings():
            warnings.filterwarnings(**_QUIET_JIT)
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # each runtime raises its own kinds for a damaged file
        raise UsageError([Diagnostic(str(path), 0, 0, f"cannot load the {fmt} model: "
                                     f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                                     "export the run again: nasc export RUN")]) from None
    return lambda cols: module(*(cols[n] for n in names)).numpy()


def torch_scorer(model: nn.Module, names: list[str]) -> Callable[[dict], np.ndarray]:
    scorer = Scorer(model, names).eval()
    return lambda cols: scorer(*(cols[n] for n in names)).numpy()


@torch.no_grad()
def score(scorer: Callable[[dict], np.ndarray], columns: dict[str, torch.Tensor]) -> np.ndarray:
    """(N,) probabilities in row order, BATCH rows at a time."""
    rows = len(next(iter(columns.values()))) if columns else 0
    parts = [np.asarray(scorer({k: v[start:start + BATCH] for k, v in columns.items()}),
                        dtype=np.float64).reshape(-1)
             for start in range(0, rows, BATCH)]
    return np.concatenate(parts) if parts else np.zeros(0)
