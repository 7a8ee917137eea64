"""benchmarks/next_item.py --collect: seeds trained in separate processes (or searched and
retrained by `nasc search --retrain`) are gathered into one row, and a run made from another
spec is refused rather than mixed in."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.benchscripts import BENCHMARKS, load_script

REPO = BENCHMARKS.parent


def next_item(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # its `from benchkit import ...`
    return load_script("next_item")


def fake_run(out: Path, spec: Path, hr5: float, epochs: int) -> None:
    out.mkdir(parents=True)
    (out / "spec.nas").write_text(spec.read_text())
    (out / "config.json").write_text(json.dumps({"cpu": {"threads": 1}}))
    test = {"HR@1": hr5 / 2, "HR@5": hr5, "NDCG@5": hr5 * 0.8, "HR@10": hr5 + 0.1,
            "NDCG@10": hr5 * 0.9}
    valid = {**test, "NDCG@10": hr5 * 0.95}
    (out / "summary.json").write_text(json.dumps({"valid": valid, "test": test,
                                                  "epochs_run": epochs, "train_seconds": 100.0}))


def test_hand_crafted_seeds_become_one_row(tmp_path, monkeypatch):
    module = next_item(monkeypatch)
    spec = REPO / "specs" / "sasrec.nas"
    for seed, hr5 in ((1, 0.30), (2, 0.40)):
        fake_run(tmp_path / "runs" / f"seed-{seed}", spec, hr5, epochs=10 * seed)
    module.main([str(spec), "--data", "beauty_s3rec", "--seeds", "1,2", "--collect",
                 "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "out")])
    row = json.loads((tmp_path / "out" / "next_item.json").read_text())["rows"][0]
    assert (row["model"], row["kind"], row["seeds"]) == ("sasrec", "hand-crafted", [1, 2])
    assert row["hr5"] == pytest.approx(0.35) and row["hr5_std"] == pytest.approx(0.05 * 2 ** 0.5)  # sample std
    assert row["epochs"] == 15 and row["search_seconds"] is None
    assert row["protocol"] == "99 random negatives" and row["objective"] == "seq2seq"
    assert "| sasrec | hand-crafted |" in (tmp_path / "out" / "next_item.md").read_text()


def test_searched_seeds_read_the_retrain_and_the_search_seconds(tmp_path, monkeypatch):
    module = next_item(monkeypatch)
    spec = REPO / "specs" / "ameir_seq_sasrec.nas"
    for seed, seconds in ((1, 600.0), (2, 800.0)):
        run = tmp_path / "runs" / f"seed-{seed}"
        fake_run(run / "retrain", REPO / "specs" / "sasrec.nas", 0.3, epochs=20)  # arch.nas
        (run / "spec.nas").write_text(spec.read_text())
        (run / "summary.json").write_text(json.dumps({"search_seconds": seconds}))
        (run / "choices.json").write_text(json.dumps(
            {"behavior.block1.norm": "layer_norm", "behavior.block1.layer": f"gru{seed}",
             "behavior.block1.act": "relu", "cross.tuples": [["a", "b"]]}))
    module.main([str(spec), "--data", "beauty_s3rec", "--seeds", "1,2", "--collect",
                 "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "out")])
    row = json.loads((tmp_path / "out" / "next_item.json").read_text())["rows"][0]
    assert (row["model"], row["kind"]) == ("ameir_seq_sasrec", "searched")
    assert row["search_seconds"] == pytest.approx(700.0) and row["epochs"] == 20
    # each seed's kept architecture and its validation/test NDCG@10, in the JSON and the table
    assert [s["seed"] for s in row["per_seed"]] == [1, 2]
    assert row["per_seed"][1]["choices"]["behavior.block1.layer"] == "gru2"
    assert row["per_seed"][0]["valid_ndcg10"] == pytest.approx(0.3 * 0.95)
    table = (tmp_path / "out" / "next_item.md").read_text()
    assert ('| ameir_seq_sasrec | beauty_s3rec | 2 | 0.2850 | 0.2700 | '
            'behavior.block1: layer_norm gru2 relu; cross: [["a","b"]] |') in table


def test_a_run_of_another_spec_or_a_missing_seed_is_refused(tmp_path, monkeypatch):
    module = next_item(monkeypatch)
    spec = REPO / "specs" / "sasrec.nas"
    fake_run(tmp_path / "runs" / "seed-1", REPO / "specs" / "sasrec_s3rec.nas", 0.3, epochs=5)
    argv = [str(spec), "--data", "beauty_s3rec", "--collect", "--runs", str(tmp_path / "runs"),
            "--results", str(tmp_path / "out")]
    with pytest.raises(SystemExit, match="trained from another spec"):
        module.main(argv + ["--seeds", "1"])
    with pytest.raises(SystemExit, match="no summary.json; train this seed first"):
        module.main(argv + ["--seeds", "2"])
    assert not (tmp_path / "out" / "next_item.json").exists()


def test_a_run_of_the_spec_before_a_comment_edit_is_collected(tmp_path, monkeypatch):
    """Only what the spec says counts: a run whose spec.nas differs from the committed one in
    comments and layout is collected; one setting changed is refused."""
    module = next_item(monkeypatch)
    spec = REPO / "specs" / "sasrec.nas"
    fake_run(tmp_path / "runs" / "seed-1", spec, 0.3, epochs=5)
    made = tmp_path / "runs" / "seed-1" / "spec.nas"
    edited = "# an older comment\n\n" + spec.read_text().replace(
        "  patience 10\n", "  patience   10  # as S3-Rec\n")
    assert edited.count("# as S3-Rec") == 1
    made.write_text(edited)
    argv = [str(spec), "--data", "beauty_s3rec", "--collect", "--runs", str(tmp_path / "runs"),
            "--results", str(tmp_path / "out"), "--seeds", "1"]
    module.main(argv)
    assert json.loads((tmp_path / "out" / "next_item.json").read_text())["rows"][0]["hr5"] == 0.3
    made.write_text(edited.replace("patience   10", "patience 11"))
    assert "patience 11" in made.read_text()
    with pytest.raises(SystemExit, match="trained from another spec"):
        module.main(argv)


def test_the_machine_load_is_recorded_when_given(tmp_path, monkeypatch):
    module = next_item(monkeypatch)
    spec = REPO / "specs" / "sasrec.nas"
    fake_run(tmp_path / "runs" / "seed-1", spec, 0.3, epochs=5)
    argv = [str(spec), "--data", "beauty_s3rec", "--seeds", "1", "--collect",
            "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "out")]
    module.main(argv)
    assert "load" not in json.loads((tmp_path / "out" / "next_item.json").read_text())["rows"][0]
    module.main(argv + ["--load", "beside one single-thread job"])
    row = json.loads((tmp_path / "out" / "next_item.json").read_text())["rows"][0]
    assert row["load"] == "beside one single-thread job"
