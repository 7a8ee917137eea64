"""What each block accepts: one declarative table per construct and the train block (each
strategy's settings are in its row of nasc.compiler.strategies).

The checks validate every setting against these tables (unknown keys with "did you mean", value
types, ranges, required keys); the typed views in ``views.py`` read defaults from them; the
language reference in docs/ lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ValueType = Literal[
    "int", "float", "bool", "flag", "enum", "op", "opchoice", "optimizer", "call",
    "numbers", "int_list", "float_list", "products", "name",
]


@dataclass(frozen=True)
class SettingSig:
    key: str
    type: ValueType
    default: object = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    role: str | None = None                      # operator role for op / opchoice
    nested: dict[str, SettingSig] | None = None  # `key N { ... }` overrides
    doc: str = ""
    value_doc: str = ""    # the docs' value column, where the type alone says too little
    default_doc: str = ""  # the docs' default column, where the default is not a plain value


def table(*sigs: SettingSig) -> dict[str, SettingSig]:
    return {s.key: s for s in sigs}


_BLOCK_OVERRIDE = table(
    SettingSig("norm", "opchoice", role="seq_norm"),
    SettingSig("layer", "opchoice", role="layer"),
    SettingSig("act", "opchoice", role="act"),
    SettingSig("dropout", "float", min=0.0, max=0.99),
)
_LAYER_OVERRIDE = table(
    SettingSig("width", "numbers", min=0.0),
    SettingSig("act", "opchoice", role="act"),
)

CONSTRUCTS: dict[str, dict[str, SettingSig]] = {
    "cell": table(
        SettingSig("nodes", "int", required=True, min=1, max=16,
                   doc="number of intermediate nodes N"),
        SettingSig("edges", "opchoice", role="edge",
                   doc="search every edge i -> j (i < j): each chooses one operator from this set"),
        SettingSig("keep", "int", default=2, min=1, max=8,
                   doc="discretisation keeps per node the top-k operators from distinct inputs"),
        SettingSig("norm", "op", default="none", role="matrix_norm",
                   doc="normalisation after every operator, e.g. batchnorm(affine=false)"),
        SettingSig("merge", "op", default="sum", role="merge",
                   doc="how the output node combines the intermediate nodes"),
    ),
    "blocks": table(
        SettingSig("depth", "int", required=True, min=1, max=64, doc="number of residual blocks"),
        SettingSig("norm", "opchoice", default="none", role="seq_norm", doc="`layer_norm`, `none`"),
        SettingSig("layer", "opchoice", required=True, role="layer",
                   doc="see the operators with role `layer`"),
        SettingSig("act", "opchoice", default="identity", role="act"),
        SettingSig("dropout", "float", default=0.0, min=0.0, max=0.99),
        SettingSig("block", "int", nested=_BLOCK_OVERRIDE, value_doc="`block N { ... }`",
                   doc="overrides `norm`, `layer`, `act`, `dropout` for block N (1..depth)"),
    ),
    "interactions": table(
        SettingSig("cycles", "int", default=4, min=1, max=10,
                   doc="evolution cycles; each raises the order by one"),
        SettingSig("survivors", "int", default=50, min=1, max=100000,
                   doc="interactions kept after each cycle"),
        SettingSig("keep", "int", min=1, max=10000,
                   doc="M: interactions kept in the end (required unless `tuples` is given)"),
        SettingSig("order", "int", min=2, max=11, default_doc="cycles + 1",
                   doc="highest order allowed (at most cycles + 1)"),
        SettingSig("tuples", "products",
                   doc="the chosen interactions, e.g. `{ user * item }`: no choice left"),
    ),
    "mlp": table(
        SettingSig("layers", "int", required=True, min=0, max=32, doc="number of hidden layers"),
        SettingSig("width", "numbers", min=0.0,
                   default_doc="— (required when layers > 0, unless every layer sets it)",
                   doc="an integer (`400`), a fraction of the input width in (0, 1] (`0.5`), or a "
                       "set of them (`{ 0.1, 0.2 }`)"),
        SettingSig("monotone", "flag", default=False, doc="widths never increase from layer to layer"),
        SettingSig("act", "opchoice", default="relu", role="act",
                   doc="one activation, a set or an opset"),
        SettingSig("dropout", "float", default=0.0, min=0.0, max=0.99),
        SettingSig("batch_norm", "flag", default=False),
        SettingSig("shortcut", "call", choices=("se",), value_doc="`se(matrices..., expansion=1.0)`",
                   doc="AMEIR's SE shortcut (eq. 5) over field matrices"),
        SettingSig("layer", "int", nested=_LAYER_OVERRIDE, value_doc="`layer N { width ...; act ... }`",
                   doc="overrides the width and/or activation of layer N (1..layers)"),
    ),
    "head": table(
        SettingSig("items", "name", doc="next_item: the sequence embedding whose table scores items"),
        SettingSig("projection", "enum", default="linear", choices=("linear", "none"),
                   doc="next_item: `linear` scores item i by e_i^T W h with a learned W (AMEIR eq. "
                       "7); `none` by e_i^T h, the user vector itself in the item embedding space "
                       "(SASRec, S3-Rec, BERT4Rec; h must be as wide as one item embedding)"),
    ),
}

HEAD_TASKS = ("ctr", "next_item")
INPUT_TYPES = {
    "categorical": {},
    "sequence": {"max_len": ("int", 50, 1, 10000)},
    "target": {},
    "dense": {},
}
INPUT_KINDS = {"categorical": "ids", "sequence": "seq_ids", "target": "target_ids",
               "dense": "vector"}

# Early-stopping monitors of the train block, per head. Next-item names spell HR@k / NDCG@k
# without the `@`, which is not part of a name; every cut-off in NEXT_ITEM_CUTOFFS is reported.
# NDCG@5 stays first: it is the default of a next-item head, as before @10 existed.
CTR_MONITORS = ("auc", "logloss")
NEXT_ITEM_CUTOFFS = (1, 5, 10, 20)
NEXT_ITEM_MONITORS = ("ndcg5", "hr5", "hr1", "ndcg10", "hr10", "ndcg20", "hr20")

# How a next-item model trains (nasc.runtime.retrieval / nasc.runtime.seq2seq).
NEXT_ITEM_OBJECTIVES = ("last_state", "seq2seq", "cloze")

# Whether training steps run through torch.compile (nasc.runtime.compiling); train blocks and
# the differentiable strategies' search blocks share it.
COMPILE = SettingSig(
    "compile", "enum", default="auto", choices=("auto", "on", "off", "graphs"),
    doc="each training step's loss through `torch.compile`: `auto` on an accelerator only (on "
        "a CPU, minutes of compilation bought at most a 1.06x faster AutoPI step; "
        "benchmarks/results/search_speed.md), `on`, `off`, or `graphs`: `on`, and on CUDA each "
        "compiled step replays as one CUDA graph (the ragged last batch records its own); the "
        "seconds it took, and any step CUDA graphs skipped, are in the run's summary")

TRAIN: dict[str, SettingSig] = table(
    SettingSig("optimizer", "optimizer", default=("adam", {"lr": 1e-3}),
               value_doc="`sgd` \\| `adam` \\| `adagrad` \\| `rmsprop` (with parameters)"),
    SettingSig("batch", "int", default=4096, min=1, max=10 ** 7),
    SettingSig("epochs", "int", default=100, min=1, max=100000),
    SettingSig("monitor", "enum", default="auc", choices=CTR_MONITORS + NEXT_ITEM_MONITORS,
               value_doc="`auc` \\| `logloss` (`head ctr`); `ndcg5` \\| `hr5` \\| `hr1` \\| "
                         "`ndcg10` \\| `hr10` \\| `ndcg20` \\| `hr20` (`head next_item`)",
               default_doc="`auc`; `ndcg5` for `head next_item`",
               doc="validation metric for early stopping and the best checkpoint"),
    SettingSig("patience", "int", default=2, min=0, max=1000,
               doc="stop after more than this many epochs without improvement"),
    SettingSig("min_delta", "float", default=0.0, min=0.0, max=1.0,
               doc="an epoch improves only if the monitor beats the best by more than this; a "
                   "smaller gain counts as a bad epoch (decays the rate, counts toward `patience`)"),
    SettingSig("schedule", "enum", default="plateau", choices=("plateau", "cosine"),
               doc="`plateau`: learning rate × `lr_decay` after an epoch without improvement "
                   "(BARS); `cosine`: annealed per step from the optimizer's rate to 0 at the last "
                   "of `epochs` (early stopping still applies)"),
    SettingSig("lr_decay", "float", default=0.1, min=0.0, max=1.0, doc="`schedule plateau` only"),
    SettingSig("warmup", "int", default=0, min=0, max=100000,
               doc="`schedule cosine` only: epochs of linear warm-up from 0 before the cosine"),
    SettingSig("embedding_l2", "float", default=0.0, min=0.0, max=100.0),
    SettingSig("net_l2", "float", default=0.0, min=0.0, max=100.0),
    SettingSig("clip_grad", "float", default=10.0, min=0.0, max=1e6, doc="gradient-norm clipping"),
    SettingSig("init_bias", "enum", default="prior", choices=("prior", "zero"),
               doc="`head ctr`: where the logit's bias starts when a model or supernet trains "
                   "from scratch. `prior`: the log-odds of the training labels' positive rate, so "
                   "the first steps learn features instead of the base rate (which large "
                   "uncentred inputs, e.g. a sum-pooled history, otherwise absorb, stalling the "
                   "model below AUC 0.5); `zero`: FuxiCTR's start, nasc's before 2026-12-06"),
    SettingSig("objective", "enum", default="last_state", choices=NEXT_ITEM_OBJECTIVES,
               doc="`head next_item` only. `last_state`: the head's user vector scores the next "
                   "item at each of a user's last `--train-positions` positions, one row each "
                   "(AMEIR); `seq2seq`: the causal sequence before `last` scores the next item at "
                   "every position, one sampled negative each (SASRec; needs "
                   "`head next_item(last(S))` with S causal; in a search S must be causal at "
                   "every point, the supernet trains and ranks with `last_state` and the found "
                   "arch.nas retrains with seq2seq); `cloze`: a share `mask_prob` of "
                   "each training sequence is replaced by a mask item and predicted over the "
                   "whole catalogue, and evaluation appends the mask to the history (BERT4Rec; "
                   "needs `head next_item(last(S))`, S may look both ways)"),
    SettingSig("mask_prob", "float", default=0.2, min=0.01, max=1.0,
               doc="`objective cloze` only: the chance that each training item is masked "
                   "(BERT4Rec's rho; at least one item of every sequence is)"),
    SettingSig("eval_negatives", "int", default=100, min=1, max=10 ** 6, choices=("full",),
               value_doc="int 1..10^6 \\| `full`",
               doc="`head next_item` only: rank each held-out item against N sampled unseen "
                   "items, or `full` (every unseen item); `--eval-negatives` wins"),
    SettingSig("eval_sampling", "enum", default="uniform", choices=("uniform", "popularity"),
               doc="`head next_item` only: the `eval_negatives` are drawn uniformly (SASRec, "
                   "S3-Rec) or in proportion to each item's interactions in the log "
                   "(BERT4Rec's protocol); either way never an item of the user's"),
    SettingSig("seed", "int", default=2021, min=0),
    SettingSig("threads", "int", min=1, max=1024, default_doc="the thread policy",
               doc="CPU threads while training; `--threads` wins (README, \"Threads\")"),
    COMPILE,
)

# Settings that may appear more than once (everything else is reported as a duplicate).
REPEATABLE = {"block", "layer", "stage"}
