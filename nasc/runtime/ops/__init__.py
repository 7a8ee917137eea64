"""nasc's operator library: every operator a spec can name, as a torch module.

``OPS`` maps the spec-language name (see ``nasc.compiler.operators``) to the class. Shapes:
field matrix (B, m, k); sequence (B, T, d) with a bool mask (B, T), True = real; vector (B, d);
logit (B,).
"""
from __future__ import annotations

from torch import nn

from .activations import (ACTIVATIONS, GELU, Dice, Identity, ReLU, Sigmoid, Swish, Tanh,
                          make_activation, zero_padded)
from .autopi import (FieldBatchNorm, FieldConv1d, FMAligned, SelfAttention, SENetLayer,
                     SingleLayerPerceptron, Skip, pair_indices)
from .baselines import (CIN, MLP, Add, BiInteraction, BilinearInteraction, Concat, CrossNet,
                        DenseLogit, FieldEmbedding, Flatten, FMLogit, InnerProduct, LinearLogit,
                        LogTransformLayer, OuterProduct, PointWiseFeedForward, TransformerBlock)
from .interactions import HadamardInteractions, SEShortcut, SlicedLinear
from .pooling import LastPool, MeanPool, SumPool, TargetAttentionPool
from .sequence import (BiGRU, BiSelfAttention, DilatedSeqConv, LocalActivationUnit, NoNorm,
                       SeqAvgPool, SeqConv, SeqLayerNorm, SeqMaxPool, TargetAttentionLayer, Zero)

OPS: dict[str, type[nn.Module]] = {
    # AutoPI's interactive operators (B, m, k) -> (B, m, k)
    "skip": Skip,
    "senet": SENetLayer,
    "self_attention": SelfAttention,
    "fm": FMAligned,
    "slp": SingleLayerPerceptron,
    "conv1d": FieldConv1d,
    "batchnorm": FieldBatchNorm,
    # AMEIR's behavior-block layers (B, T, d), mask -> (B, T, d)
    "conv": SeqConv,
    "dilated_conv": DilatedSeqConv,
    "avg_pool": SeqAvgPool,
    "max_pool": SeqMaxPool,
    "bigru": BiGRU,
    "bi_attention": BiSelfAttention,
    "target_attention": TargetAttentionLayer,
    "zero": Zero,
    "layer_norm": SeqLayerNorm,
    "none": NoNorm,
    # activations, all built as ACT(dim)
    **ACTIVATIONS,
    # sequence -> vector
    "sum_pool": SumPool,
    "mean_pool": MeanPool,
    "last": LastPool,
    "target_attention_pool": TargetAttentionPool,
    # hand-crafted baselines' blocks
    "embed": FieldEmbedding,
    "lr": LinearLogit,
    "fm_logit": FMLogit,
    "bi_interaction": BiInteraction,
    "inner_product": InnerProduct,
    "outer_product": OuterProduct,
    "crossnet": CrossNet,
    "cin": CIN,
    "log_transform": LogTransformLayer,
    "bilinear": BilinearInteraction,
    "mlp": MLP,
    "transformer": TransformerBlock,
    "flatten": Flatten,
    "logit": DenseLogit,
    "concat": Concat,
    "add": Add,
}

__all__ = [
    "OPS", "ACTIVATIONS", "make_activation", "zero_padded", "pair_indices",
    "ReLU", "GELU", "Swish", "Identity", "Sigmoid", "Tanh", "Dice",
    "Skip", "SENetLayer", "SelfAttention", "FMAligned", "SingleLayerPerceptron", "FieldConv1d",
    "FieldBatchNorm",
    "SeqConv", "DilatedSeqConv", "SeqAvgPool", "SeqMaxPool", "BiGRU", "BiSelfAttention",
    "LocalActivationUnit", "TargetAttentionLayer", "Zero", "SeqLayerNorm", "NoNorm",
    "SumPool", "MeanPool", "LastPool", "TargetAttentionPool",
    "HadamardInteractions", "SEShortcut", "SlicedLinear",
    "FieldEmbedding", "LinearLogit", "FMLogit", "BiInteraction", "InnerProduct", "OuterProduct",
    "CrossNet", "CIN", "LogTransformLayer", "BilinearInteraction", "MLP", "PointWiseFeedForward",
    "TransformerBlock", "Flatten", "DenseLogit", "Concat", "Add",
]
