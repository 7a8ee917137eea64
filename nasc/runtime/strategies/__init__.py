"""Search strategies. Each is one module with ``search(ctx) -> assignment`` over the supernet's
choice interface; ``run_search`` prepares the run and exports the found architecture."""
from __future__ import annotations

import importlib

from nasc.compiler.settings import IMPLEMENTED_STRATEGIES

MODULES = {"darts": "darts", "random": "random_search", "oneshot_random": "oneshot"}


def strategy_module(name: str):
    if name not in IMPLEMENTED_STRATEGIES or name not in MODULES:
        return None
    return importlib.import_module(f"nasc.runtime.strategies.{MODULES[name]}")
