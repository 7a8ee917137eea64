"""SNAS (Xie et al., ICLR 2019): stochastic relaxation, trained at one level.

Every forward of the supernet samples each relaxed choice from a Gumbel-softmax over its
logits: weights softmax((alpha + G) / tau), G ~ Gumbel(0, 1) drawn from a seeded generator, so
the mix is a near-one-hot sample whose gradient reaches alpha (the reparameterisation SNAS uses
in place of DARTS' deterministic mix). Weights and alpha/beta learn together on the whole
training split from the one loss (no architecture split, no second order); the temperature
anneals linearly per epoch from ``tau_start`` to ``tau_end`` (the paper leaves lambda_0 open;
1.0 -> 0.33 is a common choice). ``sample hard`` is GDAS' variant: a straight-through one-hot
sample, so each step computes one option of every one-of (about 1/6 of DARTS' compute on AutoPI's
six operators) while alpha still learns through the soft sample's gradient. Validation and the kept epoch use the noise-free softmax at the
epoch's temperature; the child is the argmax per choice and, in a searched cell node, the top-k
inputs by strength, as DARTS derives it. Everything else -- supernet, optimizers (momentum SGD
with a cosine schedule for the weights, Adam for alpha/beta), checkpoints, resume -- is DARTS'.
"""
from __future__ import annotations

import torch

from nasc.runtime.choices import softmax_weights
from nasc.runtime.progress import Progress
from nasc.runtime.strategies.common import SearchContext, generator
from nasc.runtime.strategies.darts import GRAD_CLIP, Darts
from nasc.runtime.train import evaluate


class GumbelSoftmax:
    """The SNAS relaxation: softmax((logits + Gumbel noise) / tau), noise from ``generator``."""

    def __init__(self, generator: torch.Generator | None):
        self.generator = generator

    def __call__(self, logits: torch.Tensor, tau: float) -> torch.Tensor:
        if torch.compiler.is_compiling():  # the global generator, seeded each epoch (as Skip's)
            u = torch.rand_like(logits)
        else:
            u = torch.rand(logits.shape, generator=self.generator, dtype=logits.dtype)
        exponential = -torch.log(u.clamp_min(1e-20))  # Exp(1)
        gumbel = -torch.log(exponential.clamp_min(1e-20))  # Gumbel(0, 1)
        return torch.softmax((logits + gumbel.to(logits.device)) / tau, dim=-1)


class StraightThroughGumbel(GumbelSoftmax):
    """GDAS' hard sample (Dong & Yang 2019): forward the one-hot of the Gumbel-softmax argmax,
    backward the soft sample's gradient. ``hard + (soft - soft.detach())`` is one-hot exactly in
    value (the added term is 0), which lets a one-of compute only the sampled option."""

    one_hot = True

    def __call__(self, logits: torch.Tensor, tau: float) -> torch.Tensor:
        soft = super().__call__(logits, tau)
        hard = torch.nn.functional.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
        return hard + (soft - soft.detach())


SAMPLERS = {"soft": GumbelSoftmax, "hard": StraightThroughGumbel}


def temperature(start: float, end: float, total: int, epoch: int) -> float:
    """Linear from ``start`` at epoch 1 to ``end`` at epoch ``total``."""
    return start if total == 1 else start + (end - start) * (epoch - 1) / (total - 1)


class Snas(Darts):
    name = "snas"

    def __init__(self, ctx: SearchContext):
        self.setup(ctx)
        self.order = 1
        self.train_w = self.train  # one level: both learn on the whole training split
        # One sampler for the whole search, its generator seeded anew each epoch: a compiled
        # step guards on the object it calls.
        self.sampler = SAMPLERS[ctx.settings["sample"]](None)

    def run_epoch(self, epoch: int, progress: Progress) -> dict:
        s, seed = self.ctx.settings, self.ctx.seed
        torch.manual_seed(generator(seed, 5, epoch).initial_seed())  # dropout, as in DARTS
        tau = temperature(s["tau_start"], s["tau_end"], self.epochs, epoch)
        self.net.set_temperature(tau)
        self.sampler.generator = generator(seed, 6, epoch)
        self.net.set_weighting(self.sampler)
        self.net.train()
        params = self.weight_params + self.arch_params
        loss_sum, steps = torch.zeros((), device=self.ctx.device), 0
        for steps, batch in enumerate(self.train.batches(self.batch, True, generator(seed, 3, epoch)), 1):
            loss = self.batch_loss(batch)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for p, g in zip(params, grads):
                p.grad = g
            torch.nn.utils.clip_grad_norm_(self.weight_params, GRAD_CLIP)
            self.w_opt.step()
            self.a_opt.step()
            self.w_opt.zero_grad(set_to_none=True)
            self.a_opt.zero_grad(set_to_none=True)
            loss_sum = loss_sum + loss.detach()
            progress.step(epoch, steps, lambda: float(loss_sum) / steps)
        self.schedule.step()
        self.net.set_weighting(softmax_weights)  # validate the expected, noise-free mix
        scores = evaluate(self.net, self.valid, bn_batch_stats=True)
        progress.epoch_done(epoch, scores)
        return self.keep_epoch({"epoch": epoch, "tau": tau,
                                "train_logloss": float(loss_sum) / max(steps, 1)}, scores)


def search(ctx: SearchContext) -> dict:
    return Snas(ctx).run()

