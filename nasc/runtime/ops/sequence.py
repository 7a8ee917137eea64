"""AMEIR's behavior-block layers (§2.2): (x (B, T, d), mask (B, T)) -> (B, T, d).

mask is True at real positions. Every layer zeroes padded positions on the way in (so their
values can never reach a real position) and on the way out. Sequences may be padded on either
side (the data pipeline left-pads, as SASRec); nothing here assumes a prefix of real positions.

AMEIR's layers look both ways (SAME windows, a bidirectional GRU, bidirectional attention). The
causal forms (``causal=True`` windows ending at t, ``GRU``, ``CausalSelfAttention``) let the
output at t read positions <= t only, so a block stack of them can train sequence-to-sequence
(every position predicts the next item, nasc.runtime.seq2seq) without seeing its target.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .activations import Dice, zero_padded


def pad_same(x: torch.Tensor, total: int, value: float = 0.0,
             causal: bool = False) -> torch.Tensor:
    """Pad the last axis of (B, d, T) for a stride-1 window spanning ``total + 1`` steps.

    SAME splits like TensorFlow's (the extra step on the right for even windows); ``causal``
    pads on the left only, so the window at t ends at t.
    """
    left = total if causal else total // 2
    return F.pad(x, (left, total - left), value=value)


class DilatedSeqConv(nn.Module):
    """1-d convolution over time, stride 1, SAME padding (or causal: the window ends at t), with
    dilation."""

    def __init__(self, dim: int, kernel: int = 3, dilation: int = 2, causal: bool = False):
        super().__init__()
        self.span = dilation * (kernel - 1)  # steps a window reaches beyond its first
        self.causal = causal
        self.conv = nn.Conv1d(dim, dim, kernel, dilation=dilation)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = zero_padded(x, mask).transpose(1, 2)  # (B, d, T)
        out = self.conv(pad_same(h, self.span, causal=self.causal)).transpose(1, 2)  # (B, T, d)
        return zero_padded(out, mask)


class SeqConv(DilatedSeqConv):
    """1-d convolution over time, stride 1, SAME padding (or causal)."""

    def __init__(self, dim: int, kernel: int = 3, causal: bool = False):
        super().__init__(dim, kernel, dilation=1, causal=causal)


def _windows(x: torch.Tensor, kernel: int, value: float, causal: bool) -> torch.Tensor:
    """(B, T, d) -> (B, d, T, kernel): the stride-1 window around (or, causal, ending at) each
    position."""
    h = pad_same(x.transpose(1, 2), kernel - 1, value=value, causal=causal)
    return h.unfold(-1, kernel, 1)  # from (B, d, T + kernel - 1)


class SeqAvgPool(nn.Module):
    """Average pooling over time (stride 1, SAME or causal): the mean of the real positions in
    each window."""

    def __init__(self, dim: int | None = None, kernel: int = 3, causal: bool = False):
        super().__init__()
        self.kernel, self.causal = kernel, causal

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        sums = _windows(zero_padded(x, mask), self.kernel, 0.0, self.causal).sum(-1)  # (B, d, T)
        counts = _windows(mask.unsqueeze(-1).to(x.dtype), self.kernel, 0.0,
                          self.causal).sum(-1)  # (B, 1, T)
        out = (sums / counts.clamp(min=1.0)).transpose(1, 2)  # (B, T, d)
        return zero_padded(out, mask)


class SeqMaxPool(nn.Module):
    """Max pooling over time (stride 1, SAME or causal) over real positions only."""

    def __init__(self, dim: int | None = None, kernel: int = 3, causal: bool = False):
        super().__init__()
        self.kernel, self.causal = kernel, causal

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x.masked_fill(~mask.unsqueeze(-1), float("-inf"))  # padding never wins a max
        out = _windows(h, self.kernel, float("-inf"), self.causal).amax(-1).transpose(1, 2)
        # a real position's window holds itself, so -inf survives only at padded positions
        return zero_padded(out, mask)


def compact_order(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) -> (B, T) permutation moving real positions to the front, keeping their order."""
    return torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices


class BiGRU(nn.Module):
    """Bidirectional GRU over the real positions only (packed), wherever the padding sits.

    Hidden size dim // 2 per direction for even dim (the concatenation is dim wide); for odd dim,
    hidden dim per direction and a Linear(2 dim, dim) projection.
    """

    def __init__(self, dim: int, bidirectional: bool = True):
        super().__init__()
        if not bidirectional:  # GRU: one direction of width dim, nothing to project
            self.gru, self.project = nn.GRU(dim, dim, batch_first=True), nn.Identity()
            return
        hidden = dim // 2 if dim % 2 == 0 else dim
        self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
        self.project = nn.Identity() if dim % 2 == 0 else nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        order = compact_order(mask)  # (B, T)
        gather = order.unsqueeze(-1)
        h = zero_padded(x, mask).gather(1, gather.expand_as(x))  # (B, T, d) real first
        # empty rows would crash packing: run them on one (zero) step, zeroed afterwards
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=t)  # (B, T, 2h)
        out = self.project(out)  # (B, T, d)
        restored = torch.empty_like(out).scatter_(1, gather.expand_as(out), out)  # back in place
        return zero_padded(restored, mask)


class GRU(BiGRU):
    """Forward (causal) GRU of hidden size dim over the real positions only: BiGRU's packing, one
    direction, so the output at t has read positions <= t only."""

    def __init__(self, dim: int):
        super().__init__(dim, bidirectional=False)


def blocked_keys(mask: torch.Tensor, causal: bool, heads: int) -> torch.Tensor:
    """(B, T) real positions -> (B heads, T, T) bool, True where query t may not attend to key s
    (nn.MultiheadAttention's attn_mask): padded keys, and (causal) later ones. A query with no
    visible key (padding before the first real item) would softmax to NaN: it may see itself;
    its output is zeroed anyway."""
    t = mask.shape[1]
    blocked = (~mask).unsqueeze(1).expand(-1, t, -1)  # (B, T, T) padded keys
    if causal:
        future = torch.ones(t, t, dtype=torch.bool, device=mask.device).triu(1)
        blocked = blocked | future
    none_visible = blocked.all(-1, keepdim=True)  # (B, T, 1)
    eye = torch.eye(t, dtype=torch.bool, device=mask.device)
    return (blocked & ~(none_visible & eye)).repeat_interleave(heads, dim=0)


def guard_empty_rows(key_padding: torch.Tensor) -> torch.Tensor:
    """Unmask every key of a row with no real key: softmax over all -inf would give NaN.

    Such rows are all padding, so their outputs are zeroed anyway.
    """
    empty = key_padding.all(dim=1, keepdim=True)  # (B, 1)
    return key_padding & ~empty


class BiSelfAttention(nn.Module):
    """Bidirectional multi-head self-attention over the real positions."""

    def __init__(self, dim: int, heads: int = 2):
        super().__init__()
        if heads < 1 or dim % heads != 0:
            raise ValueError(f"bi_attention: dim {dim} is not divisible by heads={heads}")
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = zero_padded(x, mask)
        out, _ = self.attention(h, h, h, key_padding_mask=guard_empty_rows(~mask), need_weights=False)
        return zero_padded(out, mask)


class CausalSelfAttention(BiSelfAttention):
    """Multi-head self-attention in which position t attends to the real positions <= t."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = zero_padded(x, mask)
        blocked = blocked_keys(mask, causal=True, heads=self.attention.num_heads)
        out, _ = self.attention(h, h, h, attn_mask=blocked, need_weights=False)
        return zero_padded(out, mask)


class PositionFeedForward(nn.Module):
    """SASRec's point-wise feed-forward (two 1x1 convolutions) without its residual, which a
    block adds: W2 Dropout(ReLU(W1 x + b1)) + b2 at each position, W1 of width ``expand`` d
    (SASRec 1, BERT 4). AMEIR §2.2 reads a transformer as attention blocks stacked with 1x1
    convolution blocks; one `conv(kernel=1)` block is half of this feed-forward."""

    def __init__(self, dim: int, expand: int = 1, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, expand * dim), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(expand * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return zero_padded(self.net(x), mask)  # position-wise: padding reaches no real position


class LocalActivationUnit(nn.Module):
    """DIN's local activation unit: a_i = MLP([h_i, t, h_i - t, h_i * t]) -> one score per position.

    The hidden layer uses Dice (DIN's own activation), its statistics over real positions only.
    No softmax: DIN keeps the scores unnormalised to preserve the intensity of interest.
    """

    def __init__(self, dim: int, hidden: int = 36):
        super().__init__()
        self.hidden = nn.Linear(4 * dim, hidden)
        self.act = Dice(hidden)
        self.score = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """x (B, T, d), mask (B, T), target (B, d) -> scores (B, T), 0 at padded positions."""
        h = zero_padded(x, mask)
        t = target.unsqueeze(1).expand_as(h)  # (B, T, d)
        features = torch.cat([h, t, h - t, h * t], dim=-1)  # (B, T, 4d)
        a = self.score(self.act(self.hidden(features), mask)).squeeze(-1)  # (B, T)
        return a.masked_fill(~mask, 0.0)


class TargetAttentionLayer(nn.Module):
    """Attention from the target item to each position: h_i * a_i (DIN's unit, no softmax)."""

    def __init__(self, dim: int, hidden: int = 36):
        super().__init__()
        self.unit = LocalActivationUnit(dim, hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a = self.unit(x, mask, target)  # (B, T)
        return zero_padded(x, mask) * a.unsqueeze(-1)  # (B, T, d)


class Zero(nn.Module):
    """Outputs zeros shaped like the input (drops a block or an edge); ignores any mask.

    The zeros stay on the autograd graph (gradient 0 to the input), so a model whose only path
    goes through Zero can still call backward; masked_fill rather than x * 0 so inf/NaN give 0.
    """

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        everything = torch.ones((), dtype=torch.bool, device=x.device)
        return x.masked_fill(everything, 0.0)


class SeqLayerNorm(nn.Module):
    """Layer normalisation of each position; padded positions stay 0."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return zero_padded(self.norm(x), mask)


class NoNorm(nn.Module):
    """No normalisation (identity); with a mask, padded positions are set to 0 like every layer."""

    def __init__(self, *dims: int):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return zero_padded(x, mask)
