"""Fix some labelled choices of a search space and leave the rest open.

Every progressive strategy (fix what a stage chose, search the rest) and the end of every
``nasc search`` (write the chosen architecture as a fixed ``arch.nas``) go through
:func:`fix_spec`: it rewrites the IR so that
the fixed choices are written as plain operators, widths and tuples, and the result prints with
``printer.print_spec`` to a spec that the checks accept again.

An :data:`Assignment` maps a choice's label (see ``space.choices``) to its value:

  ``cell.nodeJ``                 searched cell node J: the inputs it keeps, each with its operator,
                                 ``((0, "fm"), (2, "self_attention(heads=2)"))``; distinct inputs
                                 < J, exactly ``min(keep, J)`` of them (any order; written sorted)
  ``cell.edgeI_J``               the operator text (``OpUse.text()``) of one option
  ``stack.blockB.norm|layer|act``, ``mlp.layerN.act``, a node's name (``x = opset(emb)``): the
                                 operator text of one option
  ``mlp.layerN.width``           the width, one of the options (int or float)
  ``cross.tuples``               ``(("f0", "f1"), ("f2", "f3", "f4"))``: ``keep`` distinct products
                                 of 2..order distinct field names

Labels left out stay open. Labels of choices that are already fixed are accepted when the value
is that single option (nothing is rewritten for them). An unknown label or a value that is not
one of the options raises ``ValueError``: a malformed assignment is a bug of the caller, not a
mistake in a spec.

No torch here: this is front-end code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nasc.compiler import ir
from nasc.compiler.operators import OPERATORS
from nasc.compiler.program import (
    Apply, BlocksDef, CellDef, InteractionsDef, MlpDef, NodeDef, OpChoice, OpUse, Program,
    WidthChoice,
)
from nasc.compiler.sampling import count_monotone
from nasc.compiler.settings import CONSTRUCTS

Assignment = dict[str, object]  # label -> chosen value

__all__ = ["Assignment", "fix_spec", "assignment_of_fixed", "from_json", "op_value"]

_BLOCK_PARTS = ("norm", "layer", "act")
_LAYER_PARTS = ("width", "act")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"true", "false"}
_DEFAULT_ORDER = 5  # interactions: cycles defaults to 4, order to cycles + 1


# ------------------------------------------------------------------------------ operator values
def op_value(op: OpUse) -> ir.Ref | ir.Call:
    """The IR value a spec writes for ``op``: a bare name, or a call with its non-default
    parameters (exactly what ``OpUse.text()`` shows)."""
    sig = OPERATORS.get(op.name)
    params = []
    for key, value in op.params:
        psig = sig.param(key) if sig is not None else None
        if psig is not None and psig.default == value:
            continue
        params.append(ir.Param(name=key, value=_py_value(value, psig.type if psig else None)))
    if not params:
        return ir.Ref(name=op.name)
    return ir.Call(name=op.name, params=tuple(params))


def _py_value(value, type_: str | None) -> ir.Value:
    if type_ == "enum" or isinstance(value, str):
        return ir.Ref(name=str(value))
    if isinstance(value, bool):
        return ir.Bool(value=value)
    if isinstance(value, int):
        return ir.Int(value=value)
    if isinstance(value, float):
        return ir.Float(value=value)
    if isinstance(value, (list, tuple)):
        item_type = {"int_list": "int", "float_list": "float"}.get(type_ or "")
        return ir.List(items=tuple(_py_value(v, item_type) for v in value))
    raise TypeError(f"cannot write parameter value {value!r}")


def _width_value(w) -> ir.Value:
    return ir.Float(value=float(w)) if isinstance(w, float) else ir.Int(value=int(w))


# --------------------------------------------------------------------------------- label index
@dataclass(frozen=True)
class _Slot:
    """Where a label lives in the program."""

    label: str
    kind: str  # op | width | cell_node | tuples
    owner: str
    choice: OpChoice | WidthChoice | None = None
    cell: CellDef | None = None
    node: int = 0  # cell node index J
    inter: InteractionsDef | None = None

    @property
    def open(self) -> bool:
        if self.kind == "cell_node":
            return self.cell.searched
        if self.kind == "tuples":
            return self.inter.tuples is None
        return not self.choice.fixed


def _index(program: Program) -> dict[str, _Slot]:
    slots: dict[str, _Slot] = {}

    def add(slot: _Slot) -> None:
        slots[slot.label] = slot

    for b in program.bindings:
        if isinstance(b, NodeDef):
            if isinstance(b.expr, Apply):
                add(_Slot(b.expr.op.label, "op", b.name, choice=b.expr.op))
        elif isinstance(b, CellDef):
            if b.searched:
                for j in b.intermediate():
                    add(_Slot(b.node_label(j), "cell_node", b.name, cell=b, node=j))
            else:
                for _, _, choice in b.edges:
                    add(_Slot(choice.label, "op", b.name, choice=choice))
        elif isinstance(b, BlocksDef):
            for block in b.blocks:
                for part in (block.norm, block.layer, block.act):
                    add(_Slot(part.label, "op", b.name, choice=part))
        elif isinstance(b, InteractionsDef):
            add(_Slot(b.label, "tuples", b.name, inter=b))
        elif isinstance(b, MlpDef):
            for layer in b.layers:
                add(_Slot(layer.width.label, "width", b.name, choice=layer.width))
                add(_Slot(layer.act.label, "op", b.name, choice=layer.act))
    return slots


# ---------------------------------------------------------------------------- value validation
def _op_option(slot: _Slot, value) -> OpUse:
    if isinstance(value, OpUse):
        value = value.text()
    if not isinstance(value, str):
        raise ValueError(f"`{slot.label}`: expected an operator text such as "
                         f"{slot.choice.options[0].text()!r}, got {value!r}")
    for option in slot.choice.options:
        if option.text() == value:
            return option
    raise ValueError(f"`{slot.label}`: {value!r} is not one of its options "
                     f"({', '.join(o.text() for o in slot.choice.options)})")


def _width_option(slot: _Slot, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{slot.label}`: a width is a number, got {value!r}")
    for option in slot.choice.options:
        if option == value:
            return option
    raise ValueError(f"`{slot.label}`: width {value!r} is not one of its options "
                     f"({', '.join(str(o) for o in slot.choice.options)})")


def _cell_node(slot: _Slot, value) -> tuple[tuple[int, OpUse], ...]:
    cell, j = slot.cell, slot.node
    want = min(cell.keep, j)
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"`{slot.label}`: expected a tuple of (input, operator) pairs, "
                         f"got {value!r}")
    options = {o.text(): o for o in cell.edges[0][2].options}
    kept: dict[int, OpUse] = {}
    for pair in value:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"`{slot.label}`: {pair!r} is not an (input, operator) pair")
        i, op = pair
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < j:
            raise ValueError(f"`{slot.label}`: input {i!r} is not one of the inputs 0..{j - 1} "
                             f"of node {j}")
        if i in kept:
            raise ValueError(f"`{slot.label}`: input {i} is kept twice")
        if isinstance(op, OpUse):
            op = op.text()
        if op not in options:
            raise ValueError(f"`{slot.label}`: {op!r} is not one of its operators "
                             f"({', '.join(options)})")
        kept[i] = options[op]
    if len(kept) != want:
        raise ValueError(f"`{slot.label}`: node {j} keeps exactly {want} input(s), "
                         f"got {len(kept)}")
    return tuple(sorted(kept.items()))


def _tuples(slot: _Slot, value) -> tuple[tuple[str, ...], ...]:
    inter = slot.inter
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"`{slot.label}`: expected a tuple of field-name tuples, got {value!r}")
    out: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for t in value:
        if not isinstance(t, (tuple, list)) or not all(isinstance(f, str) for f in t):
            raise ValueError(f"`{slot.label}`: {t!r} is not a tuple of field names")
        for f in t:
            if not _NAME.match(f) or f in _KEYWORDS:
                raise ValueError(f"`{slot.label}`: {f!r} is not a valid field name")
        if not 2 <= len(t) <= inter.order:
            raise ValueError(f"`{slot.label}`: {t!r} has order {len(t)}, outside 2..{inter.order}")
        if len(set(t)) != len(t):
            raise ValueError(f"`{slot.label}`: a field appears twice in {t!r}")
        if frozenset(t) in seen:
            raise ValueError(f"`{slot.label}`: the interaction {t!r} is listed twice")
        seen.add(frozenset(t))
        out.append(tuple(t))
    if len(out) != inter.keep:
        raise ValueError(f"`{slot.label}`: keeps exactly {inter.keep} interactions, got {len(out)}")
    return tuple(out)


def _validate(program: Program, assignment: Assignment) -> tuple[dict[str, _Slot], dict]:
    """Check every label and value; return the index and the normalised values of open
    choices (labels of already fixed choices are checked, then dropped)."""
    if not isinstance(assignment, dict):
        raise ValueError(f"an assignment is a dict label -> value, got {type(assignment).__name__}")
    slots = _index(program)
    values: dict[str, object] = {}
    for label, value in assignment.items():
        slot = slots.get(label)
        if slot is None:
            raise ValueError(f"unknown label `{label}` in model `{program.name}`")
        if slot.kind == "op":
            norm = _op_option(slot, value)
        elif slot.kind == "width":
            norm = _width_option(slot, value)
        elif slot.kind == "cell_node":
            norm = _cell_node(slot, value)
        else:
            if slot.inter.tuples is not None:
                fixed = slot.inter.tuples
                if not isinstance(value, (tuple, list)) or not all(
                        isinstance(t, (tuple, list)) for t in value) or \
                        tuple(map(tuple, value)) != fixed:
                    raise ValueError(f"`{label}` is fixed to {fixed!r}, got {value!r}")
                continue
            norm = _tuples(slot, value)
        if slot.open:
            values[label] = norm
    # A searched cell is fixed all at once: a partly fixed cell cannot be written (`edges` and
    # explicit `edge` lines exclude each other, and `keep` applies to every node).
    for b in program.bindings:
        if isinstance(b, CellDef) and b.searched:
            labels = [b.node_label(j) for j in b.intermediate()]
            given = [lab for lab in labels if lab in values]
            if given and len(given) != len(labels):
                missing = [lab for lab in labels if lab not in values]
                raise ValueError(f"cell `{b.name}` must be fixed all at once: "
                                 f"{', '.join(missing)} missing")
        if isinstance(b, MlpDef) and b.monotone:
            opts = [([values[l.width.label]] if l.width.label in values else list(l.width.options))
                    for l in b.layers]
            if b.layers and count_monotone(opts) == 0:
                raise ValueError(f"mlp `{b.name}` is `monotone`, but no non-increasing width "
                                 "sequence fits the fixed widths")
    return slots, values


# --------------------------------------------------------------------------------- fix the spec
def fix_spec(spec: ir.Spec, program: Program, assignment: Assignment, *,
             drop_search: bool = False) -> ir.Spec:
    """``spec`` with the choices named in ``assignment`` fixed; every other choice stays open.

    ``program`` is the checked program of ``spec``. Rewrites:
      * searched cell: ``edges S`` and ``keep k`` become one ``edge i -> j: op`` line per kept
        input (ordered by j, then i). Its node labels must be fixed all together or not at all
        (a partly fixed cell cannot be written: ValueError).
      * an edge choice, a node-level choice: the set / opset becomes the chosen operator.
      * blocks and mlp layers: chosen parts go to ``block N { ... }`` / ``layer N { ... }``
        overrides; once every part of every block (layer) is fixed the output is compacted:
        the top-level settings take block (layer) 1's values and only differing blocks
        (layers) keep overrides.
      * interactions: ``cycles/survivors/keep/order`` become ``tuples { a * b, ... }``
        (``cycles``/``order`` stay when a tuple's order exceeds the default 5).
      * opsets no longer referenced are removed (with their comments).
      * ``search``: stages naming a construct that has no open choice left are removed;
        ``drop_search=True`` removes the whole block. A fully fixed spec that keeps its
        ``search`` block does not pass the checks (nothing left to search): export with
        ``drop_search=True``.
    A replaced setting keeps the comments of the settings it replaces.
    """
    if spec.model is None or spec.model.name != program.name:
        raise ValueError("the spec and the program do not belong together")
    slots, values = _validate(program, assignment)
    statements = []
    for stmt in spec.model.statements:
        if isinstance(stmt, ir.Node):
            stmt = _fix_node(stmt, slots, values)
        elif isinstance(stmt, ir.Construct) and stmt.body is not None:
            try:
                binding = program.binding(stmt.name)
            except KeyError:
                binding = None
            if isinstance(binding, CellDef):
                stmt = _fix_cell(stmt, binding, values)
            elif isinstance(binding, BlocksDef):
                stmt = _fix_blocks(stmt, binding, values)
            elif isinstance(binding, InteractionsDef):
                stmt = _fix_interactions(stmt, binding, values)
            elif isinstance(binding, MlpDef):
                stmt = _fix_mlp(stmt, binding, values)
        statements.append(stmt)
    used = set()
    for stmt in statements:
        if not isinstance(stmt, ir.OpSet):
            _names(stmt, used)
    statements = [s for s in statements if not isinstance(s, ir.OpSet) or s.name in used]
    model = spec.model.model_copy(update={"statements": tuple(statements)})

    search = spec.search
    if drop_search:
        search = None
    elif search is not None:
        search = _fix_search(search, program, values)
    return spec.model_copy(update={"model": model, "search": search})


def _names(node, out: set[str]) -> None:
    """Every name a statement refers to (refs and call names, at any depth)."""
    if isinstance(node, ir.Ref):
        out.add(node.name)
    elif isinstance(node, ir.Call):
        out.add(node.name)
    if isinstance(node, ir.IRNode):
        for key in type(node).model_fields:
            _names(getattr(node, key), out)
    elif isinstance(node, (tuple, list)):
        for x in node:
            _names(x, out)


def _fix_node(stmt: ir.Node, slots, values) -> ir.Node:
    op = values.get(stmt.name)
    if op is None or not isinstance(stmt.value, ir.Call):
        return stmt
    new = op_value(op)
    params = new.params if isinstance(new, ir.Call) else ()
    call = stmt.value.model_copy(update={"name": op.name, "params": params})
    return stmt.model_copy(update={"value": call})


def _fix_cell(stmt: ir.Construct, cell: CellDef, values) -> ir.Construct:
    body = stmt.body
    if cell.searched:
        if cell.node_label(cell.num_inputs) not in values:
            return stmt
        edges = []
        for j in cell.intermediate():
            for i, op in values[cell.node_label(j)]:
                edges.append(ir.EdgeSetting(src=i, dst=j, value=op_value(op)))
        replaced = [it for it in body.items
                    if isinstance(it, ir.Setting) and it.key in ("edges", "keep")]
        comments = []
        for it in replaced:
            comments.extend(it.comments)
        notes = [it.note for it in replaced if it.note]
        comments.extend(notes[1:])
        edges[0] = edges[0].model_copy(update={"comments": tuple(comments),
                                               "note": notes[0] if notes else None})
        items = []
        for it in body.items:
            if it is replaced[0]:
                items.extend(edges)
            elif not any(it is r for r in replaced):
                items.append(it)
        return stmt.model_copy(update={"body": body.model_copy(update={"items": tuple(items)})})
    items = []
    for it in body.items:
        if isinstance(it, ir.EdgeSetting):
            op = values.get(f"{cell.name}.edge{it.src}_{it.dst}")
            if op is not None:
                it = it.model_copy(update={"value": op_value(op)})
        items.append(it)
    return stmt.model_copy(update={"body": body.model_copy(update={"items": tuple(items)})})


def _fix_interactions(stmt: ir.Construct, inter: InteractionsDef, values) -> ir.Construct:
    chosen = values.get(inter.label)
    if chosen is None:
        return stmt
    body = stmt.body
    keep_order = max(len(t) for t in chosen) > _DEFAULT_ORDER
    drop = {"survivors", "keep"} | (set() if keep_order else {"cycles", "order"})
    replaced = [it for it in body.items if isinstance(it, ir.Setting) and it.key in drop]
    comments = []
    for it in replaced:
        comments.extend(it.comments)
    notes = [it.note for it in replaced if it.note]
    comments.extend(notes[1:])
    products = ir.Set(items=tuple(ir.Product(names=t) for t in chosen))
    tuples = ir.Setting(key="tuples", value=products,
                        comments=tuple(comments), note=notes[0] if notes else None)
    items = []
    for it in body.items:
        if replaced and it is replaced[0]:
            items.append(tuples)
        elif not any(it is r for r in replaced):
            items.append(it)
    if not replaced:
        items.append(tuples)
    return stmt.model_copy(update={"body": body.model_copy(update={"items": tuple(items)})})


def _fix_blocks(stmt: ir.Construct, b: BlocksDef, values) -> ir.Construct:
    final, assigned = {}, set()
    for n, block in enumerate(b.blocks, start=1):
        for part in _BLOCK_PARTS:
            choice: OpChoice = getattr(block, part)
            if choice.label in values:
                final[(n, part)] = op_value(values[choice.label])
                assigned.add((n, part))
            else:
                final[(n, part)] = op_value(choice.options[0]) if choice.fixed else None
    defaults = {"norm": ir.Ref(name="none"), "layer": None, "act": ir.Ref(name="identity")}
    body = _fix_per_item(stmt.body, "blocks", "block", len(b.blocks), _BLOCK_PARTS, final, assigned,
                         defaults)
    return stmt.model_copy(update={"body": body})


def _fix_mlp(stmt: ir.Construct, m: MlpDef, values) -> ir.Construct:
    final, assigned = {}, set()
    for n, layer in enumerate(m.layers, start=1):
        for part, choice, to_ir in (("width", layer.width, _width_value),
                                    ("act", layer.act, op_value)):
            if choice.label in values:
                final[(n, part)] = to_ir(values[choice.label])
                assigned.add((n, part))
            else:
                final[(n, part)] = to_ir(choice.options[0]) if choice.fixed else None
    defaults = {"width": None, "act": ir.Ref(name="relu")}
    body = _fix_per_item(stmt.body, "mlp", "layer", len(m.layers), _LAYER_PARTS, final, assigned,
                         defaults)
    return stmt.model_copy(update={"body": body})


def _fix_per_item(body: ir.Body, construct: str, nested_key: str, count: int,
                  parts: tuple[str, ...], final: dict, assigned: set, defaults: dict) -> ir.Body:
    """Write per-block (per-layer) choices into ``nested_key N { ... }`` overrides.

    ``final[(n, part)]`` is the IR value of a fixed part or None for an open one; ``assigned``
    the parts fixed by this call. Returns the new body (``body`` itself when nothing changes).
    """
    if not assigned:
        return body
    table = CONSTRUCTS[construct]
    items = list(body.items)
    decisions: dict[int, dict[str, ir.Value | None]] = {}  # None: remove the override
    for p in parts:
        if not any(part == p for _, part in assigned):
            continue
        if not all(final[(n, p)] is not None for n in range(1, count + 1)):
            for n in range(1, count + 1):
                if (n, p) in assigned:
                    decisions.setdefault(n, {})[p] = final[(n, p)]
            continue
        # Every block (layer) has this part fixed: the top-level setting takes block 1's value
        # (it would otherwise be dead, and an opset it names would count as unused) and only
        # the blocks that differ keep an override.
        base = final[(1, p)]
        pos = _top_level(items, p)
        if pos is not None:
            if items[pos].value != base:
                items[pos] = items[pos].model_copy(update={"value": base})
        elif defaults[p] is None or base != defaults[p]:
            _insert(items, ir.Setting(key=p, value=base), list(table))
        for n in range(1, count + 1):
            decisions.setdefault(n, {})[p] = final[(n, p)] if final[(n, p)] != base else None
    for n, decided in decisions.items():
        pos = next((k for k, it in enumerate(items) if isinstance(it, ir.NestedSetting)
                    and it.key == nested_key and it.arg == n), None)
        if pos is None:
            new_items = [ir.Setting(key=p, value=v) for p, v in decided.items() if v is not None]
            if not new_items:
                continue
            nested = ir.NestedSetting(key=nested_key, arg=n, body=ir.Body(items=tuple(new_items)))
            later = [k for k, it in enumerate(items) if isinstance(it, ir.NestedSetting)
                     and it.key == nested_key and isinstance(it.arg, int) and it.arg > n]
            earlier = [k for k, it in enumerate(items) if isinstance(it, ir.NestedSetting)
                       and it.key == nested_key]
            at = later[0] if later else (earlier[-1] + 1 if earlier else len(items))
            items.insert(at, nested)
            continue
        nested = items[pos]
        sub = []
        done = set()
        for it in nested.body.items:
            if isinstance(it, ir.Setting) and it.key in decided:
                done.add(it.key)
                value = decided[it.key]
                if value is None:
                    continue
                if it.value != value:
                    it = it.model_copy(update={"value": value})
            sub.append(it)
        for p, v in decided.items():
            if p not in done and v is not None:
                _insert(sub, ir.Setting(key=p, value=v), list(table[nested_key].nested))
        if not sub and not nested.body.end_comments:
            del items[pos]  # an override left empty goes, with its comments
        else:
            items[pos] = nested.model_copy(
                update={"body": nested.body.model_copy(update={"items": tuple(sub)})})
    return body.model_copy(update={"items": tuple(items)})


def _insert(items: list, item: ir.Setting, order: list[str]) -> None:
    """Insert ``item`` where its construct's table puts its key: before the first setting whose
    key comes later in the table, else after the last plain setting."""
    rank = order.index(item.key)
    for k, it in enumerate(items):
        if it.key in order and order.index(it.key) > rank:
            items.insert(k, item)
            return
    last = max((k for k, it in enumerate(items) if isinstance(it, ir.Setting)), default=-1)
    items.insert(last + 1, item)


def _top_level(items: list, key: str) -> int | None:
    found = None
    for k, it in enumerate(items):
        if isinstance(it, ir.Setting) and it.key == key:
            found = k
    return found


def _fix_search(search: ir.Search, program: Program, values) -> ir.Search:
    from nasc.compiler.space import choices

    owners = {c.owner for c in choices(program)}
    still_open = {c.owner for c in choices(program) if c.label not in values}
    items = [it for it in search.body.items
             if not (isinstance(it, ir.NestedSetting) and it.key == "stage"
                     and it.arg in owners and it.arg not in still_open)]
    if len(items) == len(search.body.items):
        return search
    body = search.body.model_copy(update={"items": tuple(items)})
    return search.model_copy(update={"body": body})


# --------------------------------------------------------------------------- fixed -> assignment
def assignment_of_fixed(program: Program) -> Assignment:
    """The choices a fully fixed program makes, in the label scheme of :data:`Assignment`.

    A superset of any space's labels: every cell gives its node labels (``cell.nodeJ`` -> its
    incoming edges sorted by input) and, for a cell written with explicit edges, its edge labels
    too; every node with an operator gives its own name (e.g. ``emb`` -> ``embed(dim=4)``); blocks
    and mlp parts and fixed interaction tuples give theirs. Restrict it to the labels of the space
    it came from to recover the assignment ``fix_spec`` was given. Raises ValueError when the
    program still has open choices.
    """
    from nasc.compiler.space import choices

    still = [c.label for c in choices(program)]
    if still:
        raise ValueError("the program is not fully fixed; open: " + ", ".join(still))
    out: Assignment = {}
    for b in program.bindings:
        if isinstance(b, NodeDef):
            if isinstance(b.expr, Apply):
                out[b.expr.op.label] = b.expr.op.options[0].text()
        elif isinstance(b, CellDef):
            for j in b.intermediate():
                out[b.node_label(j)] = tuple(sorted((i, c.options[0].text())
                                                    for i, dst, c in b.edges if dst == j))
            if not b.searched:
                for _, _, c in b.edges:
                    out[c.label] = c.options[0].text()
        elif isinstance(b, BlocksDef):
            for block in b.blocks:
                for part in (block.norm, block.layer, block.act):
                    out[part.label] = part.options[0].text()
        elif isinstance(b, InteractionsDef):
            out[b.label] = b.tuples
        elif isinstance(b, MlpDef):
            for layer in b.layers:
                out[layer.width.label] = layer.width.options[0]
                out[layer.act.label] = layer.act.options[0].text()
    return out


def from_json(value):
    """An assignment read from JSON (choices.json, a --start file): lists back into the
    tuples an assignment holds."""
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(from_json(v) for v in value)
    return value
