"""Building blocks of the hand-crafted baselines (LR, FM, NFM, PNN, DCN, xDeepFM, AFN, FiBiNET,
DNN, SASRec) and the plumbing between them (embedding, flatten, concat, add)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .activations import make_activation, zero_padded
from .autopi import gram_pair_index, pair_indices, pair_inner_products
from .sequence import blocked_keys


class FieldEmbedding(nn.Module):
    """ids (..., m) -> (..., m, k) from ONE table; field f's local index i is row offsets[f] + i.

    Index 0 of each field is padding; its row starts at zero. It is not frozen (one table has one
    padding_idx at most, and there is a padding row per field): gradients may move it. That is
    harmless because padded sequence positions are masked downstream and multi-hot padding is
    summed with real ids only by the data pipeline's choice.
    """

    def __init__(self, vocab_sizes: Sequence[int], dim: int, init_std: float = 1e-4):
        super().__init__()
        sizes = [int(v) for v in vocab_sizes]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"FieldEmbedding: vocabulary sizes must be >= 1, got {sizes}")
        self.num_fields, self.dim = len(sizes), dim
        offsets = torch.tensor([0, *sizes[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)  # (m,)
        self.table = nn.Embedding(sum(sizes), dim)
        with torch.no_grad():
            nn.init.normal_(self.table.weight, std=init_std)
            self.table.weight[offsets] = 0.0  # the padding rows

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.table(ids + self.offsets)  # (..., m, k)


class LinearLogit(nn.Module):
    """Logistic regression over the raw categorical fields: sum of per-id weights + bias -> (B,)."""

    def __init__(self, vocab_sizes: Sequence[int]):
        super().__init__()
        self.weights = FieldEmbedding(vocab_sizes, 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.weights(ids).sum(dim=(-2, -1)) + self.bias  # (B,)


class FMLogit(nn.Module):
    """FM's second-order term: 0.5 sum_k [(sum_i x_ik)^2 - sum_i x_ik^2] = sum_{i<j} <x_i, x_j>."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x.sum(1) ** 2 - (x ** 2).sum(1)).sum(-1)  # (B,)


class BiInteraction(nn.Module):
    """NFM's bi-interaction pooling: 0.5 [(sum_i x_i)^2 - sum_i x_i^2] = sum_{i<j} x_i * x_j."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x.sum(1) ** 2 - (x ** 2).sum(1))  # (B, k)


class InnerProduct(nn.Module):
    """IPNN's pairwise inner products <x_i, x_j>, i < j -> (B, m(m-1)/2)."""

    def __init__(self, num_fields: int, dim: int | None = None):
        super().__init__()
        self.register_buffer("gram_index", gram_pair_index(num_fields), persistent=False)
        self.out_dim = self.gram_index.numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pair_inner_products(x, self.gram_index)  # (B, P)


class OuterProduct(nn.Module):
    """OPNN's kernel product ('mat' kernel): p_ij = x_i^T W_ij x_j with a learned (k, P, k) kernel."""

    def __init__(self, num_fields: int, dim: int):
        super().__init__()
        rows, cols = pair_indices(num_fields)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.out_dim = rows.numel()
        self.kernel = nn.Parameter(torch.empty(dim, self.out_dim, dim))  # (k_a, P, k_c)
        if self.out_dim:  # xavier_uniform_ rejects empty tensors (one field: no pair)
            nn.init.xavier_uniform_(self.kernel.view(dim, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x[:, self.rows], x[:, self.cols]  # (B, P, k) each
        projected = torch.einsum("bpc,apc->bpa", right, self.kernel)  # (B, P, k): W_ij x_j
        return (left * projected).sum(-1)  # (B, P)


class CrossNet(nn.Module):
    """DCN's cross network: x_{l+1} = x_0 (x_l^T w_l) + b_l + x_l -> (B, in_dim)."""

    def __init__(self, in_dim: int, layers: int = 3):
        super().__init__()
        self.out_dim = in_dim
        self.weight = nn.Parameter(torch.randn(layers, in_dim) * math.sqrt(2.0 / (in_dim + 1)))
        self.bias = nn.Parameter(torch.zeros(layers, in_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, xl = x, x
        for w, b in zip(self.weight, self.bias):
            xl = x0 * (xl @ w).unsqueeze(-1) + b + xl  # (B, d)
        return xl


class CIN(nn.Module):
    """xDeepFM's compressed interaction network, each layer sum-pooled over k -> (B, out_dim).

    Layer h: X^h_{c,*} = sum_{i,j} W^h_{c,ij} (X^{h-1}_{i,*} * X^0_{j,*}), as the paper's eq. (6): no
    bias, no activation. With split_half, every layer but the last keeps half its maps for the next
    layer and sends the other half to the output (so those sizes must be even).
    """

    def __init__(self, num_fields: int, dim: int, layer_sizes: Sequence[int] = (200, 200, 200),
                 split_half: bool = True):
        super().__init__()
        sizes = [int(s) for s in layer_sizes]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"cin: layer sizes must be positive, got {sizes}")
        if split_half and any(s % 2 for s in sizes[:-1]):
            raise ValueError(f"cin: with split_half every layer size but the last must be even, got {sizes}")
        self.sizes, self.split_half = sizes, split_half
        self.convs = nn.ModuleList()
        maps, out_dim = num_fields, 0
        for layer, size in enumerate(sizes):
            self.convs.append(nn.Conv1d(maps * num_fields, size, kernel_size=1, bias=False))
            halve = split_half and layer < len(sizes) - 1
            maps = size // 2 if halve else size
            out_dim += size // 2 if halve else size
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, m, k = x.shape
        hidden, pooled = x, []
        for layer, conv in enumerate(self.convs):
            z = torch.einsum("bhd,bmd->bhmd", hidden, x).reshape(b, -1, k)  # (B, H m, k)
            z = conv(z)  # (B, size, k)
            if self.split_half and layer < len(self.convs) - 1:
                hidden, direct = z.chunk(2, dim=1)
            else:
                hidden, direct = z, z
            pooled.append(direct.sum(-1))  # (B, size') sum pooling over k
        return torch.cat(pooled, dim=1)  # (B, out_dim)


class LogTransformLayer(nn.Module):
    """AFN's logarithmic transformation layer -> (B, neurons N * k).

    y_n = exp(sum_i w_in ln|x_i|) per embedding coordinate (AFN eq. 4). As in the authors' code and
    FuxiCTR (which BARS' AFN numbers come from), ln|x| is batch-normalized per field before the
    weighted sum and y per neuron after the exp: without the first, ln of the small initial
    embeddings (about -9) times the weights overflows exp, and training crawls. |x| is clamped at
    1e-5 so ln stays finite.
    """

    def __init__(self, num_fields: int, dim: int, neurons: int = 1500):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_fields, neurons))  # (m, N)
        nn.init.xavier_normal_(self.weight)
        self.log_norm = nn.BatchNorm1d(num_fields)
        self.exp_norm = nn.BatchNorm1d(neurons)
        self.out_dim = neurons * dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logs = self.log_norm(torch.log(x.abs().clamp(min=1e-5)))  # (B, m, k)
        # W^T broadcast over the batch gives (B, N, k) directly: no transposed copies of the
        # large (B, N, k) tensor (a quarter of the layer's time at N = 1000).
        y = torch.matmul(self.weight.t(), logs).exp_()  # (B, N, k)
        return self.exp_norm(y).flatten(1)  # (B, N k)


class BilinearInteraction(nn.Module):
    """FiBiNET's bilinear interaction (x_i W) * x_j for i < j -> (B, m(m-1)/2, k).

    kind: 'field_all' one W; 'field_each' W_i per field; 'field_interaction' W_ij per pair.
    """

    KINDS = ("field_all", "field_each", "field_interaction")

    def __init__(self, num_fields: int, dim: int, kind: str = "field_all"):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"bilinear: unknown type {kind!r}; choose one of {list(self.KINDS)}")
        rows, cols = pair_indices(num_fields)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        which = {"field_all": torch.zeros_like(rows), "field_each": rows,
                 "field_interaction": torch.arange(rows.numel())}[kind]
        self.register_buffer("which", which, persistent=False)  # (P,) weight used by each pair
        count = {"field_all": 1, "field_each": num_fields, "field_interaction": rows.numel()}[kind]
        self.kind = kind
        self.weight = nn.Parameter(torch.empty(max(count, 1), dim, dim))  # (n_W, k_in, k_out)
        bound = 1 / math.sqrt(dim)  # nn.Linear(dim, dim)'s scale
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x[:, self.rows], x[:, self.cols]  # (B, P, k)
        transformed = torch.einsum("bpi,pio->bpo", left, self.weight[self.which])  # x_i W
        return transformed * right  # (B, P, k)


class MLP(nn.Module):
    """Linear -> [BatchNorm1d] -> activation -> [Dropout] per layer; out_dim = last width."""

    def __init__(self, in_dim: int, widths: Sequence[int], act: str = "relu", dropout: float = 0.0,
                 batch_norm: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        width_in = in_dim
        for width in widths:
            layers.append(nn.Linear(width_in, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(make_activation(act, width))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width_in = width
        self.layers = nn.Sequential(*layers)
        self.out_dim = width_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # (B, out_dim)


class PointWiseFeedForward(nn.Module):
    """SASRec's position-wise FFN with its residual: x + Dropout(W2 Dropout(ReLU(W1 x)))."""

    def __init__(self, dim: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class BertFeedForward(nn.Module):
    """BERT's position-wise sublayer after attention: LN(x + Dropout(W2 GELU(W1 x))), W1 d -> 4d."""

    def __init__(self, dim: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
                                 nn.Dropout(dropout))
        self.norm = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.net(x))


class TransformerBlock(nn.Module):
    """One SASRec block on (x (B, T, d), mask (B, T)) -> (B, T, d), padded outputs 0.

    ``style="sasrec"``, as SASRec's reference code: Q = LN(x); x = Q + MHA(Q, x, x);
    x = FFN(LN(x)) + LN(x), FFN of width d with ReLU. ``style="bert"``, BERT's post-norm layer as
    S3-Rec's SASRec and BERT4Rec's code write it: x = LN(x + Dropout(MHA(x, x, x)));
    x = LN(x + Dropout(W2 GELU(W1 x))), W1 of width 4d; weights N(0, 0.02), biases 0 (BERT's
    init, S3-Rec's ``initializer_range``). Attention drops out its probabilities with
    ``dropout``, is causal (optional) and never looks at padded keys.
    """

    def __init__(self, dim: int, heads: int = 1, dropout: float = 0.0, causal: bool = True,
                 style: str = "sasrec"):
        super().__init__()
        if heads < 1 or dim % heads != 0:
            raise ValueError(f"transformer: dim {dim} is not divisible by heads={heads}")
        if style not in ("sasrec", "bert"):
            raise ValueError(f"transformer: unknown style {style!r}")
        self.heads, self.causal, self.style = heads, causal, style
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        if style == "sasrec":
            self.attention_norm = nn.LayerNorm(dim)
            self.forward_norm = nn.LayerNorm(dim)
            self.feed_forward = PointWiseFeedForward(dim, dropout)
        else:
            self.attention_dropout = nn.Dropout(dropout)
            self.attention_norm = nn.LayerNorm(dim, eps=1e-12)
            self.feed_forward = BertFeedForward(dim, dropout)
            _bert_init(self)

    def _blocked(self, mask: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B heads, T, T) bool, True where query t may not attend to key s."""
        return blocked_keys(mask, self.causal, self.heads)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = zero_padded(x, mask)
        if self.style == "bert":
            attended, _ = self.attention(x, x, x, attn_mask=self._blocked(mask),
                                         need_weights=False)
            x = self.attention_norm(x + self.attention_dropout(attended))
            return zero_padded(self.feed_forward(x), mask)
        q = self.attention_norm(x)
        attended, _ = self.attention(q, x, x, attn_mask=self._blocked(mask), need_weights=False)
        x = q + attended
        x = self.feed_forward(self.forward_norm(x))
        return zero_padded(x, mask)


@torch.no_grad()
def _bert_init(module: nn.Module, std: float = 0.02) -> None:
    """BERT's initialisation of a layer's weight matrices: N(0, std), biases 0 (layer norms keep
    their 1 and 0)."""
    for name, p in module.named_parameters():
        if "norm" in name:
            continue
        if p.dim() >= 2:
            nn.init.normal_(p, std=std)
        else:
            nn.init.zeros_(p)


class Flatten(nn.Module):
    """(B, m, k) -> (B, m k)."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class DenseLogit(nn.Module):
    """w . x + b -> (B,): one learned logit from a vector. Over ``concat`` of logits it weights
    them, as FuxiCTR's AFN+ ends: fc(2 -> 1) over the logits of its two branches."""

    def __init__(self, in_dim: int):
        super().__init__()
        self.linear = nn.Linear(in_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)


class Concat(nn.Module):
    """Flatten every input beyond the batch axis ((B,) logits become (B, 1)) and concatenate."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.reshape(x.shape[0], -1) for x in xs], dim=1)


class Add(nn.Module):
    """Elementwise sum of inputs of one shape (the spec's ``add``)."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    """Elementwise product of inputs of one shape (the spec's ``mul``): DCN-V2's x_0 * (W x_l + b)
    or a Hadamard interaction of two towers."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out
