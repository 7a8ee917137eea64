"""Fixtures of the whole suite (helpers are in tests/kit).

Every test runs with a private nasc cache (never the user's ~/.cache/nasc) and one intra-op
thread: small batches run fastest on one thread, and on a shared CPU several threads spin against
other work (a 10 ms forward pass took seconds). Tests that time or choose threads set their own.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NASC_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says why: a user's clone has no ../shared."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (the real datasets live outside "
                    "the repository, in ../shared/data)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def one_thread():
    """For a test that must run on one thread even after another in its module changed it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def traced_only(monkeypatch):
    """`compile on` with the "aot_eager" backend: the same tracing, graph and autograd as
    inductor without its C++ build (minutes on a 2-core machine); compile caches and counters
    emptied."""
    from nasc.runtime import compiling

    monkeypatch.setattr(compiling, "BACKEND", "aot_eager")
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()  # graph breaks counted by an earlier test
    yield
    torch._dynamo.reset()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "nasc-cache"))


@pytest.fixture(scope="session")
def tiny_data():
    """4 fields, 8 values each, one planted order-2 interaction; 1920 training rows."""
    from nasc.runtime.data.synthetic import make_synthetic

    return make_synthetic(seed=5, n=2400, num_fields=4, vocab=8, planted=((0, 1),), noise=0.2)


@pytest.fixture
def tiny_log(tmp_path) -> Path:
    """A next-item behaviour log: 60 users, 120 items, each user's items in succession."""
    from kit.retrievalkit import successor_log

    return successor_log(tmp_path / "log.txt", users=60, items=120)
