"""Each strategy is one module and one row of the strategy table: the row names the module that
runs it, and that module has the ``search(ctx)`` every strategy exposes."""
from __future__ import annotations

import pytest

from nasc.compiler.strategies import STRATEGIES
from nasc.runtime.strategies import strategy_module


@pytest.mark.parametrize("name", sorted(n for n, row in STRATEGIES.items() if row.implemented))
def test_the_module_is_the_row(name):
    module = strategy_module(name)
    assert module.__name__ == f"nasc.runtime.strategies.{STRATEGIES[name].module}"
    assert callable(module.search)


def test_a_row_without_a_module_is_not_implemented():
    unimplemented = [n for n, row in STRATEGIES.items() if not row.implemented]
    assert all(strategy_module(n) is None for n in unimplemented)
    assert strategy_module("no such strategy") is None
