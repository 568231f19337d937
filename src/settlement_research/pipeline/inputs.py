"""Raw inputs read once: copy a source folder into a private snapshot, hashing the bytes copied.

Why: the manifest must describe the bytes the build parsed. Hashing a file and then letting the
source read it again leaves a window in which an edit gets into data_clean while the manifest
keeps the old checksum. The source reads the snapshot instead, so the hash and the parse see the
same bytes; ``changed`` then tells whether data_raw moved on while the build ran (the build
retries once, then refuses, leaving data_clean as it was).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settlement_research.errors import DataError

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileState:
    """What a raw file looked like when it was copied (cheap to compare later)."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def raw_files(folder: Path) -> Iterator[Path]:
    """The files of a source folder that the build reads (hidden files are not inputs)."""
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts):
            yield p


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


class InputChanged(DataError, RuntimeError):
    """A raw file changed while it was being read or while the build ran."""


def _copy_hashing(src: Path, dst: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while block := fin.read(CHUNK):
            digest.update(block)
            fout.write(block)
            size += len(block)
    return digest.hexdigest(), size


def snapshot(raw_dir: Path, folder: Path, dest_root: Path) -> tuple[Path, list[dict[str, Any]], dict[str, FileState]]:
    """Copy ``folder`` (inside ``raw_dir``) to ``dest_root/<same relative path>``, hashing as it reads.

    Returns the snapshot folder, the input list for the manifest (path relative to ``raw_dir``,
    sha256 and size of the bytes copied) and each file's state before it was read.
    """
    target = dest_root / Path(_rel(folder, raw_dir))
    target.mkdir(parents=True, exist_ok=True)
    inputs: list[dict[str, Any]] = []
    states: dict[str, FileState] = {}
    for path in raw_files(folder):
        rel = _rel(path, raw_dir)
        before = FileState.of(path)
        sha, size = _copy_hashing(path, dest_root / rel)
        after = FileState.of(path)
        if after != before or size != before.size:
            raise InputChanged(f"{path} changed while it was being read")
        os.utime(dest_root / rel, ns=(before.mtime_ns, before.mtime_ns))
        inputs.append({"path": rel, "sha256": sha, "size": size})
        states[rel] = before
    return target, inputs, states


def changed(raw_dir: Path, folder: Path, states: dict[str, FileState]) -> list[str]:
    """Raw files added, removed or modified since ``snapshot`` recorded ``states``."""
    now = {_rel(p, raw_dir): p for p in raw_files(folder)}
    out = sorted(set(states) ^ set(now))
    for rel, state in states.items():
        if rel in now and FileState.of(now[rel]) != state:
            out.append(rel)
    return sorted(set(out))


__all__ = ["FileState", "InputChanged", "changed", "raw_files", "snapshot"]
