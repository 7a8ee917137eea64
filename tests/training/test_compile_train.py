"""The train block's `compile` (nasc.runtime.compiling): `nasc train` computes each step's loss
through torch.compile and trains the model the eager steps train -- a CTR model, and a
next-item model whose loss reads the item table and per-position outputs -- recording the
compile seconds in the run's summary. Compiled with "aot_eager" (tracing and autograd as
inductor, without its C++ build)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def trained(tmp_path: Path, text: str, setting: str, data: str) -> dict:
    spec = tmp_path / f"{setting}.nas"
    spec.write_text(text)
    out = tmp_path / f"run-{setting}"
    train_spec(str(spec), data=data, out=str(out), seed=3, quiet=True)
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
