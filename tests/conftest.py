"""Shared test fixtures. Tests run offline; real recorded data is used only when present."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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


TINY_ENV_UNSET = ("SETTLEMENT_RESEARCH_SOURCE", "SETTLEMENT_RESEARCH_SDC_THRESHOLD",
                  "SETTLEMENT_RESEARCH_PERSON_ID_PATTERN")


@pytest.fixture(scope="session")
def tiny_register_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic register (scale 0.02, seed 5) written to ``raw/synthetic`` and built into
    ``clean/``, once per session. Use :func:`tiny_register` (a copy per module) in tests."""
    from settlement_research.build import build
    from settlement_research.sources.synthetic.writer import write_register

    root = tmp_path_factory.mktemp("tiny_register")
    write_register(root / "raw" / "synthetic", scale=0.02, seed=5)
    build(root / "raw", root / "clean", log=lambda _m: None)
    return root


@pytest.fixture(scope="module")
def tiny_register(tiny_register_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny register for one test module: its own copy of ``raw/`` and ``clean/`` (a module may
    change raw files and rebuild), data_clean pointing at it, and the source, disclosure threshold
    and person-id pattern at their defaults."""
    root = tmp_path_factory.mktemp("tiny")
    shutil.copytree(tiny_register_built, root, dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        for name in TINY_ENV_UNSET:
            mp.delenv(name, raising=False)
        yield root
