"""Where the project's data lives. Notebooks and reports never build paths themselves.

The root is ``$SETTLEMENT_RESEARCH_HOME`` if set, else the nearest folder upwards from the working
directory that holds this project's ``pyproject.toml``, else the working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("SETTLEMENT_RESEARCH_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and 'name = "settlement-research"' in pyproject.read_text("utf-8"):
            return folder
    return here


def data_raw_dir() -> Path:
    return Path(os.environ.get("SETTLEMENT_RESEARCH_RAW", project_root() / "data_raw"))


def data_clean_dir() -> Path:
    log = sys.modules.get("settlement_research.readlog")  # a report being rendered logs who asks
    if log is not None:
        log.data_dir_asked()
    return Path(os.environ.get("SETTLEMENT_RESEARCH_CLEAN", project_root() / "data_clean"))


def shared_real_data() -> Path | None:
    """``../shared/real_data`` next to the project, if present (tests skip when it is absent)."""
    candidate = Path(os.environ.get("SETTLEMENT_RESEARCH_REAL_DATA", project_root().parent / "shared" / "real_data"))
    return candidate if candidate.is_dir() else None
