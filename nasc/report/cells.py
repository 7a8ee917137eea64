"""A cell as a DAG (as AutoPI's Fig. 4, DARTS' genotype plots): the input nodes on the left,
the intermediate nodes in layers by their longest path from an input, the output on the right;
each edge labelled with its operator (a found cell) or drawn faint (a searched one, whose edges
all stay candidates)."""
from __future__ import annotations

from pathlib import Path

from nasc.compiler.program import CellDef, NameRef
from nasc.report.canvas import pyplot, save_png

_COLOURS = {"input": "#cfe2f3", "node": "#fff2cc", "output": "#d9ead3"}


def _expr_name(expr) -> str:
    return expr.name if isinstance(expr, NameRef) else expr.op.label


def _layers(cell: CellDef) -> dict[int, int]:
    """Node -> layer: inputs 0, each other node one past its deepest kept input."""
    layer = {i: 0 for i in range(cell.num_inputs)}
    for j in cell.intermediate():
        sources = [layer[i] for i, k, _ in cell.edges if k == j and i in layer]
        layer[j] = 1 + max(sources, default=0)
    return layer


def _positions(cell: CellDef) -> dict:
    layer = _layers(cell)
    layer["out"] = max(layer.values()) + 1
    columns: dict[int, list] = {}
    for node, col in layer.items():
        columns.setdefault(col, []).append(node)
    pos = {}
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            # Rows 1.6 apart, centred: room for an edge label between two nodes.
            pos[node] = (col * 3.2, (row - (len(nodes) - 1) / 2) * 1.6)
    return pos


def _edge_label(choice) -> str | None:
    if choice.fixed:
        return choice.options[0].text()
    return None  # a searched edge: its options are in the title, not on every edge


def draw_cell(cell: CellDef, path: Path, title: str) -> Path:
    plt = pyplot()
    pos = _positions(cell)
    columns = max(x for x, _ in pos.values()) / 3.2 + 1
    rows = max(sum(1 for p in pos.values() if p[0] == x) for x, _ in pos.values())
    fig, ax = plt.subplots(figsize=(2.6 * columns + 1, 1.5 * rows + 0.5 * columns + 1.2))
    ax.set_aspect("equal")
    ax.axis("off")
    placed = [(x, y, 0.6) for x, y in pos.values()]  # label centres and half-widths so far
    for i, j, choice in cell.edges:
        (x1, y1), (x2, y2) = pos[i], pos[j]
        label = _edge_label(choice)
        # An edge that jumps a layer or runs within one bows downwards, so that it does not run
        # through the nodes between (the output's edges bow upwards, away from these).
        rad = 0.0 if abs(x2 - x1 - 3.2) < 1e-6 else 0.3
        _arrow(ax, (x1, y1), (x2, y2), rad, "#333333" if label else "#bbbbbb", 1.3, "-")
        if label:
            x, y = _label_spot((x1, y1), (x2, y2), rad, 0.07 * len(label) + 0.2, placed)
            placed.append((x, y, 0.07 * len(label) + 0.2))
            ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#999999", lw=0.6))
    for j in cell.intermediate():
        (x1, y1), (x2, y2) = pos[j], pos["out"]
        _arrow(ax, (x1, y1), (x2, y2), 0.0 if x2 - x1 < 3.3 else -0.25, "#6aa84f", 0.9, "--")
    for node, (x, y) in pos.items():
        if node == "out":
            text, kind = f"out\n{cell.merge.text()}", "output"
        elif node < cell.num_inputs:
            text, kind = f"{node}\n{_expr_name(cell.inputs[node])}", "input"
        else:
            text, kind = str(node), "node"
        ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=5,
                bbox=dict(boxstyle="round,pad=0.5", fc=_COLOURS[kind], ec="#555555"))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    # Bows reach rad/2 of their length beyond the nodes: room for them under the title.
    span = max(xs) - min(xs)
    ax.set_ylim(min(ys) - 1.0 - 0.15 * span, max(ys) + 1.0 + 0.13 * span)
    ax.set_title(title, fontsize=10)
    return save_png(fig, path)


def _arrow(ax, start, end, rad, colour, width, style) -> None:
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", shrinkA=20, shrinkB=20, lw=width,
                                color=colour, linestyle=style,
                                connectionstyle=f"arc3,rad={rad}"))


def _label_spot(p0, p2, rad, half_width, placed) -> tuple[float, float]:
    """A point on the edge's curve (arc3's quadratic Bezier) whose label box clears the nodes and
    the labels placed so far; the middle when nothing is free."""
    (x1, y1), (x2, y2) = p0, p2
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    spots = []
    for t in (0.5, 0.38, 0.62, 0.28, 0.72):
        x = (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t ** 2 * x2
        y = (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t ** 2 * y2
        spots.append((x, y))
        if all(abs(x - px) > half_width + pw or abs(y - py) > 0.35 for px, py, pw in placed):
            return x, y
    return spots[0]


def cell_title(cell: CellDef) -> str:
    """What the picture cannot show on its edges: the candidates of a searched cell."""
    head = f"cell {cell.name}: {cell.nodes} nodes, norm {cell.norm.text()}, merge {cell.merge.text()}"
    if not cell.searched:
        return head
    ops = cell.edges[0][2].options
    return (f"{head}\nsearched: every edge one of {len(ops)} operators "
            f"({', '.join(o.text() for o in ops)}); each node keeps {cell.keep} inputs")
