"""`nasc train` on next-item data: the run directory, the options, and clean user errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.runtime.data import load_dataset
from nasc.runtime.metrics import next_item_metrics, rank_of_positive
from nasc.runtime.retrieval import NextItemObjective
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import successor_log

from kit.retrievalkit import REPO

SASREC = str(REPO / "specs" / "sasrec.nas")


def _train(*args):
    return CliRunner().invoke(main, ["train", *args, "--device", "cpu", "--quiet"])


def test_cli_trains_sasrec_on_a_tiny_log(tiny_log, tmp_path):
    run = tmp_path / "run"
    result = _train(SASREC, "--data", str(tiny_log), "--epochs", "2", "--batch", "64",
                    "--out", str(run))
    assert result.exit_code == 0, result.output
    assert "test HR@1" in result.output and "NDCG@5" in result.output
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["test"]) == set(summary["valid"]) >= {"HR@1", "HR@5", "NDCG@5", "HR@10",
                                                             "NDCG@10"}
    assert all(0.0 <= v <= 1.0 for v in summary["test"].values())
    assert summary["protocol"].startswith(
        "leave-one-out, 1 positive vs 99 sampled unseen negatives, seed 2021")  # the spec's
    assert summary["monitor"] == "valid NDCG@10" and 1 <= summary["best_epoch"] <= 2
    for name in ("spec.nas", "config.json", "metrics.json", "metrics.csv", "best.pt"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["monitor"] == "ndcg10" and config["train"]["eval_negatives"] == 99
    assert config["train"]["objective"] == "seq2seq"
    assert config["schema"]["task"] == "next_item" and config["schema"]["max_len"] == 50
    rows = json.loads((run / "metrics.json").read_text())
    assert [r["epoch"] for r in rows] == list(range(1, summary["epochs_run"] + 1))
    assert {"train_seq2seq_bce", "valid_HR@1", "valid_HR@5", "valid_NDCG@10"} <= set(rows[0])


def test_cli_full_ranking_and_a_log_directory(tmp_path):
    folder = tmp_path / "beauty_like"
    folder.mkdir()
    log = successor_log(folder / "log.txt", users=40, items=60)
    catalogue = len({tok for line in log.read_text().splitlines() for tok in line.split()[1:]})
    (folder / "README.md").write_text("a behaviour log\n")
    run = tmp_path / "run"
    last_state = tmp_path / "sasrec_last_state.nas"  # --train-positions is last_state's option
    last_state.write_text(Path(SASREC).read_text().replace("  objective seq2seq\n", ""))
    result = _train(str(last_state), "--data", str(folder), "--epochs", "1",
                    "--eval-negatives", "full", "--train-positions", "all", "--out", str(run))
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    assert f"full ranking over {catalogue} items" in summary["protocol"]
    assert "every training position" in summary["train_protocol"]


@pytest.mark.parametrize("spec, data, words", [
    ("sasrec", "synthetic", "`head next_item`, which trains on a behaviour log"),
    ("deepfm", "LOG", "is a next-item behaviour log"),
])
def test_a_head_on_the_wrong_kind_of_data_is_a_user_error(tiny_log, tmp_path, spec, data, words):
    result = _train(str(REPO / "specs" / f"{spec}.nas"), "--out", str(tmp_path / "run"),
                    "--data", str(tiny_log) if data == "LOG" else data, "--epochs", "1")
    assert result.exit_code == 2, result.output
    assert words in result.output and "error:" in result.output and "hint:" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run" / "summary.json").exists()


def test_a_ctr_model_with_a_sequence_and_a_target_reads_a_log_as_din_rows(tiny_log, tmp_path):
    """AMEIR's CTR-with-behaviours task from a log: each target position gives the true next item
    (label 1) and one sampled unseen item (label 0), so every split is half positives."""
    run = tmp_path / "run"
    result = _train(str(REPO / "specs" / "din.nas"), "--data", str(tiny_log), "--epochs", "1",
                    "--out", str(run))
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["test"]) == {"auc", "logloss"}
    from nasc.compiler.frontend import load
    from nasc.runtime.commands.dataset import log_options, open_dataset

    _, _, program = load(REPO / "specs" / "din.nas")
    options = log_options(program, str(tiny_log), 5)
    assert options["task"] == "ctr"
    dataset = open_dataset(program, str(tiny_log), **options)
    for table in (dataset.train, dataset.valid, dataset.test):
        assert float(table.columns["label"].mean()) == 0.5


@pytest.mark.parametrize("flag, value", [("--eval-negatives", "0"), ("--eval-negatives", "some"),
                                          ("--train-positions", "-1")])
def test_bad_next_item_options_exit_2(tiny_log, tmp_path, flag, value):
    result = _train(SASREC, "--data", str(tiny_log), flag, value, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "neither a positive integer" in result.output


@pytest.mark.shared_data
def test_beauty_protocol_reproduces_ameirs_pop_baseline(shared_data):
    """On the 5-core Beauty AMEIR uses (= beauty_s3rec/), ranking by training popularity under
    this protocol scores what AMEIR's Table 2 gives POP: HR@5 0.175, NDCG@5 0.114."""
    ds = load_dataset(str(shared_data / "beauty_s3rec"), train_positions=5)  # the directory
    assert ds.schema.task == "next_item" and ds.meta["num_users"] == 22_363
    task = NextItemObjective(ds, TrainConfig(seed=2021), torch.device("cpu"))
    negs = task.candidates["test"]
    assert negs.shape == (22_363, 100)
    users, target = ds.test.columns["user"], ds.test.columns["target"][:, 0]
    seen = torch.zeros((len(users), ds.meta["num_items"] + 1), dtype=torch.bool)
    for row, user in enumerate(users.tolist()):
        seen[row, ds.meta["user_items"][user]] = True
    assert not seen.gather(1, negs).any()
    train_part = np.concatenate([np.asarray(s[:-2]) for s in ds.meta["user_items"]])
    popularity = torch.from_numpy(np.bincount(train_part, minlength=ds.meta["num_items"] + 2))
    pop = next_item_metrics(rank_of_positive(popularity[target].double(),
                                             popularity[negs].double()))
    assert pop["HR@5"] == pytest.approx(0.175, abs=0.01)  # measured 0.1695
    assert pop["NDCG@5"] == pytest.approx(0.114, abs=0.01)  # measured 0.1103
