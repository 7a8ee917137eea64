"""Space sizes derived by hand, checked against space_size() and `nasc compile`."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasc.cli import main
from nasc.compiler.frontend import compile_text, load
from nasc.compiler.space import choices, space_size

SPECS = Path(__file__).resolve().parents[2] / "specs"
AUTOPI = SPECS / "autopi.nas"
AMEIR = SPECS / "ameir.nas"


def cli_architectures(*args: str) -> str:
    """The `architectures:` line of `nasc compile ARGS` (add --check-only to skip codegen)."""
    result = CliRunner().invoke(main, ["compile", *args])
    assert result.exit_code == 0, result.output
    (line,) = [l for l in result.output.splitlines() if l.startswith("architectures:")]
    return line


def cli_count(*args: str) -> int:
    match = re.fullmatch(r"architectures: (\d+) \(10\^[\d.]+\)", cli_architectures(*args))
    assert match, cli_architectures(*args)
    return int(match.group(1))


# --------------------------------------------------------------------------------------- AutoPI
def test_autopi_size_by_hand(tmp_path):
    ops = 6  # skip, senet, self_attention, fm, slp, conv1d
    keep = 2

    def node(predecessors: int) -> int:
        # keep min(keep, p) distinct inputs, each through one of the operators
        k = min(keep, predecessors)
        return math.comb(predecessors, k) * ops ** k

    # interaction cell: one input (node 0), intermediate nodes 1..4
    interaction = [node(1), node(2), node(3), node(4)]
    assert interaction == [1 * 6, 1 * 36, 3 * 36, 6 * 36] == [6, 36, 108, 216]
    # ensemble cell: two inputs (nodes 0, 1), intermediate nodes 2..5
    ensemble = [node(2), node(3), node(4), node(5)]
    assert ensemble == [36, 108, 216, 10 * 36] == [36, 108, 216, 360]
    total = math.prod(interaction) * math.prod(ensemble)
    assert total == 5_038_848 * 302_330_880 == 1_523_399_350_026_240

    _, _, program = load(AUTOPI)
    size = space_size(program)
    assert size.exact == total and size.fixed_part == total and size.per_m == ()
    assert cli_count(str(AUTOPI), "--check-only") == total
    # the full command (codegen into a temporary directory) prints the same number
    assert cli_count(str(AUTOPI), "--out-dir", str(tmp_path)) == total


def test_autopi_choice_labels():
    _, _, program = load(AUTOPI)
    found = choices(program)
    assert [c.label for c in found] == [
        "interaction.node1", "interaction.node2", "interaction.node3", "interaction.node4",
        "ensemble.node2", "ensemble.node3", "ensemble.node4", "ensemble.node5",
    ]
    assert {c.construct for c in found} == {"cell"}
    assert found[0].options == ("skip", "senet", "self_attention", "fm", "slp", "conv1d")


# ---------------------------------------------------------------------------------------- AMEIR
AMEIR_BLOCK = 2 * 4 * 11 + 1  # norm x act x (12 layers - zero) + the zero layer
AMEIR_MLP = math.comb(12, 3) * 4 ** 3  # non-increasing width triples from 10 values x 4 acts^3


def test_ameir_fixed_part_by_hand():
    assert AMEIR_BLOCK == 89
    # non-increasing triples from 10 widths = multisets of size 3 = C(10 + 3 - 1, 3)
    assert math.comb(12, 3) == 220 == sum(1 for a in range(10) for b in range(a + 1)
                                          for c in range(b + 1))
    _, _, program = load(AMEIR)
    size = space_size(program)
    assert size.fixed_part == AMEIR_BLOCK ** 6 * AMEIR_MLP == 89 ** 6 * 220 * 64
    assert size.exact is None  # the interactions depend on the number of fields
    assert len(size.per_m) == 1 and "cross" in size.per_m[0]
    line = cli_architectures(str(AMEIR), "--check-only")
    assert line.startswith(f"architectures: {89 ** 6 * 220 * 64} x ")
    assert "--fields" in line


def test_ameir_with_ten_fields(tmp_path):
    # 4 cycles: orders 2..5; products of distinct fields of 10: C(10,2)+...+C(10,5)
    candidates = 45 + 120 + 210 + 252
    assert candidates == sum(math.comb(10, o) for o in range(2, 6)) == 627
    expected = 89 ** 6 * 220 * 64 * math.comb(627, 10)  # keep M = 10
    _, _, program = load(AMEIR)
    assert space_size(program, 10).exact == expected
    assert cli_count(str(AMEIR), "--fields", "10", "--check-only") == expected
    assert cli_count(str(AMEIR), "--fields", "10", "--out-dir", str(tmp_path)) == expected


def test_ameir_choice_labels():
    _, _, program = load(AMEIR)
    labels = [c.label for c in choices(program)]
    for n in range(1, 7):
        for part in ("norm", "layer", "act"):
            assert f"behavior.block{n}.{part}" in labels
    assert "cross.tuples" in labels
    for n in range(1, 4):
        assert f"aggregate.layer{n}.width" in labels and f"aggregate.layer{n}.act" in labels
    assert len(labels) == 6 * 3 + 1 + 3 * 2
    by_label = {c.label: c for c in choices(program)}
    assert len(by_label["behavior.block1.layer"].options) == 12
    assert by_label["aggregate.layer1.width"].options[0] == "0.1"


# ------------------------------------------------------------------------------ small specs
FIELDS = ("model m {", "  input fields: categorical", "  emb = embed(fields, dim=8)")
SEQ = ("model m {", "  input history: sequence(max_len=20)", "  seq = embed(history, dim=8)")


def program_of(*lines: str):
    _, program = compile_text("\n".join(lines) + "\n}\n", "small.nas")
    return program


def blocks_spec(layers: str, extra: tuple[str, ...] = ()):
    return program_of(*SEQ, "  blocks b(seq) {", "    depth 2", "    norm { layer_norm, none }",
                      f"    layer {layers}", "    act { relu, gelu, swish }", *extra, "  }",
                      "  p = sum_pool(b)", "  head ctr(p)")


def test_blocks_without_zero_is_a_plain_product():
    # per block 2 norms x 2 layers x 3 acts = 12; two blocks
    assert space_size(blocks_spec("{ bigru, conv }")).exact == 12 ** 2


def test_blocks_with_zero():
    # a zero layer makes norm and act irrelevant: 2 x 3 x 2 + 1 = 13 per block
    assert space_size(blocks_spec("{ bigru, conv, zero }")).exact == 13 ** 2


def test_blocks_override_fixes_one_block():
    program = blocks_spec("{ bigru, conv }", ("    block 2 {", "      layer bigru", "    }"))
    assert space_size(program).exact == 12 * (2 * 1 * 3)
    labels = [c.label for c in choices(program)]
    assert "b.block1.layer" in labels and "b.block2.layer" not in labels
    assert "b.block2.norm" in labels


def mlp_spec(*settings: str):
    return program_of(*FIELDS, "  mlp d(flatten(emb)) {", *settings, "  }", "  head ctr(d)")


def test_mlp_without_monotone():
    # |W|^L width sequences, activation fixed (the default relu)
    assert space_size(mlp_spec("    layers 3", "    width { 100, 50 }")).exact == 2 ** 3
    assert space_size(mlp_spec("    layers 2", "    width { 400, 200, 100 }",
                               "    act { relu, tanh }")).exact == 3 ** 2 * 2 ** 2


def test_monotone_mlp_two_layers():
    # (1.0, 1.0), (1.0, 0.5), (0.5, 0.5): 3 non-increasing sequences
    program = mlp_spec("    layers 2", "    width { 1.0, 0.5 }", "    monotone")
    assert space_size(program).exact == 3
    assert [c.label for c in choices(program)] == ["d.layer1.width", "d.layer2.width"]


def test_monotone_mlp_with_a_fixed_layer():
    # layer 2 fixed at 0.5: layer 1 may be 1.0 or 0.5 (>= 0.5), layer 3 any of {1.0, 0.5} <= 0.5
    program = mlp_spec("    layers 3", "    width { 1.0, 0.5 }", "    monotone",
                       "    layer 2 { width 0.5 }")
    assert space_size(program).exact == 2 * 1 * 1


def test_fixed_mlp_has_no_choice():
    program = mlp_spec("    layers 2", "    width 100")
    assert space_size(program).exact == 1 and choices(program) == []


def test_fixed_cell_with_one_choice_edge():
    program = program_of(*FIELDS, "  cell c(emb) {", "    nodes 2",
                         "    edge 0 -> 1: { skip, fm, senet }", "    edge 1 -> 2: fm", "  }",
                         "  head ctr(c)")
    assert space_size(program).exact == 3
    (choice,) = choices(program)
    assert choice.label == "c.edge0_1" and choice.options == ("skip", "fm", "senet")


def test_searched_cell_with_keep_one():
    # one input, 3 nodes, 2 operators, keep 1: node j picks one of its j inputs and an operator
    program = program_of(*FIELDS, "  opset ops = { skip, fm }", "  cell c(emb) {", "    nodes 3",
                         "    edges ops", "    keep 1", "  }", "  head ctr(c)")
    assert space_size(program).exact == (1 * 2) * (2 * 2) * (3 * 2)


def test_node_level_opset_choice():
    program = program_of(*FIELDS, "  opset ops = { senet, self_attention, fm }",
                         "  x = ops(emb)", "  head ctr(x)")
    assert space_size(program).exact == 3
    (choice,) = choices(program)
    assert choice.label == "x" and choice.construct == "node"
    assert choice.options == ("senet", "self_attention", "fm")


def test_interactions_formula_for_small_m():
    program = program_of(*FIELDS, "  interactions x(emb) {", "    cycles 1", "    keep 2", "  }",
                         "  head ctr(x)")
    # order defaults to cycles + 1 = 2: pairs only; m = 4 fields -> 6 pairs, keep 2 -> C(6, 2)
    assert space_size(program, 4).exact == math.comb(6, 2) == 15
    assert space_size(program).exact is None
    assert [c.label for c in choices(program)] == ["x.tuples"]


def test_fixed_interactions_have_no_choice():
    program = program_of(*FIELDS, "  interactions x(emb) {", "    tuples { a * b, b * c }", "  }",
                         "  head ctr(x)")
    assert choices(program) == [] and space_size(program).exact == 1


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.nas")), ids=lambda p: p.name)
def test_every_spec_size_matches_the_cli(path):
    _, _, program = load(path)
    size = space_size(program, 10)
    assert size.exact is not None and size.exact >= 1
    assert cli_count(str(path), "--fields", "10", "--check-only") == size.exact
    if not choices(program):
        assert size.exact == 1
