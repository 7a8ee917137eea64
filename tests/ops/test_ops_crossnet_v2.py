"""DCN-V2's cross layer against eq. 1 of Wang et al. (2021), by hand and in its low-rank form."""
from __future__ import annotations

import torch

from nasc.runtime.ops.crossnet_v2 import CrossNetV2


def test_one_full_rank_layer_by_hand():
    """x0 = [1, 2], W = diag(1, 2), b = [0.5, -1]: W x0 + b = [1.5, 3]; x0 * that = [1.5, 6];
    plus x0: [2.5, 8]."""
    net = CrossNetV2(2, layers=1).double()
    with torch.no_grad():
        net.up[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        net.up[0].bias.copy_(torch.tensor([0.5, -1.0]))
    out = net(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor([[2.5, 8.0]], dtype=torch.float64))


def test_layers_compose_with_x0_kept_from_the_input():
    torch.manual_seed(0)
    net = CrossNetV2(5, layers=3).double()
    x0 = torch.randn(4, 5, dtype=torch.float64)
    x = x0
    for layer in net.up:
        x = x0 * (x @ layer.weight.T + layer.bias) + x
    torch.testing.assert_close(net(x0), x)


def test_low_rank_is_the_product_of_its_factors():
    torch.manual_seed(1)
    low = CrossNetV2(6, layers=2, rank=2).double()
    full = CrossNetV2(6, layers=2).double()
    with torch.no_grad():
        for n in range(2):
            full.up[n].weight.copy_(low.up[n].weight @ low.down[n].weight)  # U V^T
            full.up[n].bias.copy_(low.up[n].bias)
    x0 = torch.randn(3, 6, dtype=torch.float64)
    torch.testing.assert_close(low(x0), full(x0))
    assert sum(p.numel() for p in low.parameters()) == 2 * (2 * 6 * 2 + 6)
