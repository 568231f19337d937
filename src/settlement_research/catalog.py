"""Load clean tables by name: ``load("kommune_settlement_year")`` for notebooks and reports.

Tables live in data_clean/<source>/<table>.parquet. Every load validates against the model, so a
notebook never analyses a file that was edited by hand or written by an older schema. Which source
to read (synthetic, imdi, ssb, ...) is a setting, not something notebooks hard-code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research import readlog
from settlement_research.errors import InputError, SettlementResearchError
from settlement_research.explore import suggest, unknown_table_message
from settlement_research.model import TABLES
from settlement_research.paths import data_clean_dir

SOURCE_ENV = "SETTLEMENT_RESEARCH_SOURCE"
DEFAULT_SOURCE = "synthetic"
_HINT = "run `make demo` or `settlement-research build` to create it"

_cache: dict[tuple[str, int, int], pl.DataFrame] = {}


class CatalogError(InputError, KeyError):
    """A table, source or sidecar that is not in the catalog; the message lists what is.

    Also a ``KeyError`` (so a ``LookupError``): notebooks that catch a missing table with
    ``except KeyError`` keep working; ``str()`` is the plain message, not a quoted key.
    """


# A source is named, never addressed by path: a lower-case word, so that no '..', '/', '\\' or
# absolute path can reach a folder outside data_clean through a source name.
SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def sources() -> list[str]:
    """The registered sources: subfolders of data_clean with clean data and a valid source name."""
    root = data_clean_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and SOURCE_NAME.fullmatch(p.name))


def check_source(source: str) -> str:
    """``source`` if it is a registered source name; else ``CatalogError`` naming the registered ones.

    Why: notebooks and reports take the source as a parameter, and a path (``../..``,
    ``/any/dir``) must never make them read tables from outside data_clean.
    """
    if not isinstance(source, str) or not SOURCE_NAME.fullmatch(source):
        raise CatalogError(
            f"source {source!r} is not a source name (a lower-case word such as 'synthetic'; "
            f"never a path); registered sources: {', '.join(sources()) or 'none; ' + _HINT}"
        )
    available = sources()
    if source not in available:
        known = f"available sources: {', '.join(available)}" if available else _HINT
        raise CatalogError(f"no clean data for source {source!r} in {data_clean_dir()}; {known}")
    return source


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
    """The folder of a registered source (see :func:`check_source`); "did you mean" on near misses."""
    try:
        return data_clean_dir() / check_source(source or default_source())
    except CatalogError as exc:
        hint = suggest(str(source), sources()) if source else ""
        if hint:
            raise CatalogError(f"{exc};{hint}") from exc
        raise


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
    readlog.table_read(folder.name, name, file)  # a report rendering now depends on the whole table
    return file


def load(name: str, source: str | None = None, *, checksum: bool = False) -> pl.DataFrame:
    """The validated table ``name`` of ``source`` in model dtypes.

    ``name``: a table of the model (``settlement_research.tables()`` lists them; a near miss gets
    "did you mean"). ``source``: a folder of data_clean/ (``synthetic``, ``imdi``, ...); None means
    ``$SETTLEMENT_RESEARCH_SOURCE``, else synthetic if built, else the only source there is.
    The file must agree with its source's MANIFEST.json (``ManifestMismatch`` if not): size and
    mtime by default, the full sha256 with ``checksum=True`` or when the mtime changed.
    Raises ``CatalogError`` for an unknown or unbuilt table and ``DataValidationError`` if the file
    breaks the model. Validated frames are cached per file version (path, size, mtime), so
    reloading is cheap; each call returns its own copy.
    """
    from settlement_research.pipeline.manifest import check_table
    from settlement_research.validation import read_table, validate_or_raise

    file = path(name, source)
    check_table(file, full=checksum)
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
    elif not SOURCE_NAME.fullmatch(source):
        check_source(source)  # a path is never a source: raises, naming the registered ones
    return (data_clean_dir() / source / f"{name}.parquet").is_file()


class NotApplicable(SettlementResearchError):
    """A notebook's design needs tables its source does not hold (IMDi's published statistics have
    no person-level register). Not a failure: the notebook stops after saying so in one line
    (``needs_note``), and the runner reports it as done (``reports.runner``), as it does a notebook
    whose cells skip themselves (05 on such a source).
    """

    exit_code = 0

    def _render_traceback_(self) -> list[str]:  # IPython/Jupyter show this one line, no traceback
        return [self.message]


def missing_tables(names: Iterable[str], source: str | None = None) -> list[str]:
    """The tables of ``names`` that ``source`` does not hold (in the order given)."""
    return [n for n in names if not has(n, source)]


def needs_note(names: Iterable[str], source: str, what: str) -> str | None:
    """One line saying that ``source`` lacks ``what`` (the tables ``names``) so the design cannot
    run on it; None when every table is there. Shared by the notebooks that need the register."""
    if not missing_tables(names, source):
        return None
    return f"Source `{source}` has no {what}: this design cannot be run on it."


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
    value = json.loads(file.read_text(encoding="utf-8"))
    readlog.json_read(folder.name, stem, value)
    return value


__all__ = [
    "SOURCE_NAME", "CatalogError", "check_source", "default_source", "has", "json_sidecars", "load",
    "load_json", "load_optional", "path", "source_dir", "sources", "tables",
]
