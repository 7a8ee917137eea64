"""The train block's `compile` (nasc.runtime.compiling): `nasc train` computes each step's loss
through torch.compile and trains the model the eager steps train -- a CTR model, and a
next-item model whose loss reads the item table and per-position outputs -- recording the
compile seconds in the run's summary. Compiled with "aot_eager" (tracing and autograd as
inductor, without its C++ build)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nasc.runtime import compiling
from nasc.runtime.commands.train import train_spec

from kit.retrievalkit import SASREC_LIKE

FM = """model fm {
  input fields: categorical
  emb = embed(fields, dim=8)
  head ctr(lr(fields), fm_logit(emb))
}

train {
  optimizer adam(lr=0.01)
  batch 1024
  epochs 2
  compile %s
}
"""


def trained(tmp_path: Path, text: str, setting: str, data: str, device: str = "cpu") -> dict:
    spec = tmp_path / f"{setting}.nas"
    spec.write_text(text)
    out = tmp_path / f"run-{setting}"
    train_spec(str(spec), data=data, out=str(out), seed=3, quiet=True, device=device)
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("task", ["ctr", "seq2seq"])
def test_a_compiled_train_matches_eager(tmp_path, tiny_log, traced_only, task):
    if task == "ctr":
        text, data = FM, "synthetic"
    else:
        text = SASREC_LIKE.replace("  epochs 6\n", "  epochs 2\n  compile %s\n")
        data = str(tiny_log)
    eager = trained(tmp_path, text % "off", "off", data)
    compiled = trained(tmp_path, text % "on", "on", data)
    assert eager["compile"] == {"setting": "off", "compiled": False, "compile_seconds": 0.0}
    assert compiled["compile"]["compiled"] and compiled["compile"]["compile_seconds"] > 0
    assert compiled["epochs_run"] == eager["epochs_run"] == 2
    for split in ("valid", "test"):
        assert compiled[split] == pytest.approx(eager[split], abs=1e-4), split


def test_graphs_compiles_as_on_where_there_is_no_cuda(tmp_path, traced_only):
    assert compiling.wants_graphs("graphs", torch.device("cuda"))
    assert not compiling.wants_graphs("graphs", torch.device("cpu"))
    assert not compiling.wants_graphs("on", torch.device("cuda"))
    summary = trained(tmp_path, FM % "graphs", "graphs", "synthetic")
    # compiled, and no CUDA-graph keys: there was nothing to replay as a graph
    assert summary["compile"]["setting"] == "graphs" and summary["compile"]["compiled"]
    assert "cuda_graphs" not in summary["compile"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_graphs_on_cuda_replay_every_step_and_train_as_eager(tmp_path):
    """Inductor itself (aot_eager has no CUDA graphs): each step of both shapes (the full batch
    and the ragged last one) replayed as a CUDA graph, none skipped, the model eager's."""
    torch._dynamo.reset()
    eager = trained(tmp_path, FM % "off", "off", "synthetic", device="cuda")
    graphed = trained(tmp_path, FM % "graphs", "graphs", "synthetic", device="cuda")
    torch._dynamo.reset()
    assert graphed["compile"]["cuda_graphs"] and graphed["compile"]["cuda_graph_skips"] == 0
    for split in ("valid", "test"):
        assert graphed[split] == pytest.approx(eager[split], abs=1e-4), split
