"""Fixtures of the search-method tests (helpers are in searchkit.py)."""
from __future__ import annotations

import pytest
import torch

from nasc.runtime.data.synthetic import make_synthetic


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """The machine is small and shared: one intra-op thread is several times faster than
    oversubscribed cores, and makes in-process runs comparable with the subprocess ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_data():
    """4 fields, 8 values each, one planted order-2 interaction; 1920 training rows."""
    return make_synthetic(seed=5, n=2400, num_fields=4, vocab=8, planted=((0, 1),), noise=0.2)
