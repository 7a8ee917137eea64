"""Fixtures for the data-layer tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("NASC_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never read or write the user's ~/.cache/nasc from tests."""
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "nasc-cache"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (real datasets live outside the repo)")
    return SHARED_DATA
