"""nasc's operator library: every operator a spec can name, as a torch module.

``OPS`` maps the spec-language name to the class, as the operator declarations in
``nasc.compiler.operators`` name it: adding an operator is its module here plus its declaration
there. Shapes:
field matrix (B, m, k); sequence (B, T, d) with a bool mask (B, T), True = real; vector (B, d);
logit (B,).
"""
from __future__ import annotations

import importlib

from torch import nn

from nasc.compiler.operators import OPERATORS, ops_with_role

from .activations import (GELU, Dice, Identity, ReLU, Sigmoid, Swish, Tanh,
                          make_activation, zero_padded)
from .autopi import (FieldBatchNorm, FieldConv1d, FMAligned, SelfAttention, SENetLayer,
                     SingleLayerPerceptron, Skip, pair_indices)
from .baselines import (CIN, MLP, Add, BiInteraction, BilinearInteraction, Concat, CrossNet,
                        DenseLogit, FieldEmbedding, Flatten, FMLogit, InnerProduct, LinearLogit,
                        LogTransformLayer, OuterProduct, PointWiseFeedForward, TransformerBlock)
from .interactions import HadamardInteractions, SEShortcut, SlicedLinear
from .pooling import LastPool, MeanPool, SumPool, TargetAttentionPool
from .sequence import (GRU, BiGRU, BiSelfAttention, CausalSelfAttention, DilatedSeqConv,
                       LocalActivationUnit, NoNorm, PositionFeedForward, SeqAvgPool, SeqConv,
                       SeqLayerNorm, SeqMaxPool, TargetAttentionLayer, Zero)



def implementation(name: str) -> type[nn.Module]:
    """The module class a spec operator's declaration names (nasc.compiler.operators)."""
    module, cls = OPERATORS[name].impl.rsplit(".", 1)
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


# Spec name -> class, for every operator with an implementation: derived from the declarations.
OPS: dict[str, type[nn.Module]] = {name: implementation(name)
                                   for name, sig in OPERATORS.items() if sig.impl}
ACTIVATIONS: dict[str, type[nn.Module]] = {name: OPS[name] for name in ops_with_role("act")}

__all__ = [
    "OPS", "implementation", "ACTIVATIONS", "make_activation", "zero_padded", "pair_indices",
    "ReLU", "GELU", "Swish", "Identity", "Sigmoid", "Tanh", "Dice",
    "Skip", "SENetLayer", "SelfAttention", "FMAligned", "SingleLayerPerceptron", "FieldConv1d",
    "FieldBatchNorm",
    "SeqConv", "DilatedSeqConv", "SeqAvgPool", "SeqMaxPool", "BiGRU", "BiSelfAttention", "GRU",
    "CausalSelfAttention", "PositionFeedForward",
    "LocalActivationUnit", "TargetAttentionLayer", "Zero", "SeqLayerNorm", "NoNorm",
    "SumPool", "MeanPool", "LastPool", "TargetAttentionPool",
    "HadamardInteractions", "SEShortcut", "SlicedLinear",
    "FieldEmbedding", "LinearLogit", "FMLogit", "BiInteraction", "InnerProduct", "OuterProduct",
    "CrossNet", "CIN", "LogTransformLayer", "BilinearInteraction", "MLP", "PointWiseFeedForward",
    "TransformerBlock", "Flatten", "DenseLogit", "Concat", "Add",
]
