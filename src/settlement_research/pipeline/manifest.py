"""The data manifest: which files data_clean holds, their size, mtime and sha256, and how they were made.

Layout. Each source folder carries its own ``data_clean/<source>/MANIFEST.json``, written into the
staged folder before the swap, so data and manifest are replaced together in one rename: there is
no moment at which a folder holds tables its manifest does not describe. ``data_clean/MANIFEST.json``
is an index of the per-source manifests (same shape as before: ``{"sources": {name: entry}}``); the
build removes it before swapping folders and writes it again afterwards, so it is either absent or
right, never stale. Entry paths are relative to data_clean (``synthetic/person.parquet``).

Checks. ``verify`` hashes every file (``settlement-research verify [DIR]``; exit 1 on a mismatch,
listing the files). ``check_table`` is the catalog's check on every load: size and mtime by
default (cheap), the full sha256 on request or when the mtime differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settlement_research.errors import DataError
from settlement_research.io import sha256_file, write_json_atomic

MANIFEST = "MANIFEST.json"
MANIFEST_VERSION = 2

CLI_HELP = "check every file of data_clean against its MANIFEST.json (exit 1 on a mismatch)"


class ManifestMismatch(DataError, ValueError):
    """A clean file disagrees with the manifest that vouches for it (edited, truncated, replaced)."""


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------

def file_entry(path: Path, base: Path, **extra: Any) -> dict[str, Any]:
    """Path (relative to ``base``), sha256, size and mtime of a written file."""
    stat = path.stat()
    return {
        "path": path.relative_to(base).as_posix(), "sha256": sha256_file(path), "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns, **extra,
    }


def _document(sources: Mapping[str, Any]) -> dict[str, Any]:
    from settlement_research import SCHEMA_VERSION, __version__

    return {
        "manifest_version": MANIFEST_VERSION,
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": dict(sorted(sources.items())),
    }


def write_source_manifest(folder: Path, name: str, entry: Mapping[str, Any]) -> Path:
    """``<folder>/MANIFEST.json`` for one source (``folder`` is the staged folder before the swap)."""
    return write_json_atomic(_document({name: dict(entry)}), folder / MANIFEST)


def source_folders(out: Path) -> list[Path]:
    """The source folders of a clean dir (visible subfolders)."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_sources(out: Path) -> dict[str, dict[str, Any]]:
    """Source name -> manifest entry, from the per-source manifests (the authoritative ones)."""
    found: dict[str, dict[str, Any]] = {}
    for folder in source_folders(out):
        doc = _read_json(folder / MANIFEST)
        entry = (doc or {}).get("sources", {}).get(folder.name)
        if isinstance(entry, dict):
            found[folder.name] = entry
    return found


def read_manifest(out: Path) -> dict[str, Any]:
    """The whole manifest of a clean dir, assembled from the per-source manifests."""
    sources = read_sources(out)
    return _document(sources) if sources else {}


def remove_index(out: Path) -> None:
    """Drop data_clean/MANIFEST.json before folders are swapped (absent is honest, stale is not)."""
    (out / MANIFEST).unlink(missing_ok=True)


def write_index(out: Path) -> Path | None:
    """data_clean/MANIFEST.json from the per-source manifests (None when nothing is built)."""
    sources = read_sources(out)
    if not sources:
        remove_index(out)
        return None
    return write_json_atomic(_document(sources), out / MANIFEST)


# --------------------------------------------------------------------------------------------
# checking
# --------------------------------------------------------------------------------------------

def entry_files(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [*entry.get("outputs", []), *entry.get("quarantine", []), *entry.get("sidecars", []),
            *entry.get("lineage", [])]


def file_problem(path: Path, item: Mapping[str, Any], *, full: bool) -> str | None:
    """Why ``path`` disagrees with its manifest item, or None. ``full`` forces the sha256."""
    if not path.is_file():
        return "missing"
    stat = path.stat()
    if "size" in item and stat.st_size != item["size"]:
        return f"size {stat.st_size} bytes, manifest says {item['size']}"
    if not full and item.get("mtime_ns") == stat.st_mtime_ns:
        return None
    if sha256_file(path) != item.get("sha256"):
        return "sha256 differs from the manifest"
    return None


@dataclass
class Verification:
    """What ``verify`` found: files checked, problems (file -> why), notes that are not errors."""

    checked: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(out: Path, *, full: bool = True) -> Verification:
    """Check every file of every source folder of ``out`` against its manifest."""
    result = Verification()
    folders = source_folders(out)
    if not folders:
        result.problems.append((str(out), "no source folders: nothing built here (run `settlement-research build`)"))
        return result
    sources: dict[str, Any] = {}
    for folder in folders:
        doc = _read_json(folder / MANIFEST)
        entry = (doc or {}).get("sources", {}).get(folder.name)
        if not isinstance(entry, dict):
            result.problems.append((f"{folder.name}/{MANIFEST}", "missing or unreadable: the folder is not vouched for"))
            continue
        sources[folder.name] = entry
        listed = set()
        for item in entry_files(entry):
            rel = str(item.get("path", ""))
            listed.add(rel)
            result.checked += 1
            why = file_problem(out / rel, item, full=full)
            if why:
                result.problems.append((rel, why))
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(out).as_posix()
            if p.is_file() and p.name != MANIFEST and rel not in listed:
                result.problems.append((rel, "not listed in the manifest"))
    index = out / MANIFEST
    if index.is_file():
        doc = _read_json(index)
        if doc is None or doc.get("sources") != sources:
            result.problems.append((MANIFEST, "index disagrees with the per-source manifests"))
    elif sources:
        result.notes.append(f"{MANIFEST} index is missing (a build was interrupted); the next build writes it")
    return result


_manifest_cache: dict[tuple[str, int, int], dict[str, Any] | None] = {}


def _cached_entry(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _manifest_cache:
        if len(_manifest_cache) > 64:
            _manifest_cache.clear()
        doc = _read_json(path)
        entry = (doc or {}).get("sources", {}).get(folder.name)
        _manifest_cache[key] = entry if isinstance(entry, dict) else {}
    return _manifest_cache[key]


def check_table(file: Path, *, full: bool = False) -> None:
    """Refuse a clean file its source's manifest does not vouch for (``ManifestMismatch``).

    A folder without a MANIFEST.json (written by hand or by a test) has nothing to disagree with.
    """
    folder = file.parent
    entry = _cached_entry(folder)
    if entry is None:
        return
    rel = f"{folder.name}/{file.name}"
    item = next((i for i in entry_files(entry) if i.get("path") == rel), None)
    hint = "rebuild with `settlement-research build --force`, or run `settlement-research verify`"
    if item is None:
        raise ManifestMismatch(f"{file}: not listed in {folder / MANIFEST}; {hint}")
    why = file_problem(file, item, full=full)
    if why:
        raise ManifestMismatch(f"{file}: {why} ({folder / MANIFEST}); the file was changed after the build; {hint}")


# --------------------------------------------------------------------------------------------
# CLI: settlement-research verify [DIR]
# --------------------------------------------------------------------------------------------

def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, default=None, help="clean folder (default: data_clean)")
    parser.add_argument("--quick", action="store_true",
                        help="compare size and mtime only, hashing a file only when its mtime changed")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.errors import InputError
    from settlement_research.paths import data_clean_dir

    out = args.dir or data_clean_dir()
    if not out.is_dir():
        raise InputError(f"{out} is not a folder", file=out, hint="give the data_clean folder (or one built like it)")
    if not source_folders(out):
        raise InputError(f"{out}: no source folders, nothing built here to verify", file=out,
                         hint="run `settlement-research build` first")
    result = verify(out, full=not args.quick)
    for note in result.notes:
        print(f"note: {note}")
    if result.ok:
        print(f"ok: {result.checked} file(s) in {out} match their manifest")
        return 0
    print(f"MISMATCH: {len(result.problems)} file(s) in {out} disagree with the manifest:")
    for rel, why in result.problems:
        print(f"  {rel}: {why}")
    return 1


__all__ = [
    "MANIFEST", "MANIFEST_VERSION", "ManifestMismatch", "Verification", "check_table", "entry_files",
    "file_entry", "file_problem", "read_manifest", "read_sources", "remove_index", "source_folders",
    "verify", "write_index", "write_source_manifest",
]
