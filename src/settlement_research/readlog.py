"""What a report read: a log of (dataset, columns, rows, hash) that a cache can re-check later.

Why: a report keyed on the whole data manifest re-renders all 428 profiles when one municipality's
count changes. A report that records exactly which rows it read can be reused when the hashes of
those rows are unchanged, and re-rendered when any of them changed, national and peer rows included.

Reads are recorded only while a log is open (``capture``); outside a report (JupyterLab, tests) every
hook is a no-op. The kinds of dataset:

- ``table:<source>/<table>``: a whole clean table handed out by the catalog (``catalog.path``, which
  ``catalog.load`` goes through), hashed by its file's sha256. A notebook that scans a table depends
  on all its rows.
- ``json:<source>/<name>``: a JSON sidecar read through ``catalog.load_json``.
- ``call:<module>:<function>(<json args>)``: the result of a function marked :func:`derived`
  (e.g. ``profile_data``: the suppressed, pre-aggregated frames every profile draws on). Its own
  reads are not logged; what the report takes from its result is. A result that is a
  :class:`Tracked` dataclass logs each field read (``.../settlement``) and each slice taken with
  :meth:`Tracked.rows` (columns and an equality filter); any other result is logged whole.
- ``lineage:<source>/<table>``: one lookup of a page's hover in a clean table's lineage
  (``pages.lineage.Origins``: a cell's origins or a count of pooled rows), hashed by its answer:
  only the fields a page states (``pages.lineage.PAGE_FIELDS``: file, edition, record, raw text,
  ...), never the raw file's sha256 or the steps, which are the whole file's and would tie every
  page reading a file to each of its rows (``trace`` resolves them from data_clean).
- ``opaque:data_clean``: something outside the catalog asked for the data folder (a notebook that
  opens MANIFEST.json or a parquet file itself). Such a report depends on everything
  (the hash of data_clean/MANIFEST.json, which changes with every build).

:func:`verify` recomputes the hash of every logged read against the current data and code, caching
datasets across reports, and says whether all still match.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import importlib
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

F = TypeVar("F", bound=Callable[..., Any])
Read = dict[str, Any]  # {"dataset", "columns", "where", "sha256"}

_logs: list[dict[tuple[str, str, str], Read]] = []  # open logs, innermost last
_paused = 0
_FILE_SHA: dict[tuple[str, int, int], str] = {}
# Modules that find data through paths.data_clean_dir() and log what they hand out themselves (or
# only read the manifest's hash for provenance); any other caller makes the report opaque.
TRUSTED = frozenset({
    "settlement_research.catalog", "settlement_research.readlog", "settlement_research.paths",
    "settlement_research.pipeline.manifest", "settlement_research.reports.provenance",
    "settlement_research.reports.results", "settlement_research.pages.lineage",
    # the gate's identifier set (charts are scanned while cells run): not shown data; a report reused
    # after the identifiers changed is audited again by the batch (manifest identifiers_sha256)
    "settlement_research.sdc.audit",
})


def active() -> bool:
    return bool(_logs) and not _paused


@contextlib.contextmanager
def capture() -> Iterator[list[Read]]:
    """Open a log; on exit the list holds every distinct read made inside (in order)."""
    log: dict[tuple[str, str, str], Read] = {}
    out: list[Read] = []
    _logs.append(log)
    try:
        yield out
    finally:
        del _logs[next(i for i, open_log in enumerate(_logs) if open_log is log)]
        out.extend(log.values())


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Reads inside are not logged (they are covered by the caller's own record)."""
    global _paused
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1


def extend(reads: Sequence[Read]) -> None:
    """Add reads made earlier (e.g. by a memoised computation) to the open log."""
    if active():
        for read in reads:
            _add(read)


def _add(read: Read) -> None:
    key = (read["dataset"], json.dumps(read["columns"]), json.dumps(read["where"], sort_keys=True))
    _logs[-1][key] = read


def record(dataset: str, value: Any, *, columns: Sequence[str] | None = None,
           where: Mapping[str, Sequence[Any]] | None = None, sha256: str | None = None) -> None:
    """Log that the open report read ``value`` (``columns`` and ``where`` say which part of ``dataset``)."""
    if not active():
        return
    _add({"dataset": dataset, "columns": list(columns) if columns is not None else None,
          "where": {k: list(v) for k, v in where.items()} if where is not None else None,
          "sha256": sha256 or value_hash(value)})


# ------------------------------------------------------------------------------------------ hashes


KEY_ENV = "SETTLEMENT_RESEARCH_READLOG_KEY"
_KEY: list[bytes] = []


def hash_key() -> bytes:
    """The secret the hashes of read values are keyed with (HMAC-SHA256).

    Why: ``<stem>.reads.json`` lies beside the published page, and a read's value can be a handful
    of numbers an attacker can enumerate: the lineage answer of a suppressed cell holds its exact
    count of person-level rows, so a plain sha256 of it gives the hidden count away by trying 1..4.
    Keyed with a secret that is never published, the hash still tells the cache whether a read
    changed, and tells nobody else anything. The key is ``$SETTLEMENT_RESEARCH_READLOG_KEY`` (hex),
    else a file in the user's cache folder made once (a new key only re-renders cached reports).
    """
    if not _KEY:
        raw = os.environ.get(KEY_ENV)
        if raw:
            _KEY.append(bytes.fromhex(raw))
        else:
            folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "settlement_research"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "readlog.key"
            if not path.is_file():  # written whole, then linked: two workers at once, the first one's key wins
                tmp = folder / f"readlog.key.{os.getpid()}"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
                tmp.unlink()
            _KEY.append(bytes.fromhex(path.read_text("ascii").strip()))
    return _KEY[0]


def frame_hash(frame: pl.DataFrame) -> str:
    """Keyed sha256 (:func:`hash_key`) of a frame's schema and rows (float values exactly, as JSON numbers).

    Rows are hashed as a set (sorted first): the order a ``group_by`` happens to return is not
    data, and a page that shows rows in such an order is arbitrary in it anyway.
    """
    digest = hmac.new(hash_key(), repr(list(frame.schema.items())).encode("utf-8"), hashlib.sha256)
    if frame.width and frame.height > 1:
        try:
            frame = frame.sort(frame.columns, nulls_last=True)
        except Exception:  # noqa: BLE001 - unsortable (nested) columns: hash in the given order
            pass
    digest.update(frame.write_ndjson().encode("utf-8"))
    return digest.hexdigest()


def value_hash(value: Any) -> str:
    if isinstance(value, pl.DataFrame):
        return frame_hash(value)
    if isinstance(value, pl.Series):
        return frame_hash(value.to_frame())
    text = json.dumps(value, sort_keys=True, default=lambda v: repr(v))
    return hmac.new(hash_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, kept per (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_SHA:
        from settlement_research.io import sha256_file

        _FILE_SHA[key] = sha256_file(path)
    return _FILE_SHA[key]


def select(frame: pl.DataFrame, columns: Sequence[str] | None, where: Mapping[str, Sequence[Any]] | None) -> pl.DataFrame:
    """The rows of ``frame`` whose ``where`` columns take one of the listed values (None = null), in
    their order, restricted to ``columns``."""
    for column, values in (where or {}).items():
        present = [v for v in values if v is not None]
        condition = pl.col(column).is_in(pl.Series(present, dtype=frame.schema[column]).implode()) if present else pl.lit(False)
        if len(present) < len(values):
            condition = condition | pl.col(column).is_null()
        frame = frame.filter(condition)
    return frame.select(list(columns)) if columns is not None else frame


# ------------------------------------------------------------------------------- catalog hooks


def table_read(source: str, table: str, file: Path) -> None:
    """The catalog handed out a whole clean table (a load, or a path the caller will read)."""
    if active():
        record(f"table:{source}/{table}", None, sha256=file_hash(file))


def json_read(source: str, name: str, value: Any) -> None:
    if active():
        record(f"json:{source}/{name}", value)


def data_dir_asked(depth: int = 2) -> None:
    """``paths.data_clean_dir()`` was called: from outside the catalog, the report is opaque."""
    if not active():
        return
    caller = sys._getframe(depth).f_globals.get("__name__", "")
    if caller in TRUSTED:
        return
    from settlement_research.reports.provenance import data_manifest_hash

    with paused():
        sha = str(data_manifest_hash())
    record("opaque:data_clean", None, sha256=sha)


# ------------------------------------------------------------------------------------- derived


def _call_name(func: Callable[..., Any], args: Sequence[Any]) -> str:
    return f"call:{func.__module__}:{func.__qualname__}{json.dumps(list(args), separators=(',', ':'))}"


def derived(func: F) -> F:
    """Mark a function whose result (not its inputs) is what a report depends on.

    Positional JSON-able arguments only (they are part of the dataset name, and :func:`verify`
    calls the function again with them). Its own reads are not logged; a :class:`Tracked` result
    logs the parts a report takes, any other result is logged whole here.
    """

    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        name = _call_name(func, args)
        with paused():
            result = func(*args)
        if isinstance(result, Tracked):
            object.__setattr__(result, "_origin", name)
        else:
            record(name, result)
        return result

    wrapper.__readlog_derived__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class Tracked:
    """Mixin for a dataclass returned by a :func:`derived` function: reading a field logs the whole
    field, :meth:`rows` logs only the slice taken. Fields named in ``_untracked`` (the arguments
    the result was made from) are not logged. Without an origin (made by hand), reads are opaque."""

    _origin: str | None = None
    _untracked: frozenset[str] = frozenset()

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if _logs and not _paused and not name.startswith("_"):
            fields = object.__getattribute__(self, "__dataclass_fields__")
            if name in fields and name not in object.__getattribute__(self, "_untracked"):
                self._log(name, value)
        return value

    def _log(self, part: str, value: Any, columns: Sequence[str] | None = None,
             where: Mapping[str, Sequence[Any]] | None = None) -> None:
        origin = object.__getattribute__(self, "_origin")
        if origin is None:  # not made by a derived function: cannot be recomputed, depends on all
            record("opaque:data_clean", None, sha256=_manifest_hash())
            return
        record(f"{origin}/{part}", value, columns=columns, where=where)

    def rows(self, part: str, columns: Sequence[str] | None = None, **where: Any) -> pl.DataFrame | None:
        """Field ``part`` (a frame; None stays None) filtered to rows whose columns equal the given
        values (a value or a list of values; None matches null), restricted to ``columns``."""
        frame = object.__getattribute__(self, part)
        lists = {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in where.items()}
        out = None if frame is None else select(frame, columns, lists)
        if _logs and not _paused:
            self._log(part, out, columns, lists)
        return out


def _manifest_hash() -> str:
    from settlement_research.reports.provenance import data_manifest_hash

    return str(data_manifest_hash())


# -------------------------------------------------------------------------------------- verify


class Verifier:
    """Recomputes logged reads against the current data and code; datasets are resolved once."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._hashes: dict[tuple[str, str, str], str | None] = {}

    def current(self, read: Read) -> str | None:
        """The hash the read has now (None when it cannot be made: table gone, call fails)."""
        key = (read["dataset"], json.dumps(read.get("columns")), json.dumps(read.get("where"), sort_keys=True))
        if key not in self._hashes:
            try:
                with paused():
                    self._hashes[key] = self._compute(read)
            except Exception:  # noqa: BLE001 - anything that cannot be recomputed is a change
                self._hashes[key] = None
        return self._hashes[key]

    def _compute(self, read: Read) -> str | None:
        dataset: str = read["dataset"]
        kind, _, rest = dataset.partition(":")
        if kind == "table":
            from settlement_research import catalog

            source, _, table = rest.partition("/")
            return file_hash(catalog.path(table, source))
        if kind == "json":
            from settlement_research import catalog

            source, _, name = rest.partition("/")
            return value_hash(catalog.load_json(name, source))
        if kind == "opaque":
            return _manifest_hash()
        if kind == "lineage":  # a page's lookup in a clean table's lineage (pages.lineage.Origins)
            from settlement_research.pages.lineage import Origins

            source, _, table = rest.partition("/")
            name = f"lineage:{source}"
            if name not in self._values:  # one per source (setdefault would make one per read: 10 000 at n=60)
                self._values[name] = Origins(source)
            return value_hash(self._values[name].recompute(table, read["where"]))
        if kind == "call":
            call, _, part = dataset.rpartition("]")
            value = self._call(call + "]")
            part = part.removeprefix("/")
            if part:
                value = object.__getattribute__(value, part)
            if read.get("where") is not None or read.get("columns") is not None:
                value = None if value is None else select(value, read.get("columns"), read.get("where"))
            return value_hash(value)
        return None

    def _call(self, dataset: str) -> Any:
        if dataset not in self._values:
            module, _, rest = dataset.removeprefix("call:").partition(":")
            qualname, _, args = rest.partition("[")
            func: Any = importlib.import_module(module)
            for attr in qualname.split("."):
                func = getattr(func, attr)
            if not getattr(func, "__readlog_derived__", False):
                raise ValueError(f"{module}:{qualname} is not a derived dataset")
            self._values[dataset] = func.__wrapped__(*json.loads("[" + args))
        return self._values[dataset]

    def unchanged(self, reads: Sequence[Read]) -> bool:
        return all(self.current(r) == r.get("sha256") for r in reads)


def verify(reads: Sequence[Read], verifier: Verifier | None = None) -> bool:
    """Whether every read still has the hash it was logged with."""
    return (verifier or Verifier()).unchanged(reads)


__all__ = [
    "Read", "Tracked", "Verifier", "active", "capture", "data_dir_asked", "derived", "extend", "file_hash",
    "frame_hash", "hash_key", "json_read", "paused", "record", "select", "table_read", "value_hash", "verify",
]
