"""The scores benchmarks/results/leaderboard.json holds for a dataset, to set a retrained
architecture's test score beside (absent in an installed copy without the benchmarks)."""
from __future__ import annotations

import json
from pathlib import Path

LEADERBOARD = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "leaderboard.json"


def data_name(data: str) -> str:
    """``../shared/data/Frappe_x1`` or ``frappe_x1.csv`` -> ``frappe_x1``: how the board names it."""
    return Path(str(data).rstrip("/")).name.split(".")[0].lower()


def baselines_for(data: str, board: Path = LEADERBOARD) -> list[dict]:
    try:
        rows = json.loads(board.read_text())
    except (OSError, ValueError):
        return []
    name = data_name(data)
    return [r for r in rows if isinstance(r, dict) and str(r.get("data", "")).lower() == name]
