"""Whether a model can train sequence-to-sequence (``train { objective seq2seq }``) or with
BERT4Rec's cloze objective (``objective cloze``: only the first condition below).

Seq2seq training scores the item at t+1 with the model's output at position t of the sequence
that its head pools with ``last`` (nasc.runtime.seq2seq). That needs (1) a `head next_item`
whose input is ``last(S)`` of a sequence S, and (2) an S that is causal: no operator on the way
from the embedding to S may let position t see a later one, or the output at t would already
hold the item it is trained to predict. Every operator that can produce a sequence is classified
below (a test holds the tables to the operator list); a choice counts when any option looks ahead.
"""
from __future__ import annotations

from nasc.compiler.program import Apply, BlocksDef, HeadDef, InputDef, NameRef, NodeDef, OpUse

# Outputs at t read only position t (row-wise maps, normalisations, the embedding).
POSITIONWISE = frozenset({"embed", "zero", "none", "layer_norm", "identity", "relu", "gelu",
                          "swish", "sigmoid", "tanh", "feed_forward"})
# Read positions <= t only.
CAUSAL = frozenset({"gru", "causal_attention"})
# Windows centred on t (SAME padding): causal when they hold t alone or are written causal=true.
WINDOWED = frozenset({"conv", "dilated_conv", "avg_pool", "max_pool"})
# Always read later positions (or, for dice, statistics of the whole batch and sequence).
LOOKAHEAD = frozenset({"bigru", "bi_attention", "target_attention", "dice"})
# `transformer` is causal unless written with causal=false.


def sees_later_positions(op: OpUse) -> bool:
    if op.name == "transformer":
        return not op.param("causal", True)
    if op.name in WINDOWED:
        return int(op.param("kernel", 3)) > 1 and not op.param("causal", False)
    return op.name not in POSITIONWISE | CAUSAL  # LOOKAHEAD, and anything not classified


def seq2seq_problem(head: HeadDef, bindings: dict, objective: str = "seq2seq",
                    setting: str = "objective") -> tuple[str, str] | None:
    """(message, hint) saying why the model cannot train with ``objective`` (seq2seq, or cloze:
    BERT4Rec's masked items, predicted at their own positions, so the sequence may look both
    ways), or None when it can. ``setting``: the setting that asked for it (a search's
    `supernet_objective`)."""
    pooled = _defining_expr(head.inputs[0], bindings) if head.inputs else None
    if not (isinstance(pooled, Apply) and pooled.op.fixed and pooled.op.options[0].name == "last"):
        what = "the next item" if objective == "seq2seq" else "the masked items"
        return (f"`{setting} {objective}` scores {what} at every position of the sequence the "
                "head pools, but this head's input is not `last(S)` of a sequence S",
                "end the model with `user = last(h)` and `head next_item(user)`, or train with "
                f"`{setting} last_state`")
    if objective == "cloze":
        return None
    found = _lookahead(pooled.args[0], bindings, "the pooled sequence")
    if found is not None:
        op, where = found
        return (f"`{setting} seq2seq` needs a causal sequence, but `{op.text()}` in {where} lets "
                "position t see later positions (its output at t would know the item it is "
                "trained to predict)",
                "use causal layers (`transformer`, `gru`, `causal_attention`, `causal=true` windows) "
                f"or `{setting} last_state`")
    return None


def _defining_expr(expr, bindings: dict):
    """Follow names to the expression that computes them (a node's own)."""
    while isinstance(expr, NameRef) and isinstance(bindings.get(expr.name), NodeDef):
        expr = bindings[expr.name].expr
    return expr


def _lookahead(expr, bindings: dict, where: str) -> tuple[OpUse, str] | None:
    """The first operator upstream of ``expr`` that sees later positions, with where it is."""
    if isinstance(expr, Apply):
        for op in expr.op.options:
            if sees_later_positions(op):
                return op, where
        for arg in expr.args:
            found = _lookahead(arg, bindings, where)
            if found is not None:
                return found
        return None
    binding = bindings.get(expr.name)
    if isinstance(binding, InputDef) or binding is None:
        return None
    if isinstance(binding, NodeDef):
        return _lookahead(binding.expr, bindings, f"node `{binding.name}`")
    if isinstance(binding, BlocksDef):
        for block in binding.blocks:
            for choice in (block.norm, block.layer, block.act):
                for op in choice.options:
                    if sees_later_positions(op):
                        return op, f"blocks `{binding.name}`"
        return _lookahead(binding.input, bindings, f"blocks `{binding.name}`")
    return None  # cells, interactions and MLPs make matrices and vectors: no sequence reads them
