"""Making block parts relaxable (mixed ops fixed to their first option) left one-shot search
alone: oneshot_random on specs/ameir.nas, its search block shrunk, finds on a small synthetic
log exactly the choices it found at 5fac3ae, before the change (tests/ameir/data). The supernet's
logit starts at 0 as it did then (`init_bias zero`; `prior` is the default since)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from nasc.runtime.commands.search import search_spec

from kit.searchkit import REPO

SMALL_SEARCH = """search oneshot_random {
  batch 256
  children 6
  top 2
  valid_subset 300
  finetune inherit
  stage behavior {
    epochs 1
    fixed_mlp [32, 16]
  }
  stage cross {
    epochs 1
    fixed_mlp [32, 16]
  }
  stage aggregate {
    epochs 1
  }
}

train {
  init_bias zero"""


def test_oneshot_random_on_ameir_finds_what_it_found_before(tmp_path, one_thread):
    text = (REPO / "specs" / "ameir.nas").read_text()
    spec = tmp_path / "ameir_small.nas"
    spec.write_text(re.sub(r"search oneshot_random \{.*?\ntrain \{", SMALL_SEARCH, text,
                           flags=re.S))
    _, run = search_spec(str(spec), out=str(tmp_path / "run"), quiet=True, synthetic_rows=1500,
                         seed=7)
    before = json.loads((Path(__file__).parent / "data" / "oneshot_ameir_5fac3ae.json").read_text())
    assert json.loads(run.file("choices.json").read_text()) == before
