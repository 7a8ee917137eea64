"""Benchmark scripts as modules, for their tests: they are scripts run by hand (each guards its
main() by __name__), not a package."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(name: str, module_name: str | None = None) -> ModuleType:
    """benchmarks/NAME.py executed as a module (nothing runs: main() is not called)."""
    spec = importlib.util.spec_from_file_location(module_name or f"bench_{name}",
                                                  BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
