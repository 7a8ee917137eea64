"""Malformed specs: each reports a located diagnostic with the right message.

Every case is (source, line, column, message substring[, hint substring]); the line and column are
1-based and were worked out by hand from the source text, not copied from the implementation.
The first diagnostic of the run must be the one described (later ones may follow).
"""
from __future__ import annotations

import re

import pytest

from nasc.compiler.frontend import compile_text, load
from nasc.errors import SpecError

HEAD = ("model m {", "  input fields: categorical", "  emb = embed(fields, dim=8)")  # lines 1-3


def src(*lines: str) -> str:
    """Lines (or whole chunks ending in a newline) joined into one source text."""
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def model(*lines: str) -> str:
    """The three HEAD lines, then ``lines`` from line 4 on, then the closing brace."""
    return src(*HEAD, *lines, "}")


CELL = ("  opset ops = { skip, fm }",  # 4
        "  cell c(emb) {",             # 5
        "    nodes 2",                 # 6
        "    edges ops",               # 7
        "  }",                         # 8
        "  head ctr(c)")               # 9

NEXT_ITEM = ("model m {",                               # 1
             "  input history: sequence(max_len=5)",    # 2
             "  seq = embed(history, dim=8)",           # 3
             "  user = last(seq)",                      # 4
             "  head next_item(user) {",                # 5
             "    items seq",                           # 6
             "  }",                                     # 7
             "}")                                       # 8

CASES = [
    # ------------------------------------------------------------------------------ syntax
    pytest.param(src(*HEAD, "  head ctr(emb)"), 1, 9, "this `{` is never closed",
                 "add `}`", id="missing-close-brace"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=8"), 3, 14,
                 "this `(` is never closed", "add `)`", id="unclosed-paren-at-eof"),
    pytest.param(model("  x = flatten(emb", "  head ctr(x)"), 5, 3, "unexpected name `head`",
                 "expected `)`", id="unclosed-paren-mid-file"),
    pytest.param(model("  opset ops = { skip, fm }", "  cell c(emb) {", "    nodes 2 keep 1",
                       "    edges ops", "  }", "  head ctr(c)"),
                 6, 13, "two settings on one line need a `;`", None, id="two-settings-one-line"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=8) x = flatten(emb)", "  head ctr(x)",
                     "}"),
                 3, 30, "two statements on one line need a `;`", None, id="two-statements"),
    pytest.param(src(model("  head ctr(emb)"), "search darts {", "  weights sgd(lr=0.1) arch adam",
                     "}"),
                 7, 23, "two settings on one line need a `;`", None, id="two-settings-after-call"),
    pytest.param(model("  opset ops = { skip, fm } x = ops(emb)", "  head ctr(x)"), 4, 28,
                 "two statements on one line need a `;`", None, id="two-statements-after-set"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm edge 1 -> 2: fm", "  }",
                       "  head ctr(c)"),
                 6, 21, "two settings on one line need a `;`", None, id="two-edges-one-line"),
    pytest.param(model("  opset ops { skip, fm }"), 4, 13, "an opset is written `opset NAME = ",
                 "add `=`", id="opset-missing-equals"),
    pytest.param(src("model m {", "  input fields categorical", "}"), 2, 16,
                 "an input is written `input NAME: KIND`", "add `:`", id="input-missing-colon"),
    pytest.param(model("  cell c(emb) {", "    nodes 1", "    edge 0 -> 1 fm", "  }",
                       "  head ctr(c)"),
                 6, 17, "an edge is written `edge FROM -> TO: OPERATOR`", None,
                 id="edge-missing-colon"),
    pytest.param(model("  cell c(emb) {", "    nodes 1", "    edge 0 1: fm", "  }", "  head ctr(c)"),
                 6, 12, "an edge is written `edge FROM -> TO: OPERATOR`", None,
                 id="edge-missing-arrow"),
    pytest.param(src(*HEAD, "  head ctr(emb)", "}", "train {", '  monitor "auc', "}"), 7, 11,
                 "this string is never closed", 'end it with `"`', id="unclosed-string"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=8) $", "  head ctr(emb)", "}"), 3, 30,
                 "unexpected character `$`", None, id="stray-character"),
    pytest.param(model("  opset ops = { }"), 4, 17, "a set needs at least one item", None,
                 id="empty-set"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=)", "  head ctr(emb)", "}"), 3, 27,
                 "a value is missing after `=`", None, id="missing-value"),
    pytest.param(model("  head ctr"), 4, 11, "a construct needs its inputs in parentheses", None,
                 id="construct-without-parens"),
    pytest.param(src("autopi {", "}"), 1, 1, "a spec is made of `model`, `search` and `train`",
                 "start the file with `model NAME {`", id="no-model-keyword"),
    # ------------------------------------------------------------------------------- names
    pytest.param(src(*HEAD[:2], "  emb = embed(feilds, dim=8)", "  head ctr(emb)", "}"), 3, 15,
                 "unknown name `feilds`", "did you mean `fields`?", id="unknown-name"),
    pytest.param(src(*HEAD[:2], "  x = flatten(emb)", "  emb = embed(fields, dim=8)",
                     "  head ctr(x)", "}"),
                 3, 15, "`emb` is used before it is defined (line 4)", "move the definition",
                 id="use-before-definition"),
    pytest.param(model("  emb = flatten(emb)", "  head ctr(emb)"), 4, 3,
                 "`emb` is defined twice (first at line 3)", "rename one", id="duplicate-node"),
    pytest.param(model("  opset emb = { skip, fm }", "  head ctr(emb)"), 4, 3,
                 "`emb` is defined twice (first at line 3)", None, id="opset-reuses-node-name"),
    pytest.param(model("  other = embed(fields, dim=4)", "  head ctr(emb)"), 4, 3,
                 "`other` is never used", None, id="unused-node"),
    pytest.param(model("  opset ops = { skip, fm }", "  head ctr(emb)"), 4, 3,
                 "opset `ops` is never used", None, id="unused-opset"),
    # --------------------------------------------------------------------------- operators
    pytest.param(model("  x = sennet(emb)", "  head ctr(x)"), 4, 7, "unknown operator `sennet`",
                 "did you mean `senet`?", id="unknown-operator"),
    pytest.param(model("  cell c(emb) {", "    nodes 1", "    edge 0 -> 1: conv", "  }",
                       "  head ctr(c)"),
                 6, 18, "`conv` cannot be used on a cell edge", "operators on a cell edge:",
                 id="operator-wrong-role"),
    pytest.param(model("  x = bigru(emb)", "  head ctr(x)"), 4, 7,
                 "`bigru` cannot be used as a node", None, id="layer-op-as-node"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dimm=8)", "  head ctr(emb)", "}"), 3, 23,
                 "`embed` has no option `dimm`", "did you mean `dim`?", id="unknown-parameter"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=8.5)", "  head ctr(emb)", "}"), 3, 27,
                 "`dim` must be an integer", None, id="parameter-wrong-type"),
    pytest.param(src(*HEAD[:2], "  emb = embed(fields, dim=0)", "  head ctr(emb)", "}"), 3, 27,
                 "`dim` is 0, but must be between 1 and 4096", None, id="parameter-out-of-range"),
    pytest.param(model("  opset ops = { skip, fm, skip }", *CELL[1:]), 4, 27,
                 "`skip` appears twice in opset `ops`", None, id="duplicate-opset-entry"),
    # ------------------------------------------------------------------------------- cells
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm", "    edge 2 -> 1: fm",
                       "    edge 0 -> 2: fm", "  }", "  head ctr(c)"),
                 7, 5, "edge 2 -> 1 breaks the DAG order", "lower-numbered", id="edge-backwards"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 1 -> 1: fm", "    edge 0 -> 2: fm",
                       "  }", "  head ctr(c)"),
                 6, 5, "edge 1 -> 1 breaks the DAG order", None, id="edge-self-loop"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm", "    edge 0 -> 3: fm",
                       "  }", "  head ctr(c)"),
                 7, 5, "edge 0 -> 3 ends outside the intermediate nodes 1..2", None,
                 id="edge-past-last-node"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm", "    edge 1 -> 0: fm",
                       "  }", "  head ctr(c)"),
                 7, 5, "edge 1 -> 0 ends outside the intermediate nodes 1..2",
                 "nodes 0..0 are the inputs", id="edge-into-input"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm", "    edge 0 -> 2: fm",
                       "    edge 0 -> 1: skip", "  }", "  head ctr(c)"),
                 8, 5, "edge 0 -> 1 is listed twice (first at line 6)", None, id="duplicate-edge"),
    pytest.param(model("  cell c(emb) {", "    nodes 2", "    edge 0 -> 1: fm", "  }", "  head ctr(c)"),
                 4, 3, "node 2 of cell `c` has no incoming edge", "edge 1 -> 2", id="node-no-input"),
    pytest.param(model("  opset ops = { skip, fm }", "  cell c(emb) {", "    nodes 1", "    edges ops",
                       "    edge 0 -> 1: fm", "  }", "  head ctr(c)"),
                 8, 5, "either searches every edge (`edges`) or lists its edges", None,
                 id="edges-and-edge"),
    # ------------------------------------------------------------------------------- kinds
    pytest.param(model("  p = sum_pool(emb)", "  head ctr(p)"), 4, 16,
                 "`sum_pool` expects a sequence (B, T, d) as input 1, got a field matrix", None,
                 id="sequence-op-on-matrix"),
    pytest.param(model("  y = logit(emb)", "  head ctr(y)"), 4, 13,
                 "`logit` expects a vector (B, d) as input 1, got a field matrix", "flatten(x)",
                 id="logit-on-matrix"),
    pytest.param(model("  mlp d(emb) {", "    layers 2", "    width 100", "  }", "  head ctr(d)"),
                 4, 9, "`mlp` expects a vector (B, d), got a field matrix (B, m, k)",
                 "flatten it first: flatten(x)", id="mlp-on-matrix"),
    pytest.param(model("  blocks b(emb) {", "    depth 2", "    layer bigru", "  }", "  p = sum_pool(b)",
                       "  head ctr(p)"),
                 4, 12, "`blocks` expects a sequence (B, T, d), got a field matrix", None,
                 id="blocks-on-matrix"),
    # --------------------------------------------------------------------------------- mlp
    pytest.param(model("  mlp d(flatten(emb)) {", "    layers 2", "    width 100", "    monotone",
                       "    layer 2 { width 200 }", "  }", "  head ctr(d)"),
                 8, 21, "layer 2 of mlp `d` is wider (200) than layer 1 (100)", "drop `monotone`",
                 id="monotone-violated"),
    pytest.param(model("  mlp d(flatten(emb)) {", "    layers 2", "    width { 100, 0.5 }", "  }",
                       "  head ctr(d)"),
                 6, 5, "widths mix integers and fractions", None, id="widths-mixed"),
    # ------------------------------------------------------------------------ interactions
    pytest.param(model("  interactions x(emb) {", "    cycles 2", "    order 4", "    keep 3", "  }",
                       "  head ctr(x)"),
                 6, 5, "order 4 cannot be reached in 2 cycles", "cycles 3", id="order-too-high"),
    pytest.param(model("  interactions x(emb) {", "    survivors 5", "    keep 6", "  }",
                       "  head ctr(x)"),
                 6, 5, "keep 6 is more than the 5 survivors", None, id="keep-above-survivors"),
    pytest.param(model("  interactions x(emb) {", "    tuples { a * b, c * c }", "  }", "  head ctr(x)"),
                 5, 21, "a field appears twice in this interaction", None, id="field-twice-in-tuple"),
    pytest.param(model("  mlp d(flatten(emb)) {", "    layers 2", "    layer 1 { width 100 }", "  }",
                       "  head ctr(d)"),
                 4, 3, "layer 2 of mlp `d` has no width", None, id="mlp-layer-without-width"),
    pytest.param(model("  mlp d(flatten(emb)) {", "    layers 2", "    width", "  }", "  head ctr(d)"),
                 6, 5, "`width` needs a value", None, id="width-without-value"),
    # ------------------------------------------------------------------------------ blocks
    pytest.param(src("model m {", "  input history: sequence(max_len=20)", "  seq = embed(history, dim=8)",
                     "  blocks b(seq) {", "    depth 2", "    layer { bigru, target_attention }", "  }",
                     "  p = sum_pool(b)", "  head ctr(p)", "}"),
                 6, 11, "`target_attention` needs a target item", "target=", id="target-attention"),
    pytest.param(src("model m {", "  input history: sequence(max_len=20)", "  seq = embed(history, dim=8)",
                     "  blocks b(seq) {", "    depth 2", "  }", "  p = sum_pool(b)", "  head ctr(p)", "}"),
                 4, 3, "blocks `b` needs `layer`", None, id="blocks-without-layer"),
    # ---------------------------------------------------------------------------- settings
    pytest.param(model(*CELL[:3], "    edges ops", "    kepp 1", "  }", "  head ctr(c)"),
                 8, 5, "unknown setting `kepp` in cell `c`", "did you mean `keep`?",
                 id="unknown-setting"),
    pytest.param(model(*CELL[:3], "    edges ops", "    nodes 3", "  }", "  head ctr(c)"),
                 8, 5, "`nodes` is set twice in cell `c` (first at line 6)", "keep one",
                 id="setting-twice"),
    pytest.param(model(*CELL[:3], "    edges", "  }", "  head ctr(c)"), 7, 5,
                 "`edges` needs a value", "chooses one operator", id="edges-without-value"),
    pytest.param(model(*CELL[:2], "    edges ops", "  }", "  head ctr(c)"),
                 5, 3, "cell `c` needs `nodes`", None, id="missing-required-setting"),
    pytest.param(src(*HEAD, "  head ctr(emb)", "}", "train {", "  monitor acu", "}"), 7, 11,
                 "`monitor` must be one of auc, logloss", "did you mean `auc`?", id="bad-enum"),
    pytest.param(src(*HEAD, "  head ctr(emb)", "}", "train {", "  optimizer adm(lr=0.01)", "}"), 7, 13,
                 "unknown operator `adm`", "did you mean `adam`?", id="unknown-optimizer"),
    # -------------------------------------------------------------------------- strategies
    pytest.param(src(model(*CELL), "search dart {", "  epochs 3", "}"), 11, 1,
                 "unknown search strategy `dart`", "did you mean `darts`?", id="unknown-strategy"),
    pytest.param(src("model m {", "  input history: sequence(max_len=20)",
                     "  seq = embed(history, dim=8)", "  blocks b(seq) {", "    depth 2",
                     "    layer { bigru, conv }", "  }", "  user = last(b)",
                     "  head next_item(user) {", "    items seq", "  }", "}",
                     "search darts {", "  epochs 3", "}"),
                 13, 1, "`search darts` trains ctr models; a `head next_item` space is searched by",
                 "`search oneshot_random { ... }`", id="darts-on-next-item-blocks"),
    pytest.param(src(model("  head ctr(emb)"), "search random {", "  epochs 3", "}"), 6, 1,
                 "the model has no choice left: `search random` has nothing to search", None,
                 id="strategy-on-fixed-model"),
    pytest.param(src(model(*CELL), "search oneshot_random {", "  stage cel {", "    epochs 1", "  }", "}"),
                 12, 3, "stage `cel` names no searchable construct", "stages: c", id="stage-unknown"),
    # ------------------------------------------------------------------- heads and blocks
    pytest.param(model("  x = flatten(emb)"), 1, 1, "model `m` has no `head`", "head ctr(out)",
                 id="no-head"),
    pytest.param(model("  head ctr(emb)", "  head ctr(emb)"), 5, 3,
                 "a model has one `head`; this is a second", None, id="two-heads"),
    pytest.param(model("  head ctrr(emb)"), 4, 3, "unknown task `ctrr`", "did you mean `ctr`?",
                 id="unknown-task"),
    pytest.param(src("search random {", "  epochs 3", "}"), 1, 1, "the spec has no `model` block",
                 None, id="no-model"),
    pytest.param(src(model("  head ctr(emb)"), "model n {", "  input fields: categorical", "}"), 6, 1,
                 "a spec holds one `model` block; this is a second", None, id="two-models"),
    pytest.param(src(model("  head ctr(emb)"), "train {", "  epochs 3", "}", "train {", "}"), 9, 1,
                 "a spec holds one `train` block; this is a second", None, id="two-trains"),
    # ------------------------------------------------------------------------- train block
    pytest.param(src(model("  head ctr(emb)"), "train {", "  monitor ndcg5", "}"), 7, 3,
                 "`monitor ndcg5` is not reported by a `head ctr` model", "auc, logloss",
                 id="ranking-monitor-on-ctr"),
    pytest.param(src(*NEXT_ITEM, "train {", "  monitor auc", "}"), 10, 3,
                 "`monitor auc` is not reported by a `head next_item` model", "ndcg5, hr5, hr1",
                 id="ctr-monitor-on-next-item"),
    pytest.param(src(model("  head ctr(emb)"), "train {", "  schedule cosine", "  lr_decay 0.5",
                     "}"), 8, 3, "`lr_decay` only applies to `schedule plateau`",
                 "remove `lr_decay`", id="lr-decay-with-cosine"),
    pytest.param(src(model("  head ctr(emb)"), "train {", "  warmup 2", "}"), 7, 3,
                 "`warmup` only applies to `schedule cosine`", "write `schedule cosine`",
                 id="warmup-without-cosine"),
    pytest.param(src(model("  head ctr(emb)"), "train {", "  schedule step", "}"), 7, 12,
                 "`schedule` must be one of plateau, cosine", None, id="unknown-schedule"),
]

LOCATED = re.compile(r"^t\.nas:(\d+):(\d+): error: (.+)$")


@pytest.mark.parametrize("source,line,col,message,hint", CASES)
def test_malformed_spec(source, line, col, message, hint):
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    diag = info.value.diagnostics[0]
    assert (diag.line, diag.col) == (line, col), info.value.render()
    assert message in diag.message, info.value.render()
    if hint is not None:
        assert diag.hint and hint in diag.hint, info.value.render()
    # the diagnostic quotes its own source line, and the caret sits under the column
    lines = source.splitlines()
    assert diag.source_line == lines[line - 1]
    rendered = diag.render().splitlines()
    assert LOCATED.match(rendered[0]).groups() == (str(line), str(col), diag.message)
    assert rendered[1] == "  " + lines[line - 1]
    assert rendered[2] == "  " + " " * (col - 1) + "^"


def test_enough_cases():
    assert len(CASES) >= 35


# ------------------------------------------------------------------------ full rendered text
def _render(source: str) -> str:
    with pytest.raises(SpecError) as info:
        compile_text(source, "spec.nas")
    return info.value.render()


def test_render_unknown_operator_exactly():
    text = _render(model("  x = sennet(emb)", "  head ctr(x)"))
    assert text == (
        "spec.nas:4:7: error: unknown operator `sennet`\n"
        "    x = sennet(emb)\n"
        "        ^\n"
        "  hint: did you mean `senet`?"
    )


def test_render_unclosed_brace_exactly():
    text = _render("model m {\n  input fields: categorical\n  e = embed(fields)\n  head ctr(e)\n")
    assert text == (
        "spec.nas:1:9: error: this `{` is never closed\n"
        "  model m {\n"
        "          ^\n"
        "  hint: add `}` where the block ends"
    )


def test_render_wrong_role_exactly():
    text = _render(model("  cell c(emb) {", "    nodes 1", "    edge 0 -> 1: conv", "  }",
                         "  head ctr(c)"))
    assert text == (
        "spec.nas:6:18: error: `conv` cannot be used on a cell edge\n"
        "      edge 0 -> 1: conv\n"
        "                   ^\n"
        "  hint: operators on a cell edge: conv1d, fm, mlp, self_attention, senet, skip, slp, zero"
    )


def test_render_opset_syntax_exactly():
    text = _render(model("  opset ops { skip, fm }"))
    assert text == (
        "spec.nas:4:13: error: an opset is written `opset NAME = { op, op, ... }` (found `{`)\n"
        "    opset ops { skip, fm }\n"
        "              ^\n"
        "  hint: add `=` between the opset's name and its `{ ... }`"
    )


def test_tabs_keep_the_caret_under_the_token():
    """The source line is shown with tabs expanded to one space, so the caret still lines up."""
    text = _render("model m {\n\tinput fields: categorical\n\te = sennet(fields)\n\thead ctr(e)\n}\n")
    lines = text.splitlines()
    assert lines[0].startswith("spec.nas:3:6: error: unknown operator `sennet`")
    assert lines[2].index("^") == lines[1].index("sennet")


# ---------------------------------------------------------------------- several errors at once
def test_independent_errors_are_all_reported():
    from nasc.compiler.settings import CTR_MONITORS, NEXT_ITEM_MONITORS

    source = src(
        "model m {",                          # 1
        "  input fields: categorical",        # 2
        "  emb = embed(fields, dimm=8)",      # 3  unknown option
        "  x = sennet(emb)",                  # 4  unknown operator
        "  y = flatten(emb)",                 # 5
        "  mlp d(y) {",                       # 6
        "    layers 2",                       # 7
        "    widht 100",                      # 8  unknown setting (and so: needs `width`)
        "  }",                                # 9
        "  head ctr(d)",                      # 10
        "}",                                  # 11
        "train {",                            # 12
        "  monitor acu",                      # 13 bad enum
        "}",                                  # 14
    )
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    found = {(d.line, d.col, d.message.split(" (")[0]) for d in info.value.diagnostics}
    expected = {
        (3, 23, "`embed` has no option `dimm`"),
        (4, 7, "unknown operator `sennet`"),
        (8, 5, "unknown setting `widht` in mlp `d`"),
        (13, 11, "`monitor` must be one of " + ", ".join(CTR_MONITORS + NEXT_ITEM_MONITORS)),
    }
    assert expected <= found, info.value.render()
    # one line per diagnostic header in the rendered text, in the order they were found
    headers = [l for l in info.value.render().splitlines() if LOCATED.match(l)]
    assert len(headers) == len(info.value.diagnostics) >= 4


def test_failed_statement_does_not_cascade_into_unused_or_headless():
    """A statement with an error still uses its inputs, and a broken head is still a head."""
    source = model("  x = sennet(emb)", "  head ctr(x)")
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    messages = [d.message for d in info.value.diagnostics]
    assert messages == ["unknown operator `sennet`"], messages

    source = model("  head ctrr(emb)")
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    messages = [d.message for d in info.value.diagnostics]
    assert messages == ["unknown task `ctrr`"], messages

    # an input whose statement failed has an unknown kind: no crash, no second complaint
    source = src(*HEAD[:2], "  a = embd(fields)", "  b = embed(a)", "  head ctr(b)", "}")
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    assert [(d.line, d.col, d.message) for d in info.value.diagnostics] == [
        (3, 7, "unknown operator `embd`")]

    source = model("  x = sennet(emb)", "  mlp d(flatten(emb)) {", "    layers 1", "    width 10",
                   "    shortcut se(x)", "  }", "  head ctr(d)")
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    assert [d.message for d in info.value.diagnostics] == ["unknown operator `sennet`"]

    source = model("  opset ops = { skip, fm }", "  cell c(emb) {", "    nodes 1", "    edges ops",
                   "    edge 0 -> 1: fm", "  }", "  head ctr(c)")
    with pytest.raises(SpecError) as info:
        compile_text(source, "t.nas")
    assert not any("never used" in d.message for d in info.value.diagnostics), \
        info.value.render()


# ---------------------------------------------------------------------------- file encoding
def test_non_utf8_file(tmp_path):
    path = tmp_path / "bad.nas"
    path.write_bytes(b"model m {\n  input fields: categorical\n  e = embed(fields)\xff\xfe\n}\n")
    with pytest.raises(SpecError) as info:
        load(path)
    (diag,) = info.value.diagnostics
    # "  e = embed(fields)" is 19 characters: the bad byte is column 20 of line 3
    assert (diag.line, diag.col) == (3, 20)
    assert diag.message == "the file is not UTF-8 text"
    assert info.value.render().startswith(f"{path}:3:20: error: the file is not UTF-8 text")


def test_non_utf8_first_byte(tmp_path):
    path = tmp_path / "bad.nas"
    path.write_bytes(b"\x80model m {}\n")
    with pytest.raises(SpecError) as info:
        load(path)
    assert (info.value.diagnostics[0].line, info.value.diagnostics[0].col) == (1, 1)


def test_empty_file_has_no_model():
    with pytest.raises(SpecError) as info:
        compile_text("", "t.nas")
    assert info.value.render().startswith("t.nas:1:1: error: the spec has no `model` block")


def test_next_item_models_monitor_ndcg5_unless_told_otherwise():
    assert compile_text(src(*NEXT_ITEM), "t.nas")[1].train["monitor"] == "ndcg5"
    told = compile_text(src(*NEXT_ITEM, "train {", "  monitor hr1", "}"), "t.nas")[1]
    assert told.train["monitor"] == "hr1"
    assert compile_text(model("  head ctr(emb)"), "t.nas")[1].train["monitor"] == "auc"
