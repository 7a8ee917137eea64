"""AMEIR's three-step one-shot random search (§2.3, App. C.4, D).

The search runs in progressive **stages**, one per construct with open choices: the spec's
``stage NAME { ... }`` blocks in the order written, then every other construct with choices in
source order, with the strategy's top-level settings. Each stage searches only its construct's
labels and fixes its result (``net.fix`` and the assignment) before the next one starts.

A stage over the supernet (behavior ``blocks``, ``mlp`` widths/activations, node choices, cells):

1. one-shot training of the shared weights on the training split: every step draws one option
   per open label of the stage uniformly (fairness, AMEIR after Chu et al.; the widths of a
   ``monotone`` MLP are drawn together, uniformly over the allowed sequences: ``net.sample``,
   nasc.compiler.sampling's rules), Adam from the spec's ``train`` optimizer, one cosine schedule per stage;
2. ``children`` child paths drawn with a seeded generator (duplicates ranked once) are ranked on
   a seeded validation subset of ``valid_subset`` rows with the inherited weights (batch-norm
   with batch statistics, as ``evaluate(..., bn_batch_stats=True)``; every child's AUC and
   logloss computed together on the device, nasc.runtime.device_metrics; what the stage's choices
   do not reach is computed once for all children, nasc.runtime.fixed_outputs); the ``top`` best are
   evaluated on the full validation split and the best by ``monitor`` is kept.

While a stage runs, the labels of *later* stages are held at a fixed default (option 0 of an
operator choice, the widest width of an MLP layer, the first inputs of a searched cell node), with
two exceptions that follow AMEIR Step 1 ("a pre-defined MLP is exploited to combine h^a and e^b"):

* a later ``interactions`` construct contributes zeros (it is left out, not a default set);
* when the running stage sets ``fixed_mlp [w1, w2, ...]``, each later searched MLP is replaced,
  for this stage only, by a separate fixed MLP: in -> w1 -> ... -> wn (ReLU each), then a linear
  map (no activation) to the width the rest of the supernet reads from that MLP (its widest
  output). The map composes with the linear head, so the stage trains exactly an [w1, ..., wn]
  MLP; its weights are dropped when the stage ends. Clamping the searched layers to the nearest
  allowed widths was rejected: [200, 80] has no counterpart when the input is narrower than 200
  or the MLP has a different number of layers (specs/ameir.nas: 3 layers over ~96 inputs).

The ``interactions`` stage (AMEIR Step 2) has its own small one-shot model,
:class:`InteractionOneShot` (field embeddings, one projection per candidate added to the first
hidden layer, the stage's fixed MLP; the behavior blocks are left out, as in the paper). It
starts from the single fields; each of ``cycles`` cycles multiplies every survivor with every
field (distinct fields, duplicates merged, order <= ``order``), keeps the survivors themselves as
candidates (so a good pair can outlive the cycle that makes triples, and the final top-M can mix
orders as in App. E), trains one-shot, ranks every candidate on the validation subset with the
inherited weights and keeps the top ``survivors``. Weights are inherited across cycles (a
survivor keeps its projection). After the last cycle the top ``keep`` are the value of
``NAME.tuples``. With ``sample step`` (the default, as in the paper) one candidate is drawn
uniformly per training step for the whole batch; ``sample example`` draws one per example, so
every projection is updated at every step. On the planted-interaction data of
tests/ameir/test_recovery.py per-step sampling ranks the planted tuples higher: with per-example
sampling the shared MLP sees every candidate absent from almost every row and learns the planted
pairs itself, after which their projections count them twice.

Derivation: with ``finetune inherit`` the fixed model of the found architecture is built and
initialised from the one-shot weights (``load_from_supernet``), and its state_dict is written to
``RUN/inherited.pt``; ``nasc search --retrain`` fine-tunes from it. With ``scratch`` nothing is
written and the retrain starts from scratch. So it is too when every stage was an interactions
stage (AMEIR-B: Step 2 alone): Step 2 trains its own one-shot model, not the supernet, so the
supernet holds no trained weight to inherit (measured on Frappe_x1: the "inherited" model scored
validation AUC 0.49); the run records ``finetune scratch`` and why.

Resume: one atomic checkpoint is written after every stage and after every cycle of an
interactions stage, holding all resume needs (the stage rows and the rankings of
interactions.json, which is its view); every random source is salted by (stage, epoch/cycle), so
a resumed run ends as an uninterrupted one would (on CPU).
"""
from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import replace

import torch
from torch import nn

from nasc.compiler.program import InteractionsDef
from nasc.runtime.choices import TupleChoice
from nasc.runtime.device_metrics import ctr_score_list
from nasc.runtime.fixed_outputs import FixedOutputs
from nasc.runtime.progress import Progress
from nasc.runtime.rundir import SearchCheckpoint
from nasc.runtime.strategies.common import (SearchContext, assignment_key, build_supernet,
                                           from_json, generator, jsonable, sort_key,
                                           validation_rows)
from nasc.runtime.strategies.interaction_oneshot import InteractionOneShot, expand
from nasc.runtime.strategies.stages import (
    AbsentInteractions, FixedMLP, Stage, Passthrough, default_value, mlp_layers,
    plan_stages,
)
from nasc.runtime.swaps import Swaps
from nasc.runtime.train import (SCORING_BATCH, ScoringMode, TrainConfig, cosine_factor,
                                 evaluate, make_optimizer, predict, predict_batches, train_model)

DEFAULT_FIXED_MLP = (200, 80)  # AMEIR §3: the pre-defined MLP of Steps 1 and 2


# ----------------------------------------------------------------------------------- search
def stage_views(state: dict) -> dict:
    """The files derived from a checkpoint: stages.json (a row per finished stage), and
    interactions.json (every cycle's ranking) once an interactions stage has ranked."""
    views = {"stages.json": state["history"]}
    if state["rankings"]:
        views["interactions.json"] = state["rankings"]
    return views


class OneShot:
    def __init__(self, ctx: SearchContext):
        self.ctx = ctx
        s = ctx.settings
        self.batch, self.monitor = s["batch"], s["monitor"]
        self.stages = plan_stages(ctx)
        self.net = build_supernet(ctx)
        self.train = ctx.dataset.train.to(ctx.device)
        self.valid = ctx.dataset.valid.to(ctx.device)
        rows = validation_rows(ctx, self.valid, s["valid_subset"])
        self.subset = self.valid.subset(rows)
        # Next-item data (AMEIR-A on Beauty): sampled BCE and ranking metrics instead of clicks.
        self.retrieval = None
        self.trainer = None  # what trains the supernet on next-item data: retrieval or seq2seq
        sequence_to_sequence = s["supernet_objective"] == "seq2seq"  # next-item only (checked)
        if ctx.dataset.schema.task == "next_item":
            from nasc.runtime.retrieval import MONITOR, NextItemObjective

            config = TrainConfig.from_settings(ctx.program.train, seed=ctx.seed, batch=self.batch,
                                               device=str(ctx.device), monitor=MONITOR)
            self.retrieval = NextItemObjective(ctx.dataset, config, ctx.device)
            self.retrieval.add_subset("subset", "valid", rows)
            self.trainer = self.retrieval
            self.monitor = MONITOR
            if sequence_to_sequence:  # trains every position; ranks as above
                from nasc.runtime.seq2seq import Seq2SeqObjective

                self.trainer = Seq2SeqObjective(ctx.dataset, config, ctx.device)
        self.key = sort_key(self.monitor)
        self.assignment: dict = {}
        self.history: list[dict] = []   # one row per stage, for arch.nas's header
        self.rankings: dict[str, list] = {}  # step 2: every cycle's full ranking (interactions.json)
        self.optimizer_spec = ctx.program.train["optimizer"]
        self.clip = ctx.program.train.get("clip_grad") or 0.0
        self.loss = nn.BCEWithLogitsLoss()
        self.saved = SearchCheckpoint(ctx, stage_views)

    def score(self, model: nn.Module, split: str) -> dict[str, float]:
        """Validation scores of ``split`` ("subset" or "valid"); CTR with batch statistics."""
        if self.retrieval is not None:
            return self.retrieval.evaluate(model, split)
        return evaluate(model, self.subset if split == "subset" else self.valid,
                        bn_batch_stats=True)

    @contextmanager
    def child_outputs(self, labels):
        """A function returning what ranking keeps of the child now fixed: CTR probabilities of
        the subset, left on the device (scored with the other children's by ``subset_scores``);
        next-item scores as they are. For CTR the subset's batches and the scoring mode are set
        up once for all children, and the modules no choice in ``labels`` reaches compute their
        output once (FixedOutputs): the same numbers as ``predict(..., bn_batch_stats=True)``."""
        if self.retrieval is not None:
            yield lambda: self.retrieval.evaluate(self.net, "subset")
            return
        if len(self.subset) > SCORING_BATCH:  # chunks with the subset's batch-norm statistics
            yield lambda: predict(self.net, self.subset, SCORING_BATCH, bn_batch_stats=True)
            return
        batches = list(self.subset.batches(SCORING_BATCH))
        with torch.no_grad(), ScoringMode(self.net, bn_batch_stats=True) as mode, \
                FixedOutputs(self.net, labels):
            def output() -> torch.Tensor:
                probs = predict_batches(self.net, batches)
                mode.restore()
                return probs
            yield output

    def subset_scores(self, outputs: list) -> list[dict[str, float]]:
        """The scores of every child's ``subset_output``: CTR AUC and logloss of all children in
        batched kernels and one host sync (a sklearn call and a sync per child cost more than the
        children's forward passes), equal to ``score``'s to float64 rounding."""
        if self.retrieval is not None:
            return outputs
        return ctr_score_list(self.subset.columns["label"], outputs)

    def train_batches(self, g_data: torch.Generator, g_negatives: torch.Generator):
        if self.trainer is None:
            return self.train.batches(self.batch, True, g_data)
        self.trainer.negative_gen = g_negatives  # salted by (stage, epoch): resume is exact
        return self.trainer.batches(g_data)

    def batch_loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        if self.trainer is not None:
            return self.trainer.loss(model, batch)[0]
        return self.loss(model(batch), batch["label"])

    def say(self, text: str) -> None:
        if self.ctx.show_progress:
            print(text, flush=True)

    # ---- holding the other stages
    def hold(self, index: int) -> Swaps:
        """Hold the labels of stages after ``index`` at their defaults; put in the stand-ins."""
        swaps = Swaps(self.net)
        modules = self.net.choice_modules()
        stage = self.stages[index]
        later = [st for st in self.stages[index + 1:]]
        for st in later:
            if st.construct == "interactions":
                for path, m in self.net.named_modules():
                    if isinstance(m, TupleChoice) and m.label in st.labels:
                        swaps.put(path, AbsentInteractions(m))
                continue
            for label in st.labels:
                modules[label].fix(default_value(modules[label]))
        if stage.fixed_mlp:
            layers = mlp_layers(self.net)
            for st in later:
                if st.construct != "mlp" or st.name not in layers:
                    continue
                chain = layers[st.name]
                first, last = chain[0][1], chain[-1][1]
                stand_in = FixedMLP(first.linear.max_in, stage.fixed_mlp, last.linear.max_out)
                swaps.put(chain[0][0], stand_in.to(self.ctx.device))
                for path, _ in chain[1:]:
                    swaps.put(path, Passthrough())
        return swaps

    # ---- a stage over the supernet
    def train_supernet(self, si: int, stage: Stage) -> dict:
        net, seed = self.net, self.ctx.seed
        params = [p for p in net.parameters() if p.requires_grad]
        opt = make_optimizer(self.optimizer_spec, params)
        steps = (self.trainer.steps_per_epoch() if self.trainer is not None
                 else math.ceil(len(self.train) / self.batch))
        total, base = stage.epochs * steps, [g["lr"] for g in opt.param_groups]
        progress = Progress(stage.epochs, steps, enabled=self.ctx.show_progress)
        net.train()
        done, last_loss = 0, float("nan")
        for epoch in range(1, stage.epochs + 1):
            g_data, g_path = generator(seed, 100 + si, epoch, 0), generator(seed, 100 + si, epoch, 1)
            run, count = torch.zeros((), device=self.ctx.device), 0
            batches = self.train_batches(g_data, generator(seed, 100 + si, epoch, 2))
            for step, batch in enumerate(batches, 1):
                set_cosine_lr(opt, base, done, total)
                net.sample(g_path, stage.labels)
                loss = self.batch_loss(net, batch)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip:
                    nn.utils.clip_grad_norm_(params, self.clip)
                opt.step()
                done += 1
                run = run + loss.detach()  # summed on the device: no host sync per step
                count += 1
                progress.step(epoch, step, lambda: float(run) / count)
            last_loss = float(run) / max(count, 1)
            if self.ctx.show_progress:
                progress.stream.write("\n")
        return {"train_logloss": round(last_loss, 6), "steps": done}

    def ranked_children(self, si: int, stage: Stage) -> list[tuple]:
        """The distinct paths of ``children`` draws, scored on the validation subset with the
        inherited weights, best first: (key, child number, path, scores) each."""
        gen = generator(self.ctx.seed, 200 + si)
        seen, drawn, outputs = set(), [], []
        with self.child_outputs(stage.labels) as child_output:
            for n in range(stage.children):
                path = self.net.sample(gen, stage.labels)
                key = assignment_key(path)
                if key in seen:
                    continue
                seen.add(key)
                drawn.append((n, path))
                outputs.append(child_output())
        ranked = [(self.key(scores), n, path, scores)
                  for (n, path), scores in zip(drawn, self.subset_scores(outputs))]
        ranked.sort(key=lambda r: (r[0], r[1]))
        return ranked

    def rank_children(self, si: int, stage: Stage) -> tuple[dict, dict]:
        """Rank ``children`` drawn paths on the validation subset, evaluate the top in full
        (and in the last stage, with ``finalist_epochs``, fine-tune each; see ``tune``)."""
        self.say(f"ranking {stage.children} drawn children on {len(self.subset):,} validation "
                 f"rows, then the best {stage.top} on all {len(self.valid):,}")
        ranked = self.ranked_children(si, stage)
        top = []
        for _, n, path, sub in ranked[: stage.top]:
            self.net.fix(path)
            full = self.score(self.net, "valid")
            top.append({"child": n, "subset": sub, "valid": full, "choices": path})
        judged = "valid"
        if self.ctx.settings["finalist_epochs"] and si == len(self.stages) - 1:
            self.tune(top)
            judged = "tuned"
        best = min(top, key=lambda r: (self.key(r[judged]), r["child"]))
        info = {"children": stage.children, "distinct": len(ranked),
                "top": [{"child": r["child"],
                         "subset_" + self.monitor: round(r["subset"][self.monitor], 6),
                         **{"valid_" + k: round(v, 6) for k, v in r["valid"].items()},
                         **({"tuned_epochs": r["tuned_epochs"],
                             **{"tuned_valid_" + k: round(v, 6) for k, v in r["tuned"].items()}}
                            if "tuned" in r else {})}
                        for r in top],
                "best_child": best["child"]}
        return best["choices"], info

    def tune(self, top: list[dict]) -> None:
        """``finalist_epochs``: each finalist, a whole model in the last stage, fine-tuned from
        the one-shot weights with the train block's recipe capped at that many epochs (the
        weights as inherited compete as epoch 0, as in ``nasc train --init``); its validation
        scores after it go in ``tuned``. The supernet is not changed (the weights are copied)."""
        ctx = self.ctx
        cap = ctx.settings["finalist_epochs"]
        config = TrainConfig.from_settings(ctx.program.train, seed=ctx.seed,
                                           device=str(ctx.device))
        config = replace(config, epochs=min(config.epochs, cap))
        for i, row in enumerate(top, 1):
            model = inherited_model(ctx, self.net, {**self.assignment, **row["choices"]})
            result = train_model(model, ctx.dataset, config, show_progress=False,
                                 score_initial=True)
            row["tuned"], row["tuned_epochs"] = result.valid, result.epochs_run
            self.say(f"finalist {i} of {len(top)} (child {row['child']}) fine-tuned "
                     f"{result.epochs_run} epoch(s): valid {self.monitor} "
                     f"{result.valid[self.monitor]:.5f} (one-shot weights: "
                     f"{row['valid'][self.monitor]:.5f})")

    def supernet_stage(self, si: int, stage: Stage) -> tuple[dict, dict]:
        swaps = self.hold(si)
        try:
            info = self.train_supernet(si, stage)
            value, ranking = self.rank_children(si, stage)
        finally:
            swaps.restore()
        return value, {**info, **ranking}

    # ---- the interactions stage (AMEIR Step 2)
    def interactions_stage(self, si: int, stage: Stage, resume: dict | None) -> tuple[dict, dict]:
        ctx, seed = self.ctx, self.ctx.seed
        b: InteractionsDef = ctx.program.binding(stage.name)
        names = [f.name for f in ctx.dataset.schema.fields]
        vocab = [f.vocab_size for f in ctx.dataset.schema.fields]
        module = self.net.choice_modules()[b.label]
        dim = module.out_shape.dim
        widths = stage.fixed_mlp or DEFAULT_FIXED_MLP
        torch.manual_seed(seed * 31 + si)
        model = InteractionOneShot(vocab, dim, widths).to(ctx.device)
        shared = make_optimizer(self.optimizer_spec, model.shared_parameters())
        survivors: list[tuple[int, ...]] = [(f,) for f in range(len(names))]
        cycles: list[dict] = []
        start = 1
        if resume is not None:
            model.set_candidates([tuple(c) for c in resume["candidates"]], generator(seed, 0))
            model.load_state_dict(resume["model"])
            shared.load_state_dict(resume["shared"])
            survivors = [tuple(c) for c in resume["survivors"]]
            cycles = list(resume["cycles"])
            start = resume["cycle"] + 1
        final = None
        for cycle in range(start, b.cycles + 1):
            candidates = expand(survivors, len(names), b.order)
            model.set_candidates(candidates, generator(seed, 300 + si, cycle, 9))
            bank_opt = make_optimizer(self.optimizer_spec, [model.bank])
            loss = self.train_interactions(model, shared, bank_opt, si, cycle, stage.epochs)
            ranked = self.rank_interactions(model)
            survivors = [c for c, _ in ranked[: b.survivors]]
            final = ranked
            row = {"cycle": cycle, "candidates": len(candidates), "train_logloss": round(loss, 6),
                   "best": ["*".join(names[f] for f in c) for c, _ in ranked[:3]]}
            cycles.append(row)
            ranking = [{"tuple": [names[f] for f in c], "subset_auc": sc["auc"],
                        "subset_logloss": sc["logloss"]} for c, sc in ranked]
            self.rankings[f"{stage.name}.cycle{cycle}"] = ranking
            self.say(f"stage {stage.name} cycle {cycle}/{b.cycles}: {len(candidates)} candidates, "
                     f"best {', '.join(row['best'])}")
            self.checkpoint(si, {"stage": si, "cycle": cycle, "model": model.state_dict(),
                                 "shared": shared.state_dict(), "candidates": candidates,
                                 "survivors": survivors, "cycles": cycles,
                                 "ranked": [(c, s) for c, s in ranked]})
        if final is None:  # resumed after the last cycle
            final = [(tuple(c), s) for c, s in resume["ranked"]]
        kept = final[: b.keep]
        value = tuple(tuple(names[f] for f in c) for c, _ in sorted(kept, key=lambda r: (len(r[0]), r[0])))
        info = {"cycles": cycles,
                "found": [{"tuple": "*".join(names[f] for f in c),
                           "subset_" + self.monitor: round(s[self.monitor], 6)} for c, s in kept]}
        return {b.label: value}, info

    def train_interactions(self, model, shared, bank_opt, si, cycle, epochs) -> float:
        seed, steps = self.ctx.seed, math.ceil(len(self.train) / self.batch)
        total = epochs * steps
        opts = (shared, bank_opt)
        bases = [[g["lr"] for g in o.param_groups] for o in opts]
        C = len(model.candidates)
        per_example = self.ctx.settings["sample"] == "example"
        model.train()
        done, run, count = 0, torch.zeros(()), 0
        for epoch in range(1, epochs + 1):
            g_data = generator(seed, 300 + si, cycle, epoch, 0)
            g_cand = generator(seed, 300 + si, cycle, epoch, 1)
            run, count = torch.zeros((), device=self.ctx.device), 0
            for batch in self.train.batches(self.batch, True, g_data):
                n = len(batch["label"])
                draw = torch.randint(C, (n,) if per_example else (1,), generator=g_cand)
                cand = draw.expand(n).to(self.ctx.device)
                for o, base in zip(opts, bases):
                    set_cosine_lr(o, base, done, total)
                loss = self.loss(model(batch["fields"], cand), batch["label"])
                for o in opts:
                    o.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip:
                    nn.utils.clip_grad_norm_(model.parameters(), self.clip)
                for o in opts:
                    o.step()
                done += 1
                run = run + loss.detach()
                count += 1
        return float(run) / max(count, 1)

    @torch.no_grad()
    def rank_interactions(self, model) -> list[tuple[tuple[int, ...], dict]]:
        """Every candidate scored on the validation subset with the inherited weights; best
        first (ties by (order, fields))."""
        model.eval()
        ids, label = self.subset.columns["fields"], self.subset.columns["label"]
        probs = [torch.sigmoid(model(ids, i)) for i in range(len(model.candidates))]
        out = list(zip(model.candidates, ctr_score_list(label, probs)))
        model.train()
        out.sort(key=lambda r: (self.key(r[1]), len(r[0]), r[0]))
        return out

    # ---- checkpoints
    def checkpoint(self, done_stage: int, partial: dict | None = None) -> None:
        """``done_stage``: stages 0..done_stage-1 are finished; ``partial``: a running step 2."""
        self.saved.save({
            "done": done_stage if partial is None else partial["stage"],
            "history": self.history, "assignment": jsonable(self.assignment),
            "net": self.net.state_dict(), "rankings": self.rankings, "partial": partial,
        })

    def restore(self) -> tuple[int, dict | None]:
        state = self.saved.load(map_location=self.ctx.device)
        if state is None:
            return 0, None
        self.net.load_state_dict(state["net"])
        self.assignment = from_json(state["assignment"])
        if self.assignment:
            self.net.fix(self.assignment)
        self.history, self.rankings = state["history"], state["rankings"]
        return state["done"], state["partial"]

    # ---- the whole search
    def run(self) -> dict:
        start, partial = self.restore() if self.ctx.resume else (0, None)
        for si, stage in enumerate(self.stages):
            if si < start:
                continue
            self.say(f"stage {si + 1}/{len(self.stages)}: {stage.name} ({stage.construct}, "
                     f"{len(stage.labels)} labels, {stage.epochs} epoch(s))")
            started = time.perf_counter()
            if stage.construct == "interactions":
                value, info = self.interactions_stage(
                    si, stage, partial if partial and partial["stage"] == si else None)
            else:
                value, info = self.supernet_stage(si, stage)
            partial = None
            self.assignment.update(value)
            self.net.fix(value)
            self.history.append({"stage": stage.name, "construct": stage.construct,
                                 "epochs": stage.epochs,
                                 "seconds": round(time.perf_counter() - started, 1),
                                 "fixed_mlp": list(stage.fixed_mlp) if stage.fixed_mlp else None,
                                 **info})
            self.say(f"stage {stage.name} fixed: {json.dumps(jsonable(value))}")
            self.checkpoint(si + 1)
        self.derive()
        return dict(self.assignment)

    def derive(self) -> None:
        """Record the search; with ``finetune inherit`` write RUN/inherited.pt."""
        ctx = self.ctx
        record = {"strategy": "oneshot_random", "finetune": ctx.settings["finetune"],
                  "monitor": self.monitor, "stages": self.history}
        if self.retrieval is not None:  # what ranked the children; arch.nas retrains with its own
            record["supernet_objective"] = ctx.settings["supernet_objective"]
            record["retrain_objective"] = ctx.program.train["objective"]
        for row in self.history:
            if row["construct"] == "interactions":
                record[f"{row['stage']}_found"] = row["found"]
        trained = any(st.construct != "interactions" for st in self.stages)
        if ctx.settings["finetune"] == "inherit" and not trained:
            record["finetune"] = "scratch"
            record["finetune_why"] = ("every stage was an interactions stage, which trains its "
                                      "own one-shot model: the supernet has no trained weights")
            self.say(f"no inherited weights: {record['finetune_why']}; the retrain starts "
                     "from scratch")
            ctx.run.file("inherited.pt").unlink(missing_ok=True)  # an earlier run's, if any
        elif ctx.settings["finetune"] == "inherit":
            model = inherited_model(ctx, self.net, self.assignment)
            scores = (self.retrieval.evaluate(model, "valid") if self.retrieval is not None
                      else evaluate(model, self.valid))
            ctx.run.save_checkpoint("inherited.pt", model.state_dict())
            record["inherited"] = "inherited.pt"
            record[f"inherited_valid_{self.monitor}"] = round(scores[self.monitor], 6)
        ctx.record.update(record)


def set_cosine_lr(opt, base: list[float], step: int, total: int) -> None:
    """One cosine schedule over the stage (AMEIR §3: a single cosine decay for one-shot training)."""
    factor = cosine_factor(step, total)
    for group, lr in zip(opt.param_groups, base):
        group["lr"] = lr * factor


def inherited_model(ctx: SearchContext, net: nn.Module, assignment: dict) -> nn.Module:
    """The fixed model of ``assignment`` with the supernet's weights (AMEIR §2.3 Derivation)."""
    from nasc.compiler.fix import fix_spec
    from nasc.compiler.frontend import compile_text
    from nasc.compiler.printer import print_spec
    from nasc.runtime.model import build_fixed, load_from_supernet

    net.fix(assignment)
    fixed = fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)
    _, program = compile_text(print_spec(fixed), f"{ctx.spec_path}#derived")
    torch.manual_seed(ctx.seed)
    model = build_fixed(program, ctx.dataset.schema).to(ctx.device)
    load_from_supernet(model, net)
    return model


def search(ctx: SearchContext) -> dict:
    return OneShot(ctx).run()
