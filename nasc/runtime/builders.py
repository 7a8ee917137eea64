"""Modules built from one operator or input: embeddings, and every declared operator
(nasc.compiler.operators) sized from the shapes of its inputs, recording ``out_shape``."""
from __future__ import annotations

import torch
from torch import nn

from nasc.compiler.operators import OPERATORS, size_name
from nasc.runtime import ops
from nasc.runtime.shapes import Shape, _shaped, _spec


# ----------------------------------------------------------------------------------------- inputs
def input_shape(schema, input_type: str, **params) -> Shape:
    if input_type == "categorical":
        return Shape("ids", len(schema.fields), 0, tuple(f.vocab_size for f in schema.fields),
                     getattr(schema, "multi_hot_len", 0) if schema.multi_hot else 0)
    if input_type == "sequence":
        return Shape("seq_ids", len(schema.sequence), 0,
                     tuple(f.vocab_size for f in schema.sequence))
    if input_type == "target":
        return Shape("target_ids", len(schema.target), 0,
                     tuple(f.vocab_size for f in schema.target))
    if input_type == "dense":
        return Shape("vector", 0, int(getattr(schema, "dense_dim", 0)))
    raise ValueError(input_type)


class SequenceEmbedding(nn.Module):
    """(B, T, n_a) ids -> (B, T, n_a k): the concatenated field embeddings of each behavior,
    plus a learned embedding of the position slot when ``max_len`` is given. SASRec's input
    layer as its reference code writes it: the item embeddings times sqrt(k) when ``scale``,
    then the positions added, then dropout. ``fields`` stays the unscaled table that a
    next-item head scores items with."""

    def __init__(self, vocab, dim: int, init_std: float, max_len: int = 0, scale: bool = False,
                 dropout: float = 0.0, norm: bool = False):
        super().__init__()
        self.fields = ops.FieldEmbedding(vocab, dim, init_std)
        self.positions = nn.Embedding(max_len, len(vocab) * dim) if max_len else None
        if self.positions is not None:
            nn.init.normal_(self.positions.weight, std=init_std)
        self.scale = dim ** 0.5 if scale else 1.0
        # BERT's input layer (S3-Rec, BERT4Rec): the sum layer-normalised before its dropout
        self.norm = nn.LayerNorm(len(vocab) * dim, eps=1e-12) if norm else None
        self.dropout = nn.Dropout(dropout) if dropout else None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out = self.fields(ids).flatten(-2)  # (B, T, n_a k)
        if self.scale != 1.0:
            out = out * self.scale
        if self.positions is not None:
            out = out + self.positions.weight[: out.shape[-2]]
        if self.norm is not None:
            out = self.norm(out)
        return self.dropout(out) if self.dropout is not None else out


class TargetEmbedding(SequenceEmbedding):
    """(B, n_t) ids -> (B, n_t k)."""


def embed(schema, input_type: str, dim: int = 10, init_std: float = 1e-4,
          positions: bool = False, scale: bool = False, norm: bool = False,
          dropout: float = 0.0) -> nn.Module:
    shape = input_shape(schema, input_type)
    if not shape.vocab:
        raise ValueError(f"the dataset has no {input_type} fields to embed")
    if shape.kind == "ids":
        if shape.bag_len:
            from nasc.runtime.bags import PooledFieldEmbedding

            module = PooledFieldEmbedding(shape.vocab, dim, init_std, len(schema.categorical),
                                          shape.bag_len,
                                          [schema.pooling.get(f.name, "sum") for f in schema.multi_hot])
        else:
            module = ops.FieldEmbedding(shape.vocab, dim, init_std)
        return _shaped(module, Shape("matrix", shape.fields, dim))
    if shape.kind == "seq_ids":
        module = SequenceEmbedding(shape.vocab, dim, init_std,
                                   int(schema.max_len) if positions else 0, scale, dropout, norm)
        return _shaped(module, Shape("sequence", shape.fields, shape.fields * dim))
    return _shaped(TargetEmbedding(shape.vocab, dim, init_std), Shape("vector", 0, shape.fields * dim))


def field_names(schema) -> list[str]:
    return [f.name for f in schema.fields]


# ------------------------------------------------------------------------------------- operators
def _size(size: str, shapes: list[Shape], module: nn.Module | None = None):
    """One of nasc.compiler.operators.SIZES, read off the input shapes (``flat@1``: of the
    second input) or the built module."""
    name, index = size_name(size)
    x = shapes[index]
    if name == "m":
        return x.fields
    if name == "k":
        return x.dim
    if name == "flat":
        return x.flat
    if name == "pairs":
        return x.fields * (x.fields - 1) // 2
    if name == "vocab":
        return x.vocab
    if name == "sum_flat":
        return sum(s.flat for s in shapes)
    return module.out_dim  # out_dim


def _out_shape(sig, shapes: list[Shape], module: nn.Module) -> Shape:
    if sig.shape == "same":
        return shapes[0]
    sizes = [_size(s, shapes, module) for s in sig.out_sizes()]
    if sig.output == "matrix":
        return Shape("matrix", *sizes)
    return Shape(sig.output, 0, *sizes)  # vector(d); logit has no size


def op(spec, shapes: list[Shape]) -> nn.Module:
    """Any operator with an implementation, built as its declaration says
    (nasc.compiler.operators): ``Class(*sizes of the inputs, **parameters)``, parameters not
    written taking their declared defaults; ``out_shape`` follows the declared shape rule."""
    name, given = _spec(spec)
    sig = OPERATORS[name]
    if sig.impl is None:
        raise ValueError(f"operator `{name}` cannot be built as a node")
    if name != "embed" and any(s.kind == "ids" and s.bag_len for s in shapes):
        raise ValueError(f"operator `{name}` reads raw field ids, and a multi-hot field is a bag "
                         "of them: give it `embed(...)` of the input instead")
    kwargs = {}
    for p in sig.params:
        value = given.get(p.name, p.default)
        kwargs[p.arg or p.name] = tuple(value) if isinstance(value, list) else value
    module = ops.implementation(name)(*[_size(s, shapes) for s in sig.build], **kwargs)
    return _shaped(module, _out_shape(sig, shapes, module))


def norm(spec, shapes: list[Shape]) -> nn.Module:
    return op(spec, shapes)


def seq_norm(spec, shapes: list[Shape]) -> nn.Module:
    """A behavior-block normalisation, called as (x, mask) like the other block parts."""
    return _shaped(SeqPart(norm(spec, shapes)), shapes[0])


def act(spec, shapes: list[Shape]) -> nn.Module:
    return op(spec, shapes)


class SeqPart(nn.Module):
    """A uniform (x, mask, target) call for every behavior-block part."""

    def __init__(self, module: nn.Module, uses_target: bool = False):
        super().__init__()
        self.module = module
        self.uses_target = uses_target

    def forward(self, x, mask, target=None):
        return self.module(x, mask, target) if self.uses_target else self.module(x, mask)


def layer(spec, shapes: list[Shape]) -> nn.Module:
    """A behavior-block layer, called as (x, mask, target) like the other block parts."""
    sig = OPERATORS[_spec(spec)[0]]
    return _shaped(SeqPart(op(spec, shapes), uses_target=sig.needs_target), shapes[0])
