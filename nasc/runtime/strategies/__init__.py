"""Search strategies. Each is one module with ``search(ctx) -> assignment`` over the supernet's
choice interface, named by its row of the strategy table (nasc.compiler.strategies)."""
from __future__ import annotations

import importlib

from nasc.compiler.strategies import STRATEGIES


def strategy_module(name: str):
    """The module that runs strategy ``name``, or None when it is not implemented."""
    row = STRATEGIES.get(name)
    if row is None or row.module is None:
        return None
    return importlib.import_module(f"{__name__}.{row.module}")
