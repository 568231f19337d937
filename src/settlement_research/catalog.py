"""Load clean tables by name: ``load("kommune_settlement_year")`` for notebooks and reports.

Tables live in data_clean/<source>/<table>.parquet. Every load validates against the model, so a
notebook never analyses a file that was edited by hand or written by an older schema. Which source
to read (synthetic, imdi, ssb, ...) is a setting, not something notebooks hard-code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.explore import suggest, unknown_table_message
from settlement_research.model import TABLES
from settlement_research.paths import data_clean_dir

SOURCE_ENV = "SETTLEMENT_RESEARCH_SOURCE"
DEFAULT_SOURCE = "synthetic"
_HINT = "run `make demo` or `settlement-research build` to create it"

_cache: dict[tuple[str, int, int], pl.DataFrame] = {}


class CatalogError(LookupError):
    """A table, source or sidecar that is not in the catalog; the message lists what is."""

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0]) if self.args else ""


def sources() -> list[str]:
    """Sources with clean data: the subfolders of data_clean (sorted)."""
    root = data_clean_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def default_source() -> str:
    """``$SETTLEMENT_RESEARCH_SOURCE``, else synthetic if built, else the only source there is."""
    env = os.environ.get(SOURCE_ENV)
    if env:
        return env
    available = sources()
    if DEFAULT_SOURCE in available:
        return DEFAULT_SOURCE
    if len(available) == 1:
        return available[0]
    if not available:
        raise CatalogError(f"no clean data in {data_clean_dir()}; {_HINT}")
    raise CatalogError(
        f"several sources in {data_clean_dir()} ({', '.join(available)}) and none chosen; "
        f"pass source=... or set {SOURCE_ENV}"
    )


def source_dir(source: str | None = None) -> Path:
    source = source or default_source()
    folder = data_clean_dir() / source
    if not folder.is_dir():
        available = sources()
        known = f"available sources: {', '.join(available)}" if available else _HINT
        raise CatalogError(
            f"no clean data for source {source!r} in {data_clean_dir()};{suggest(source, available)} {known}"
        )
    return folder


def tables(source: str | None = None) -> list[str]:
    """Tables present for a source, in the model's order."""
    folder = source_dir(source)
    return [t for t in TABLES if (folder / f"{t}.parquet").is_file()]


def path(name: str, source: str | None = None) -> Path:
    """Where table ``name`` of ``source`` is stored (checked to exist)."""
    if name not in TABLES:
        raise CatalogError(unknown_table_message(name))
    folder = source_dir(source)
    file = folder / f"{name}.parquet"
    if not file.is_file():
        present = tables(folder.name)
        raise CatalogError(
            f"table {name!r} is not in source {folder.name!r} ({folder}); tables there: "
            f"{', '.join(present) if present else 'none'}"
        )
    return file


def load(name: str, source: str | None = None) -> pl.DataFrame:
    """The validated table ``name`` of ``source`` in model dtypes.

    ``name``: a table of the model (``settlement_research.tables()`` lists them; a near miss gets
    "did you mean"). ``source``: a folder of data_clean/ (``synthetic``, ``imdi``, ...); None means
    ``$SETTLEMENT_RESEARCH_SOURCE``, else synthetic if built, else the only source there is.
    Raises ``CatalogError`` for an unknown or unbuilt table and ``DataValidationError`` if the file
    breaks the model. Validated frames are cached per file version (path, size, mtime), so
    reloading is cheap; each call returns its own copy.
    """
    from settlement_research.validation import read_table, validate_or_raise

    file = path(name, source)
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        if len(_cache) >= 32:
            _cache.clear()
        _cache[key] = validate_or_raise(read_table(file), name, source=file)
    return _cache[key].clone()


def has(name: str, source: str | None = None) -> bool:
    """Whether table ``name`` is built in ``source`` (default as in ``load``), without loading it.

    A misspelt table name is an error ("did you mean"), not False. A source with no clean data
    (or no clean data at all) is False; several sources and none chosen is an error, as in ``load``.
    """
    if name not in TABLES:
        raise CatalogError(unknown_table_message(name))
    if source is None:
        if not sources():
            return False
        source = default_source()
    return (data_clean_dir() / source / f"{name}.parquet").is_file()


def load_optional(name: str, source: str | None = None) -> pl.DataFrame | None:
    """``load(name, source)`` if the table is built there, else None (for optional tables)."""
    return load(name, source) if has(name, source) else None


def json_sidecars(source: str | None = None) -> list[str]:
    """Names of the JSON sidecars of a source (ground_truth, import_summary, ...)."""
    return sorted(p.stem for p in source_dir(source).glob("*.json"))


def load_json(name: str, source: str | None = None) -> Any:
    """A JSON sidecar of a source, by name with or without '.json'."""
    stem = name[:-5] if name.endswith(".json") else name
    folder = source_dir(source)
    file = folder / f"{stem}.json"
    if not file.is_file():
        known = json_sidecars(folder.name)
        raise CatalogError(
            f"no JSON sidecar {stem!r} in source {folder.name!r} ({folder});{suggest(stem, known)} "
            f"available: {', '.join(known) if known else 'none'}"
        )
    return json.loads(file.read_text(encoding="utf-8"))


__all__ = [
    "CatalogError", "default_source", "has", "json_sidecars", "load", "load_json", "load_optional",
    "path", "source_dir", "sources", "tables",
]
