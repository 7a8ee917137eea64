"""The registry of operator signatures: names, typed parameters with ranges, input/output kinds.

Implementations live in ``nasc.runtime.ops`` (same names); the front end only needs signatures,
so spec checks never import torch.

Kinds of values flowing between nodes:
  ids         the categorical fields of a sample              (B, m) indices
  seq_ids     a behavior sequence                             (B, T, n_a) indices
  target_ids  the target item's fields                        (B, n_t) indices
  matrix      a field matrix                                  (B, m, k)
  sequence    a sequence of vectors, with its mask            (B, T, d)
  vector      a flat vector                                   (B, d)
  logit       one score per sample                            (B,)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["ids", "seq_ids", "target_ids", "matrix", "sequence", "vector", "logit"]

KIND_WORDS: dict[str, str] = {
    "ids": "categorical fields",
    "seq_ids": "a behavior sequence input",
    "target_ids": "a target item input",
    "matrix": "a field matrix (B, m, k)",
    "sequence": "a sequence (B, T, d)",
    "vector": "a vector (B, d)",
    "logit": "a logit (B,)",
}

# Where an operator may appear: as a node expression, on a cell edge, as a block layer, ...
Role = Literal["node", "edge", "layer", "seq_norm", "matrix_norm", "act", "merge", "optimizer"]


@dataclass(frozen=True)
class ParamSig:
    name: str
    type: Literal["int", "float", "bool", "enum", "int_list", "float_list"]
    default: object
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class OpSig:
    name: str
    roles: frozenset[str]
    inputs: tuple[tuple[str, ...], ...] = ()  # accepted kinds per positional input
    output: str | None = None                   # None: same kind as the first input
    params: tuple[ParamSig, ...] = ()
    variadic: bool = False                      # the last input may repeat
    doc: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def param(self, name: str) -> ParamSig | None:
        return next((p for p in self.params if p.name == name), None)


def _op(name, roles, inputs=(), output=None, params=(), variadic=False, doc=""):
    return OpSig(name, frozenset(roles.split()), tuple(inputs), output, tuple(params), variadic, doc)


def _int(name, default, lo=None, hi=None, doc=""):
    return ParamSig(name, "int", default, lo, hi, doc=doc)


def _float(name, default, lo=None, hi=None, doc=""):
    return ParamSig(name, "float", default, lo, hi, doc=doc)


def _bool(name, default, doc=""):
    return ParamSig(name, "bool", default, doc=doc)


def _enum(name, default, choices, doc=""):
    return ParamSig(name, "enum", default, choices=tuple(choices), doc=doc)


M = ("matrix",)
S = ("sequence",)
V = ("vector",)
ANY_DENSE = ("matrix", "vector", "logit", "sequence")

_SIGNATURES: list[OpSig] = [
    # ---- AutoPI's interactive operators (§4.2.2): (B,m,k) -> (B,m,k), ReLU after all but skip
    _op("skip", "edge node", [M], doc="identity (noisy during DARTS search, AutoPI §4.4.2)"),
    _op("senet", "edge node", [M], params=[_int("reduction", 3, 1, 64)],
        doc="SENET layer: field weights a in R^m rescale the rows"),
    _op("self_attention", "edge node", [M], params=[_int("heads", 1, 1, 16)],
        doc="key-value self-attention across fields (AutoInt's interacting layer)"),
    _op("fm", "edge node", [M], doc="pairwise inner products, linearly mapped back to m x k"),
    _op("slp", "edge node", [M], doc="single-layer perceptron: flatten mk -> linear -> m x k"),
    _op("conv1d", "edge node", [M], doc="1-d convolution across fields: m kernels of m x 1 x 1"),
    _op("zero", "edge layer", [("matrix", "sequence")], doc="outputs zeros (drops an edge/block)"),
    # ---- AMEIR's behavior-block layers (§2.2): (B,T,d) -> (B,T,d)
    _op("conv", "layer", [S], params=[_int("kernel", 3, 1, 31)],
        doc="1-d convolution over time, stride 1, same padding"),
    _op("dilated_conv", "layer", [S], params=[_int("kernel", 3, 1, 31), _int("dilation", 2, 1, 16)],
        doc="dilated 1-d convolution over time, stride 1, same padding"),
    _op("avg_pool", "layer", [S], params=[_int("kernel", 3, 1, 31)],
        doc="average pooling over time, stride 1, same padding"),
    _op("max_pool", "layer", [S], params=[_int("kernel", 3, 1, 31)],
        doc="max pooling over time, stride 1, same padding"),
    _op("bigru", "layer", [S], doc="bidirectional GRU"),
    _op("bi_attention", "layer", [S], params=[_int("heads", 2, 1, 16)],
        doc="bidirectional multi-head self-attention"),
    _op("target_attention", "layer", [S],
        doc="attention from the target item to each position (DIN's local activation unit)"),
    _op("transformer", "layer node", [S],
        params=[_int("heads", 1, 1, 16), _float("dropout", 0.0, 0.0, 0.99), _bool("causal", True)],
        doc="a SASRec transformer block (causal self-attention and feed-forward)"),
    # ---- normalisations
    _op("layer_norm", "seq_norm", [S], doc="layer normalisation"),
    _op("none", "seq_norm matrix_norm", [("matrix", "sequence")], doc="no normalisation"),
    _op("batchnorm", "matrix_norm", [M], params=[_bool("affine", True)],
        doc="batch-norm per field; affine=false fixes scale 1 and shift 0 (AutoPI §4.3.3)"),
    # ---- activations
    *[_op(a, "act", [ANY_DENSE], doc=d) for a, d in [
        ("relu", "max(0, x)"), ("gelu", "Gaussian error linear unit"),
        ("swish", "x * sigmoid(x)"), ("identity", "x"), ("sigmoid", "1 / (1 + e^-x)"),
        ("tanh", "hyperbolic tangent"), ("dice", "DIN's data-adaptive activation")]],
    # ---- how a cell merges its intermediate nodes
    _op("sum", "merge", doc="sum of the intermediate nodes (m x k)"),
    _op("mean", "merge", doc="mean of the intermediate nodes (m x k)"),
    _op("concat", "merge node", [ANY_DENSE], output="vector", variadic=True,
        doc="concatenation (cells: of the intermediate nodes, as a vector)"),
    _op("conv1x1", "merge", doc="1x1 convolution over the stacked intermediate nodes (m x k)"),
    # ---- node operators (hand-crafted models' building blocks)
    _op("embed", "node", [("ids", "seq_ids", "target_ids")],
        params=[_int("dim", 10, 1, 4096), _float("init_std", 1e-4, 0.0, 10.0),
                _bool("positions", False)],
        doc="embedding lookup: one table with per-field offsets; positions=true adds a learned "
            "position embedding to a sequence (SASRec)"),
    _op("lr", "node", [("ids",)], output="logit", doc="logistic regression over the raw fields"),
    _op("fm_logit", "node", [M], output="logit", doc="FM's second-order term as a logit"),
    _op("bi_interaction", "node", [M], output="vector", doc="NFM's bi-interaction pooling (k)"),
    _op("inner_product", "node", [M], output="vector", doc="IPNN's pairwise inner products"),
    _op("outer_product", "node", [M], output="vector", doc="OPNN's kernel outer products"),
    _op("crossnet", "node", [V], params=[_int("layers", 3, 1, 16)], doc="DCN's cross network"),
    _op("cin", "node", [M], output="vector",
        params=[ParamSig("layers", "int_list", (200, 200, 200), 1, 4096),
                _bool("split_half", True)],
        doc="xDeepFM's compressed interaction network"),
    _op("log_transform", "node", [M], output="vector",
        params=[_int("neurons", 1500, 1, 100000)], doc="AFN's logarithmic transformation layer"),
    _op("bilinear", "node", [M],
        params=[_enum("type", "field_all", ("field_all", "field_each", "field_interaction"))],
        doc="FiBiNET's bilinear interaction (one row per field pair)"),
    _op("flatten", "node", [M], output="vector", doc="(B, m, k) -> (B, m k)"),
    _op("logit", "node", [V], output="logit",
        doc="w . x + b: one learned logit from a vector; over `concat` of logits, a learned "
            "weighting of them (FuxiCTR's AFN+ head)"),
    _op("add", "node", [("matrix", "vector", "logit")], variadic=True,
        doc="elementwise sum of inputs of one shape"),
    _op("sum_pool", "node", [S], output="vector", doc="masked sum over time"),
    _op("mean_pool", "node", [S], output="vector", doc="masked mean over time"),
    _op("last", "node", [S], output="vector", doc="the last real position"),
    _op("target_attention_pool", "node", [S, V], output="vector",
        doc="DIN's attention pooling of a sequence from the target"),
    # ---- optimizers (train and search blocks)
    *[_op(name, "optimizer", params=ps) for name, ps in [
        ("sgd", [_float("lr", 0.01, 0.0, 100.0), _float("momentum", 0.0, 0.0, 1.0),
                 _float("weight_decay", 0.0, 0.0, 10.0), _bool("nesterov", False)]),
        ("adam", [_float("lr", 1e-3, 0.0, 100.0), ParamSig("betas", "float_list", (0.9, 0.999), 0, 1),
                  _float("weight_decay", 0.0, 0.0, 10.0), _float("eps", 1e-8, 0.0, 1.0)]),
        ("adagrad", [_float("lr", 1e-2, 0.0, 100.0), _float("weight_decay", 0.0, 0.0, 10.0)]),
        ("rmsprop", [_float("lr", 1e-2, 0.0, 100.0), _float("momentum", 0.0, 0.0, 1.0),
                     _float("weight_decay", 0.0, 0.0, 10.0)]),
    ]],
]

OPERATORS: dict[str, OpSig] = {sig.name: sig for sig in _SIGNATURES}


def ops_with_role(role: str) -> list[str]:
    return sorted(name for name, sig in OPERATORS.items() if role in sig.roles)


def output_kind(sig: OpSig, input_kinds: list[str]) -> str:
    """The kind an operator returns, given its input kinds (embed depends on its input)."""
    if sig.name == "embed":
        return {"ids": "matrix", "seq_ids": "sequence", "target_ids": "vector"}[input_kinds[0]]
    if sig.output is not None:
        return sig.output
    return input_kinds[0]
