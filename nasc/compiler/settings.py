"""What each block accepts: one declarative table per construct, strategy and the train block.

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


def _table(*sigs: SettingSig) -> dict[str, SettingSig]:
    return {s.key: s for s in sigs}


_BLOCK_OVERRIDE = _table(
    SettingSig("norm", "opchoice", role="seq_norm"),
    SettingSig("layer", "opchoice", role="layer"),
    SettingSig("act", "opchoice", role="act"),
    SettingSig("dropout", "float", min=0.0, max=0.99),
)
_LAYER_OVERRIDE = _table(
    SettingSig("width", "numbers", min=0.0),
    SettingSig("act", "opchoice", role="act"),
)

CONSTRUCTS: dict[str, dict[str, SettingSig]] = {
    "cell": _table(
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
    "blocks": _table(
        SettingSig("depth", "int", required=True, min=1, max=64, doc="number of residual blocks"),
        SettingSig("norm", "opchoice", default="none", role="seq_norm"),
        SettingSig("layer", "opchoice", required=True, role="layer"),
        SettingSig("act", "opchoice", default="identity", role="act"),
        SettingSig("dropout", "float", default=0.0, min=0.0, max=0.99),
        SettingSig("block", "int", nested=_BLOCK_OVERRIDE, doc="`block N { ... }` fixes block N"),
    ),
    "interactions": _table(
        SettingSig("cycles", "int", default=4, min=1, max=10,
                   doc="evolution cycles; each raises the order by one"),
        SettingSig("survivors", "int", default=50, min=1, max=100000,
                   doc="interactions kept after each cycle"),
        SettingSig("keep", "int", min=1, max=10000, doc="M: interactions kept in the end"),
        SettingSig("order", "int", min=2, max=11, doc="highest order allowed (default cycles + 1)"),
        SettingSig("tuples", "products", doc="the chosen interactions, e.g. { user * item }"),
    ),
    "mlp": _table(
        SettingSig("layers", "int", required=True, min=0, max=32, doc="number of hidden layers"),
        SettingSig("width", "numbers", min=0.0,
                   doc="hidden width: an integer, a fraction of the input width, or a set of them"),
        SettingSig("monotone", "flag", default=False, doc="widths never increase layer to layer"),
        SettingSig("act", "opchoice", default="relu", role="act"),
        SettingSig("dropout", "float", default=0.0, min=0.0, max=0.99),
        SettingSig("batch_norm", "flag", default=False),
        SettingSig("shortcut", "call", choices=("se",),
                   doc="se(inputs..., expansion=1.0): AMEIR's SE shortcut (eq. 5)"),
        SettingSig("layer", "int", nested=_LAYER_OVERRIDE, doc="`layer N { ... }` fixes layer N"),
    ),
    "head": _table(
        SettingSig("items", "name", doc="next_item: the sequence embedding whose table scores items"),
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

_STAGE = _table(
    SettingSig("epochs", "int", min=1, max=10000),
    SettingSig("children", "int", min=1, max=10 ** 6),
    SettingSig("top", "int", min=1, max=10000),
    SettingSig("fixed_mlp", "int_list", min=1, doc="widths of the fixed MLP used while this stage runs"),
)

_COMMON = (
    SettingSig("epochs", "int", default=10, min=1, max=10000),
    SettingSig("batch", "int", default=4096, min=1, max=10 ** 7),
    SettingSig("seed", "int", default=2021, min=0),
    SettingSig("threads", "int", min=1, max=1024,
               doc="CPU threads while searching (default: the thread policy; --threads wins)"),
)

STRATEGIES: dict[str, dict[str, SettingSig]] = {
    "darts": _table(
        *_COMMON,
        SettingSig("order", "int", default=1, min=1, max=2, doc="1: first-order (xi = 0)"),
        SettingSig("temperature", "enum", default="log", choices=("log", "none"),
                   doc="log: tau = (1 + log T) / (1 + log t) (AutoPI eq. 9)"),
        SettingSig("noisy_skip", "float", default=0.03, min=0.0, max=10.0,
                   doc="lambda: skip adds N(0, lambda std(X)) while searching"),
        SettingSig("arch_split", "float", default=0.5, min=0.01, max=0.99,
                   doc="share of the training set that trains alpha and beta"),
        SettingSig("weights", "optimizer",
                   default=("sgd", {"lr": 0.025, "momentum": 0.9, "weight_decay": 3e-4}),
                   doc="optimizer of the operator weights (PC-DARTS: momentum SGD)"),
        SettingSig("arch", "optimizer",
                   default=("adam", {"lr": 6e-4, "betas": (0.5, 0.999), "weight_decay": 1e-3}),
                   doc="optimizer of alpha and beta (PC-DARTS: Adam)"),
        SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc")),
    ),
    "random": _table(
        *_COMMON,
        SettingSig("children", "int", default=20, min=1, max=10 ** 6),
        SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc")),
    ),
    "oneshot_random": _table(
        *_COMMON,
        SettingSig("children", "int", default=2000, min=1, max=10 ** 6,
                   doc="children ranked on the validation subset"),
        SettingSig("top", "int", default=5, min=1, max=10000, doc="children evaluated in full"),
        SettingSig("valid_subset", "int", default=20000, min=1,
                   doc="validation rows used for ranking"),
        SettingSig("finetune", "enum", default="inherit", choices=("inherit", "scratch"),
                   doc="the derived model starts from the one-shot weights or from scratch"),
        SettingSig("stage", "name", nested=_STAGE, doc="`stage NAME { ... }` per progressive step"),
        SettingSig("monitor", "enum", default="auc", choices=("logloss", "auc")),
        SettingSig("sample", "enum", default="step", choices=("step", "example"),
                   doc="interactions: one candidate per training step (AMEIR) or per example"),
    ),
    # Recognised so that specs can name them; nasc search reports them as not yet implemented.
    **{name: _table(*_COMMON) for name in ("evolution", "rl", "enas", "snas")},
}
IMPLEMENTED_STRATEGIES = ("darts", "random", "oneshot_random")

# Early-stopping monitors of the train block, per head. Next-item names spell HR@k / NDCG@k
# without the `@`, which is not part of a name.
CTR_MONITORS = ("auc", "logloss")
NEXT_ITEM_MONITORS = ("ndcg5", "hr5", "hr1")

TRAIN: dict[str, SettingSig] = _table(
    SettingSig("optimizer", "optimizer", default=("adam", {"lr": 1e-3})),
    SettingSig("batch", "int", default=4096, min=1, max=10 ** 7),
    SettingSig("epochs", "int", default=100, min=1, max=100000),
    SettingSig("monitor", "enum", default="auc", choices=CTR_MONITORS + NEXT_ITEM_MONITORS,
               doc="validation metric for early stopping"),
    SettingSig("patience", "int", default=2, min=0, max=1000, doc="early stopping"),
    SettingSig("min_delta", "float", default=0.0, min=0.0, max=1.0,
               doc="an epoch improves only if the monitor beats the best by more than this"),
    SettingSig("schedule", "enum", default="plateau", choices=("plateau", "cosine"),
               doc="plateau: lr x lr_decay after a bad epoch; cosine: annealed to 0 over `epochs`"),
    SettingSig("lr_decay", "float", default=0.1, min=0.0, max=1.0,
               doc="learning rate x this after an epoch without improvement"),
    SettingSig("warmup", "int", default=0, min=0, max=100000,
               doc="epochs of linear warm-up before the cosine schedule"),
    SettingSig("embedding_l2", "float", default=0.0, min=0.0, max=100.0),
    SettingSig("net_l2", "float", default=0.0, min=0.0, max=100.0),
    SettingSig("clip_grad", "float", default=10.0, min=0.0, max=1e6),
    SettingSig("seed", "int", default=2021, min=0),
    SettingSig("threads", "int", min=1, max=1024,
               doc="CPU threads while training (default: the thread policy; --threads wins)"),
)

# Settings that may appear more than once (everything else is reported as a duplicate).
REPEATABLE = {"block", "layer", "stage"}
