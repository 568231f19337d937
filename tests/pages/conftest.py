"""A tiny synthetic data_clean shared by the page tests (built once per session, pointed at per
module so no other test folder sees it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from settlement_research.build import build
    from settlement_research.sources.synthetic.writer import write_register

    root = tmp_path_factory.mktemp("pages")
    write_register(root / "raw" / "synthetic", scale=0.02, seed=5)
    build(root / "raw", root / "clean", log=lambda m: None)
    return root / "clean"


@pytest.fixture(scope="module")
def tiny_clean(_tiny_build: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(_tiny_build))
        mp.delenv("SETTLEMENT_RESEARCH_SDC_THRESHOLD", raising=False)
        yield _tiny_build
