"""A CTR logit that starts at the base rate of the training labels (`init_bias prior`).

With the head's bias at 0 a model starts at p = 0.5, and its first gradient steps mostly learn
the base rate. Every weight on an input whose mean is far from 0 takes part in that: a
sum-pooled behaviour history grows with the history's length, so lowering the output for all
rows lowers it most for long histories, and a model whose other inputs are still tiny (embeddings
start at std 1e-4) ranks by "shorter history, more clicks". On a log where long histories click
more, every AMEIR child trained for two epochs sat at validation AUC 0.42 that way (issue 19).
Starting the bias at log(p / (1 - p)) removes that first phase (Karpathy, "A recipe for training
neural networks": init well; RetinaNet's prior initialisation; Keras' imbalanced-data guide).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nasc.compiler.settings import TRAIN
from nasc.runtime.constructs import CTRHead

# A split with no positives (or no negatives) must not make the bias infinite.
RATE_BOUNDS = (1e-4, 1 - 1e-4)


def effective_init_bias(setting: str | None) -> str:
    """The train block's `init_bias`, its default where the block does not set it."""
    return setting or TRAIN["init_bias"].default


def base_rate_logit(labels: torch.Tensor) -> float:
    """log(p / (1 - p)) of the positive rate p of 0/1 ``labels``, p kept inside RATE_BOUNDS."""
    rate = float(labels.float().mean()) if len(labels) else 0.5
    rate = min(max(rate, RATE_BOUNDS[0]), RATE_BOUNDS[1])
    return math.log(rate / (1 - rate))


@torch.no_grad()
def start_at_base_rate(model: nn.Module, labels: torch.Tensor, init_bias: str | None) -> int:
    """Set the bias of every CTR head of ``model`` to the base rate's logit when ``init_bias`` is
    `prior` (None: the train block's default); returns how many heads were set (0 for a model
    without one, e.g. a next-item model, or for `zero`)."""
    if effective_init_bias(init_bias) != "prior":
        return 0
    heads = [m for m in model.modules() if isinstance(m, CTRHead)]
    if heads:
        logit = base_rate_logit(labels)
        for head in heads:
            head.bias.fill_(logit)
    return len(heads)
