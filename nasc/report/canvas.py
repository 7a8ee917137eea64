"""matplotlib behind the non-interactive Agg backend, and PNGs written atomically."""
from __future__ import annotations

import io
from pathlib import Path


def pyplot():
    """matplotlib.pyplot on Agg: a search on a machine without a display must still draw."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` through write_atomic (a killed run leaves no half PNG)."""
    from nasc.fileio import write_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    write_atomic(path, buf.getvalue())
    return path
