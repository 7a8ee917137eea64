"""Sizes that cannot run are refused before anything is allocated, at their construct, with the
estimate; an error found while building a model points at the construct that failed."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from nasc.cli import main
from nasc.compiler.frontend import compile_text
from nasc.compiler.lower import lower
from nasc.runtime import memory
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.sizing import parameters_per_construct

from kit.retrievalkit import REPO

WIDE = """model wide {
  input fields: categorical
  emb = embed(fields, dim=10)
  mlp dnn(flatten(emb)) {
    layers 1
    width 1000000000
  }
  head ctr(dnn)
}
"""


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["train", "compile"])
def test_a_width_no_machine_can_hold_is_refused_at_its_construct(tmp_path, command):
    spec = tmp_path / "wide.nas"
    spec.write_text(WIDE)
    extra = ["--out", str(tmp_path / "run"), "--quiet"] if command == "train" else \
        ["--out-dir", str(tmp_path / "gen")]
    code, output = run(command, str(spec), *extra)
    assert code == 2 and "Traceback" not in output
    # 8 fields x 10 dims -> 1e9 hidden units: 8e10 weights in the mlp, 16 bytes each to train
    assert f"{spec}:4:3: error: model `wide` has " in output
    assert "TB to train" in output and "mlp dnn alone has 81,000,000,000" in output
    assert not (tmp_path / "run").exists()


def test_parameters_are_counted_per_construct_without_allocating():
    _, program = compile_text(WIDE.replace("1000000000", "7"), "w.nas")
    schema = make_synthetic(0, 64, num_fields=3, vocab=5, planted=((0, 1),)).schema
    counts = parameters_per_construct(lower(program, "fixed"), schema)
    vocab_rows = sum(f.vocab_size for f in schema.fields)
    assert counts["node emb"] == vocab_rows * 10
    assert counts["mlp dnn"] == 30 * 7 + 7  # Linear(30 -> 7)
    assert counts["head ctr"] == 7 + 1  # its projection of the 7 units to a logit, and a bias


def test_the_largest_construct_is_named_when_the_budget_is_small(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 1000)
    code, output = run("train", str(REPO / "specs" / "deepfm.nas"), "--out",
                       str(tmp_path / "run"), "--quiet")
    assert code == 2
    spec_lines = (REPO / "specs" / "deepfm.nas").read_text().splitlines()
    line = next(i for i, text in enumerate(spec_lines, 1) if text.startswith("  mlp dnn"))
    assert f"deepfm.nas:{line}:3: error: " in output  # on the synthetic default, the mlp is
    assert "but only 1.0 KB is available; mlp dnn alone has" in output  # the largest part


def test_histories_too_long_to_hold_are_refused_at_the_sequence_input(tmp_path, tiny_log,
                                                                       monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 10_000)
    code, output = run("train", str(REPO / "specs" / "sasrec.nas"), "--data", str(tiny_log),
                       "--out", str(tmp_path / "run"), "--quiet")
    assert code == 2 and "Traceback" not in output
    line = next(i for i, text in enumerate((REPO / "specs" / "sasrec.nas").read_text()
                                           .splitlines(), 1) if "input history" in text)
    assert f"sasrec.nas:{line}:3: error: building histories of max_len=50 for " in output
    assert "lower the input's max_len" in output


def test_a_build_error_points_at_the_construct_that_failed(tmp_path, tiny_log):
    text = (REPO / "specs" / "sasrec.nas").read_text()
    spec = tmp_path / "heads.nas"
    broken = text.replace("transformer(transformer(seq, heads=1",
                          "transformer(transformer(seq, heads=3")
    assert broken != text  # the spec still has the line this test breaks
    spec.write_text(broken)
    code, output = run("train", str(spec), "--data", str(tiny_log), "--out",
                       str(tmp_path / "run"), "--quiet", "--epochs", "1")
    assert code == 2 and "Traceback" not in output
    line = next(i for i, t in enumerate(spec.read_text().splitlines(), 1) if t.startswith("  h ="))
    assert f"{spec}:{line}:3: error: model `sasrec` cannot be built for this dataset (node h)" \
        in output
