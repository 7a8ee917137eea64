"""Printing and parsing are inverse: every spec is canonical, comments survive, and random IRs
print to text that parses back to the same IR (spans compare equal by design)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasc.compiler import ir
from nasc.compiler.parse import parse
from nasc.compiler.printer import print_spec

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.nas"))


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_spec_round_trips(path):
    text = path.read_text(encoding="utf-8")
    spec = parse(text, str(path))
    printed = print_spec(spec)
    assert parse(printed) == spec
    assert print_spec(parse(printed)) == printed  # idempotent
    assert printed == text, f"{path.name} is not canonical: run `nasc fmt {path}`"


def test_span_equality_is_by_design_only():
    """Spans never decide equality, but everything else does."""
    a = parse("model m {\n  x = f(1)\n}\n")
    b = parse("\n\nmodel m {    x = f( 1 ) }\n")
    assert a == b
    assert a.model.statements[0].span.line == 2 and b.model.statements[0].span.line == 3
    assert a != parse("model m {\n  x = f(2)\n}\n")
    assert a != parse("model m {\n  x = f(1.0)\n}\n")  # an Int is not a Float
    assert a != parse("model m {\n  x = f(1)  # note\n}\n")  # comments are part of the IR


COMMENTED = """\
# file header
# second header line
model m {  # model note
  # before the input
  input fields: categorical  # after the input
  emb = embed(fields, dim=8)
  opset ops = {
    skip,  # inside a set, after an item
    # inside a set, on its own line
    fm,
  }
  cell c(emb) {  # cell header note
    # before nodes
    nodes 2  # after nodes
    edges ops
    # before the cell's closing brace
  }
  head ctr(c)  # head note
  # before the model's closing brace
}
# between blocks
search random {
  epochs 3  # epochs note
  stage c {  # stage note
    epochs 1
    # end of stage
  }
  # end of search
}
train { }  # empty train note
# end of file
# really the end
"""


def _comments(text: str) -> list[str]:
    return [line[line.index("#"):].rstrip() for line in text.splitlines() if "#" in line]


def test_comments_survive():
    spec = parse(COMMENTED)
    printed = print_spec(spec)
    assert _comments(printed) and sorted(_comments(printed)) == sorted(_comments(COMMENTED))
    assert parse(printed) == spec
    assert print_spec(parse(printed)) == printed


def test_comments_keep_their_places():
    spec = parse(COMMENTED)
    model = spec.model
    assert model.comments == ("# file header", "# second header line")
    assert model.note == "# model note"
    inp, emb, ops, cell, head = model.statements
    assert inp.comments == ("# before the input",) and inp.note == "# after the input"
    assert emb.comments == () and emb.note is None
    assert cell.note == "# cell header note"
    assert cell.body.items[0].comments == ("# before nodes",)
    assert cell.body.items[0].note == "# after nodes"
    assert cell.body.end_comments == ("# before the cell's closing brace",)
    assert head.note == "# head note"
    assert model.end_comments == ("# before the model's closing brace",)
    assert spec.search.comments == ("# between blocks",)
    assert spec.search.body.items[0].note == "# epochs note"
    stage = spec.search.body.items[1]
    assert stage.note == "# stage note" and stage.body.end_comments == ("# end of stage",)
    assert spec.search.body.end_comments == ("# end of search",)
    assert spec.train.note == "# empty train note"
    assert spec.end_comments == ("# end of file", "# really the end")
    # the comments inside the multi-line set are kept with the opset
    assert set(ops.comments) == {"# inside a set, after an item", "# inside a set, on its own line"}
    printed = print_spec(spec)
    assert "  cell c(emb) {  # cell header note\n" in printed
    assert "  head ctr(c)  # head note\n" in printed
    assert printed.endswith("}  # empty train note\n\n# end of file\n# really the end\n")


def test_hash_inside_a_string_is_not_a_comment():
    spec = parse('model m {\n  x = f("a # b")  # real\n}\n')
    node = spec.model.statements[0]
    assert node.value.args[0].value == "a # b" and node.note == "# real"
    assert parse(print_spec(spec)) == spec


def test_long_sets_break_and_come_back():
    ops = ", ".join(f"op_number_{i}" for i in range(12))
    spec = parse(f"model m {{\n  opset s = {{ {ops} }}  # long\n}}\n")
    printed = print_spec(spec)
    assert "  opset s = {  # long\n    op_number_0,\n" in printed
    assert all(len(line) <= 100 for line in printed.splitlines())
    assert parse(printed) == spec


# ---------------------------------------------------------------------------- random IRs
KEYWORDS = {"model", "search", "train", "input", "opset", "cell", "blocks", "interactions", "mlp",
            "head", "edge", "true", "false"}
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS)
# names that start like a keyword must still lex as names
names = st.one_of(names, st.sampled_from(["models", "edges", "head_x", "cells", "true_", "_false",
                                         "input2", "mlps", "trainer", "searchy"]))
comment = st.from_regex(r"#[ -~]{0,30}", fullmatch=True).map(str.rstrip)
comments = st.lists(comment, max_size=2).map(tuple)
note = st.one_of(st.none(), comment)
safe_string = st.from_regex(r'[A-Za-z0-9 _.,:;#{}()\[\]*=+\-]{0,12}', fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False)

scalars = st.one_of(
    st.integers(-10**12, 10**12).map(lambda v: ir.Int(value=v)),
    finite.map(lambda v: ir.Float(value=v)),
    st.booleans().map(lambda v: ir.Bool(value=v)),
    safe_string.map(lambda v: ir.Str(value=v)),
    names.map(lambda v: ir.Ref(name=v)),
    st.lists(names, min_size=2, max_size=4).map(lambda v: ir.Product(names=tuple(v))),
)


def _compound(children):
    params = st.lists(st.builds(ir.Param, name=names, value=children), max_size=2).map(tuple)
    return st.one_of(
        st.builds(ir.Call, name=names, args=st.lists(children, max_size=3).map(tuple),
                  params=params),
        st.lists(children, max_size=3).map(lambda v: ir.List(items=tuple(v))),
        st.lists(children, min_size=1, max_size=3).map(lambda v: ir.Set(items=tuple(v))),
    )


values = st.recursive(scalars, _compound, max_leaves=8)
params = st.lists(st.builds(ir.Param, name=names, value=values), max_size=2).map(tuple)
setting_keys = names.filter(lambda s: s != "edge")


def _settings(depth: int):
    plain = st.builds(ir.Setting, key=setting_keys, value=st.one_of(st.none(), values),
                      comments=comments, note=note)
    edge = st.builds(ir.EdgeSetting, src=st.integers(-3, 20), dst=st.integers(-3, 20),
                     value=values, comments=comments, note=note)
    if depth == 0:
        return st.one_of(plain, edge)
    nested = st.builds(ir.NestedSetting, key=setting_keys,
                       arg=st.one_of(st.integers(-5, 99), names),
                       body=_bodies(depth - 1), comments=comments, note=note)
    return st.one_of(plain, plain, edge, nested)


def _bodies(depth: int = 2):
    return st.builds(ir.Body, items=st.lists(_settings(depth), max_size=4).map(tuple),
                     end_comments=comments)


def _construct():
    with_body = st.builds(ir.Construct,
                          type=st.sampled_from(["cell", "blocks", "interactions", "mlp", "head"]),
                          name=names, args=st.lists(values, max_size=3).map(tuple), params=params,
                          body=_bodies(), comments=comments, note=note)
    bare_head = st.builds(ir.Construct, type=st.just("head"), name=names,
                          args=st.lists(values, max_size=2).map(tuple), params=params,
                          body=st.none(), comments=comments, note=note)
    return st.one_of(with_body, bare_head)


statements = st.one_of(
    st.builds(ir.Input, name=names, type=names, params=params, comments=comments, note=note),
    st.builds(ir.OpSet, name=names,
              ops=st.lists(values, min_size=1, max_size=14).map(lambda v: ir.Set(items=tuple(v))),
              comments=comments, note=note),
    st.builds(ir.Node, name=names, value=values, comments=comments, note=note),
    _construct(),
)
models = st.builds(ir.Model, name=names, statements=st.lists(statements, max_size=6).map(tuple),
                   end_comments=comments, comments=comments, note=note)
searches = st.builds(ir.Search, strategy=names, body=_bodies(), comments=comments, note=note)
trains = st.builds(ir.Train, body=_bodies(), comments=comments, note=note)
specs = st.builds(ir.Spec, model=st.one_of(st.none(), models, models),
                  search=st.one_of(st.none(), searches), train=st.one_of(st.none(), trains),
                  end_comments=comments)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs)
def test_random_ir_round_trips(spec):
    text = print_spec(spec)
    back = parse(text)
    assert back == spec, text
    assert print_spec(back) == text


def test_floats_print_as_floats():
    for x in (0.0, -0.0, 1.0, 1e16, 1e-7, -2.5e300, 0.1, 123456789.0):
        spec = ir.Spec(model=ir.Model(name="m", statements=(ir.Node(name="x", value=ir.Float(value=x)),)))
        back = parse(print_spec(spec)).model.statements[0].value
        assert isinstance(back, ir.Float) and back.value == x
