"""Shipping a model: `nasc export` (TorchScript, ONNX) and `nasc predict` on raw rows.

One small model is trained once on a generated CSV (a categorical, a quantile-bucketed numeric
with missing cells, a second categorical) with batch norm, so eval mode matters. The exported
scorers must give the trained model's probabilities to 1e-5; predict must read raw rows exactly
as training did, unseen values included; every bad input is a located error with status 2.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.runtime.commands.train import train_spec
from nasc.runtime.data import load_dataset
from nasc.runtime.data.splits import random_split
from nasc.runtime.export import input_names, load_scorer, score, torch_scorer
from nasc.runtime.trainedrun import open_trained_run

SPEC = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  mlp dnn(flatten(emb)) {
    layers 1
    width 8
    act relu
    batch_norm
  }
  head ctr(fm_logit(emb), lr(fields), dnn)
}
train {
  optimizer adam(lr=0.01)
  batch 128
  epochs 2
}
"""
SCHEMA = {"label": "clicked", "fields": [{"name": "city"},
                                          {"name": "price", "kind": "numeric", "buckets": 4},
                                          {"name": "device"}]}
ROWS = 600


def _csv_rows(n: int) -> list[str]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        city, device = rng.integers(6), rng.integers(3)
        click = int(rng.random() < 1 / (1 + np.exp(-(city - 2.5) * (device - 1))))
        price = "" if i % 17 == 0 else f"{rng.random() * 10:.3f}"
        rows.append(f"c{city},{price},d{device},{click}")
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(root, run directory, the raw CSV lines, the dataset as training read it)."""
    root = tmp_path_factory.mktemp("ship")
    (root / "clicks.csv").write_text("city,price,device,clicked\n" + "\n".join(_csv_rows(ROWS)) + "\n")
    (root / "schema.json").write_text(json.dumps(SCHEMA))
    (root / "m.nas").write_text(SPEC)
    train_spec(str(root / "m.nas"), data=str(root / "clicks.csv"), schema=str(root / "schema.json"),
               out=str(root / "run"), quiet=True, threads=1)
    dataset = load_dataset(str(root / "clicks.csv"), schema=SCHEMA, cache=False)
    return root, root / "run", _csv_rows(ROWS), dataset


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    # exit 2 is a SystemExit; anything else escaping would be a traceback
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _trained_probabilities(run, columns):
    trained_run = open_trained_run(run)
    return score(torch_scorer(trained_run.model, input_names(trained_run.model)), columns)


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_gives_the_trained_models_probabilities(trained, tmp_path, fmt):
    root, run, _, dataset = trained
    out = tmp_path / f"export-{fmt}"
    result = invoke("export", run, "--format", fmt, "--out", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "export.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["export.json", "features.json", "spec.nas", manifest["model_file"]])
    assert manifest["inputs"] == {"fields": ["batch", 3]}
    # the test rows, a batch size the model was never traced with (onnxruntime for ONNX)
    columns = {"fields": dataset.test.columns["fields"]}
    exported = score(load_scorer(fmt, out / manifest["model_file"], ["fields"]), columns)
    expected = _trained_probabilities(run, columns)
    assert len(exported) == len(dataset.test) == 60
    np.testing.assert_allclose(exported, expected, rtol=0, atol=1e-5)
    assert 0.05 < expected.std()  # a model that says something, not a constant


def _raw_test_rows(rows: list[str]) -> tuple[list[str], np.ndarray]:
    """The CSV lines of the test split (training's seeded 8:1:1) and their indices."""
    test = random_split(ROWS, 2021)[2]
    return [rows[i] for i in test], test


@pytest.mark.parametrize("source,out_name", [("run", "p.csv"), ("torchscript", "p.parquet"),
                                             ("onnx", "p.csv")])
def test_predict_reads_raw_rows_as_training_did(trained, tmp_path, source, out_name):
    root, run, rows, dataset = trained
    test_rows, _ = _raw_test_rows(rows)
    # an unseen city, a missing price and an unseen device: each gets training's OOV id
    unseen = "nowhere,,tablet,0"
    data = tmp_path / "score.csv"
    data.write_text("city,price,device,clicked\n" + "\n".join([*test_rows, unseen]) + "\n")
    where = run
    if source != "run":
        where = tmp_path / source
        assert invoke("export", run, "--format", source, "--out", where).exit_code == 0
    result = invoke("predict", where, "--data", data, "--out", tmp_path / out_name)
    assert result.exit_code == 0, result.output
    if out_name.endswith(".csv"):
        lines = (tmp_path / out_name).read_text().splitlines()
        assert lines[0] == "probability"
        got = np.array([float(x) for x in lines[1:]])
    else:
        got = pq.read_table(tmp_path / out_name).column("probability").to_numpy()
    features = json.loads((run / "features.json").read_text())
    oov = {f["name"]: len(features["vocabularies"][f["group"]]["tokens"]) + 1
           for f in features["fields"]}
    missing_price = features["vocabularies"]["price"]["tokens"].index(-1) + 1
    unseen_ids = torch.tensor([[oov["city"], missing_price, oov["device"]]])
    fields = torch.cat([dataset.test.columns["fields"], unseen_ids])
    expected = _trained_probabilities(run, {"fields": fields})
    assert len(got) == len(test_rows) + 1
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_predict_without_a_label_column_and_a_search_run_with_retrain(trained, tmp_path):
    root, run, rows, _ = trained
    search = tmp_path / "search"
    search.mkdir()
    (search / "run.json").write_text("{}")
    shutil.copytree(run, search / "retrain")
    data = tmp_path / "nolabel.csv"
    data.write_text("device,city,price\nd1,c2,4.5\nd0,c9,\n")  # another column order, no label
    result = invoke("predict", search, "--data", data, "--schema", root / "schema.json",
                    "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3


def test_export_replaces_an_earlier_export_and_nothing_is_half_written(trained, tmp_path,
                                                                       monkeypatch):
    root, run, _, _ = trained
    out = tmp_path / "export"
    assert invoke("export", run, "--format", "onnx", "--out", out).exit_code == 0
    assert invoke("export", run, "--format", "torchscript", "--out", out).exit_code == 0
    assert (out / "model.pt").is_file() and not (out / "model.onnx").exists()

    def broken(scorer, example, path):
        path.write_bytes(b"half a model")
        raise RuntimeError("the exporter gave up")
    monkeypatch.setattr("nasc.runtime.export.write_onnx", broken)
    result = invoke("export", run, "--format", "onnx", "--out", tmp_path / "fresh")
    assert result.exit_code == 2
    assert f"{run}: error: this model cannot be exported to onnx: the exporter gave up" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no staging directory left


def _bad_inputs(root, run, tmp_path):
    """(arguments, the path the error must start with, words the message holds)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    search = tmp_path / "search"
    search.mkdir()
    (search / "run.json").write_text("{}")
    unfinished = tmp_path / "unfinished"
    shutil.copytree(run, unfinished)
    (unfinished / "summary.json").unlink()
    bad_features = tmp_path / "bad-features"
    shutil.copytree(run, bad_features)
    (bad_features / "features.json").write_text('{"format": "nasc feature map 1"}')
    broken_onnx = tmp_path / "broken-onnx"
    assert invoke("export", run, "--format", "onnx", "--out", broken_onnx).exit_code == 0
    (broken_onnx / "model.onnx").write_bytes(b"not onnx")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("town,price,device\nx,1,d0\n")
    bad_number = tmp_path / "bad-number.csv"
    bad_number.write_text("city,price,device\nc1,cheap,d0\n")
    other_schema = tmp_path / "other.json"
    other_schema.write_text(json.dumps({"label": "y", "fields": [{"name": "town"}]}))
    data = root / "clicks.csv"
    return [
        (["export", empty, "--format", "onnx"], str(empty), "not a nasc training run"),
        (["export", search, "--format", "onnx"], str(search), "no trained model"),
        (["export", unfinished, "--format", "onnx"], str(unfinished), "did not finish"),
        (["export", tmp_path / "missing", "--format", "onnx"], str(tmp_path / "missing"),
         "no such run directory"),
        (["export", root / "clicks.csv", "--format", "onnx"], str(root / "clicks.csv"),
         "not a directory"),
        (["export", run, "--format", "torchscript", "--out", root], str(root),
         "is not a nasc export"),
        (["predict", bad_features, "--data", data], str(bad_features / "features.json"),
         "not a nasc feature map"),
        (["predict", broken_onnx, "--data", data], str(broken_onnx / "model.onnx"),
         "cannot load the onnx model"),
        (["predict", run, "--data", tmp_path / "nothing.csv"], str(tmp_path / "nothing.csv"),
         "no such file"),
        (["predict", run, "--data", wrong], f"{wrong}:1", "column 'city' is not in the file"),
        (["predict", run, "--data", bad_number], f"{bad_number}:2", "'cheap' is not a number"),
        (["predict", run, "--data", data, "--schema", other_schema], str(other_schema),
         "are not the model's"),
        (["predict", run, "--data", data, "--out", tmp_path / "p.txt"], str(tmp_path / "p.txt"),
         "unknown output format"),
    ]


def test_every_bad_input_is_a_located_error(trained, tmp_path):
    root, run, _, _ = trained
    for args, path, words in _bad_inputs(root, run, tmp_path):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        first = result.output.strip().splitlines()[0]
        assert first.startswith(f"{path}: error: ") or first.startswith(f"{path}:"), (args, first)
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not list(tmp_path.glob("*.predictions.csv")) and not (tmp_path / "p.txt").exists()


def test_unknown_format_and_a_real_process_show_no_traceback(trained, tmp_path):
    root, run, _, _ = trained
    result = invoke("export", run, "--format", "pickle")
    assert result.exit_code == 2 and "'pickle' is not one of 'torchscript', 'onnx'" in result.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("town\nx\n")
    proc = subprocess.run([sys.executable, "-m", "nasc.cli", "predict", str(run), "--data",
                           str(wrong), "--out", str(tmp_path / "p.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{wrong}:1: error: column 'city' is not in the file")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "p.csv").exists()


def test_synthetic_run_scores_a_csv_of_integer_values(tmp_path):
    spec = tmp_path / "lr.nas"
    spec.write_text("model lr {\n  input fields: categorical\n  head ctr(lr(fields))\n}\n"
                    "train {\n  optimizer adam(lr=0.05)\n  batch 4096\n  epochs 1\n}\n")
    train_spec(str(spec), out=str(tmp_path / "run"), quiet=True, threads=1)
    dataset = load_dataset("synthetic", n=20000, vocab=10, dim_signal=2, seed=2021, cache=False)
    header = ",".join(f"f{i}" for i in range(8))
    data = tmp_path / "rows.csv"
    data.write_text(f"{header}\n1,2,3,4,5,6,7,8\n99,0,0,0,0,0,0,0\n")
    result = invoke("predict", tmp_path / "run", "--data", data, "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    features = json.loads((tmp_path / "run" / "features.json").read_text())
    ids = [[features["vocabularies"][f"f{i}"]["tokens"].index(v) + 1 if v in
            features["vocabularies"][f"f{i}"]["tokens"] else
            len(features["vocabularies"][f"f{i}"]["tokens"]) + 1 for i, v in enumerate(row)]
           for row in ([1, 2, 3, 4, 5, 6, 7, 8], [99, 0, 0, 0, 0, 0, 0, 0])]
    assert ids[1][0] == dataset.schema.fields[0].vocab_size - 1  # 99: the OOV id
    expected = _trained_probabilities(tmp_path / "run", {"fields": torch.tensor(ids)})
    got = [float(x) for x in (tmp_path / "p.csv").read_text().splitlines()[1:]]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    data.write_text(f"{header}\n1.5,0,0,0,0,0,0,0\n")
    result = invoke("predict", tmp_path / "run", "--data", data, "--out", tmp_path / "q.csv")
    assert result.exit_code == 2 and f"{data}:2: error: column 'f0': '1.5' is not an integer" \
        in result.output
