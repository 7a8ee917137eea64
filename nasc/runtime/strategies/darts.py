"""DARTS as AutoPI runs it (AutoPI-D, §4.3-4.4 and §5.1).

Bi-level optimisation on a seeded split of the training set: the weights w learn on one part
(momentum SGD, cosine schedule, PC-DARTS settings), alpha and beta on the other (Adam). First
order takes the gradient of the architecture loss at the current w (xi = 0); second order
unrolls one weight step and corrects with a finite-difference Hessian-vector product (DARTS
eq. 7-8), written with torch.func. The temperature follows tau = (1 + log T) / (1 + log t);
skip adds N(0, lambda std(X)) while training. The alpha/beta of the epoch with the best validation
``monitor`` (logloss, AutoPI's choice, or AUC) are kept, and each searched node keeps its top-k operators from distinct inputs by strength
softmax(alpha)_o * softmax(beta)_i (§4.4.1).

Every epoch ends with one atomic checkpoint holding all resume needs, the history rows included
(history.json and metrics.* are views of it); the random sources are seeded per epoch, so a run
resumed from its last checkpoint ends as an uninterrupted one would (on CPU).
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.func import functional_call

from nasc.runtime.choices import (ChoiceModule, monotone_groups, softmax_weights,
                                  strongest_monotone)
from nasc.errors import Diagnostic, UsageError
from nasc.runtime.compiling import CompileClock, training_loss
from nasc.runtime.memory import return_freed_memory
from nasc.runtime.progress import Progress
from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies.common import (
    SearchContext, build_supernet, export_best_so_far, generator, sort_key, split_half,
)
from nasc.runtime.train import evaluate, make_optimizer

GRAD_CLIP = 5.0


def temperature(total: int, epoch: int, schedule: str) -> float:
    """AutoPI eq. 9: tau = (1 + log T) / (1 + log t), t = 1..T; 1 without annealing."""
    if schedule == "none":
        return 1.0
    return (1 + math.log(total)) / (1 + math.log(epoch))


def use_memory_setting(net: nn.Module, setting: str) -> None:
    """The search block's ``memory``: with ``recompute`` each relaxed one-of keeps only its inputs
    for backward (nasc.runtime.recompute); ``lowest`` also has freed host memory go back to the
    system at once, for the rest of the process (nasc.runtime.memory.return_freed_memory), so a
    step's resident peak is what it holds rather than what the allocator kept."""
    net.set_recompute(setting in ("recompute", "lowest"))
    if setting == "lowest":
        return_freed_memory()


def arch_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """Every choice's architecture weights by label: ``<label>.alpha``, ``<label>.beta``."""
    return {f"{m.label}.{name}": p.detach().cpu().clone()
            for m in net.modules() if isinstance(m, ChoiceModule)
            for name, p in m.arch_logits().items()}


def load_arch_state(net: nn.Module, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, ChoiceModule):
                for name, p in m.arch_logits().items():
                    p.copy_(state[f"{m.label}.{name}"])


def discretize(net: nn.Module) -> dict:
    """The discrete architecture: what each searched choice's weights favour (a cell node: its
    top-k (input, operator) pairs; a one-of: the operator of largest alpha; an interaction set:
    its slots' strongest distinct products; a `monotone` MLP: its best non-increasing widths)."""
    found = {label: m.strongest() for label, m in net.choice_modules().items()
             if m.arch_logits()}
    for layers in monotone_groups(net).values():
        if any(m.alpha is not None for m in layers):
            found.update(strongest_monotone(layers))
    return found


def views(state: dict) -> dict:
    """The files derived from a checkpoint: history.json (with alpha/beta), metrics.json/csv."""
    metrics = [{k: v for k, v in h.items() if k != "arch"} for h in state["history"]]
    return {"history.json": state["history"], "metrics.json": metrics, "metrics.csv": metrics}


def softmaxes(state: dict[str, torch.Tensor]) -> dict[str, list[float]]:
    return {k: _rounded(torch.softmax(v, -1).tolist()) for k, v in state.items()}


def _rounded(values: list) -> list:
    """Six decimals, nested lists (one row per slot of an interaction set) kept."""
    return [_rounded(v) if isinstance(v, list) else round(v, 6) for v in values]


class Darts:
    """Bi-level DARTS. Subclasses (SNAS) share the supernet, optimizers, checkpoints, best-epoch
    bookkeeping and discretisation, and bring their own relaxation and epoch."""

    name = "darts"

    def __init__(self, ctx: SearchContext):
        self.setup(ctx)
        s = ctx.settings
        self.order = s["order"]
        self.train_w, self.train_a = split_half(self.train, s["arch_split"], ctx.seed)
        self.net.set_weighting(softmax_weights)  # DARTS' relaxation (AutoPI eq. 6-7)

    def setup(self, ctx: SearchContext) -> None:
        self.ctx = ctx
        s = ctx.settings
        self.epochs, self.batch = s["epochs"], s["batch"]
        self.net = build_supernet(ctx)
        try:
            self.net.relax()
        except ValueError as err:  # a choice this space cannot relax, at the search block
            where = ctx.program.strategy.span
            raise UsageError([Diagnostic(ctx.spec_path, where.line, where.column, str(err),
                                         f"`search {self.name}` relaxes every choice")]) from None
        use_memory_setting(self.net, s["memory"])
        self.arch_params = self.net.arch_parameters()
        self.weight_params = self.net.weight_parameters()
        self.w_opt = make_optimizer(s["weights"], self.weight_params)
        self.a_opt = make_optimizer(s["arch"], self.arch_params)
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.w_opt, self.epochs)
        self.train = ctx.dataset.train.to(ctx.device)
        self.valid = ctx.dataset.valid.to(ctx.device)
        self.loss = nn.BCEWithLogitsLoss()
        # The training steps' loss, compiled or not (nasc.runtime.compiling); scoring is eager.
        self.clock = CompileClock(s["compile"], ctx.device)
        self.batch_loss = training_loss(self.eager_loss, s["compile"], ctx.device)
        self.monitor = s["monitor"]
        self.better = sort_key(self.monitor)  # smaller is better
        self.best: tuple[float, int, dict] | None = None  # (key of the best scores, epoch, arch)
        self.history: list[dict] = []  # one row per epoch, alpha/beta included
        self.saved = SearchCheckpoint(ctx, views)

    def eager_loss(self, batch) -> torch.Tensor:
        """A batch's training loss, run eagerly (``batch_loss`` is it or its compiled form)."""
        return self.loss(self.net(batch), batch["label"])

    # ---- one step of each level
    def weight_step(self, batch) -> torch.Tensor:
        loss = self.batch_loss(batch)
        grads = torch.autograd.grad(loss, self.weight_params, allow_unused=True)
        for p, g in zip(self.weight_params, grads):
            p.grad = g
        nn.utils.clip_grad_norm_(self.weight_params, GRAD_CLIP)
        self.w_opt.step()
        self.w_opt.zero_grad(set_to_none=True)
        return loss.detach()

    def arch_step(self, arch_batch, train_batch) -> torch.Tensor:
        if self.order == 2:
            grads, loss = self.unrolled_grads(arch_batch, train_batch)
        else:
            loss = self.batch_loss(arch_batch)
            grads = torch.autograd.grad(loss, self.arch_params)
        for p, g in zip(self.arch_params, grads):
            p.grad = g
        self.a_opt.step()
        self.a_opt.zero_grad(set_to_none=True)
        return loss.detach()

    def unrolled_grads(self, arch_batch, train_batch):
        """DARTS' second order: grad_a L_val(w', a) - xi * H v, w' = w - xi grad_w L_train."""
        net, xi = self.net, self.w_opt.param_groups[0]["lr"]
        names = {id(p): n for n, p in net.named_parameters()}
        w_names = [names[id(p)] for p in self.weight_params]
        a_names = [names[id(p)] for p in self.arch_params]
        params = dict(net.named_parameters())

        def loss_at(weights: dict, batch):
            out = functional_call(net, {**params, **weights}, (batch,))
            return self.loss(out, batch["label"])

        w = {n: params[n] for n in w_names}
        g_train = torch.autograd.grad(loss_at(w, train_batch), list(w.values()), allow_unused=True)
        w_prime = {n: (p - xi * g if g is not None else p).detach().requires_grad_()
                   for (n, p), g in zip(w.items(), g_train)}
        val_loss = loss_at(w_prime, arch_batch)
        grads = torch.autograd.grad(val_loss, [params[n] for n in a_names] + list(w_prime.values()),
                                    allow_unused=True)
        g_alpha, v = grads[: len(a_names)], grads[len(a_names):]
        v = [torch.zeros_like(p) if g is None else g for p, g in zip(w.values(), v)]
        eps = 0.01 / (torch.sqrt(sum((g ** 2).sum() for g in v)) + 1e-12)
        arch = [params[n] for n in a_names]
        with torch.no_grad():
            plus = {n: p + eps * g for (n, p), g in zip(w.items(), v)}
            minus = {n: p - eps * g for (n, p), g in zip(w.items(), v)}
        g_plus = torch.autograd.grad(loss_at(plus, train_batch), arch, allow_unused=True)
        g_minus = torch.autograd.grad(loss_at(minus, train_batch), arch, allow_unused=True)
        out = []
        for ga, gp, gm in zip(g_alpha, g_plus, g_minus):
            ga = torch.zeros_like(gp) if ga is None else ga
            out.append(ga - xi * (gp - gm) / (2 * eps))
        return out, val_loss

    # ---- epochs
    def run_epoch(self, epoch: int, progress: Progress) -> dict:
        s, seed = self.ctx.settings, self.ctx.seed
        # Dropout (an mlp in the space) draws from the global RNG: seed it per epoch too.
        torch.manual_seed(generator(seed, 5, epoch).initial_seed())
        tau = temperature(self.epochs, epoch, s["temperature"])
        self.net.set_temperature(tau)
        # The noise is drawn where the supernet runs: a CPU generator on CUDA would cost a
        # blocking host-to-device copy per skip per step.
        self.net.set_skip_noise(s["noisy_skip"], generator(seed, 2, epoch, device=self.ctx.device))
        self.net.train()
        arch_batches = itertools.cycle(list(self.train_a.batches(self.batch, True, generator(seed, 4, epoch))))
        # Losses are summed on the device and read once per epoch (and when the progress line
        # is redrawn): a float() per step would wait for the GPU at every step.
        w_loss = a_loss = torch.zeros((), device=self.ctx.device)
        steps = 0
        for steps, batch in enumerate(self.train_w.batches(self.batch, True, generator(seed, 3, epoch)), 1):
            a_loss = a_loss + self.arch_step(next(arch_batches), batch)
            w_loss = w_loss + self.weight_step(batch)
            progress.step(epoch, steps, lambda: float(w_loss) / steps)
        w_loss, a_loss = float(w_loss), float(a_loss)
        self.schedule.step()
        self.net.set_skip_noise(0.0)
        scores = evaluate(self.net, self.valid, bn_batch_stats=True)
        progress.epoch_done(epoch, scores)
        return self.keep_epoch({"epoch": epoch, "tau": tau, "train_logloss": w_loss / max(steps, 1),
                                "arch_logloss": a_loss / max(steps, 1)}, scores)

    def keep_epoch(self, row: dict, scores: dict) -> dict:
        """Record an epoch's row and alpha/beta; remember them when its scores are the best."""
        state = arch_state(self.net)
        row = {**row, "valid_auc": scores["auc"], "valid_logloss": scores["logloss"]}
        if self.best is None or self.better(scores) < self.best[0]:
            self.best = (self.better(scores), row["epoch"], state)
        self.history.append({**row, "arch": softmaxes(state)})
        return row

    def checkpoint(self, epoch: int) -> None:
        self.saved.save({
            "done": epoch, "history": self.history, "model": self.net.state_dict(),
            "w_opt": self.w_opt.state_dict(), "a_opt": self.a_opt.state_dict(),
            "schedule": self.schedule.state_dict(), "best_key": self.best[0],
            "best_epoch": self.best[1], "best_arch": self.best[2],
        })

    def export_best_so_far(self, epoch: int) -> None:
        """arch.nas of the best epoch so far; the live alpha/beta are put back after."""
        live = arch_state(self.net)
        load_arch_state(self.net, self.best[2])
        export_best_so_far(self.ctx, discretize(self.net), f"epoch {epoch} of {self.epochs}")
        load_arch_state(self.net, live)

    def restore(self) -> int:
        """The epoch the checkpoint ends (0 without one: interrupted before the first)."""
        state = self.saved.load(map_location=self.ctx.device)
        if state is None:
            return 0
        self.net.load_state_dict(state["model"])
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        self.schedule.load_state_dict(state["schedule"])
        # Checkpoints before the monitor setting was read kept the best logloss as "best_logloss".
        best = state["best_key"] if "best_key" in state else state["best_logloss"]
        self.best = (best, state["best_epoch"], state["best_arch"])
        self.history = state["history"]
        return state["done"]

    def run(self) -> dict:
        start = self.restore() + 1 if self.ctx.resume else 1
        steps = math.ceil(len(self.train_w) / self.batch)
        progress = Progress(self.epochs, steps, enabled=self.ctx.show_progress,
                            monitor=self.monitor)
        for epoch in range(start, self.epochs + 1):
            self.run_epoch(epoch, progress)
            self.checkpoint(epoch)
            self.export_best_so_far(epoch)
        _, best_epoch, best_arch = self.best
        best_row = next(r for r in self.history if r["epoch"] == best_epoch)
        load_arch_state(self.net, best_arch)
        self.ctx.record.update({"strategy": self.name, "order": self.order, "epochs": self.epochs,
                                "monitor": self.monitor, "best_epoch": best_epoch,
                                f"best_valid_{self.monitor}": round(best_row[f"valid_{self.monitor}"], 6),
                                "arch": softmaxes(best_arch), "compile": self.clock.record()})
        return discretize(self.net)


def search(ctx: SearchContext) -> dict:
    return Darts(ctx).run()
