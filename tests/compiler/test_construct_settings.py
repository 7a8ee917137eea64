"""Every setting of every construct table (nasc.compiler.settings.CONSTRUCTS) changes what is
built or searched, or is refused: a setting that compiles and does nothing fails here.

For each key, one edit of a small spec: the model compiled before and after must differ in the
supernet module it generates, its choices or its architecture count (`nasc compile`'s summary);
`interactions`' `survivors` acts during AMEIR's Step 2 only and is checked on a short search."""
from __future__ import annotations

import pytest

from nasc.compiler.codegen import render
from nasc.compiler.frontend import compile_text
from nasc.compiler.lower import lower
from nasc.compiler.settings import CONSTRUCTS
from nasc.compiler.summary import summary
from nasc.errors import SpecError

HEAD = "model m {\n  input fields: categorical\n  emb = embed(fields, dim=4)\n"
SEQ = "model m {\n  input history: sequence(max_len=5)\n  seq = embed(history, dim=4)\n"
BASES = {
    "cell": HEAD + "  opset ops = { skip, fm }\n  cell c(emb) {\n    nodes 2\n    edges ops\n  }\n"
                   "  head ctr(flatten(c))\n}\n",
    "blocks": SEQ + "  blocks b(seq) {\n    depth 1\n    layer { conv, zero }\n  }\n"
                     "  head ctr(sum_pool(b))\n}\n",
    "interactions": HEAD + "  interactions x(emb) {\n    keep 2\n  }\n  head ctr(flatten(x))\n}\n",
    "mlp": HEAD + "  mlp d(flatten(emb)) {\n    layers 2\n    width { 8, 4 }\n  }\n"
                  "  head ctr(d)\n}\n",
    "head": SEQ + "  user = last(seq)\n  head ctr(user)\n}\n",
}
# (construct, key) -> (text in the base, its replacement) -- or "refused" edits
EDITS = {
    ("cell", "nodes"): ("nodes 2", "nodes 3"),
    ("cell", "edges"): ("opset ops = { skip, fm }\n  cell c(emb) {\n    nodes 2\n    edges ops",
                        "cell c(emb) {\n    nodes 2\n    edges { skip, slp }"),
    ("cell", "keep"): ("edges ops", "edges ops\n    keep 1"),
    ("cell", "norm"): ("edges ops", "edges ops\n    norm batchnorm(affine=false)"),
    ("cell", "merge"): ("edges ops", "edges ops\n    merge mean"),
    ("blocks", "depth"): ("depth 1", "depth 2"),
    ("blocks", "norm"): ("depth 1", "depth 1\n    norm { layer_norm, none }"),
    ("blocks", "layer"): ("{ conv, zero }", "{ avg_pool, zero }"),
    ("blocks", "act"): ("depth 1", "depth 1\n    act relu"),
    ("blocks", "dropout"): ("depth 1", "depth 1\n    dropout 0.1"),
    ("blocks", "block"): ("depth 1", "depth 1\n    block 1 { layer conv }"),
    ("interactions", "cycles"): ("keep 2", "keep 2\n    cycles 2"),
    ("interactions", "keep"): ("keep 2", "keep 3"),
    ("interactions", "order"): ("keep 2", "keep 2\n    order 3"),
    ("interactions", "tuples"): ("keep 2", "tuples { f0 * f1 }"),
    ("mlp", "layers"): ("layers 2\n    width { 8, 4 }", "layers 1\n    width { 8, 4 }"),
    ("mlp", "width"): ("width { 8, 4 }", "width { 8, 2 }"),
    ("mlp", "monotone"): ("width { 8, 4 }", "width { 8, 4 }\n    monotone"),
    ("mlp", "act"): ("width { 8, 4 }", "width { 8, 4 }\n    act tanh"),
    ("mlp", "dropout"): ("width { 8, 4 }", "width { 8, 4 }\n    dropout 0.1"),
    ("mlp", "batch_norm"): ("width { 8, 4 }", "width { 8, 4 }\n    batch_norm"),
    ("mlp", "shortcut"): ("width { 8, 4 }", "width { 8, 4 }\n    shortcut se(emb)"),
    ("mlp", "layer"): ("width { 8, 4 }", "width { 8, 4 }\n    layer 1 { width 8 }"),
}
REFUSED = {("head", "items"): ("head ctr(user)", "head ctr(user) {\n    items seq\n  }"),
           ("head", "projection"): ("head ctr(user)",
                                    "head ctr(user) {\n    projection none\n  }")}
ACTS_WHILE_SEARCHING = {("interactions", "survivors")}


def test_every_construct_setting_has_an_edit_here():
    keys = {(c, k) for c, table in CONSTRUCTS.items() for k in table}
    assert keys == set(EDITS) | set(REFUSED) | ACTS_WHILE_SEARCHING


def _built(text: str) -> tuple[str, str]:
    _, program = compile_text(text, "m.nas")
    return render(lower(program, "supernet"), program, text, "m.nas"), summary(program, 6)


@pytest.mark.parametrize("construct, key", sorted(EDITS), ids=lambda v: str(v))
def test_a_setting_changes_what_is_built(construct, key):
    base = BASES[construct]
    old, new = EDITS[construct, key]
    assert old in base
    assert _built(base.replace(old, new, 1)) != _built(base)


@pytest.mark.parametrize("construct, key", sorted(REFUSED), ids=lambda v: str(v))
def test_a_setting_where_it_means_nothing_is_refused(construct, key):
    old, new = REFUSED[construct, key]
    compile_text(BASES[construct], "m.nas")  # the base compiles
    with pytest.raises(SpecError) as err:
        compile_text(BASES[construct].replace(old, new, 1), "m.nas")
    assert f"`{key}`" in str(err.value)


def test_survivors_decide_the_candidates_of_the_next_cycle(tmp_path, tiny_data):
    from nasc.runtime.strategies.oneshot import OneShot

    from kit.searchkit import make_ctx

    def second_cycle(survivors: int) -> int:
        text = ("model m {\n  input fields: categorical\n  emb = embed(fields, dim=4)\n"
                f"  interactions x(emb) {{\n    keep 2\n    cycles 2\n    survivors {survivors}\n"
                "  }\n  head ctr(flatten(x))\n}\n\nsearch oneshot_random {\n  epochs 1\n"
                "  batch 512\n  valid_subset 200\n}\n")
        ctx = make_ctx(tmp_path / f"s{survivors}", text, tiny_data)
        OneShot(ctx).run()
        (stage,) = ctx.record["stages"]
        return stage["cycles"][1]["candidates"]

    # 4 fields: 6 pairs in cycle 1; the survivors times the fields make cycle 2's candidates
    assert second_cycle(2) < second_cycle(5)
