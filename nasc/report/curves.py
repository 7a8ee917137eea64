"""Curves of a run: each relaxed choice's weights (alpha per edge, beta per node) over the epochs
with the options' names, and the validation metric per epoch or per child."""
from __future__ import annotations

import math
from pathlib import Path

from nasc.report.canvas import pyplot, save_png


def draw_weights(rows: dict[str, list[list[float]]], names: dict[str, list[str]], path: Path,
                 title: str) -> Path:
    """One panel per choice (``rows[label]``: its weights per epoch), one line per option."""
    plt = pyplot()
    labels = sorted(rows)
    cols = min(4, len(labels))
    nrows = math.ceil(len(labels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 2.7 * nrows), squeeze=False)
    for ax, label in zip(axes.flat, labels):
        per_epoch = rows[label]
        epochs = range(1, len(per_epoch) + 1)
        options = names.get(label) or [f"option {k}" for k in range(len(per_epoch[0]))]
        for k, option in enumerate(options):
            ax.plot(epochs, [r[k] for r in per_epoch], marker="o", ms=3, label=option)
        ax.axhline(1 / len(options), color="#999999", lw=0.8, ls=":")  # uniform
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=7)
        if len(set(map(tuple, (names.get(l, ()) for l in labels)))) > 1:
            ax.legend(fontsize=6, loc="best")  # options differ by panel (beta rows)
        ax.set_xticks(list(epochs) if len(per_epoch) <= 10 else ax.get_xticks())
    for ax in list(axes.flat)[len(labels):]:
        ax.axis("off")
    fig.suptitle(title + " (dotted: uniform)", fontsize=10)
    fig.supxlabel("epoch", fontsize=8)
    fig.tight_layout()
    if len(set(map(tuple, (names.get(l, ()) for l in labels)))) == 1:
        # Every panel has the same options: one legend, above the panels, not one in each.
        handles, texts = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, texts, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                   ncol=min(len(texts), 6), fontsize=8)
    return save_png(fig, path)


def draw_validation(series: dict[str, list[float]], xlabel: str, path: Path,
                    title: str, xs: list[int] | None = None) -> Path:
    """``xs``: the epoch or child numbers as the run numbers them (children.json counts from 0);
    1, 2, ... when not given."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3), squeeze=False)
    for ax, (name, values) in zip(axes.flat, series.items()):
        xs = list(xs) if xs is not None else list(range(1, len(values) + 1))
        ax.plot(xs, values, marker="o", ms=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if len(values) <= 12:
            ax.set_xticks(list(xs))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)


def validation_series(metrics: list[dict] | None, children: list[dict] | None
                      ) -> tuple[dict[str, list[float]], str, list[int]]:
    """The curves to draw, their axis and its numbers: metrics.json's valid_* and train_*
    columns per epoch, else each child's validation scores from children.json, numbered as
    children.json numbers them."""
    if metrics:
        keys = [k for k in metrics[0] if k.startswith(("valid_", "train_"))
                and all(isinstance(r.get(k), (int, float)) for r in metrics)]
        epochs = [int(r.get("epoch", n)) for n, r in enumerate(metrics, 1)]
        return {k: [r[k] for r in metrics] for k in keys}, "epoch", epochs
    if children:
        scored = [c for c in children if isinstance(c.get("valid"), dict)]
        keys = [k for k in (scored[0]["valid"] if scored else {})
                if all(isinstance(c["valid"].get(k), (int, float)) for c in scored)]
        numbers = [int(c.get("child", n)) for n, c in enumerate(scored)]
        return {f"valid_{k}": [c["valid"][k] for c in scored] for k in keys}, "child", numbers
    return {}, "", []
