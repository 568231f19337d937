"""Synthetic registers written once per session into temporary folders (small scales, fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.sources.synthetic.writer import write_register


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "synthetic"
    write_register(out, scale=0.05, seed=11)
    return out
