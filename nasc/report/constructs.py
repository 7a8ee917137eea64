"""Pictures of the other searched constructs: kept interaction products (fields joined to their
products), MLP widths as bars, and a block stack as boxes, one per block."""
from __future__ import annotations

from pathlib import Path

from nasc.compiler.program import BlocksDef, InteractionsDef, MlpDef
from nasc.report.canvas import pyplot, save_png


def draw_interactions(inter: InteractionsDef, path: Path) -> Path:
    plt = pyplot()
    if inter.tuples is None:  # searched: the products are only known at the end of the search
        fig, ax = plt.subplots(figsize=(6, 1.6))
        ax.axis("off")
        ax.text(0.5, 0.5, f"interactions {inter.name}: searched\n{inter.cycles} cycles, "
                f"{inter.survivors} survivors, keeps {inter.keep} products of order <= "
                f"{inter.order}", ha="center", va="center", fontsize=10, transform=ax.transAxes)
        return save_png(fig, path)
    fields = sorted({f for t in inter.tuples for f in t}, key=_field_order)
    fy = {f: -k for k, f in enumerate(fields)}
    height = max(len(fields), len(inter.tuples))
    fig, ax = plt.subplots(figsize=(6, 0.45 * height + 1.2))
    ax.axis("off")
    for k, product in enumerate(inter.tuples):
        py = -k * (len(fields) - 1) / max(len(inter.tuples) - 1, 1) if len(inter.tuples) > 1 \
            else -(len(fields) - 1) / 2
        for f in product:
            ax.plot([0, 1], [fy[f], py], color="#888888", lw=1, zorder=1)
        ax.text(1.03, py, " \u00d7 ".join(product), va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.25", fc="#fff2cc", ec="#555555"))
    for f, y in fy.items():
        ax.text(-0.03, y, f, ha="right", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.25", fc="#cfe2f3", ec="#555555"))
    ax.set_xlim(-0.4, 1.8)
    ax.set_ylim(-len(fields) + 0.4, 0.6)
    ax.set_title(f"interactions {inter.name}: {len(inter.tuples)} kept products", fontsize=10)
    return save_png(fig, path)


def _field_order(name: str):
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


def draw_mlp(mlp: MlpDef, path: Path) -> Path:
    """One bar per layer: its width (a found MLP) or its widest option, with every option written
    above it (a searched one)."""
    plt = pyplot()
    layers = mlp.layers
    fig, ax = plt.subplots(figsize=(1.2 * len(layers) + 2.5, 3))
    tops = [max(layer.width.options) for layer in layers]
    names = [f"layer {k}\n{_act(layer.act)}" for k, layer in enumerate(layers, start=1)]
    bars = ax.bar(range(len(layers)), tops, color=["#9fc5e8" if layer.width.fixed else "#dddddd"
                                                   for layer in layers], edgecolor="#555555")
    for bar, layer in zip(bars, layers):
        text = ", ".join(_num(w) for w in layer.width.options)
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(),
                text if layer.width.fixed else "{" + text + "}", ha="center", va="bottom",
                fontsize=8)
    ax.set_xticks(range(len(layers)), names, fontsize=8)
    ax.set_ylabel("fraction of the input width" if mlp.fractional else "units")
    ax.set_ylim(0, max(tops) * 1.2)
    ax.set_title(f"mlp {mlp.name}" + (" (searched widths in grey)"
                                      if not all(l.width.fixed for l in layers) else ""),
                 fontsize=10)
    return save_png(fig, path)


def _num(w) -> str:
    return f"{w:g}" if isinstance(w, float) else str(w)


def _act(choice) -> str:
    return choice.options[0].text() if choice.fixed else f"{len(choice.options)} acts"


def draw_blocks(blocks: BlocksDef, path: Path) -> Path:
    """The stack from its input (bottom) up: each block's norm, layer and activation, or its
    option count where still searched."""
    plt = pyplot()
    n = len(blocks.blocks)
    fig, ax = plt.subplots(figsize=(5.5, 0.8 * n + 1.2))
    ax.axis("off")
    for k, block in enumerate(blocks.blocks):
        parts = [_part(block.norm), _part(block.layer), _part(block.act)]
        ax.text(0.5, k, f"block {k + 1}:  " + "  |  ".join(parts), ha="center", va="center",
                fontsize=9, bbox=dict(boxstyle="round,pad=0.4", fc="#fff2cc", ec="#555555"))
        if k:
            ax.annotate("", xy=(0.5, k - 0.3), xytext=(0.5, k - 0.7),
                        arrowprops=dict(arrowstyle="-|>", color="#555555"))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_title(f"blocks {blocks.name} (input at the bottom)", fontsize=10)
    return save_png(fig, path)


def _part(choice) -> str:
    if choice.fixed:
        return choice.options[0].text()
    return f"one of {len(choice.options)}"
