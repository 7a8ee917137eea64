"""Fixtures of the codegen tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny batches run fastest on one intra-op thread; on a shared CPU, several threads spin
    against other work and make a 10 ms forward pass take seconds. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never read or write the user's ~/.cache/nasc (the CLI may load the synthetic dataset)."""
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "nasc-cache"))
