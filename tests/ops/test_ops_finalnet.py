"""FinalNet's field gate and factorized interaction block against Zhu et al. (SIGIR 2023), by hand."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nasc.compiler.frontend import load
from nasc.runtime.data.table import FieldInfo, Schema
from nasc.runtime.model import build_fixed
from nasc.runtime.ops.finalnet import FactorizedInteraction, FieldGate, FinalBlock

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_field_gate_starts_as_the_identity():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(FieldGate(4).double()(x), x)


def test_field_gate_mixes_fields_per_dimension_by_hand():
    """Fields e1 = [1, 3], e2 = [2, -1]; W = [[0, 1], [1, 0]], b = [0.5, 0]: the gate of field 1
    is e2 + 0.5 = [2.5, -0.5], of field 2 is e1 = [1, 3]; e * g = [[2.5, -1.5], [2, -3]]."""
    gate = FieldGate(2).double()
    with torch.no_grad():
        gate.linear.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        gate.linear.bias.copy_(torch.tensor([0.5, 0.0]))
    x = torch.tensor([[[1.0, 3.0], [2.0, -1.0]]], dtype=torch.float64)
    torch.testing.assert_close(gate(x), torch.tensor([[[2.5, -1.5], [2.0, -3.0]]],
                                                     dtype=torch.float64))


@pytest.mark.parametrize("residual, expected", [("concat", [3.0, 12.0]), ("sum", [15.0])])
def test_factorized_interaction_by_hand(residual, expected):
    """x = [3, 4], W = I, c = 0: h = [h2, h1] = [3, 4]; concat gives [h2, h1 h2] = [3, 12], sum
    gives h2 + h1 h2 = 15."""
    width = len(expected)
    layer = FactorizedInteraction(2, width, residual).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.eye(2))
        layer.linear.bias.zero_()
    out = layer(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor([expected], dtype=torch.float64))


def test_concat_residual_refuses_an_odd_width():
    with pytest.raises(ValueError, match="final_block.*even.*5"):
        FactorizedInteraction(4, 5, "concat")


def test_block_is_the_layers_composed_with_norm_and_activation():
    torch.manual_seed(1)
    block = FinalBlock(6, widths=[4, 2], act="relu", dropout=0.0, batch_norm=True).double().eval()
    x = torch.randn(5, 6, dtype=torch.float64)
    h = x
    for layer, norm in ((block.layers[0], block.layers[1]), (block.layers[3], block.layers[4])):
        a, b = (h @ layer.linear.weight.T + layer.linear.bias).chunk(2, dim=-1)
        h = torch.cat([a, b * a], dim=-1)
        h = torch.relu((h - norm.running_mean) / torch.sqrt(norm.running_var + norm.eps)
                       * norm.weight + norm.bias)
    torch.testing.assert_close(block(x), h)
    assert block.out_dim == 2


def test_block_without_norm_or_activation_is_pure_products():
    block = FinalBlock(2, widths=[2], act="none", batch_norm=False).double()
    assert len(block.layers) == 1
    with torch.no_grad():
        block.layers[0].linear.weight.copy_(torch.eye(2))
        block.layers[0].linear.bias.zero_()
    out = block(torch.tensor([[-3.0, 4.0]], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor([[-3.0, -12.0]], dtype=torch.float64))


def test_finalnet_spec_has_bars_parameter_count():
    """BARS' FINAL_1B_frappe_x1 log reports 256,791 parameters for Frappe_x1's vocabularies
    (user 956, item 4084, daytime 9, weekday 9, isweekend 4, homework 5, cost 4, weather 11,
    country 82, city 235): embedding 5,399 x 10, block 100 -> 400 -> 400 with batch norm, logit."""
    vocab = {"user": 956, "item": 4084, "daytime": 9, "weekday": 9, "isweekend": 4,
             "homework": 5, "cost": 4, "weather": 11, "country": 82, "city": 235}
    schema = Schema(fields=[FieldInfo(n, "categorical", v, n) for n, v in vocab.items()])
    _, _, program = load(SPECS / "finalnet.nas")
    model = build_fixed(program, schema)
    assert sum(p.numel() for p in model.parameters()) == 256_791
