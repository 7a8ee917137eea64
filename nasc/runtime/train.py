"""Training and evaluation: a plain PyTorch loop (no training framework), shared by CTR models
and next-item retrieval models (whose objective lives in ``nasc.runtime.retrieval``).

FuxiCTR/BARS conventions: monitor validation AUC (or logloss), multiply the learning rate by
``lr_decay`` after an epoch without improvement (or anneal it per step on a cosine, ``schedule
cosine``), stop after ``patience`` such epochs, reload the best checkpoint, evaluate on test.
L2 on the embedding tables and on the dense weights is added to the loss as
(lambda / 2) * ||W||^2, as FuxiCTR does. Whole splits live on the device; batches are
index slices (no per-sample Python).
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from nasc.compiler.program import OpUse
from nasc.compiler.settings import TRAIN
from nasc.runtime import metrics
from nasc.runtime.base_rate import start_at_base_rate
from nasc.runtime.compiling import CompileClock, training_loss
from nasc.runtime.progress import Progress
from nasc.runtime.rundir import RunDir
from nasc.runtime.split_norms import predict_with_split_norms

# Training batches whose statistics refresh the batch-norm averages after each epoch.
PRECISE_BN_BATCHES = 16


def _setting(key: str):
    """A train-block field whose default is the one in nasc.compiler.settings.TRAIN."""
    sig = TRAIN[key]
    if sig.type == "optimizer":
        name, params = sig.default
        return field(default_factory=lambda: OpUse(name, tuple(params.items())))
    return field(default=sig.default)


@dataclass
class TrainConfig:
    """How a model trains. The first group are the train block's settings, one field per key of
    nasc.compiler.settings.TRAIN, with its defaults (checked at import); the rest come from the
    command line."""
    optimizer: OpUse = _setting("optimizer")
    batch: int = _setting("batch")
    epochs: int = _setting("epochs")
    monitor: str = _setting("monitor")
    patience: int = _setting("patience")
    min_delta: float = _setting("min_delta")
    schedule: str = _setting("schedule")
    lr_decay: float = _setting("lr_decay")
    warmup: int = _setting("warmup")
    embedding_l2: float = _setting("embedding_l2")
    net_l2: float = _setting("net_l2")
    clip_grad: float = _setting("clip_grad")
    init_bias: str = _setting("init_bias")
    objective: str = _setting("objective")              # next-item: last_state, seq2seq, cloze
    mask_prob: float = _setting("mask_prob")            # next-item, objective cloze
    eval_negatives: int | str = _setting("eval_negatives")  # next-item: a count, or "full"
    eval_sampling: str = _setting("eval_sampling")      # next-item: uniform or popularity
    seed: int = _setting("seed")
    threads: int | None = _setting("threads")  # applied by the command (nasc.runtime.threads)
    compile: str = _setting("compile")  # nasc.runtime.compiling
    device: str = "cpu"
    # Next-item retrieval only (nasc.runtime.retrieval); not train-block settings.
    train_positions: int | str = 5      # training targets per user (the last k), or "all"
    negatives: int = 1                  # sampled negatives per training positive

    @classmethod
    def from_settings(cls, settings: dict, **overrides) -> "TrainConfig":
        """From a Program's train block (every TRAIN key) and the command's overrides (None:
        not given). A key no field reads is a bug, refused rather than dropped."""
        unread = sorted(set(settings) - set(TRAIN_FIELDS))
        if unread:
            raise ValueError(f"train settings nobody reads: {unread}")
        values = {k: v for k, v in settings.items() if v is not None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_json(self) -> dict:
        out = asdict(self)
        out["optimizer"] = self.optimizer.text()
        return out


TRAIN_FIELDS = tuple(TRAIN)
if set(TRAIN_FIELDS) - set(TrainConfig.__dataclass_fields__):  # a setting added without its field
    raise RuntimeError("TrainConfig lacks fields for train settings "
                       f"{sorted(set(TRAIN_FIELDS) - set(TrainConfig.__dataclass_fields__))}")


def make_optimizer(spec: OpUse, params) -> torch.optim.Optimizer:
    p = dict(spec.params)
    if spec.name == "adam":
        return torch.optim.Adam(params, lr=p.get("lr", 1e-3), betas=tuple(p.get("betas", (0.9, 0.999))),
                                weight_decay=p.get("weight_decay", 0.0), eps=p.get("eps", 1e-8))
    if spec.name == "sgd":
        return torch.optim.SGD(params, lr=p.get("lr", 0.01), momentum=p.get("momentum", 0.0),
                               weight_decay=p.get("weight_decay", 0.0),
                               nesterov=p.get("nesterov", False))
    if spec.name == "adagrad":
        return torch.optim.Adagrad(params, lr=p.get("lr", 1e-2), weight_decay=p.get("weight_decay", 0.0))
    if spec.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=p.get("lr", 1e-2), momentum=p.get("momentum", 0.0),
                                   weight_decay=p.get("weight_decay", 0.0))
    raise ValueError(f"unknown optimizer {spec.name}")


def cosine_factor(step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """The learning-rate factor at ``step``: linear warm-up from 0, then half a cosine from 1 to
    0 at ``total_steps`` (SGDR without restarts, Loshchilov & Hutter 2017)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                    warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """``cosine_factor`` applied per optimizer step."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: cosine_factor(step, total_steps, warmup_steps))


def split_parameters(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(embedding tables, dense weights): regularised apart, as FuxiCTR does."""
    tables = []
    for m in model.modules():
        if isinstance(m, nn.Embedding):
            tables.append(m.weight)
    ids = {id(p) for p in tables}
    return tables, [p for p in model.parameters() if id(p) not in ids and p.dim() > 1]


def regularization(model: nn.Module, emb_l2: float, net_l2: float) -> torch.Tensor | float:
    if not emb_l2 and not net_l2:
        return 0.0
    tables, dense = split_parameters(model)
    reg = 0.0
    if emb_l2:
        reg = reg + emb_l2 / 2 * sum((p ** 2).sum() for p in tables)
    if net_l2:
        reg = reg + net_l2 / 2 * sum((p ** 2).sum() for p in dense)
    return reg


SCORING_BATCH = 65536  # rows per forward when scoring a split


class ScoringMode:
    """Eval mode for scoring; with ``bn_batch_stats`` batch-norm normalises with each evaluation
    batch's own statistics instead of the running averages, which ``restore`` (and leaving the
    block) puts back as they were. Supernets need it: after a few hundred weight updates under a
    moving architecture, running averages of batch-norm without affine lag far behind (on the
    synthetic default, validation logloss 0.683 with them against 0.591 without)."""

    def __init__(self, model: nn.Module, bn_batch_stats: bool = False):
        self.model = model
        self.norms = [m for m in model.modules()
                      if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
                      ] if bn_batch_stats else []  # (one without running statistics always has)

    def __enter__(self) -> ScoringMode:
        self.was_training = self.model.training
        self.saved = [(m.running_mean.clone(), m.running_var.clone(),
                       m.num_batches_tracked.clone()) for m in self.norms]
        self.model.eval()
        for m in self.norms:
            m.train()
        return self

    def restore(self) -> None:
        """Put the running averages back (a batch-statistics forward has moved them)."""
        for m, (mean, var, count) in zip(self.norms, self.saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)

    def __exit__(self, *exc) -> None:
        self.restore()
        self.model.train(self.was_training)


@torch.no_grad()
def predict(model: nn.Module, table, batch_size: int = SCORING_BATCH,
            bn_batch_stats: bool = False) -> torch.Tensor:
    """Probabilities for a whole split, in order (``ScoringMode`` says what ``bn_batch_stats``
    does). A split longer than ``batch_size`` is scored in chunks; with ``bn_batch_stats`` its
    batch-norms still normalise with the whole split's statistics (``split_norms``), so the scores
    do not depend on ``batch_size``."""
    with ScoringMode(model, bn_batch_stats):
        if bn_batch_stats and len(table) > batch_size:
            return predict_with_split_norms(model, table, batch_size,
                                            lambda chunks: predict_batches(model, chunks))
        return predict_batches(model, table.batches(batch_size, shuffle=False))


def predict_batches(model: nn.Module, batches) -> torch.Tensor:
    """Probabilities of ``batches`` concatenated, with the model in the mode it is in."""
    out = [torch.sigmoid(model(b)).float() for b in batches]
    return torch.cat(out) if out else torch.zeros(0)


def running_norms(model: nn.Module) -> list[nn.Module]:
    """Modules that normalise with running averages at eval (BatchNorm, Dice)."""
    return [m for m in model.modules()
            if getattr(m, "running_mean", None) is not None and hasattr(m, "momentum")]


@torch.no_grad()
def refresh_running_stats(model: nn.Module, forward, batches) -> None:
    """Recompute the running averages of every batch-norm-like module as the exact mean over
    ``batches`` under the current weights ("precise BN", Wu & Johnson 2021). ``batches`` is an
    iterable, or a callable that makes one: it is only called when the model has such modules,
    so a model without them costs nothing (no batches drawn, no sampler advanced).

    With momentum 0.1, a model trained for a handful of steps per epoch (AutoPI's batch 4096 on a
    small dataset) is evaluated with averages still close to their initial 0/1, and its
    validation logloss is far worse than its training logloss. Batch k is folded in with
    momentum 1/k, so after K batches each average is the mean of K batch statistics."""
    norms = running_norms(model)
    if not norms:
        return
    if callable(batches):
        batches = batches()
    saved = [m.momentum for m in norms]
    was_training = model.training
    model.train()
    try:
        for k, batch in enumerate(batches, 1):
            for m in norms:
                m.momentum = 1.0 / k
            forward(batch)
    finally:
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
        model.train(was_training)


def evaluate(model: nn.Module, table, batch_size: int = SCORING_BATCH,
             bn_batch_stats: bool = False) -> dict[str, float]:
    prob = predict(model, table, batch_size, bn_batch_stats).cpu()
    label = table.columns["label"].cpu()
    return {"auc": metrics.auc(label, prob), "logloss": metrics.logloss(label, prob)}


def improved(monitor: str, value: float, best: float | None, min_delta: float = 0.0) -> bool:
    """Logloss improves downwards; every other monitored metric (AUC, NDCG@5, ...) upwards; by
    more than ``min_delta`` (a gain at most that small counts as a bad epoch, as in Keras)."""
    if best is None:
        return True
    return value < best - min_delta if monitor == "logloss" else value > best + min_delta


@dataclass
class TrainResult:
    best_epoch: int
    valid: dict
    test: dict
    epochs_run: int
    train_seconds: float
    samples_per_second: float
    history: list[dict]
    compile: dict  # nasc.runtime.compiling.CompileClock.record()


class CTRObjective:
    """What ``fit`` trains a CTR model on: BCE of each row's click label; validation AUC and
    logloss, the monitor chosen by the train block."""

    loss_name = "logloss"

    def __init__(self, dataset, config: TrainConfig, device: torch.device):
        self.config, self.monitor = config, config.monitor
        self.splits = {"train": dataset.train.to(device), "valid": dataset.valid.to(device),
                       "test": dataset.test.to(device)}
        self.loss_fn = nn.BCEWithLogitsLoss()

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.splits["train"]) / self.config.batch)

    def batches(self, shuffle: torch.Generator):
        return self.splits["train"].batches(self.config.batch, shuffle=True, generator=shuffle)

    def loss(self, model: nn.Module, batch: dict) -> tuple[torch.Tensor, int]:
        """(mean loss of the batch, the number of examples it averages)."""
        return self.loss_fn(model(batch), batch["label"]), len(batch["label"])

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        return evaluate(model, self.splits[split])


def train_model(model: nn.Module, dataset, config: TrainConfig, run: RunDir | None = None,
                show_progress: bool = True, score_initial: bool = False) -> TrainResult:
    """Train on a dataset with the objective of its task: CTR, or next-item retrieval
    (sampled BCE, ranking metrics; ``nasc.runtime.retrieval``, or ``nasc.runtime.seq2seq`` for
    ``objective seq2seq``). ``score_initial``: see ``fit``."""
    if dataset.schema.task == "next_item":
        from nasc.runtime.retrieval import next_item_objective as objective
    else:
        objective = CTRObjective
        if not score_initial:  # from scratch; given weights keep their bias
            start_at_base_rate(model, dataset.train.columns["label"], config.init_bias)
    return fit(model, lambda device: objective(dataset, config, device), config, run,
               show_progress, score_initial)


def fit(model: nn.Module, make_objective, config: TrainConfig, run: RunDir | None = None,
        show_progress: bool = True, score_initial: bool = False) -> TrainResult:
    """The epoch loop every task shares: train, score validation, keep the best state (by the
    objective's monitor), decay the learning rate after a bad epoch, stop after ``patience``
    of them, reload the best state and score validation and test with it.

    ``score_initial`` (fine-tuning given weights, e.g. a one-shot search's inherited ones): the
    weights as given are scored first, as epoch 0, and compete for best like any epoch, so
    fine-tuning never hands back a model worse on validation than the one it started from.
    Epoch 0 is not the plateau rule's reference, though: weights trained inside a supernet
    usually score a little lower after their first epoch alone, and counting that as a bad
    epoch cut the rate x0.1 before fine-tuning had begun. Bad epochs are counted against the
    best trained epoch."""
    device = torch.device(config.device)
    torch.manual_seed(config.seed)
    model.to(device)
    task = make_objective(device)
    optimizer = make_optimizer(config.optimizer, model.parameters())
    steps = task.steps_per_epoch()
    scheduler = cosine_schedule(optimizer, config.epochs * steps, config.warmup * steps) \
        if config.schedule == "cosine" else None
    shuffle = torch.Generator(device="cpu").manual_seed(config.seed)
    best, best_epoch, bad_epochs, history = None, 0, 0, []
    trained_best = None  # what the plateau rule compares with: the best trained epoch
    best_state = None
    seen, train_seconds = 0, 0.0
    progress = Progress(config.epochs, steps, enabled=show_progress, monitor=task.monitor)
    clock = CompileClock(config.compile, device)
    step_loss = training_loss(lambda batch: task.loss(model, batch), config.compile, device)

    def snapshot(epoch: int) -> dict:
        """The model's state as the best so far, also written to RUN/best.pt with the metrics
        rows up to its epoch: metrics.* are rewritten after it, and a kill between the two
        writes must not leave a best.pt whose epoch has no row (best.pt is the unit)."""
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if run is not None:
            run.save_checkpoint("best.pt", {"model": state, "epoch": epoch, "history": history})
        return state

    if score_initial:
        scores = task.evaluate(model, "valid")
        history.append({"epoch": 0, f"train_{task.loss_name}": None,
                        **{f"valid_{k}": v for k, v in scores.items()},
                        "lr": optimizer.param_groups[0]["lr"], "seconds": 0.0})
        best, best_state = scores[task.monitor], snapshot(0)
    for epoch in range(1, config.epochs + 1):
        model.train()
        start = time.perf_counter()
        total, count = torch.zeros((), device=device), 0  # summed on the device: no per-step sync
        for step, batch in enumerate(task.batches(shuffle), 1):
            # Gradients dropped before the forward: under `compile graphs` the last step's live
            # in the CUDA graphs' memory, which this step's replay writes over.
            optimizer.zero_grad(set_to_none=True)
            loss, n = step_loss(batch)
            objective = loss + regularization(model, config.embedding_l2, config.net_l2)
            objective.backward()
            if config.clip_grad:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.detach() * n
            count += n
            progress.step(epoch, step, lambda: float(total) / count)
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        train_seconds += elapsed
        seen += count
        refresh = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        refresh_running_stats(model, lambda batch: task.loss(model, batch),
                              lambda: itertools.islice(task.batches(refresh), PRECISE_BN_BATCHES))
        scores = task.evaluate(model, "valid")
        row = {"epoch": epoch, f"train_{task.loss_name}": float(total) / max(count, 1),
               **{f"valid_{k}": v for k, v in scores.items()},
               "lr": optimizer.param_groups[0]["lr"], "seconds": elapsed}
        history.append(row)
        progress.epoch_done(epoch, scores)
        value = scores[task.monitor]
        if improved(task.monitor, value, best, config.min_delta):
            best, best_epoch = value, epoch
            best_state = snapshot(epoch)
        if improved(task.monitor, value, trained_best, config.min_delta):
            trained_best, bad_epochs = value, 0
        else:
            bad_epochs += 1
            if scheduler is None:
                for group in optimizer.param_groups:
                    group["lr"] *= config.lr_decay
        if run is not None:
            run.write_metrics(history)
        if bad_epochs > config.patience:
            break
    model.load_state_dict(best_state)
    epochs_run = len(history) - score_initial  # epoch 0 trains nothing
    result = TrainResult(best_epoch, task.evaluate(model, "valid"), task.evaluate(model, "test"),
                         epochs_run, train_seconds, seen / max(train_seconds, 1e-9), history,
                         clock.record())
    progress.close()
    return result
