"""Shared helpers of the ops tests: random inputs, masks, and the table of every operator."""
from __future__ import annotations

import torch

from nasc.runtime.ops import (CIN, MLP, Add, BiGRU, BiInteraction, BilinearInteraction,
                              BiSelfAttention, Concat, CrossNet, DenseLogit, Dice, DilatedSeqConv,
                              FieldBatchNorm, FieldConv1d, FieldEmbedding, Flatten, FMAligned,
                              FMLogit, HadamardInteractions, InnerProduct, LastPool, LinearLogit,
                              LogTransformLayer, MeanPool, NoNorm, OuterProduct, SelfAttention,
                              SENetLayer, SEShortcut, SeqAvgPool, SeqConv, SeqLayerNorm, SeqMaxPool,
                              SingleLayerPerceptron, Skip, SlicedLinear, SumPool,
                              TargetAttentionLayer, TargetAttentionPool, TransformerBlock, Zero,
                              ACTIVATIONS)
from nasc.runtime.ops.finalnet import FieldGate, FinalBlock

B, M, K, T, D = 5, 5, 6, 7, 6  # B = 5: one row per mask pattern


def rand(*shape, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


def mixed_mask(batch: int = B, length: int = T) -> torch.Tensor:
    """Left-padded, right-padded, holed, empty and full rows (the batch cycles through them)."""
    patterns = [
        [False] * (length - 3) + [True] * 3,            # left padding (the data pipeline's)
        [True] * 4 + [False] * (length - 4),            # right padding
        [True, False, True, True, False, True] + [False] * (length - 6),  # holes
        [False] * length,                               # no real position
        [True] * length,                                # no padding
    ]
    return torch.tensor([patterns[b % len(patterns)] for b in range(batch)])


def set_padding(x: torch.Tensor, mask: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """x with its padded positions replaced by ``value`` (same shape as x)."""
    return torch.where(mask.unsqueeze(-1), x, value)


# name -> (builder, input maker). Inputs are float64 unless ids; masks come from mixed_mask.
def _matrix():
    return (rand(B, M, K),)


def _seq():
    return rand(B, T, D), mixed_mask(B, T)


def _seq_target():
    x, mask = _seq()
    return x, mask, rand(B, D, seed=1)


def _vector(width=3 * K):
    return (rand(B, width),)


def _ids():
    g = torch.Generator().manual_seed(2)
    return (torch.stack([torch.randint(0, v, (B,), generator=g) for v in (3, 5, 4)], dim=1),)


MATRIX_CASES = {
    "skip_noisy": (lambda: _noisy_skip(), _matrix),
    "senet": (lambda: SENetLayer(M, K, reduction=2), _matrix),
    "self_attention": (lambda: SelfAttention(M, K, heads=2), _matrix),
    "fm": (lambda: FMAligned(M, K), _matrix),
    "fm_one_field": (lambda: FMAligned(1, K), lambda: (rand(B, 1, K),)),
    "slp": (lambda: SingleLayerPerceptron(M, K), _matrix),
    "conv1d": (lambda: FieldConv1d(M, K), _matrix),
    "batchnorm": (lambda: FieldBatchNorm(M, affine=True), _matrix),
    "batchnorm_fixed": (lambda: FieldBatchNorm(M, affine=False), _matrix),
    "zero_matrix": (lambda: Zero(), _matrix),
    "fm_logit": (lambda: FMLogit(), _matrix),
    "bi_interaction": (lambda: BiInteraction(), _matrix),
    "inner_product": (lambda: InnerProduct(M), _matrix),
    "outer_product": (lambda: OuterProduct(M, K), _matrix),
    "cin": (lambda: CIN(M, K, layer_sizes=(4, 6, 3), split_half=True), _matrix),
    "cin_no_split": (lambda: CIN(M, K, layer_sizes=(3, 5), split_half=False), _matrix),
    "log_transform": (lambda: LogTransformLayer(M, K, neurons=8), _matrix),
    "bilinear_all": (lambda: BilinearInteraction(M, K, "field_all"), _matrix),
    "bilinear_each": (lambda: BilinearInteraction(M, K, "field_each"), _matrix),
    "bilinear_pair": (lambda: BilinearInteraction(M, K, "field_interaction"), _matrix),
    "flatten": (lambda: Flatten(), _matrix),
    "hadamard": (lambda: HadamardInteractions([(0,), (1, 2), (0, 3, 4), (2, 2)]), _matrix),
    "se_shortcut": (lambda: SEShortcut(M, K, expansion=1.5), _matrix),
    "field_gate": (lambda: FieldGate(M), _matrix),
}

SEQUENCE_CASES = {
    "conv": (lambda: SeqConv(D, kernel=3), _seq),
    "conv_even": (lambda: SeqConv(D, kernel=4), _seq),
    "dilated_conv": (lambda: DilatedSeqConv(D, kernel=3, dilation=2), _seq),
    "avg_pool": (lambda: SeqAvgPool(D, kernel=3), _seq),
    "max_pool": (lambda: SeqMaxPool(D, kernel=3), _seq),
    "bigru": (lambda: BiGRU(D), _seq),
    "bigru_odd": (lambda: BiGRU(5), lambda: (rand(B, T, 5), mixed_mask(B, T))),
    "bi_attention": (lambda: BiSelfAttention(D, heads=2), _seq),
    "target_attention": (lambda: TargetAttentionLayer(D), _seq_target),
    "zero": (lambda: Zero(), _seq),
    "layer_norm": (lambda: SeqLayerNorm(D), _seq),
    "none": (lambda: NoNorm(), _seq),
    "transformer": (lambda: TransformerBlock(D, heads=2, causal=True), _seq),
    "transformer_bidir": (lambda: TransformerBlock(D, heads=1, causal=False), _seq),
    **{f"act_{name}": ((lambda c=cls: c(D)), _seq) for name, cls in ACTIVATIONS.items()},
}

POOL_CASES = {
    "sum_pool": (lambda: SumPool(), _seq),
    "mean_pool": (lambda: MeanPool(), _seq),
    "last": (lambda: LastPool(), _seq),
    "target_attention_pool": (lambda: TargetAttentionPool(D), _seq_target),
}

OTHER_CASES = {
    "crossnet": (lambda: CrossNet(3 * K, layers=2), _vector),
    "mlp": (lambda: MLP(3 * K, [8, 4], act="relu", dropout=0.1, batch_norm=True), _vector),
    "mlp_dice": (lambda: MLP(3 * K, [5], act="dice"), _vector),
    "sliced_linear": (lambda: _SlicedCall(), lambda: _vector(7)),
    "dice_logit": (lambda: Dice(1), lambda: (rand(B),)),
    "logit": (lambda: DenseLogit(3 * K), _vector),
    "final_block": (lambda: FinalBlock(3 * K, widths=[6, 4], dropout=0.1), _vector),
    "final_block_sum": (lambda: FinalBlock(3 * K, widths=[5], residual="sum", act="none"),
                        _vector),
    "concat": (lambda: Concat(), lambda: (rand(B, M, K), rand(B, 3), rand(B, seed=3))),
    "add": (lambda: Add(), lambda: (rand(B, 3), rand(B, 3, seed=4))),
    "embed": (lambda: FieldEmbedding([3, 5, 4], K), _ids),
    "lr": (lambda: LinearLogit([3, 5, 4]), _ids),
    **{f"act_{name}_vector": ((lambda c=cls: c(3 * K)), _vector) for name, cls in ACTIVATIONS.items()},
}

ALL_CASES = {**MATRIX_CASES, **SEQUENCE_CASES, **POOL_CASES, **OTHER_CASES}

EXPECTED_SHAPES = {
    "fm_logit": (B,), "bi_interaction": (B, K), "inner_product": (B, M * (M - 1) // 2),
    "outer_product": (B, M * (M - 1) // 2), "cin": (B, 2 + 3 + 3), "cin_no_split": (B, 3 + 5),
    "log_transform": (B, 8 * K), "bilinear_all": (B, 10, K), "bilinear_each": (B, 10, K),
    "bilinear_pair": (B, 10, K), "flatten": (B, M * K), "hadamard": (B, 4, K),
    "se_shortcut": (B, K), "sum_pool": (B, D), "mean_pool": (B, D), "last": (B, D),
    "target_attention_pool": (B, D), "crossnet": (B, 3 * K), "mlp": (B, 4), "mlp_dice": (B, 5),
    "sliced_linear": (B, 3), "dice_logit": (B,), "concat": (B, M * K + 3 + 1), "add": (B, 3),
    "embed": (B, 3, K), "lr": (B,), "logit": (B,), "fm_one_field": (B, 1, K),
    "final_block": (B, 4), "final_block_sum": (B, 5),
}


def expected_shape(name: str, inputs) -> tuple:
    return EXPECTED_SHAPES.get(name, tuple(inputs[0].shape))


def _noisy_skip():
    skip = Skip(M, K)
    skip.noise = 0.1
    return skip


class _SlicedCall(torch.nn.Module):
    """SlicedLinear called with a smaller output, so the table can call it like the others."""

    def __init__(self):
        super().__init__()
        self.linear = SlicedLinear(10, 6)

    def forward(self, x):
        return self.linear(x, 3)


def has_mask(inputs) -> bool:
    return len(inputs) >= 2 and inputs[1].dtype == torch.bool
