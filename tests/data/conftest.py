"""Fixtures for the data-layer tests."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never read or write the user's ~/.cache/nasc from tests."""
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "nasc-cache"))
