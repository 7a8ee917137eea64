"""fix_spec / sample_assignment: fix some labels of a search space, search the rest."""
from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from nasc.compiler import ir
from nasc.compiler.fix import assignment_of_fixed, fix_spec, op_value
from nasc.compiler.sampling import sample_assignment
from nasc.compiler.frontend import compile_text
from nasc.compiler.parse import parse
from nasc.compiler.printer import print_spec, value_text
from nasc.compiler.program import BlocksDef, CellDef, InteractionsDef, MlpDef
from nasc.compiler.space import choices

ROOT = Path(__file__).resolve().parents[2]
FIELDS = [f"f{i}" for i in range(8)]


def load(name: str):
    path = ROOT / "specs" / name
    return compile_text(path.read_text(), str(path))


AUTOPI = load("autopi.nas")
AMEIR = load("ameir.nas")


def labels(program) -> set[str]:
    return {c.label for c in choices(program)}


def fixed_text(spec, program, assignment, **kw) -> str:
    text = print_spec(fix_spec(spec, program, assignment, **kw))
    assert print_spec(parse(text)) == text  # canonical
    return text


def cell_edges(spec: ir.Spec) -> dict[str, dict[int, tuple]]:
    """Per cell, per destination node: the sorted (src, op text) pairs written in the spec."""
    out = {}
    for stmt in spec.model.statements:
        if isinstance(stmt, ir.Construct) and stmt.type == "cell":
            per: dict[int, list] = {}
            for it in stmt.body.items:
                if isinstance(it, ir.EdgeSetting):
                    per.setdefault(it.dst, []).append((it.src, value_text(it.value)))
            out[stmt.name] = {j: tuple(sorted(v)) for j, v in per.items()}
    return out


# ------------------------------------------------------------------------------------ full fixes
@pytest.mark.parametrize("seed", range(50))
def test_autopi_full_assignment(seed):
    spec, program = AUTOPI
    a = sample_assignment(program, random.Random(seed))
    assert set(a) == labels(program)
    text = fixed_text(spec, program, a, drop_search=True)
    spec2, program2 = compile_text(text)
    assert choices(program2) == []
    assert spec2.search is None and spec2.train is not None
    assert "opset" not in text and "keep" not in text and "edges" not in text
    written = cell_edges(spec2)
    for label, value in a.items():
        cell, node = label.split(".node")
        assert written[cell][int(node)] == tuple(sorted(value))
    # edges are ordered by destination, then source
    for stmt in spec2.model.statements:
        if isinstance(stmt, ir.Construct) and stmt.type == "cell":
            order = [(e.dst, e.src) for e in stmt.body.items if isinstance(e, ir.EdgeSetting)]
            assert order == sorted(order)
    # the fixed program gives the assignment back
    back = assignment_of_fixed(program2)
    assert {k: back[k] for k in a} == a


@pytest.mark.parametrize("seed", range(50))
def test_ameir_full_assignment(seed):
    spec, program = AMEIR
    a = sample_assignment(program, random.Random(seed), FIELDS)
    assert set(a) == labels(program)
    text = fixed_text(spec, program, a, drop_search=True)
    spec2, program2 = compile_text(text)
    assert choices(program2) == []
    assert "behavior_layers" not in text  # the unused opset is gone
    behavior = program2.binding("behavior")
    assert isinstance(behavior, BlocksDef)
    for n, block in enumerate(behavior.blocks, start=1):
        for part in ("norm", "layer", "act"):
            assert getattr(block, part).options[0].text() == a[f"behavior.block{n}.{part}"]
    cross = program2.binding("cross")
    assert isinstance(cross, InteractionsDef)
    assert cross.tuples == a["cross.tuples"]
    assert len(cross.tuples) == 10
    assert all(2 <= len(t) <= 5 and len(set(t)) == len(t) for t in cross.tuples)
    agg = program2.binding("aggregate")
    assert isinstance(agg, MlpDef) and agg.monotone
    widths = [layer.width.options[0] for layer in agg.layers]
    assert widths == [a[f"aggregate.layer{n}.width"] for n in (1, 2, 3)]
    assert widths == sorted(widths, reverse=True)
    assert all(isinstance(w, float) for w in widths)
    assert [l.act.options[0].text() for l in agg.layers] == \
        [a[f"aggregate.layer{n}.act"] for n in (1, 2, 3)]
    back = assignment_of_fixed(program2)
    assert {k: back[k] for k in a} == a


def test_ameir_compact_blocks():
    """Every block fixed the same way: no per-block overrides are written."""
    spec, program = AMEIR
    a = sample_assignment(program, random.Random(0), FIELDS)
    for n in range(1, 7):
        a.update({f"behavior.block{n}.norm": "none", f"behavior.block{n}.layer": "bigru",
                  f"behavior.block{n}.act": "gelu"})
    a.update({f"aggregate.layer{n}.width": 0.5 for n in (1, 2, 3)})
    text = fixed_text(spec, program, a, drop_search=True)
    assert "block " not in text
    assert "    norm none\n    layer bigru\n    act gelu\n" in text
    assert "    width 0.5\n" in text
    compile_text(text)


# ---------------------------------------------------------------------------------- partial fixes
def test_partial_fixing_behavior_only():
    spec, program = AMEIR
    full = sample_assignment(program, random.Random(3), FIELDS)
    part = {k: v for k, v in full.items() if k.startswith("behavior.")}
    assert len(part) == 18
    text = fixed_text(spec, program, part)  # keeps the search block
    spec2, program2 = compile_text(text)
    assert labels(program2) == labels(program) - set(part)
    assert "stage behavior" not in text  # a stage with nothing left to search is dropped
    assert "stage cross" in text and "stage aggregate" in text
    assert "opset behavior_layers" not in text
    # the rest can be fixed afterwards, in the new program's label scheme
    rest = {k: v for k, v in full.items() if k not in part}
    final = fixed_text(spec2, program2, rest, drop_search=True)
    assert final == fixed_text(spec, program, full, drop_search=True)


def test_partial_fixing_one_block_part_keeps_the_choice_elsewhere():
    spec, program = AMEIR
    text = fixed_text(spec, program, {"behavior.block2.layer": "zero",
                                      "aggregate.layer3.act": "dice",
                                      "aggregate.layer1.width": 0.7})
    assert "layer behavior_layers" in text  # the other blocks still search it
    assert "block 2 {\n      layer zero\n    }" in text
    spec2, program2 = compile_text(text)
    assert labels(program2) == labels(program) - {"behavior.block2.layer", "aggregate.layer3.act",
                                                  "aggregate.layer1.width"}
    behavior = program2.binding("behavior")
    assert behavior.blocks[1].layer.options[0].text() == "zero"
    assert len(behavior.blocks[0].layer.options) == 12
    agg = program2.binding("aggregate")
    assert agg.layers[0].width.options == (0.7,)
    assert agg.layers[2].act.options[0].text() == "dice"


def test_partial_fixing_one_cell():
    spec, program = AUTOPI
    full = sample_assignment(program, random.Random(7))
    part = {k: v for k, v in full.items() if k.startswith("interaction.")}
    text = fixed_text(spec, program, part)
    spec2, program2 = compile_text(text)
    assert labels(program2) == {k for k in full if k.startswith("ensemble.")}
    assert "opset interactive" in text  # still used by the ensemble cell
    assert isinstance(program2.binding("interaction"), CellDef)
    assert not program2.binding("interaction").searched


def test_empty_assignment_is_identity():
    for spec, program in (AUTOPI, AMEIR):
        assert fix_spec(spec, program, {}) == spec


# -------------------------------------------------------------------------------- hand-written case
TINY = """\
model tiny {
  input fields: categorical
  emb = embed(fields, dim=4)
  # the candidate operators
  opset ops = { skip, fm }
  # one input, two nodes
  cell c(emb) {
    nodes 2
    # searched
    edges ops  # every edge
    keep 2
    merge mean
  }
  head ctr(c)
}

search random {
  children 5
}
"""

TINY_FIXED = """\
model tiny {
  input fields: categorical
  emb = embed(fields, dim=4)
  # one input, two nodes
  cell c(emb) {
    nodes 2
    # searched
    edge 0 -> 1: fm  # every edge
    edge 0 -> 2: skip
    edge 1 -> 2: fm
    merge mean
  }
  head ctr(c)
}
"""


def test_hand_written_cell():
    spec, program = compile_text(TINY)
    assert labels(program) == {"c.node1", "c.node2"}
    a = {"c.node1": ((0, "fm"),), "c.node2": ((0, "skip"), (1, "fm"))}
    assert fixed_text(spec, program, a, drop_search=True) == TINY_FIXED
    # pairs may come in any order, as lists (e.g. read back from JSON)
    b = {"c.node1": [[0, "fm"]], "c.node2": [[1, "fm"], [0, "skip"]]}
    assert fixed_text(spec, program, b, drop_search=True) == TINY_FIXED
    # without drop_search the search block stays (and a fully fixed spec has nothing to search)
    assert "search random" in fixed_text(spec, program, a)
    _, fixed = compile_text(TINY_FIXED)
    assert choices(fixed) == []
    assert {k: v for k, v in assignment_of_fixed(fixed).items() if k in a} == a


EDGE_SPEC = """\
model edgy {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset six = { skip, senet, self_attention(heads=2), fm, slp, conv1d }
  x = six(emb)
  cell c(x) {
    nodes 2
    edge 0 -> 1: { skip, senet(reduction=2) }
    edge 1 -> 2: fm
  }
  head ctr(c)
}
"""


def test_edge_and_node_choices():
    spec, program = compile_text(EDGE_SPEC)
    assert labels(program) == {"x", "c.edge0_1"}
    text = fixed_text(spec, program, {"x": "self_attention(heads=2)",
                                      "c.edge0_1": "senet(reduction=2)"})
    assert "  x = self_attention(emb, heads=2)\n" in text
    assert "edge 0 -> 1: senet(reduction=2)\n" in text
    assert "opset" not in text
    _, fixed = compile_text(text)
    assert choices(fixed) == []
    # only the edge: the opset stays used by the node
    text = fixed_text(spec, program, {"c.edge0_1": "skip"})
    assert "opset six" in text and "edge 0 -> 1: skip\n" in text
    assert labels(compile_text(text)[1]) == {"x"}


def test_op_value_matches_op_text():
    for spec, program in (AUTOPI, AMEIR, compile_text(EDGE_SPEC)):
        for b in program.bindings:
            if isinstance(b, BlocksDef):
                for block in b.blocks:
                    for part in (block.norm, block.layer, block.act):
                        for o in part.options:
                            assert value_text(op_value(o)) == o.text()
            if isinstance(b, CellDef):
                for _, _, c in b.edges:
                    for o in c.options:
                        assert value_text(op_value(o)) == o.text()


# ---------------------------------------------------------------------------------- invalid values
@pytest.mark.parametrize("assignment, message", [
    ({"nope": "fm"}, "unknown label"),
    ({"interaction.edge0_1": "fm"}, "unknown label"),  # searched cells are fixed per node
    ({"interaction.node1": ((0, "nope"),)}, "not one of its operators"),
    ({"interaction.node1": ((0, "fm"), (0, "skip"))}, "kept twice"),
    ({"interaction.node2": ((0, "fm"),)}, "exactly 2"),
    ({"interaction.node2": ((0, "fm"), (1, "fm"), (0, "skip"))}, "kept twice"),
    ({"interaction.node3": ((0, "fm"), (1, "fm"), (2, "fm"))}, "exactly 2"),
    ({"interaction.node2": ((0, "fm"), (2, "fm"))}, "not one of the inputs"),
    ({"interaction.node2": "fm"}, "pairs"),
    ({"interaction.node1": ((0, "fm"),)}, "fixed all at once"),
])
def test_invalid_cell_values(assignment, message):
    spec, program = AUTOPI
    if "fixed all at once" not in message:
        # complete the cell so only the error under test can fire
        full = sample_assignment(program, random.Random(0))
        assignment = {**{k: v for k, v in full.items() if k.startswith("interaction.")
                         and k not in assignment}, **assignment}
        if assignment.keys() & {"nope", "interaction.edge0_1"}:
            assignment = {k: v for k, v in assignment.items()
                          if k in ("nope", "interaction.edge0_1")}
    with pytest.raises(ValueError, match=message):
        fix_spec(spec, program, assignment)


@pytest.mark.parametrize("assignment, message", [
    ({"behavior.block1.layer": "conv(kernel=9)"}, "not one of its options"),
    ({"behavior.block1.act": "tanh"}, "not one of its options"),
    ({"behavior.block1.act": 3}, "operator text"),
    ({"aggregate.layer1.width": 0.15}, "not one of its options"),
    ({"aggregate.layer1.width": "0.5"}, "a width is a number"),
    ({"aggregate.layer1.width": 0.2, "aggregate.layer2.width": 0.5}, "monotone"),
    ({"aggregate.layer1.width": 0.2, "aggregate.layer3.width": 0.5}, "monotone"),
    ({"cross.tuples": (("f0", "f1"),)}, "exactly 10"),
    ({"cross.tuples": (("f0", "f0"),) + tuple(("f1", f"g{i}") for i in range(9))}, "twice"),
    ({"cross.tuples": (("f0",),) + tuple(("f1", f"g{i}") for i in range(9))}, "order 1"),
    ({"cross.tuples": (("f1", "f0"),) + tuple(("f0", f"f{i}") for i in range(1, 10))},
     "listed twice"),
    ({"cross.tuples": (("f0", "f-1"),) + tuple(("f1", f"g{i}") for i in range(9))},
     "not a valid field name"),
    ({"cross.tuples": (tuple(f"f{i}" for i in range(6)),) + tuple(("f1", f"g{i}")
                                                              for i in range(9))}, "order 6"),
])
def test_invalid_values(assignment, message):
    spec, program = AMEIR
    with pytest.raises(ValueError, match=message):
        fix_spec(spec, program, assignment)


def test_fixed_labels_accept_only_their_value():
    spec, program = compile_text(EDGE_SPEC)
    assert fix_spec(spec, program, {"c.edge1_2": "fm", "emb": "embed(dim=4)"}) == spec
    with pytest.raises(ValueError, match="not one of its options"):
        fix_spec(spec, program, {"c.edge1_2": "skip"})


def test_spec_program_mismatch():
    with pytest.raises(ValueError, match="belong together"):
        fix_spec(AUTOPI[0], AMEIR[1], {})


# ---------------------------------------------------------------------------------------- sampling
UNIFORM = """\
model u {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset six = { skip, senet, self_attention, fm, slp, conv1d }
  x = six(emb)
  mlp top(flatten(x)) {
    layers 2
    width { 1, 2, 3 }
    monotone
  }
  head ctr(top)
}
"""


def test_sample_assignment_is_uniform():
    spec, program = compile_text(UNIFORM)
    rng = random.Random(12345)
    draws = [sample_assignment(program, rng) for _ in range(6000)]
    ops = Counter(d["x"] for d in draws)
    assert set(ops) == {"skip", "senet", "self_attention", "fm", "slp", "conv1d"}
    for op, n in ops.items():
        assert 800 <= n <= 1200, (op, n)
    # monotone widths: the 6 non-increasing sequences of {1, 2, 3}, each about 1/6
    seqs = Counter((d["top.layer1.width"], d["top.layer2.width"]) for d in draws)
    assert set(seqs) == {(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)}
    for seq, n in seqs.items():
        assert 800 <= n <= 1200, (seq, n)


def test_sample_cell_nodes_cover_subsets():
    spec, program = AUTOPI
    rng = random.Random(5)
    subsets = Counter(tuple(i for i, _ in sample_assignment(program, rng)["interaction.node3"])
                      for _ in range(3000))
    assert set(subsets) == {(0, 1), (0, 2), (1, 2)}
    for n in subsets.values():
        assert 800 <= n <= 1200


def test_sample_is_deterministic_and_leaves_tuples_open_without_fields():
    spec, program = AMEIR
    a = sample_assignment(program, random.Random(9))
    assert a == sample_assignment(program, random.Random(9))
    assert "cross.tuples" not in a
    spec2, program2 = compile_text(fixed_text(spec, program, a, drop_search=True)
                                   .replace("train {", "search oneshot_random {\n}\n\ntrain {"))
    assert labels(program2) == {"cross.tuples"}


def test_sample_tuples_uniform_and_distinct():
    spec, program = compile_text(UNIFORM.replace(
        "  mlp top(flatten(x)) {", "  interactions cross(x) {\n    cycles 2\n    keep 3\n  }\n"
        "  mlp top(concat(flatten(x), flatten(cross))) {"))
    rng = random.Random(1)
    names = ["a", "b", "c", "d"]  # 6 pairs + 4 triples = 10 products
    seen = Counter()
    for _ in range(3000):
        t = sample_assignment(program, rng, names)["cross.tuples"]
        assert len(t) == 3 and len({frozenset(x) for x in t}) == 3
        seen.update(t)
    assert len(seen) == 10
    for n in seen.values():  # each product is kept with probability 3/10
        assert 720 <= n <= 1080


def test_assignment_of_fixed_rejects_open_programs():
    with pytest.raises(ValueError, match="not fully fixed"):
        assignment_of_fixed(AUTOPI[1])


def test_front_end_does_not_import_torch():
    code = ("import sys, nasc.compiler.fix, nasc.compiler.frontend; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------ random partial fixes, checked deeply
OVERRIDES = """\
model o {
  input fields: categorical
  input history: sequence(max_len=20)
  emb = embed(fields, dim=4)
  seq = embed(history, dim=4)
  opset layers = { conv, bigru, zero }
  blocks stack(seq) {
    depth 3
    layer layers
    dropout 0.1
    # block one differs
    block 1 {
      norm { layer_norm, none }
      dropout 0.2
    }
    block 3 { act { relu, gelu } }
  }
  mlp top(concat(sum_pool(stack), flatten(emb))) {
    layers 3
    monotone
    layer 1 { width { 64, 32 } }
    layer 2 { width { 32, 16 }; act { relu, tanh } }
    layer 3 { width 16 }
  }
  head ctr(top)
}
"""


def _resolved(program) -> dict[str, tuple]:
    """Per label, the option texts (operators) or values (widths) the program resolves to."""
    out = {}
    for b in program.bindings:
        if isinstance(b, BlocksDef):
            for block in b.blocks:
                for part in (block.norm, block.layer, block.act):
                    out[part.label] = tuple(o.text() for o in part.options)
        elif isinstance(b, MlpDef):
            for layer in b.layers:
                out[layer.width.label] = layer.width.options
                out[layer.act.label] = tuple(o.text() for o in layer.act.options)
        elif isinstance(b, InteractionsDef):
            out[b.label] = b.tuples
    return out


@pytest.mark.parametrize("source", [OVERRIDES, (ROOT / "specs" / "ameir.nas").read_text()])
def test_random_partial_fixes_resolve_exactly(source):
    spec, program = compile_text(source)
    before = _resolved(program)
    rng = random.Random(11)
    for trial in range(60):
        full = sample_assignment(program, rng, FIELDS)
        part = {k: v for k, v in full.items() if rng.random() < (0.5 if trial % 3 else 1.1)}
        text = fixed_text(spec, program, part, drop_search=True)
        if set(part) != labels(program):
            text += "\nsearch random {\n}\n"
        spec2, program2 = compile_text(text)
        after = _resolved(program2)
        assert set(after) == set(before)
        for label, options in before.items():
            if label in part:
                want = part[label] if label.endswith(".tuples") else (part[label],)
                assert after[label] == want, label
            else:
                assert after[label] == options, label
        assert labels(program2) == labels(program) - set(part)
        # dropout overrides survive
        if source is OVERRIDES:
            stack = spec2.model.find("stack")
            block1 = [it for it in stack.body.items
                      if isinstance(it, ir.NestedSetting) and it.arg == 1]
            assert block1 and block1[0].body.get("dropout").value == ir.Float(value=0.2)
            assert "# block one differs" in text


def test_overrides_compacted_when_all_fixed():
    spec, program = compile_text(OVERRIDES)
    a = {"stack.block1.norm": "layer_norm", "stack.block1.layer": "conv",
         "stack.block2.layer": "conv", "stack.block3.layer": "zero", "stack.block3.act": "gelu",
         "top.layer1.width": 32, "top.layer2.width": 32, "top.layer2.act": "tanh"}
    text = fixed_text(spec, program, a)
    assert "opset" not in text
    assert "\n    layer conv\n" in text
    assert "    norm layer_norm\n" in text  # block 1's norm becomes the default of all blocks
    assert "block 2 {\n      norm none\n    }" in text
    assert "block 3 {\n      norm none\n      layer zero\n      act gelu\n    }" in text
    assert "width 32" in text and "layer 1 {" not in text
    assert "layer 2 {\n      act tanh\n    }" in text
    assert "layer 3 {\n      width 16\n    }" in text
    _, fixed = compile_text(text)
    assert choices(fixed) == []
