"""ENAS (Pham et al., ICML 2018): the RL controller over one weight-sharing supernet.

"The only difference between ENAS and RL is that the sampled child models in ENAS share the same
weights in the one-shot model" (AMEIR App. C.4). Each of ``epochs`` epochs:

1. trains the shared weights for one pass over the training split, every step on a path the
   controller samples (``net.fix``), with the spec's ``train`` optimizer and one cosine schedule
   over the search (as oneshot_random trains its supernet);
2. takes ``controller_steps`` controller updates, each on ``controller_batch`` sampled paths
   rewarded by their AUC on a seeded validation subset of ``valid_subset`` rows under the shared
   weights (batch-norm with batch statistics, as oneshot_random ranks paths).

Derivation: ``children`` paths sampled from the trained controller (repeats scored once) are
ranked on the validation subset, the ``top`` best evaluated on the full validation split, and the
best by AUC is the answer. With ``finetune inherit`` its model with the shared weights is written
to RUN/inherited.pt for ``nasc search --retrain`` to fine-tune, as oneshot_random does.

While it runs, arch.nas is rewritten after each epoch with the path that earned the highest reward
among that epoch's controller samples (rewards of different epochs come from different shared
weights, so they are not compared across epochs); the derivation replaces it at the end.

Resume: one atomic checkpoint after each epoch holds the shared weights, their optimizer, the
controller (with its optimizer and baseline) and the epoch rows of history.json; every random
source is salted by the epoch, so a resumed search ends as an uninterrupted one would (on CPU).
"""
from __future__ import annotations

import json
import math

import torch
from torch import nn

from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies.common import (SearchContext, build_supernet, export_best_so_far,
                                            from_json, generator, jsonable, validation_rows)
from nasc.runtime.strategies.controller import Policy
from nasc.runtime.strategies.decisions import decision_groups
from nasc.runtime.strategies.oneshot import inherited_model, set_cosine_lr
from nasc.runtime.train import evaluate, make_optimizer

# Generator salts of the random sources (kept apart from the other strategies').
DATA, PATHS, REWARDS, DERIVE = 50, 51, 52, 53


class Enas:
    def __init__(self, ctx: SearchContext):
        self.ctx, s = ctx, ctx.settings
        self.net = build_supernet(ctx)
        self.train = ctx.dataset.train.to(ctx.device)
        self.valid = ctx.dataset.valid.to(ctx.device)
        self.subset = self.valid.subset(validation_rows(ctx, self.valid, s["valid_subset"]))
        names = [f.name for f in ctx.dataset.schema.fields]
        self.policy = Policy(decision_groups(ctx.program, names), s, ctx.seed)
        self.params = self.net.weight_parameters()  # alpha/beta of relaxations stay untouched
        self.optimizer = make_optimizer(ctx.program.train["optimizer"], self.params)
        self.clip = ctx.program.train.get("clip_grad") or 0.0
        self.loss = nn.BCEWithLogitsLoss()
        self.steps = math.ceil(len(self.train) / s["batch"])
        self.saved = SearchCheckpoint(ctx, lambda state: {"history.json": state["history"]})
        self.history: list[dict] = []

    def say(self, text: str) -> None:
        if self.ctx.show_progress:
            print(text, flush=True)

    def reward(self, assignment: dict, split: str = "subset") -> dict:
        self.net.fix(assignment)
        return evaluate(self.net, self.subset if split == "subset" else self.valid,
                        bn_batch_stats=True)

    def train_shared(self, epoch: int, base: list[float]) -> float:
        s, seed = self.ctx.settings, self.ctx.seed
        torch.manual_seed(generator(seed, DATA, epoch, 1).initial_seed())  # dropout
        paths = generator(seed, PATHS, epoch)
        total, run = self.steps * s["epochs"], torch.zeros((), device=self.ctx.device)
        self.net.train()
        count = 0
        for count, batch in enumerate(self.train.batches(s["batch"], True,
                                                         generator(seed, DATA, epoch)), 1):
            set_cosine_lr(self.optimizer, base, (epoch - 1) * self.steps + count - 1, total)
            self.net.fix(self.policy.sample(paths).assignment)
            loss = self.loss(self.net(batch), batch["label"])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip:
                nn.utils.clip_grad_norm_(self.params, self.clip)
            self.optimizer.step()
            run = run + loss.detach()
        return float(run) / max(count, 1)

    def train_controller(self, epoch: int) -> tuple[list[float], dict | None]:
        """The controller's updates of one epoch: every reward, and the path that earned the
        highest (under this epoch's shared weights: the best-so-far arch.nas; None when no
        controller step ran)."""
        draws, rewards, best = generator(self.ctx.seed, REWARDS, epoch), [], None
        for _ in range(self.ctx.settings["controller_steps"]):
            batch = []
            for _ in range(self.policy.batch):
                sample = self.policy.sample(draws)
                auc = self.reward(sample.assignment)["auc"]
                batch.append((sample.tokens, sample.log_prob, auc))
                if best is None or auc > best[0]:
                    best = (auc, sample.assignment)
            self.policy.update(batch)
            rewards += [r for _, _, r in batch]
        return rewards, None if best is None else best[1]

    def derive(self) -> tuple[dict, dict]:
        """The best of ``children`` controller samples: ranked on the subset, ``top`` in full."""
        s, draws = self.ctx.settings, generator(self.ctx.seed, DERIVE)
        ranked, seen = [], set()
        for n in range(s["children"]):
            assignment = self.policy.sample(draws).assignment
            key = json.dumps(jsonable(assignment), sort_keys=True)
            if key not in seen:
                seen.add(key)
                ranked.append((-self.reward(assignment)["auc"], n, assignment))
        ranked.sort(key=lambda r: (r[0], r[1]))
        top = [{"child": n, "subset_auc": -neg, "valid": self.reward(a, "valid"), "choices": a}
               for neg, n, a in ranked[: s["top"]]]
        best = max(top, key=lambda r: (r["valid"]["auc"], -r["child"]))
        info = {"children": s["children"], "distinct": len(ranked), "best_child": best["child"],
                "top": [{"child": r["child"], "subset_auc": round(r["subset_auc"], 6),
                         "valid_auc": round(r["valid"]["auc"], 6)} for r in top]}
        return best["choices"], info

    def checkpoint(self) -> None:
        self.saved.save({"done": len(self.history), "history": self.history,
                         "net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "policy": self.policy.state_dict()})

    def restore(self) -> None:
        state = self.saved.load(map_location=self.ctx.device)
        if state is not None:
            self.net.load_state_dict(state["net"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.policy.load_state_dict(state["policy"])
            self.history = state["history"]

    def run(self) -> dict:
        s = self.ctx.settings
        base = [g["lr"] for g in self.optimizer.param_groups]
        if self.ctx.resume:
            self.restore()
        for epoch in range(len(self.history) + 1, s["epochs"] + 1):
            train_loss = self.train_shared(epoch, base)
            rewards, leader = self.train_controller(epoch)
            row = {"epoch": epoch, "train_logloss": round(train_loss, 6),
                   "reward_mean": round(sum(rewards) / len(rewards), 6) if rewards else None,
                   "baseline": self.policy.baseline.value}
            self.history.append(row)
            self.checkpoint()
            if leader is not None:
                export_best_so_far(self.ctx, leader, f"epoch {epoch} of {s['epochs']} (the "
                                   "controller's best-rewarded path of the epoch)")
            self.say(f"epoch {epoch}/{s['epochs']}: train logloss {train_loss:.5f}, mean reward "
                     f"(subset AUC) {row['reward_mean']}")
        assignment, info = self.derive()
        self.ctx.record.update({"strategy": "enas", "epochs": len(self.history), **info})
        self.finetune(assignment)
        return from_json(jsonable(assignment))

    def finetune(self, assignment: dict) -> None:
        """``inherit``: the found child with the shared weights, as RUN/inherited.pt."""
        ctx = self.ctx
        ctx.record["finetune"] = ctx.settings["finetune"]
        if ctx.settings["finetune"] == "scratch":
            ctx.run.file("inherited.pt").unlink(missing_ok=True)  # an earlier run's, if any
            return
        model = inherited_model(ctx, self.net, assignment)
        ctx.run.save_checkpoint("inherited.pt", model.state_dict())
        ctx.record["inherited"] = "inherited.pt"
        ctx.record["inherited_valid_auc"] = round(evaluate(model, self.valid)["auc"], 6)


def search(ctx: SearchContext) -> dict:
    return Enas(ctx).run()
