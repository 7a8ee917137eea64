"""One-shot random search over every choice at once (AMEIR Table 4's "one-shot random search"
row): one stage whose paths draw every label, an interaction set included, and children ranked
over all of them; `stage` blocks beside `steps together` are a located error."""
from __future__ import annotations

import pytest

from nasc.compiler.frontend import compile_text
from nasc.errors import SpecError
from nasc.runtime.strategies import oneshot

from kit.searchkit import make_ctx

SPACE = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {
    cycles 1
    survivors 6
    keep 2
  }
  mlp dnn(concat(flatten(emb), flatten(cross))) {
    layers 2
    width { 8, 16 }
    monotone
    act { relu, identity }
  }
  head ctr(dnn)
}

search oneshot_random {
  epochs 1
  batch 512
  children 12
  top 2
  valid_subset 300
  steps together
}
"""


def test_one_stage_draws_every_choice(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, SPACE, tiny_data)
    found = oneshot.search(ctx)
    assert set(found) == {"cross.tuples", "dnn.layer1.width", "dnn.layer1.act",
                          "dnn.layer2.width", "dnn.layer2.act"}
    (stage,) = ctx.record["stages"]
    assert stage["stage"] == "all" and stage["construct"] == "all"
    assert len(found["cross.tuples"]) == 2
    assert found["dnn.layer1.width"] >= found["dnn.layer2.width"]  # monotone drawn jointly


def test_stage_blocks_beside_together_are_refused():
    text = SPACE.replace("  steps together\n", "  steps together\n  stage cross {\n"
                                                 "    epochs 1\n  }\n")
    with pytest.raises(SpecError) as err:
        compile_text(text, "m.nas")
    (diag,) = err.value.diagnostics
    assert "`steps together`" in diag.message and diag.line == 25
