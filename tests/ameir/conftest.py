"""Fixtures of the AMEIR one-shot tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """The CI machine has 2 cores shared with other jobs: one thread is faster and steadier."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
