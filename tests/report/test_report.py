"""Every search's run directory holds its pictures and report.md; `nasc show` draws specs and
runs; a near-uniform end of the architecture weights is warned about."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kit.searchkit import (
    PYTHON, TINY_CELL, TINY_ONESHOT, TINY_RANDOM, subprocess_env, write_spec,
)

PNG = b"\x89PNG\r\n\x1a\n"
RANDOM, ONESHOT = TINY_RANDOM, TINY_ONESHOT

def nasc(*args, cwd=None):
    return subprocess.run([PYTHON, "-m", "nasc.cli", *args], capture_output=True, text=True,
                          env=subprocess_env(), cwd=cwd)


def search(tmp_path, text, epochs=None):
    spec = write_spec(tmp_path, text)
    run = tmp_path / "run"
    done = nasc("search", str(spec), "--threads", "1", "--quiet", "--out", str(run),
                *(["--epochs", str(epochs)] if epochs else []))
    assert done.returncode == 0, done.stderr
    return run, done.stdout


def assert_pictures(directory: Path, *names: str) -> str:
    report = (directory / "report.md").read_text()
    for name in names:
        png = directory / "pictures" / name
        data = png.read_bytes()
        assert data.startswith(PNG) and len(data) > 1000, name
        assert f"](pictures/{name})" in report, name
    return report


def test_darts_run_has_cell_pictures_weights_and_the_uniform_warning(tmp_path):
    run, out = search(tmp_path, TINY_CELL + "search darts {\n  epochs 1\n  batch 256\n}\n")
    report = assert_pictures(run, "cell-c.png", "weights-c-alpha.png", "weights-c-beta.png",
                             "validation.png")
    import matplotlib.image

    assert matplotlib.image.imread(run / "pictures" / "cell-c.png").ndim == 3
    kept = json.loads((run / "choices.json").read_text())
    for pairs in kept.values():
        for _, op in pairs:
            assert f"-{op}->" in report  # the kept operators are named
    assert "close to uniform" in out and "close to uniform" in report
    assert "Not retrained yet" in report

    # Weights set far from uniform: no warning.
    history = json.loads((run / "history.json").read_text())
    for row in history[-1]["arch"].values():
        row[:] = [0.9] + [0.1 / (len(row) - 1)] * (len(row) - 1) if len(row) > 1 else row
    (run / "history.json").write_text(json.dumps(history))
    shown = nasc("show", str(run))
    assert shown.returncode == 0, shown.stderr
    assert "close to uniform" not in shown.stdout
    assert "close to uniform" not in (run / "report.md").read_text()


def test_random_search_report_has_children_curve(tmp_path):
    run, _ = search(tmp_path, RANDOM)
    report = assert_pictures(run, "cell-c.png", "validation.png")
    assert "validation per child" in report and "close to uniform" not in report


def test_random_search_report_lists_its_finalists_and_marks_the_kept_one(tmp_path):
    run, _ = search(tmp_path, RANDOM.replace("children 2\n", "children 3\n  top 2\n"))
    report = (run / "report.md").read_text()
    finalists = json.loads((run / "finalists.json").read_text())
    kept = json.loads((run / "summary.json").read_text())["best_child"]
    assert [r["rank"] for r in finalists] == [0, 1] and kept in [r["child"] for r in finalists]
    section = report.split("## Finalists")[1].split("## Test score")[0]
    for r in finalists:
        child = f"**{r['child']}**" if r["child"] == kept else str(r["child"])
        assert (f"| {r['rank']} | {child} | {r['epochs']} | {r['short_valid']['auc']:.4f} | "
                f"{r['valid']['auc']:.4f} |") in section


def test_oneshot_random_report_has_interactions_and_mlp(tmp_path):
    run, _ = search(tmp_path, ONESHOT)
    report = assert_pictures(run, "interactions-cross.png", "mlp-agg.png")
    assert "cross.tuples" in report and "agg.layer1.width" in report


def test_report_shows_test_score_beside_baselines(tmp_path):
    from nasc.report.report import write_run_report

    run, _ = search(tmp_path, RANDOM)
    (run / "retrain").mkdir()
    (run / "retrain" / "summary.json").write_text(json.dumps({"test": {"auc": 0.7,
                                                                       "logloss": 0.5}}))
    write_run_report(run)
    report = (run / "report.md").read_text()
    assert "| **this run** | searched, retrained | | 0.7000 | 0.5000 |" in report
    assert "AMEIR-ABC" in report  # the leaderboard's synthetic rows
    record = json.loads((run / "run.json").read_text())
    record["data"] = "no_such_data.csv"
    (run / "run.json").write_text(json.dumps(record))
    write_run_report(run)
    assert "No baseline scores for `no_such_data`" in (run / "report.md").read_text()


@pytest.mark.parametrize("spec", ["specs/autopi.nas", "specs/ctr_space.nas"])
def test_show_spec_draws_its_structure(tmp_path, spec):
    repo = Path(__file__).resolve().parents[2]
    done = nasc("show", str(repo / spec), "--out", str(tmp_path / "shown"))
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "shown" / "report.md").read_text()
    pictures = sorted((tmp_path / "shown" / "pictures").iterdir())
    assert pictures and all(p.read_bytes().startswith(PNG) for p in pictures)
    assert "| choice | construct | options |" in report


def test_show_missing_path_is_a_located_error(tmp_path):
    done = nasc("show", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert f"{tmp_path / 'nothing'}: error:" in done.stderr and "Traceback" not in done.stderr


def test_front_end_imports_no_matplotlib():
    code = ("import sys, nasc.cli, nasc.compiler.frontend, nasc.report.report; "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=subprocess_env())
    assert done.stdout.strip() == "False", done.stderr


def test_an_interaction_sets_slot_rows_are_rows_of_their_own():
    """A relaxed interaction set records one row of logits per slot (a list of lists): each
    slot is a row of the weights pictures and of the near-uniform check (it raised a TypeError)."""
    from nasc.report.weights import arch_history, near_uniform

    history = [{"epoch": 1, "arch": {"x.alpha": [0.5, 0.5],
                                      "cross.tuples.alpha": [[0.9, 0.05, 0.05],
                                                             [0.34, 0.33, 0.33]]}}]
    (rows,) = arch_history(history)
    assert rows == {"x.alpha": [0.5, 0.5], "cross.tuples.alpha[0]": [0.9, 0.05, 0.05],
                    "cross.tuples.alpha[1]": [0.34, 0.33, 0.33]}
    assert not near_uniform(rows)  # slot 0 chose
