"""The last-state protocol (the default: AMEIR's last 5 positions, 100 sampled negatives,
monitor NDCG@5) gives the numbers it gave before seq2seq and @10 metrics existed (2685f0e)."""
from __future__ import annotations

import json

import pytest

from nasc.runtime.commands.train import train_spec
from kit.retrievalkit import TINY_REC, successor_log


def test_the_default_protocol_reproduces_its_earlier_results(tmp_path):
    spec = tmp_path / "tiny_rec.nas"
    spec.write_text(TINY_REC.replace("epochs 6", "epochs 2"))
    log = successor_log(tmp_path / "log.txt", users=80, items=60)
    train_spec(str(spec), data=str(log), out=str(tmp_path / "run"), device="cpu", quiet=True,
               threads=1)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # measured at 2685f0e with the same seed, log and spec
    assert summary["test"]["HR@1"] == pytest.approx(0.3125)
    assert summary["test"]["HR@5"] == pytest.approx(0.6)
    assert summary["test"]["NDCG@5"] == pytest.approx(0.45270318005455135, rel=1e-6)
    assert summary["valid"]["NDCG@5"] == pytest.approx(0.5247557776468689, rel=1e-6)
    assert [r["train_sampled_bce"] for r in history] == pytest.approx(
        [1.3611610390224065, 1.1809363938496609], rel=1e-5)
    assert summary["train_protocol"].startswith("sampled BCE (AMEIR eq. 7)")
    assert summary["protocol"].startswith("leave-one-out, 1 positive vs 100 sampled")
