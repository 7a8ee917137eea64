"""The registry of operator signatures: names, typed parameters with ranges, input/output kinds.

Each operator is declared once, here: its roles, parameters, input kinds, output shape rule and
the torch module that implements it (by dotted name under ``nasc.runtime.ops``, so spec checks
never import torch). The runtime builder, the ops tests' expected shapes and the operator table
of docs/language.md are derived from these declarations.

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

from dataclasses import dataclass
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
    arg: str | None = None  # the implementing class's keyword, when it is not ``name``


# Sizes an operator is built from and returns, read off its first input's shape at run time
# (nasc.runtime.factory.build_op): m fields, k the width of a field / of a sequence step / of a
# vector, flat the width once flattened (m k for a matrix), pairs m (m - 1) / 2, vocab the
# fields' vocabulary sizes, sum_flat the flat widths of all inputs together, out_dim the width
# the built module reports (CIN, AFN: it depends on their parameters). A size of a later input
# is written with its position: ``flat@1`` is the second input's flat width.
SIZES = ("m", "k", "flat", "pairs", "vocab", "sum_flat", "out_dim")


def size_name(size: str) -> tuple[str, int]:
    """``"flat@1"`` -> ("flat", 1); ``"k"`` -> ("k", 0)."""
    name, _, index = size.partition("@")
    return name, int(index) if index.isdigit() else 0


@dataclass(frozen=True)
class OpSig:
    """One operator: where it may appear, what it takes and returns, and what implements it.

    ``shape`` is the output: ``same`` (the first input's kind and shape), ``logit``,
    ``embedding`` (``embed``: by its input, see its doc), or ``KIND(SIZE, ...)`` -- ``vector(k)`` is (B, k), ``matrix(pairs, k)`` is (B, m(m-1)/2, k).
    ``impl`` names the torch module (``module.Class`` under ``nasc.runtime.ops``) so the compiler
    stays torch-free; it is built as ``Class(*build sizes, **parameters)``. Operators without an
    ``impl`` are built by a construct (cell merges), by their own factory (``embed``), or are not
    modules (optimizers). ``needs_target``: as a blocks layer it also reads the target item.
    """
    name: str
    roles: frozenset[str]
    inputs: tuple[tuple[str, ...], ...] = ()  # accepted kinds per positional input
    shape: str = "same"
    params: tuple[ParamSig, ...] = ()
    variadic: bool = False                      # the last input may repeat
    doc: str = ""
    impl: str | None = None
    build: tuple[str, ...] = ()
    needs_target: bool = False

    def param(self, name: str) -> ParamSig | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def output(self) -> str | None:
        """The output kind, or None: the same kind as the first input (or, for ``embed``,
        decided by it)."""
        return None if self.shape in ("same", "embedding") else self.shape.split("(")[0]

    def out_sizes(self) -> tuple[str, ...]:
        """The sizes of ``shape`` (``matrix(pairs, k)`` -> ``("pairs", "k")``)."""
        inside = self.shape.partition("(")[2].rstrip(")")
        return tuple(part.strip() for part in inside.split(",") if part.strip())


def _op(name, roles, inputs=(), shape="same", params=(), variadic=False, doc="", impl=None,
        build=(), needs_target=False):
    sig = OpSig(name, frozenset(roles.split()), tuple(inputs), shape, tuple(params), variadic,
                doc, impl, tuple(build), needs_target)
    unknown = [s for s in (*sig.build, *sig.out_sizes())
               if size_name(s)[0] not in SIZES or s.count("@") > 1
               or ("@" in s and not s.partition("@")[2].isdigit())]
    if unknown or sig.output not in (None, "logit", "vector", "matrix", "sequence"):
        raise ValueError(f"operator {name}: bad shape rule {shape!r} / build {build!r}")
    return sig


def _int(name, default, lo=None, hi=None, doc="", arg=None):
    return ParamSig(name, "int", default, lo, hi, doc=doc, arg=arg)


def _float(name, default, lo=None, hi=None, doc=""):
    return ParamSig(name, "float", default, lo, hi, doc=doc)


def _bool(name, default, doc=""):
    return ParamSig(name, "bool", default, doc=doc)


def _enum(name, default, choices, doc="", arg=None):
    return ParamSig(name, "enum", default, choices=tuple(choices), doc=doc, arg=arg)


M = ("matrix",)
S = ("sequence",)
V = ("vector",)
FLAT = ("matrix", "vector", "logit")  # what concat flattens into one vector
ACTED = ("matrix", "vector", "sequence")  # what an `act` setting applies to
MK = ("m", "k")  # built from the field matrix's m and k

_SIGNATURES: list[OpSig] = [
    # ---- AutoPI's interactive operators (§4.2.2): (B,m,k) -> (B,m,k), ReLU after all but skip
    _op("skip", "edge node", [M], doc="identity (noisy during DARTS search, AutoPI §4.4.2)",
        impl="autopi.Skip", build=MK),
    _op("senet", "edge node", [M], params=[_int("reduction", 3, 1, 64)],
        doc="SENET layer: field weights a in R^m rescale the rows",
        impl="autopi.SENetLayer", build=MK),
    _op("self_attention", "edge node", [M], params=[_int("heads", 1, 1, 16)],
        doc="key-value self-attention across fields (AutoInt's interacting layer)",
        impl="autopi.SelfAttention", build=MK),
    _op("fm", "edge node", [M], doc="pairwise inner products, linearly mapped back to m x k",
        impl="autopi.FMAligned", build=MK),
    _op("slp", "edge node", [M], doc="single-layer perceptron: flatten mk -> linear -> m x k",
        impl="autopi.SingleLayerPerceptron", build=MK),
    _op("conv1d", "edge node", [M], doc="1-d convolution across fields: m kernels of m x 1 x 1",
        impl="autopi.FieldConv1d", build=MK),
    _op("zero", "edge layer", [("matrix", "sequence")], doc="outputs zeros (drops an edge/block)",
        impl="sequence.Zero"),
    # ---- AMEIR's behavior-block layers (§2.2): (B,T,d) -> (B,T,d)
    _op("conv", "layer", [S], params=[_int("kernel", 3, 1, 31), _bool("causal", False)],
        doc="1-d convolution over time, stride 1, same padding (causal=true: the window ends at t)",
        impl="sequence.SeqConv", build=("k",)),
    _op("dilated_conv", "layer", [S], params=[_int("kernel", 3, 1, 31), _int("dilation", 2, 1, 16),
                                              _bool("causal", False)],
        doc="dilated 1-d convolution over time, stride 1, same padding (or causal)",
        impl="sequence.DilatedSeqConv", build=("k",)),
    _op("avg_pool", "layer", [S], params=[_int("kernel", 3, 1, 31), _bool("causal", False)],
        doc="average pooling over time, stride 1, same padding (or causal)",
        impl="sequence.SeqAvgPool", build=("k",)),
    _op("max_pool", "layer", [S], params=[_int("kernel", 3, 1, 31), _bool("causal", False)],
        doc="max pooling over time, stride 1, same padding (or causal)", impl="sequence.SeqMaxPool",
        build=("k",)),
    _op("bigru", "layer", [S], doc="bidirectional GRU", impl="sequence.BiGRU", build=("k",)),
    _op("gru", "layer", [S], doc="forward (causal) GRU", impl="sequence.GRU", build=("k",)),
    _op("bi_attention", "layer", [S], params=[_int("heads", 2, 1, 16)],
        doc="bidirectional multi-head self-attention", impl="sequence.BiSelfAttention",
        build=("k",)),
    _op("causal_attention", "layer", [S], params=[_int("heads", 2, 1, 16)],
        doc="multi-head self-attention from each position to itself and earlier ones",
        impl="sequence.CausalSelfAttention", build=("k",)),
    _op("feed_forward", "layer", [S],
        params=[_int("expand", 1, 1, 8, doc="inner width in multiples of d (SASRec 1, BERT 4)"),
                _float("dropout", 0.0, 0.0, 0.99)],
        doc="SASRec's point-wise feed-forward W2 ReLU(W1 x) at each position (a block adds the "
            "residual)", impl="sequence.PositionFeedForward", build=("k",)),
    _op("target_attention", "layer", [S],
        doc="attention from the target item to each position (DIN's local activation unit)",
        impl="sequence.TargetAttentionLayer", build=("k",), needs_target=True),
    _op("transformer", "layer node", [S],
        params=[_int("heads", 1, 1, 16), _float("dropout", 0.0, 0.0, 0.99), _bool("causal", True),
                _enum("style", "sasrec", ("sasrec", "bert"),
                      doc="`sasrec`: SASRec's reference code (layer norm before attention and "
                          "feed-forward, a ReLU feed-forward of width d); `bert`: BERT's "
                          "post-norm layer as S3-Rec's and BERT4Rec's code write it (norm after "
                          "each residual sum, a GELU feed-forward of width 4d, N(0, 0.02) "
                          "weights)")],
        doc="a SASRec transformer block (causal self-attention and feed-forward)",
        impl="baselines.TransformerBlock", build=("k",)),
    # ---- normalisations
    _op("layer_norm", "seq_norm node", [S],
        doc="layer normalisation of each position (a node: SASRec's norm after its last block)",
        impl="sequence.SeqLayerNorm", build=("k",)),
    _op("none", "seq_norm matrix_norm", [("matrix", "sequence")], doc="no normalisation",
        impl="sequence.NoNorm"),
    _op("batchnorm", "matrix_norm", [M], params=[_bool("affine", True)],
        doc="batch-norm per field; affine=false fixes scale 1 and shift 0 (AutoPI §4.3.3)",
        impl="autopi.FieldBatchNorm", build=("m",)),
    # ---- activations, built with the width of what they act on (Dice learns per unit)
    # `identity` is also a node: the "nothing here" option of a node-level choice
    *[_op(a, "act node" if a == "identity" else "act", [ACTED], doc=d,
          impl=f"activations.{cls}", build=("k",))
      for a, cls, d in [
          ("relu", "ReLU", "max(0, x)"), ("gelu", "GELU", "Gaussian error linear unit"),
          ("swish", "Swish", "x * sigmoid(x)"), ("identity", "Identity", "x"),
          ("sigmoid", "Sigmoid", "1 / (1 + e^-x)"), ("tanh", "Tanh", "hyperbolic tangent"),
          ("dice", "Dice", "DIN's data-adaptive activation")]],
    # ---- how a cell merges its intermediate nodes (built by the cell: factory.cell_merge)
    _op("sum", "merge", shape="matrix(m, k)", doc="sum of the intermediate nodes (m x k)"),
    _op("mean", "merge", shape="matrix(m, k)", doc="mean of the intermediate nodes (m x k)"),
    _op("concat", "merge node", [FLAT], shape="vector(sum_flat)", variadic=True,
        doc="concatenation (cells: of the intermediate nodes, as a vector)",
        impl="baselines.Concat"),
    _op("conv1x1", "merge", shape="matrix(m, k)",
        doc="1x1 convolution over the stacked intermediate nodes (m x k)"),
    # ---- node operators (hand-crafted models' building blocks)
    _op("embed", "node", [("ids", "seq_ids", "target_ids")], shape="embedding",
        params=[_int("dim", 10, 1, 4096), _float("init_std", 1e-4, 0.0, 10.0),
                _bool("positions", False), _bool("scale", False), _bool("norm", False),
                _float("dropout", 0.0, 0.0, 0.99)],
        doc="embedding lookup: one table with per-field offsets; categorical fields give a "
            "matrix (B, m, dim), a sequence (B, T, n dim), a target item a vector (B, n dim). "
            "For a sequence (SASRec): positions=true adds a learned position embedding, "
            "scale=true multiplies the item embeddings by sqrt(dim) first, norm=true "
            "layer-normalises the sum (BERT4Rec, S3-Rec), dropout drops out the sum (the item "
            "table a `head next_item` scores with is not scaled)"),
    _op("lr", "node", [("ids",)], shape="logit", doc="logistic regression over the raw fields",
        impl="baselines.LinearLogit", build=("vocab",)),
    _op("fm_logit", "node", [M], shape="logit", doc="FM's second-order term as a logit",
        impl="baselines.FMLogit"),
    _op("bi_interaction", "node", [M], shape="vector(k)",
        doc="NFM's bi-interaction pooling (k)", impl="baselines.BiInteraction"),
    _op("inner_product", "node", [M], shape="vector(pairs)",
        doc="IPNN's pairwise inner products", impl="baselines.InnerProduct", build=("m",)),
    _op("outer_product", "node", [M], shape="vector(pairs)",
        doc="OPNN's kernel outer products", impl="baselines.OuterProduct", build=MK),
    _op("crossnet", "node", [V], shape="vector(flat)", params=[_int("layers", 3, 1, 16)],
        doc="DCN's cross network", impl="baselines.CrossNet", build=("flat",)),
    _op("crossnet_v2", "node", [V], shape="vector(flat)",
        params=[_int("layers", 3, 1, 16), _int("rank", 0, 0, 4096)],
        doc="DCN-V2's cross network: x_{l+1} = x_0 * (W_l x_l + b_l) + x_l; rank > 0 makes "
            "W_l = U_l V_l^T (the low-rank form)", impl="crossnet_v2.CrossNetV2",
        build=("flat",)),
    _op("cin", "node", [M], shape="vector(out_dim)",
        params=[ParamSig("layers", "int_list", (200, 200, 200), 1, 4096, arg="layer_sizes"),
                _bool("split_half", True)],
        doc="xDeepFM's compressed interaction network", impl="baselines.CIN", build=MK),
    _op("log_transform", "node", [M], shape="vector(out_dim)",
        params=[_int("neurons", 1500, 1, 100000)], doc="AFN's logarithmic transformation layer",
        impl="baselines.LogTransformLayer", build=MK),
    _op("bilinear", "node", [M], shape="matrix(pairs, k)",
        params=[_enum("type", "field_all", ("field_all", "field_each", "field_interaction"),
                      arg="kind")],
        doc="FiBiNET's bilinear interaction (one row per field pair)",
        impl="baselines.BilinearInteraction", build=MK),
    _op("flatten", "node", [M], shape="vector(flat)", doc="(B, m, k) -> (B, m k)",
        impl="baselines.Flatten"),
    _op("logit", "node", [V], shape="logit",
        doc="w . x + b: one learned logit from a vector; over `concat` of logits, a learned "
            "weighting of them (FuxiCTR's AFN+ head)", impl="baselines.DenseLogit",
        build=("flat",)),
    _op("add", "node", [("matrix", "vector", "logit")], variadic=True,
        doc="elementwise sum of inputs of one shape", impl="baselines.Add"),
    _op("mul", "node", [("matrix", "vector", "logit")], variadic=True,
        doc="elementwise product of inputs of one shape", impl="baselines.Mul"),
    _op("fc", "node", [V], shape="vector(out_dim)",
        params=[_int("width", 64, 1, 100000), _bool("bias", True)],
        doc="W x + b: a fully connected linear layer (B, d) -> (B, width)", impl="dense.Linear",
        build=("flat",)),
    _op("mlp", "edge node", [("matrix", "vector")],
        params=[_int("layers", 1, 0, 16), _int("width", 64, 1, 100000)],
        doc="an MLP that keeps its input's shape: flatten, `layers` hidden ReLU layers of "
            "`width`, back to the input's width, ReLU (layers=0 is slp); on a cell edge too",
        impl="dense.ShapeKeepingMLP", build=("flat",)),
    _op("feature_gating", "node", [M, ("ids",)], shape="vector(flat)",
        params=[ParamSig("context", "int_list", (), 0, 4096,
                         doc="positions of the fields the gate reads"),
                ParamSig("hidden", "int_list", (400,), 1, 100000)],
        doc="FinalMLP's feature gating: the flattened embeddings times 2 sigmoid(MLP(context)); "
            "the context is the `context` fields' embeddings (a table of its own, from the "
            "categorical input given second), or a learned vector when none is given",
        impl="finalmlp.FeatureGating", build=("m", "k", "vocab@1")),
    _op("fusion", "node", [V, V], shape="logit", params=[_int("heads", 1, 1, 4096)],
        doc="FinalMLP's multi-head bilinear fusion of two streams: w1.x + w2.y + b + "
            "sum over heads of x_h^T W_h y_h (both widths divisible by heads)",
        impl="finalmlp.BilinearFusion", build=("flat", "flat@1")),
    _op("field_gate", "node", [M], params=(),
        doc="FinalNet's field gate: e * (W e + b) with W (m x m) mixing the fields of each "
            "embedding dimension, W = 0 and b = 1 at the start; FinalNet's input is "
            "concat(e, field_gate(e))", impl="finalnet.FieldGate", build=("m",)),
    _op("final_block", "node", [V], shape="vector(out_dim)",
        params=[ParamSig("widths", "int_list", (400, 400), 1, 100000),
                _enum("act", "relu", ("relu", "none")), _float("dropout", 0.0, 0.0, 0.99),
                _bool("batch_norm", True), _enum("residual", "concat", ("concat", "sum"))],
        doc="FinalNet's block: factorized interaction layers h = W x + c = [h2, h1], out "
            "[h2, h1 * h2] (residual=concat) or h2 + h1 * h2 (sum), each with batch norm, act "
            "and dropout", impl="finalnet.FinalBlock", build=("flat",)),
    _op("sum_pool", "node", [S], shape="vector(k)", doc="masked sum over time",
        impl="pooling.SumPool"),
    _op("mean_pool", "node", [S], shape="vector(k)", doc="masked mean over time",
        impl="pooling.MeanPool"),
    _op("last", "node", [S], shape="vector(k)", doc="the last real position",
        impl="pooling.LastPool"),
    _op("target_attention_pool", "node", [S, V], shape="vector(k)",
        doc="DIN's attention pooling of a sequence from the target",
        impl="pooling.TargetAttentionPool", build=("k",)),
    # ---- optimizers (train and search blocks)
    *[_op(name, "optimizer", params=ps, doc=doc) for name, doc, ps in [
        ("sgd", "SGD (torch.optim.SGD)", [_float("lr", 0.01, 0.0, 100.0), _float("momentum", 0.0, 0.0, 1.0),
                 _float("weight_decay", 0.0, 0.0, 10.0), _bool("nesterov", False)]),
        ("adam", "Adam (torch.optim.Adam)", [_float("lr", 1e-3, 0.0, 100.0), ParamSig("betas", "float_list", (0.9, 0.999), 0, 1),
                  _float("weight_decay", 0.0, 0.0, 10.0), _float("eps", 1e-8, 0.0, 1.0)]),
        ("adagrad", "Adagrad (torch.optim.Adagrad)", [_float("lr", 1e-2, 0.0, 100.0), _float("weight_decay", 0.0, 0.0, 10.0)]),
        ("rmsprop", "RMSprop (torch.optim.RMSprop)", [_float("lr", 1e-2, 0.0, 100.0), _float("momentum", 0.0, 0.0, 1.0),
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
