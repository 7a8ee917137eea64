"""Issue 20's done-when: a CSV with a multi-hot column nasc has never seen runs `nasc data infer`,
`nasc data inspect`, `nasc search --schema` and `nasc search --retrain` from the CLI; resuming
the finished run says so, and --resume with another --epochs is refused."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from nasc.cli import main

from kit.searchkit import TINY_CELL, write_spec

SPEC = TINY_CELL + """
search random {
  children 2
  epochs 1
}

train {
  batch 64
  epochs 1
}
"""
GENRES = ["drama", "comedy", "action", "horror", "scifi", "romance"]


def write_movies(path, rows: int = 300) -> None:
    """A click log with a `genres` multi-hot column (0 to 3 genres a row); clicks follow
    `action` among the genres, with noise."""
    rng = np.random.default_rng(0)
    lines = ["user_id,age,price,genres,clicked"]
    for _ in range(rows):
        genres = rng.choice(GENRES, size=rng.integers(0, 4), replace=False)
        clicked = int(("action" in genres) ^ (rng.random() < 0.2))
        lines.append(f"{rng.integers(0, 40)},{rng.integers(18, 25)},{rng.random() * 100:.2f},"
                     f"{'|'.join(genres)},{clicked}")
    path.write_text("\n".join(lines) + "\n")


def nasc(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def movies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_movies(tmp_path / "movies.csv")
    write_spec(tmp_path, SPEC, "tiny.nas")
    return tmp_path


def test_infer_search_retrain_end_to_end(movies):
    code, out = nasc("data", "infer", "movies.csv", "--out", "schema.json")
    assert code == 0, out
    schema = json.loads((movies / "schema.json").read_text())
    kinds = {f["name"]: f["type"] for f in schema["fields"]}
    assert schema["label"] == "clicked"
    assert kinds == {"user_id": "categorical", "age": "categorical", "price": "numeric",
                     "genres": "multi-hot"}

    code, out = nasc("data", "inspect", "movies.csv", "--schema", "schema.json")
    assert code == 0, out
    assert "300 rows" in out and "train 240, valid 30, test 30" in out
    assert "label rate: train" in out and "genres" in out and "multi_hot" in out

    code, out = nasc("search", "tiny.nas", "--data", "movies.csv", "--schema", "schema.json",
                     "--out", "run", "--retrain", "--quiet")
    assert code == 0, out
    assert "wrote run/arch.nas" in out and "test AUC" in out
    run = movies / "run"
    assert json.loads((run / "run.json").read_text())["data_schema"]["fields"][3]["kind"] == \
        "multi_hot"
    config = json.loads((run / "retrain" / "config.json").read_text())
    assert [f["kind"] for f in config["schema"]["fields"]][-1] == "multi_hot"
    assert (run / "retrain" / "summary.json").is_file()

    # (e) a finished search is not run again, and says so
    code, out = nasc("search", "--resume", "run", "--quiet")
    assert code == 0, out
    assert "already finished" in out and "search finished in" not in out
    # (d) --resume keeps the run's epochs: another count is refused, the same one accepted
    code, out = nasc("search", "--resume", "run", "--epochs", "3", "--quiet")
    assert code == 2 and "Traceback" not in out
    assert "--epochs: error: the run in run searches for 1 epochs" in out
    assert "leave --epochs out" in out
    code, out = nasc("search", "--resume", "run", "--epochs", "1", "--quiet")
    assert code == 0, out


def test_yaml_schema_with_sum_pooling(movies):
    (movies / "schema.yaml").write_text(
        "label: clicked\n"
        "fields:\n"
        "  - {name: user_id, type: categorical, min_count: 2}\n"
        "  - {name: genres, type: multi-hot, separator: '|', pooling: sum}\n")
    code, out = nasc("train", "tiny.nas", "--data", "movies.csv", "--schema", "schema.yaml",
                     "--out", "train", "--quiet")
    # tiny.nas is a space: train refuses it, but only after the schema was read and checked
    assert code == 2 and "still has choices" in out
    code, out = nasc("data", "inspect", "movies.csv", "--schema", "schema.yaml")
    assert code == 0 and "multi_hot (sum" in out, out


@pytest.mark.parametrize("text, name, expected", [
    ("label: clicked\nfields:\n  - {name: genres, type: multihot}\n", "s.yaml",
     "s.yaml:3: error: fields.0.type: Input should be 'categorical'"),
    ('{"label": "clicked", "fields": [', "s.json", "s.json:1: error: invalid JSON"),
    ("label: clicked\nfields:\n  - {name: genre, type: multi-hot}\n", "s.yaml",
     "movies.csv:1: error: column 'genre' is not in the file\n  hint: did you mean 'genres'?"),
    ("label: clicked\nfields:\n  - {name: genres, type: numeric}\n", "s.yaml",
     "movies.csv:2: error: column 'genres'"),
    ("label: clicked\nfields:\n  - {name: age, colour: red}\n", "s.yaml",
     "s.yaml:3: error: fields.0.colour: Extra inputs are not permitted"),
    ("label: clicked\nfields:\n  - {name: clicked}\n", "s.yaml",
     "s.yaml: error: the label column 'clicked' is also a field"),
])
def test_schema_mistakes_are_located_errors(movies, text, name, expected):
    (movies / name).write_text(text)
    code, out = nasc("search", "tiny.nas", "--data", "movies.csv", "--schema", name,
                     "--out", "run", "--quiet")
    assert code == 2 and "Traceback" not in out
    assert expected in out, out
    assert not (movies / "run").exists()  # nothing written for a bad schema


def test_csv_without_schema_names_the_flag(movies):
    code, out = nasc("search", "tiny.nas", "--data", "movies.csv", "--out", "run", "--quiet")
    assert code == 2
    assert "--schema FILE" in out and "nasc data infer" in out
