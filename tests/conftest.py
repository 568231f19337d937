"""Shared test fixtures. Tests run offline; real recorded data is used only when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.paths import shared_real_data


@pytest.fixture(scope="session")
def real_data() -> Path:
    """``../shared/real_data``; tests using it are skipped cleanly when the folder is absent."""
    folder = shared_real_data()
    if folder is None:
        pytest.skip("../shared/real_data is not present")
    return folder
