"""File I/O with the guarantees the package promises: atomic writes and checksums.

Every write goes to a temporary file in the target folder and is renamed into place, so a killed
process leaves either the old file or the new one, never half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a data file is readable like any other
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet_atomic(frame: pl.DataFrame | pl.LazyFrame, path: str | Path) -> Path:
    with atomic_path(path, ".parquet") as tmp:
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(tmp)
        else:
            frame.write_parquet(tmp)
    return Path(path)


def write_csv_atomic(frame: pl.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    with atomic_path(path, ".csv") as tmp:
        frame.write_csv(tmp, **kwargs)
    return Path(path)


def write_text_atomic(text: str, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(obj: Any, path: str | Path) -> Path:
    return write_text_atomic(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", path)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
