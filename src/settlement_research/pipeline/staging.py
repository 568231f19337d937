"""Atomic folder replacement: build a folder beside its target, then swap it in by renames.

Why: a reader (a notebook, a build, a report) must see either the complete old folder or the
complete new one. ``swap_in`` uses Linux ``renameat2(RENAME_EXCHANGE)`` when available (one atomic
step); elsewhere it renames the old folder aside first, and ``recover`` puts it back if a process
died between the two renames.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import uuid
from pathlib import Path

STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"
_RENAME_EXCHANGE = 2


def staging_path(parent: Path, name: str, prefix: str = STAGING_PREFIX) -> Path:
    """A fresh hidden folder name in ``parent`` for staging ``name`` (not created)."""
    return parent / f"{prefix}{name}-{uuid.uuid4().hex[:8]}"


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return rc == 0


def fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target`` (which may not exist); the old version is removed."""
    if target.exists():
        if exchange(staging, target):
            fsync_dir(target.parent)
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old version
            return
        old = staging_path(target.parent, target.name, OLD_PREFIX)
        os.rename(target, old)
        os.rename(staging, target)
        fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)
        fsync_dir(target.parent)


def recover(parent: Path, prefixes: tuple[str, ...] = (STAGING_PREFIX,)) -> None:
    """After a killed process: drop staging folders, restore a folder that was moved aside."""
    if not parent.is_dir():
        return
    for p in parent.iterdir():
        if p.is_dir() and p.name.startswith(prefixes):
            shutil.rmtree(p, ignore_errors=True)
    for p in parent.iterdir():
        if p.is_dir() and p.name.startswith(OLD_PREFIX):
            name = p.name[len(OLD_PREFIX):].rsplit("-", 1)[0]
            if not (parent / name).exists():
                os.rename(p, parent / name)
            else:
                shutil.rmtree(p, ignore_errors=True)


__all__ = ["OLD_PREFIX", "STAGING_PREFIX", "exchange", "fsync_dir", "recover", "staging_path", "swap_in"]
