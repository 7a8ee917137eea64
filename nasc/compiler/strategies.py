"""The strategy table: one row per search strategy, and every list of strategies derives from it.

A row names the module that runs the strategy (under ``nasc.runtime.strategies``; None for a
strategy the language recognises but nasc does not run yet), the constructs whose choices it can
search, the head tasks it supports, and its settings. Adding a strategy is its module, its row
here and its test. No torch here: this is front-end code.
"""
from __future__ import annotations

from dataclasses import dataclass

from nasc.compiler.settings import COMPILE, SettingSig, table

# Constructs a choice can belong to (nasc.compiler.space.Choice.construct).
EVERY_CONSTRUCT = ("node", "cell", "blocks", "interactions", "mlp")

_COMMON = (
    SettingSig("epochs", "int", default=10, min=1, max=10000),
    SettingSig("batch", "int", default=4096, min=1, max=10 ** 7),
    SettingSig("seed", "int", default=2021, min=0),
    SettingSig("threads", "int", min=1, max=1024, default_doc="the thread policy",
               doc="CPU threads while searching (else the train block's); `--threads` wins"),
)

# The operator weights of the differentiable strategies (PC-DARTS: momentum SGD, cosine schedule).
_WEIGHTS = SettingSig("weights", "optimizer",
                      default=("sgd", {"lr": 0.025, "momentum": 0.9, "weight_decay": 3e-4}),
                      doc="optimizer of the operator weights (PC-DARTS: momentum SGD; cosine "
                          "schedule)")

# What a relaxed supernet keeps for backward (nasc.runtime.recompute).
_MEMORY = SettingSig("memory", "enum", default="keep", choices=("keep", "recompute", "lowest"),
                     doc="keep: every candidate's activations stay for backward; recompute: "
                         "each relaxed one-of keeps its inputs and runs again in backward (same "
                         "gradients, less memory, more time); lowest: recompute, and on the CPU "
                         "(glibc) every freed block goes back to the system at once, so the "
                         "resident peak is what a step holds (slower still)")
# PC-DARTS' partial channel connections (nasc.runtime.partial_channels).
_PARTIAL = SettingSig("partial_channels", "int", default=1, min=1, max=1024,
                      doc="PC-DARTS (Xu et al. 2020): each cell edge sends 1/K of its "
                          "embedding width through the candidate operators (built that narrow) "
                          "and lets the rest bypass them, then shuffles the channels: a faster "
                          "step that holds less (benchmarks/results/search_speed.md), and a "
                          "different method (the operators search on a slice, with fewer "
                          "weights). 1: off. K must divide every cell input's width")
# Which epoch's alpha/beta a differentiable strategy keeps.
_KEPT_EPOCH = SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc"),
                         doc="the epoch whose alpha and beta are kept: best validation logloss "
                             "(AutoPI) or AUC")

# The LSTM controller of `rl` and `enas` (App. C.4 after ENAS; nasc.runtime.strategies.controller).
_CONTROLLER = (
    SettingSig("controller_lr", "float", default=0.005, min=0.0, max=10.0,
               doc="Adam learning rate of the controller (ENAS' 3.5e-4 serves thousands of "
                   "updates; a search of tens of children needs a larger one)"),
    SettingSig("controller_batch", "int", default=5, min=1, max=10 ** 5,
               doc="sampled architectures per controller update"),
    SettingSig("ppo_epochs", "int", default=4, min=1, max=1000,
               doc="Adam steps of the clipped objective on each batch (PPO)"),
    SettingSig("ppo_clip", "float", default=0.2, min=0.0, max=10.0,
               doc="epsilon of PPO: the probability ratio is clipped to [1 - eps, 1 + eps]"),
    SettingSig("entropy_weight", "float", default=1e-4, min=0.0, max=100.0,
               doc="weight of the entropy bonus in the controller's loss (ENAS: 1e-4)"),
    SettingSig("baseline_decay", "float", default=0.9, min=0.0, max=1.0,
               doc="the baseline is this exponential moving average of the rewards"),
    SettingSig("temperature", "float", default=5.0, min=0.01, max=1000.0,
               doc="sampling logits = tanh_constant * tanh(logits / temperature)"),
    SettingSig("tanh_constant", "float", default=2.5, min=0.01, max=1000.0,
               doc="bound of the sampling logits (ENAS: 2.5)"),
)

# AMEIR App. C.4's form of the strategies that train children on a short budget
# (nasc.runtime.strategies.finalists).
_FINALISTS = (
    SettingSig("seconds", "float", min=0.0, default_doc="no limit",
               doc="start no new child once the children took this many seconds of training and "
                   "validation (App. C.4: ten times the one-shot search's cost)"),
    SettingSig("top", "int", default=1, min=1, max=10000,
               doc="the best `top` children are trained again from scratch with the train "
                   "block's own epochs and rules, and the best of them on validation is kept "
                   "(App. C.4: top 5); 1 keeps the best child as trained"),
)

_STAGE = table(
    SettingSig("epochs", "int", min=1, max=10000),
    SettingSig("children", "int", min=1, max=10 ** 6),
    SettingSig("top", "int", min=1, max=10000),
    SettingSig("fixed_mlp", "int_list", min=1, doc="widths of the fixed MLP used while this stage runs"),
)


@dataclass(frozen=True)
class Strategy:
    name: str
    module: str | None          # nasc.runtime.strategies.<module>; None: not implemented yet
    searches: tuple[str, ...]   # the constructs whose choices it can search
    heads: tuple[str, ...]      # the head tasks it trains
    settings: dict[str, SettingSig]
    doc: str = ""
    # The setting that counts the children it draws before anything else: `nasc search --start`
    # trains the user's architectures as the first of them. None: the strategy has no such
    # children (a relaxed supernet, a controller, one-shot weights) and refuses --start.
    starts: str | None = None

    @property
    def implemented(self) -> bool:
        return self.module is not None


ROWS: tuple[Strategy, ...] = (
    Strategy(
        "darts", "darts", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            SettingSig("order", "int", default=1, min=1, max=2, doc="1: first-order (xi = 0)"),
            SettingSig("temperature", "enum", default="log", choices=("log", "none"),
                       doc="log: tau = (1 + log T) / (1 + log t) (AutoPI eq. 9)"),
            SettingSig("noisy_skip", "float", default=0.03, min=0.0, max=10.0,
                       doc="lambda: skip adds N(0, lambda std(X)) while searching"),
            SettingSig("arch_split", "float", default=0.5, min=0.01, max=0.99,
                       doc="share of the training set that trains alpha and beta"),
            _WEIGHTS,
            SettingSig("arch", "optimizer",
                       default=("adam", {"lr": 6e-4, "betas": (0.5, 0.999), "weight_decay": 1e-3}),
                       doc="optimizer of alpha and beta (PC-DARTS: Adam)"),
            _KEPT_EPOCH,
            _MEMORY,
            _PARTIAL,
            COMPILE,
        ),
        doc="differentiable search over cell edges, node-level choices (AutoPI), interaction "
            "sets (each kept product a slot mixing every candidate, as AutoFIS gates pairs) and "
            "MLP widths and activations (widths as a mixture of masks of the widest layer, "
            "FBNetV2) and behaviour blocks (each block's norm, layer and activation a mixed op). "
            "Each epoch scores validation with batch-norm on the whole split's statistics, in "
            "chunks when the split is longer than one scoring batch (the same scores as one batch)."),
    Strategy(
        "random", "random_search", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            SettingSig("children", "int", default=20, min=1, max=10 ** 6),
            SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc")),
            *_FINALISTS,
        ),
        doc="trains `children` random architectures from scratch, each for `epochs`, and keeps "
            "the best by `monitor` (AutoPI-R); with `seconds` and `top 5`, AMEIR App. C.4's "
            "Random (a time budget, the top 5 trained again in full).",
        starts="children"),
    Strategy(
        "halving", "halving", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            SettingSig("children", "int", default=27, min=1, max=10 ** 6,
                       doc="architectures drawn (distinct) for the first rung"),
            SettingSig("eta", "int", default=3, min=2, max=100,
                       doc="each rung keeps the best 1/eta and trains them eta times longer"),
            SettingSig("min_epochs", "int", default=1, min=1, max=10000,
                       doc="epochs of the first rung; `epochs` bounds the last"),
            SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc")),
        ),
        doc="successive halving (Jamieson & Talwalkar 2016, Hyperband's inner loop): `children` "
            "random architectures trained for `min_epochs`, the best 1/`eta` retrained from "
            "scratch `eta` times longer, rung after rung up to `epochs`; the best of the last "
            "rung is kept.",
        starts="children"),
    Strategy(
        "oneshot_random", "oneshot", EVERY_CONSTRUCT, ("ctr", "next_item"), table(
            *_COMMON,
            SettingSig("children", "int", default=2000, min=1, max=10 ** 6,
                       doc="children ranked on the validation subset"),
            SettingSig("top", "int", default=5, min=1, max=10000, doc="children evaluated in full"),
            SettingSig("finalist_epochs", "int", default=0, min=0, max=10000,
                       doc="0: the last stage keeps the best of its `top` children on the full "
                           "validation split with the one-shot weights (AMEIR). N > 0: each of "
                           "them is fine-tuned from the one-shot weights for at most N epochs "
                           "with the train block's recipe (its objective, optimizer, batch, "
                           "early stopping), and the best on validation after it is kept: "
                           "finalists judged as the answer will be trained, for when the "
                           "one-shot scores of the top children are too close to tell apart. "
                           "Costs `top` x N child epochs (a last stage over `interactions` is ranked by Step 2's "
                           "own rule and is not fine-tuned)"),
            SettingSig("valid_subset", "int", default=20000, min=1,
                       doc="validation rows used for ranking"),
            SettingSig("finetune", "enum", default="inherit", choices=("inherit", "scratch"),
                       doc="the derived model starts from the one-shot weights or from scratch; "
                           "inherited weights are scored as epoch 0 and compete for the best "
                           "checkpoint, so a fine-tune that only hurts validation returns them "
                           "unchanged. A search whose only stages are `interactions` stages has "
                           "nothing to inherit (Step 2 trains its own one-shot model) and records "
                           "`finetune scratch`"),
            SettingSig("stage", "name", nested=_STAGE, value_doc="`stage NAME { ... }`, repeatable",
                       doc="one progressive step. NAME must be a construct or node that holds a "
                           "choice. Inside: `epochs`, `children`, `top`, `fixed_mlp [widths]` (the "
                           "fixed MLP used while this stage runs)"),
            SettingSig("monitor", "enum", default="auc", choices=("logloss", "auc")),
            SettingSig("steps", "enum", default="progressive", choices=("progressive", "together"),
                       doc="`progressive`: one stage per construct, each fixed before the next "
                           "(AMEIR); `together`: one stage over every choice at once, an "
                           "interaction set drawn like any choice (Table 4's one-shot random "
                           "search); `stage` blocks are then not allowed"),
            SettingSig("sample", "enum", default="step", choices=("step", "example"),
                       doc="interactions stage: one candidate per training step (the paper) or one "
                           "per example"),
            SettingSig("supernet_objective", "enum", default="last_state",
                       choices=("last_state", "seq2seq"),
                       doc="next-item data: the supernet trains on each row's last state (one "
                           "prediction per row) or sequence-to-sequence (every position, as "
                           "`objective seq2seq` trains a fixed model; every point of the space "
                           "must be causal). Children are ranked with the last state either way"),
        ),
        doc="one-shot random search with progressive stages (AMEIR). On a behaviour log with a "
            "`head next_item` model (AMEIR-A, `specs/ameir_seq.nas`) the one-shot training uses "
            "the sampled BCE of §5.5 and children are ranked by validation NDCG@5."),
    Strategy(
        "snas", "snas", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            SettingSig("tau_start", "float", default=1.0, min=0.01, max=100.0,
                       doc="Gumbel-softmax temperature of the first epoch"),
            SettingSig("tau_end", "float", default=0.33, min=0.01, max=100.0,
                       doc="temperature of the last epoch (linear in between)"),
            SettingSig("sample", "enum", default="soft", choices=("soft", "hard"),
                       doc="soft: every option mixed by the Gumbel-softmax sample (SNAS); hard: "
                           "its one-hot argmax forward with the soft gradient backward, only the "
                           "sampled option of each one-of computed (GDAS)"),
            _WEIGHTS,
            SettingSig("arch", "optimizer",
                       default=("adam", {"lr": 3e-4, "betas": (0.5, 0.999), "weight_decay": 1e-3}),
                       doc="optimizer of alpha and beta"),
            _KEPT_EPOCH,
            _MEMORY,
            _PARTIAL,
            COMPILE,
        ),
        doc="stochastic differentiable search (SNAS, Xie et al. 2019): each step samples every "
            "relaxed choice from a Gumbel-softmax of its logits and trains weights and logits "
            "together on the training split, the temperature annealed per epoch."),
    Strategy(
        "evolution", "evolution", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            SettingSig("population", "int", default=10, min=1, max=10 ** 5,
                       doc="children drawn uniformly to start; the population keeps this many, "
                           "the oldest leaving as each new child comes"),
            SettingSig("sample", "int", default=3, min=1, max=10 ** 5,
                       doc="members drawn each cycle; the best of them is the parent (1: a "
                           "uniformly random parent)"),
            SettingSig("cycles", "int", default=50, min=0, max=10 ** 6,
                       doc="at most this many mutated children"),
            SettingSig("patience", "int", default=5, min=1, max=10 ** 6,
                       doc="stop when the population's best has not changed for this many cycles "
                           "(a member stays `population` cycles, so only a patience below "
                           "`population` can end a search early)"),
            SettingSig("monitor", "enum", default="logloss", choices=("logloss", "auc")),
            *_FINALISTS,
        ),
        doc="regularized evolution (Real et al. 2019; AMEIR App. C.4): each cycle the best of "
            "`sample` members is mutated in one choice, trained from scratch for `epochs`, and "
            "replaces the oldest member; the best child of all is kept (`seconds`, `top`: "
            "App. C.4's time budget and further evaluation).",
        starts="population"),
    Strategy(
        "rl", "rl", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            *_CONTROLLER,
            SettingSig("children", "int", default=50, min=1, max=10 ** 6,
                       doc="architectures the controller samples; one sampled again is not "
                           "retrained (its earlier score is its reward)"),
            SettingSig("patience", "int", default=20, min=1, max=10 ** 6,
                       doc="stop when the best validation AUC has not grown for this many "
                           "children (App. C.4: the performance of consecutive models no "
                           "longer grows)"),
            *_FINALISTS,
        ),
        doc="reinforcement learning (Zoph & Le 2017; AMEIR App. C.4): an LSTM controller emits "
            "the space's choices, each child is trained from scratch for `epochs` and its "
            "validation AUC is the reward; the best child by validation AUC is kept (`seconds`, "
            "`top`: App. C.4's time budget and further evaluation)."),
    Strategy(
        "enas", "enas", EVERY_CONSTRUCT, ("ctr",), table(
            *_COMMON,
            *_CONTROLLER,
            SettingSig("controller_steps", "int", default=20, min=0, max=10 ** 6,
                       doc="controller updates after each epoch of shared-weight training"),
            SettingSig("valid_subset", "int", default=20000, min=1,
                       doc="validation rows that score a sampled path (the reward)"),
            SettingSig("children", "int", default=100, min=1, max=10 ** 6,
                       doc="paths sampled from the trained controller at the end, ranked on "
                           "the validation subset with the shared weights"),
            SettingSig("top", "int", default=5, min=1, max=10000,
                       doc="best-ranked children evaluated on the full validation split"),
            SettingSig("finetune", "enum", default="inherit", choices=("inherit", "scratch"),
                       doc="inherit: write the found child with the shared weights as "
                           "RUN/inherited.pt, which `--retrain` fine-tunes (as oneshot_random); "
                           "scratch: the retrain starts from scratch"),
        ),
        doc="ENAS (Pham et al. 2018): the RL controller samples paths of one weight-sharing "
            "supernet; each epoch trains the shared weights on sampled paths, then the "
            "controller on the validation-subset AUC of sampled paths; the best of `children` "
            "sampled paths is kept."),
)

STRATEGIES: dict[str, Strategy] = {row.name: row for row in ROWS}
IMPLEMENTED = tuple(row.name for row in ROWS if row.implemented)


def supporting(task: str) -> list[str]:
    """The implemented strategies that train a ``head task`` model."""
    return [row.name for row in ROWS if row.implemented and task in row.heads]


def searching(construct: str) -> list[str]:
    """The implemented strategies that can search a choice of ``construct``."""
    return [row.name for row in ROWS if row.implemented and construct in row.searches]
