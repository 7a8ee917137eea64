"""Fixtures of the next-item retrieval tests: one thread, a private cache, tiny behaviour logs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from retrievalkit import successor_log


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small batches run fastest on one intra-op thread on a shared CPU. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never read or write the user's ~/.cache/nasc."""
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "nasc-cache"))


@pytest.fixture
def tiny_log(tmp_path) -> Path:
    return successor_log(tmp_path / "log.txt", users=60, items=120)
