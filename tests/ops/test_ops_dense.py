"""`fc`, `mlp` (shape-keeping, a cell edge) and `mul`, by hand."""
from __future__ import annotations

import torch

from nasc.runtime.ops.autopi import SingleLayerPerceptron
from nasc.runtime.ops.baselines import Mul
from nasc.runtime.ops.dense import Linear, ShapeKeepingMLP

F64 = torch.float64


def test_linear_by_hand():
    layer = Linear(2, width=1).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[2.0, -1.0]]))
        layer.linear.bias.fill_(0.5)
    out = layer(torch.tensor([[3.0, 4.0]], dtype=F64))
    torch.testing.assert_close(out, torch.tensor([[2.5]], dtype=F64))  # 6 - 4 + 0.5
    assert layer.out_dim == 1


def test_mul_is_the_elementwise_product():
    a, b, c = (torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 4.0]]), torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(Mul()(a, b, c), torch.tensor([[1.5, -4.0]]))


def test_mlp_on_a_field_matrix_keeps_its_shape_by_hand():
    """m = 1, k = 2, one hidden unit: h = relu(w . x + b), out = relu(v h + c) reshaped."""
    mlp = ShapeKeepingMLP(2, layers=1, width=1).double()
    with torch.no_grad():
        mlp.hidden[0].weight.copy_(torch.tensor([[1.0, 1.0]]))
        mlp.hidden[0].bias.fill_(-1.0)
        mlp.out.weight.copy_(torch.tensor([[2.0], [-3.0]]))
        mlp.out.bias.copy_(torch.tensor([0.0, 1.0]))
    x = torch.tensor([[[1.0, 2.0]]], dtype=F64)  # (B=1, m=1, k=2)
    # h = relu(3 - 1) = 2; out = relu([4, -6 + 1]) = [4, 0]
    torch.testing.assert_close(mlp(x), torch.tensor([[[4.0, 0.0]]], dtype=F64))


def test_mlp_without_hidden_layers_is_slp():
    torch.manual_seed(0)
    mlp = ShapeKeepingMLP(12, layers=0).double()
    slp = SingleLayerPerceptron(3, 4).double()
    slp.linear.load_state_dict(mlp.out.state_dict())
    x = torch.randn(5, 3, 4, dtype=F64)
    torch.testing.assert_close(mlp(x), slp(x))
