"""A random split has its own seed: by default every training seed meets the same rows, and
--split files is refused for data that has no split of its own instead of being ignored."""
from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.compiler.frontend import load
from nasc.runtime.data import load_dataset
from nasc.runtime.commands.dataset import SPLIT_SEED, open_dataset

from test_data_errors import SPECS, criteo_text


@pytest.fixture
def criteo(tmp_path):
    path = tmp_path / "criteo.txt"
    path.write_text(criteo_text(200))
    return path


def rows_of(ds) -> torch.Tensor:
    return ds.test.columns["fields"]


def test_every_seed_meets_the_same_rows_unless_the_split_seed_changes(criteo):
    _, _, program = load(SPECS / "deepfm.nas")
    a = open_dataset(program, str(criteo), seed=1, cache=False)
    b = open_dataset(program, str(criteo), seed=2, cache=False)
    c = open_dataset(program, str(criteo), seed=2, split_seed=SPLIT_SEED + 1, cache=False)
    assert torch.equal(rows_of(a), rows_of(b))
    assert not torch.equal(rows_of(a), rows_of(c))
    assert a.meta["seed"] == SPLIT_SEED and c.meta["seed"] == SPLIT_SEED + 1


def test_auto_is_the_files_own_split_or_a_random_one(criteo, shared_data):
    assert load_dataset(str(criteo), cache=False).meta["split"] == "random811"
    frappe = load_dataset(str(shared_data / "frappe_x1"), cache=False)
    assert frappe.meta["split"] == "files"


def test_files_is_refused_for_one_file_instead_of_being_ignored(criteo, tmp_path):
    result = CliRunner().invoke(main, ["train", str(SPECS / "deepfm.nas"), "--data", str(criteo),
                                       "--split", "files", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no train/validation/test split of its own" in result.output
    assert not (tmp_path / "run").exists()
