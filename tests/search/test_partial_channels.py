"""PC-DARTS' partial channel connections (`partial_channels K`, nasc.runtime.partial_channels):
the shuffle and the edge against their definitions (Xu et al. 2020, eq. 2 and the reference
code's slice + channel shuffle), the operators built narrow, the fused node against the modules,
the refusal of a K that does not divide the width, and a search that finds a planted pair."""
from __future__ import annotations

import pytest
import torch

from nasc.errors import UsageError
from nasc.runtime import choices, constructs
from nasc.runtime import partial_channels as pc
from nasc.runtime.shapes import Shape
from nasc.runtime.strategies.darts import Darts

from kit.opskit import rand
from kit.searchkit import BN_CELL, auc_against_lr, make_ctx, search_on_planted


def test_channel_shuffle_interleaves_the_groups():
    x = torch.arange(6.0).view(1, 6)  # groups [0 1 2] and [3 4 5]
    assert pc.channel_shuffle(x, 2).tolist() == [[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]]
    y = torch.arange(12.0).view(1, 2, 6)  # (B, m, d): each field's row on its own
    assert pc.channel_shuffle(y, 3)[0, 1].tolist() == [6.0, 8.0, 10.0, 7.0, 9.0, 11.0]


def test_a_partial_edge_mixes_a_slice_and_passes_the_rest():
    """f(x) = shuffle_K(concat(sum_o softmax(alpha)_o BN(o(x[..., :d/K])), x[..., d/K:]))."""
    shape = Shape("matrix", fields=3, dim=4)
    table = ["slp", "fm", "senet"]
    norm = ("batchnorm", (("affine", False),))
    torch.manual_seed(0)
    with pc.narrowed_edges(2):
        edge = constructs.mixed_edge("c.edge0_1", table, shape, norm).double()
    edge.relax()
    with torch.no_grad():
        edge.alpha.copy_(torch.tensor([0.4, -0.3, 0.1]))
    assert edge.partial == 2 and edge.out_shape == shape
    slp = edge.candidates[0].op
    assert slp.linear.weight.shape == (3 * 2, 3 * 2)  # built for (m, d / K)
    x = rand(16, 3, 4, seed=1)
    weights = torch.softmax(edge.alpha.detach(), 0)
    twin = [torch.nn.BatchNorm1d(3, affine=False).double() for _ in table]
    inner = x[..., :2]
    mixed = sum(w * bn(cand.op(inner)) for w, bn, cand in zip(weights, twin, edge.candidates))
    expected = torch.cat([mixed, x[..., 2:]], -1).view(16, 3, 2, 2).transpose(-1, -2)
    torch.testing.assert_close(edge(x), expected.reshape(16, 3, 4), rtol=1e-12, atol=1e-12)


def partial_search(tmp_path, tiny_data, groups: int):
    spec = BN_CELL + f"search darts {{\n  epochs 1\n  noisy_skip 0.5\n  partial_channels {groups}\n}}\n"
    return Darts(make_ctx(tmp_path, spec, tiny_data))


def test_the_supernet_builds_its_cell_operators_narrow(tmp_path, tiny_data):
    whole = partial_search(tmp_path / "a", tiny_data, 1).net
    quarter = partial_search(tmp_path / "b", tiny_data, 4).net
    edges = [m for m in quarter.modules() if isinstance(m, choices.OneOf)]
    assert edges and all(e.partial == 4 for e in edges)
    assert all(e.partial == 1 for e in whole.modules() if isinstance(e, choices.OneOf))
    slp = [m for m in quarter.modules() if type(m).__name__ == "SingleLayerPerceptron"][0]
    assert slp.linear.in_features == 4 * 8 // 4  # 4 fields, width 8 / 4
    count = lambda net: sum(p.numel() for p in net.weight_parameters())  # noqa: E731
    assert count(quarter) < count(whole) / 3
    # the node and the head still see the whole width
    batch = next(iter(tiny_data.train.batches(64, False)))
    assert quarter(batch).shape == whole(batch).shape == (64,)


def test_the_fused_node_is_the_modules_with_partial_edges(tmp_path, tiny_data, monkeypatch):
    """The node's fused normalise-and-mix over the edges' slices, joined with the weighted
    bypass, against every module run as written: logits, every gradient, the running averages."""
    calls = []
    real = choices.normed_mix
    monkeypatch.setattr(choices, "normed_mix", lambda *a: calls.append(1) or real(*a))
    search = partial_search(tmp_path, tiny_data, 2)
    net = search.net.double().train()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    batch = next(iter(tiny_data.train.batches(128, False)))

    def run():
        net.set_skip_noise(0.5, torch.Generator().manual_seed(4))
        logits = net(batch)
        params = [p for p in net.parameters() if p.requires_grad]
        grads = torch.autograd.grad((logits * torch.linspace(-1, 1, len(logits),
                                                             dtype=logits.dtype)).sum(), params)
        return logits.detach(), grads, {k: v.clone() for k, v in net.state_dict().items()}

    fused = run()
    assert calls, "the relaxed node did not take the fused path"
    monkeypatch.setattr(choices, "plain_batch_norms", lambda candidates: None)
    net.load_state_dict(state)
    plain = run()
    torch.testing.assert_close(fused[0], plain[0], rtol=1e-10, atol=1e-10)
    for g_f, g_p in zip(fused[1], plain[1], strict=True):
        torch.testing.assert_close(g_f, g_p, rtol=1e-8, atol=1e-10)
    for name in fused[2]:
        torch.testing.assert_close(fused[2][name], plain[2][name], rtol=1e-10, atol=1e-12)


def test_a_k_that_does_not_divide_the_width_is_refused_at_the_search_block(tmp_path, tiny_data):
    with pytest.raises(UsageError) as err:
        partial_search(tmp_path, tiny_data, 3)
    d = err.value.diagnostics[0]
    assert (d.line, d.col) == (BN_CELL.count("\n") + 1, 1)
    assert "`partial_channels 3` does not divide the width 8" in d.message
    assert "2, 4, 8" in d.message


def test_a_partial_channel_search_finds_a_planted_interaction(tmp_path, monkeypatch):
    """The known-answer check of DARTS (tests/search/test_search_end_to_end.py) with half the
    width through the operators: it keeps fm or slp, and the architecture, retrained at the full
    width, beats LR by 0.10 test AUC."""
    from test_search_end_to_end import PLANTED_SPACE

    spec = PLANTED_SPACE.replace("search darts {", "search darts {\n  partial_channels 2")
    run, found_choices = search_on_planted(tmp_path, monkeypatch, spec)
    assert {op for picks in found_choices.values() for _, op in picks} & {"fm", "slp"}, found_choices
    found, lr = auc_against_lr(run, tmp_path)
    print(f"planted (0,1): PC-DARTS K=2 {found_choices} test AUC {found:.4f}; LR {lr:.4f}")
    assert found >= lr + 0.10, (found, lr)
