"""The model's constructs, one method each: cell, blocks, interactions, mlp and head, with the
settings each reads from its body (``nasc.compiler.settings.CONSTRUCTS``)."""
from __future__ import annotations

from nasc.compiler import ir
from nasc.compiler.operators import KIND_WORDS
from nasc.compiler.program import (
    BlockDef, BlocksDef, CellDef, Expr, HeadDef, InteractionsDef, LayerDef, MlpDef, ShortcutDef,
    WidthChoice,
)
from nasc.compiler.resolve_nodes import NodeResolver
from nasc.compiler.resolve_state import Abort, did_you_mean, number_text
from nasc.compiler.settings import CONSTRUCTS, HEAD_TASKS


class ConstructResolver(NodeResolver):
    def construct_inputs(self, stmt: ir.Construct, kinds: tuple[str, ...], count: str,
                         label: str) -> tuple[Expr, ...]:
        if stmt.params and stmt.type != "blocks":
            raise self.fail(stmt.params[0].span, f"`{stmt.type}` takes no named inputs")
        if count == "1" and len(stmt.args) != 1 or count == "1+" and not stmt.args:
            raise self.fail(stmt.span, f"`{stmt.type} {stmt.name}` takes "
                                       f"{'one input' if count == '1' else 'one or more inputs'}, "
                                       f"got {len(stmt.args)}")
        exprs = tuple(self.expr(a, label) for a in stmt.args)
        for arg, expr in zip(stmt.args, exprs):
            if expr.kind not in kinds and expr.kind != "?":
                hint = "flatten it first: flatten(x)" if expr.kind == "matrix" and \
                    "vector" in kinds else None
                raise self.fail(arg.span, f"`{stmt.type}` expects "
                                          f"{' or '.join(KIND_WORDS[k] for k in kinds)}, "
                                          f"got {KIND_WORDS.get(expr.kind, expr.kind)}", hint)
        return exprs

    def cell(self, stmt: ir.Construct) -> CellDef:
        table = CONSTRUCTS["cell"]
        inputs = self.construct_inputs(stmt, ("matrix",), "1+", stmt.name)
        found, _, edge_items = self.body_items(stmt.body, table, f"cell `{stmt.name}`", True)
        nodes = self.value_of(found.get("nodes"), table["nodes"]) or 1
        keep = self.value_of(found.get("keep"), table["keep"])
        norm = self.value_of(found.get("norm"), table["norm"])
        merge = self.value_of(found.get("merge"), table["merge"])
        n_in = len(inputs)
        last = n_in + nodes - 1
        edges = []
        if "edges" in found:
            if edge_items:
                raise self.fail(edge_items[0].span, "a cell either searches every edge (`edges`) "
                                                    "or lists its edges (`edge i -> j`), not both",
                                "remove the `edges` setting or the `edge` lines")
            for j in range(n_in, n_in + nodes):
                for i in range(j):
                    label = f"{stmt.name}.edge{i}_{j}"
                    edges.append((i, j, self.op_choice(found["edges"].value, "edge", label)))
            searched = True
        else:
            if not edge_items:
                raise self.fail(stmt.span, f"cell `{stmt.name}` has no edges",
                                "search them with `edges OPSET`, or list `edge 0 -> 1: OP`")
            seen = {}
            for e in edge_items:
                if not (n_in <= e.dst <= last):
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} ends outside the "
                                            f"intermediate nodes {n_in}..{last}",
                                    f"nodes 0..{n_in - 1} are the inputs; {n_in}..{last} are "
                                    f"the {nodes} intermediate nodes")
                if not (0 <= e.src < e.dst):
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} breaks the DAG order",
                                    "an edge must go from a lower-numbered node to a higher one")
                if (e.src, e.dst) in seen:
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} is listed twice "
                                            f"(first at line {seen[(e.src, e.dst)]})", "keep one")
                seen[(e.src, e.dst)] = e.span.line
                label = f"{stmt.name}.edge{e.src}_{e.dst}"
                edges.append((e.src, e.dst, self.op_choice(e.value, "edge", label)))
            for j in range(n_in, n_in + nodes):
                if not any(dst == j for _, dst, _ in edges):
                    raise self.fail(stmt.span, f"node {j} of cell `{stmt.name}` has no incoming "
                                               "edge", f"add e.g. `edge {j - 1} -> {j}: skip`, "
                                                       "or lower `nodes`")
            searched = False
        kind = "vector" if merge.name == "concat" else "matrix"
        return CellDef(stmt.name, inputs, nodes, searched, tuple(edges), keep, norm, merge, kind)

    def blocks(self, stmt: ir.Construct) -> BlocksDef:
        table = CONSTRUCTS["blocks"]
        where = f"blocks `{stmt.name}`"
        (seq,) = self.construct_inputs(stmt, ("sequence",), "1", stmt.name)
        target = None
        for p in stmt.params:
            if p.name != "target":
                raise self.fail(p.span, f"`blocks` has no named input `{p.name}`",
                                "the only named input is `target=`")
            target = self.expr(p.value, stmt.name)
            if target.kind not in ("vector", "?"):
                raise self.fail(p.value.span, "`target` must be a vector, e.g. embed(target_item)")
        found, nested, _ = self.body_items(stmt.body, table, where)
        depth = self.value_of(found.get("depth"), table["depth"]) or 1
        overrides: dict[int, ir.NestedSetting] = {}
        for item in nested:
            if not isinstance(item.arg, int) or not 1 <= item.arg <= depth:
                raise self.fail(item.span, f"`block {item.arg}` is not a block of {where}",
                                f"blocks are numbered 1..{depth}")
            if item.arg in overrides:
                raise self.fail(item.span, f"`block {item.arg}` is given twice", "merge them")
            overrides[item.arg] = item
        blocks = []
        for b in range(1, depth + 1):
            local, _, _ = self.body_items(overrides[b].body, table["block"].nested,
                                          f"block {b}") if b in overrides else ({}, [], [])
            parts = {}
            for key in ("norm", "layer", "act", "dropout"):
                sig = table[key]
                item = local.get(key, found.get(key))
                parts[key] = self.value_of(item, sig, f"{stmt.name}.block{b}.{key}")
            if parts["layer"] is None:  # no `layer`: reported by body_items as missing
                raise Abort()
            for op in parts["layer"].options:
                if op.name == "target_attention" and target is None:
                    raise self.fail(parts["layer"].span or stmt.span,
                                    "`target_attention` needs a target item",
                                    f"give one: blocks {stmt.name}(seq, target=item)")
            blocks.append(BlockDef(parts["norm"], parts["layer"], parts["act"], parts["dropout"]))
        return BlocksDef(stmt.name, seq, target, tuple(blocks))

    def interactions(self, stmt: ir.Construct) -> InteractionsDef:
        table = CONSTRUCTS["interactions"]
        where = f"interactions `{stmt.name}`"
        (emb,) = self.construct_inputs(stmt, ("matrix",), "1", stmt.name)
        found, _, _ = self.body_items(stmt.body, table, where)
        cycles = self.value_of(found.get("cycles"), table["cycles"])
        survivors = self.value_of(found.get("survivors"), table["survivors"])
        order = self.value_of(found.get("order"), table["order"]) or cycles + 1
        if order > cycles + 1:
            raise self.fail(found["order"].span, f"order {order} cannot be reached in {cycles} "
                                                 f"cycles (each cycle raises the order by one)",
                            f"use `cycles {order - 1}` or a lower order")
        tuples = None
        if "tuples" in found:
            tuples = self.tuples(found["tuples"], order)
        keep_item = found.get("keep")
        if keep_item is None and tuples is None:
            raise self.fail(stmt.span, f"{where} needs `keep` (M) or fixed `tuples`")
        keep = self.value_of(keep_item, table["keep"]) if keep_item else len(tuples)
        if tuples is None and keep > survivors:
            raise self.fail(keep_item.span, f"keep {keep} is more than the {survivors} survivors "
                                            "of each cycle", "raise `survivors` or lower `keep`")
        if tuples is not None and keep_item is not None and keep != len(tuples):
            raise self.fail(keep_item.span, f"keep {keep} but {len(tuples)} tuples are listed",
                            "drop `keep` when the tuples are fixed")
        return InteractionsDef(stmt.name, emb, cycles, survivors, keep, order, tuples)

    def tuples(self, item: ir.Setting, order: int) -> tuple[tuple[str, ...], ...]:
        value = item.value
        items = value.items if isinstance(value, (ir.Set, ir.List)) else (value,)
        out: list[tuple[str, ...]] = []
        for v in items:
            if not isinstance(v, ir.Product):
                raise self.fail(v.span, "an interaction is a product of fields: `a * b`")
            if len(set(v.names)) != len(v.names):
                raise self.fail(v.span, "a field appears twice in this interaction",
                                "an interaction multiplies distinct fields")
            if len(v.names) > order:
                raise self.fail(v.span, f"this interaction has order {len(v.names)}, above the "
                                        f"highest order {order}")
            key = tuple(sorted(v.names))
            if key in {tuple(sorted(t)) for t in out}:
                raise self.fail(v.span, "this interaction is listed twice", "keep one")
            out.append(tuple(v.names))
        return tuple(out)

    def mlp(self, stmt: ir.Construct) -> MlpDef:
        table = CONSTRUCTS["mlp"]
        where = f"mlp `{stmt.name}`"
        (x,) = self.construct_inputs(stmt, ("vector",), "1", stmt.name)
        found, nested, _ = self.body_items(stmt.body, table, where)
        n_layers = self.value_of(found.get("layers"), table["layers"]) or 0
        if n_layers and "width" not in found and not nested:
            raise self.fail(stmt.span, f"{where} needs `width`",
                            "an integer (`width 400`), a fraction of the input width "
                            "(`width 0.5`), or a set of them")
        overrides: dict[int, ir.NestedSetting] = {}
        for item in nested:
            if not isinstance(item.arg, int) or not 1 <= item.arg <= n_layers:
                raise self.fail(item.span, f"`layer {item.arg}` is not a layer of {where}",
                                f"layers are numbered 1..{n_layers}")
            overrides[item.arg] = item
        layers, kinds = [], set()
        for n in range(1, n_layers + 1):
            local, _, _ = self.body_items(overrides[n].body, table["layer"].nested,
                                          f"layer {n}") if n in overrides else ({}, [], [])
            width_item = local.get("width", found.get("width"))
            if width_item is None:
                raise self.fail(overrides[n].span if n in overrides else stmt.span,
                                f"layer {n} of {where} has no width",
                                f"give `width` to the mlp or to `layer {n} {{ ... }}`")
            width = self.widths(width_item, f"{stmt.name}.layer{n}.width")
            kinds.update(isinstance(w, float) for w in width.options)
            act = self.value_of(local.get("act", found.get("act")), table["act"],
                                f"{stmt.name}.layer{n}.act")
            layers.append(LayerDef(width, act))
        if len(kinds) > 1:
            raise self.fail(found.get("width", stmt).span, "widths mix integers and fractions",
                            "use integers (absolute widths) or fractions of the input width "
                            "(0 < w <= 1), not both")
        monotone = self.value_of(found.get("monotone"), table["monotone"])
        if monotone:
            self.check_monotone(layers, where)
        shortcut = self.shortcut(found["shortcut"]) if "shortcut" in found else None
        return MlpDef(stmt.name, x, tuple(layers), kinds == {True}, monotone,
                      self.value_of(found.get("dropout"), table["dropout"]),
                      self.value_of(found.get("batch_norm"), table["batch_norm"]), shortcut)

    def widths(self, item: ir.Setting, label: str) -> WidthChoice:
        value = item.value
        items = value.items if isinstance(value, ir.Set) else (value,)
        options = []
        for v in items:
            if isinstance(v, ir.Int) and v.value >= 1:
                options.append(v.value)
            elif isinstance(v, ir.Float) and 0.0 < v.value <= 1.0:
                options.append(v.value)
            else:
                raise self.fail(v.span, "a width is an integer >= 1 or a fraction in (0, 1]",
                                "e.g. `width 400`, `width 0.5` or `width { 0.25, 0.5, 1.0 }`")
        if len(set(options)) != len(options):
            raise self.fail(value.span, "a width appears twice in this set", "remove it")
        return WidthChoice(label, tuple(options), value.span)

    def check_monotone(self, layers: list[LayerDef], where: str) -> None:
        for n in range(1, len(layers)):
            prev, cur = layers[n - 1].width, layers[n].width
            if min(cur.options) > max(prev.options):
                span = cur.span
                raise self.fail(span, f"layer {n + 1} of {where} is wider ({number_text(min(cur.options))}) "
                                      f"than layer {n} ({number_text(max(prev.options))}), but the mlp "
                                      "is `monotone`",
                                "widths must not increase; fix the widths or drop `monotone`")

    def shortcut(self, item: ir.Setting) -> ShortcutDef:
        call = item.value
        if not isinstance(call, ir.Call) or call.name != "se":
            raise self.fail(item.span, "the shortcut is written `se(inputs..., expansion=1.0)`")
        if not call.args:
            raise self.fail(call.span, "`se` needs the field matrices it recalibrates",
                            "e.g. `shortcut se(emb, cross)`")
        exprs = []
        for a in call.args:
            e = self.expr(a, "shortcut")
            if e.kind not in ("matrix", "?"):
                raise self.fail(a.span, f"`se` expects field matrices, got {KIND_WORDS[e.kind]}")
            exprs.append(e)
        expansion = 1.0
        for p in call.params:
            if p.name != "expansion":
                raise self.fail(p.span, f"`se` has no option `{p.name}`", "it takes `expansion`")
            expansion = self.scalar(p.value, "float", 0.01, 100.0, "`expansion`")
        return ShortcutDef(tuple(exprs), expansion)

    def head(self, stmt: ir.Construct) -> HeadDef:
        if stmt.name not in HEAD_TASKS:
            raise self.fail(stmt.span, f"unknown task `{stmt.name}`",
                            did_you_mean(stmt.name, HEAD_TASKS) or
                            "tasks: " + ", ".join(HEAD_TASKS))
        kinds = ("logit", "vector", "matrix") if stmt.name == "ctr" else ("vector",)
        inputs = self.construct_inputs(stmt, kinds, "1+", "head")
        found, _, _ = self.body_items(stmt.body, CONSTRUCTS["head"], "the head")
        items = self.value_of(found.get("items"), CONSTRUCTS["head"]["items"])
        projection = self.value_of(found.get("projection"), CONSTRUCTS["head"]["projection"])
        if stmt.name == "next_item":
            if len(inputs) != 1:
                raise self.fail(stmt.span, "`head next_item` takes one user vector")
            if items is None:
                raise self.fail(stmt.span, "`head next_item` needs `items NAME`",
                                "name the sequence embedding whose table scores the items")
            sym = self.symbols.get(items)
            if sym is None or sym.kind != "sequence":
                raise self.fail(found["items"].span, "`items` must name a sequence embedding")
            sym.used = True
        else:
            for key in ("items", "projection"):
                if key in found:
                    self.error(found[key].span, f"`{key}` is only for `head next_item`")
        return HeadDef(stmt.name, inputs, items, projection)
