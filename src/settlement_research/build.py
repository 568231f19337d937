"""raw -> clean: load each source, validate, check relations, derive, validate again, save.

One step reads like the next (load inputs, process, save outputs), one source at a time:

    read        source.read(data_raw/<source>) -> lazy model tables
    validate    per table: collect, conform + validate; bad rows -> quarantine; write to staging
    relations   cross-table rules on the valid rows; rows breaking an error rule -> quarantine
    derive      person level -> municipality-year columns, merged into the source's aggregates
    validate    the merged aggregate tables again (and their relations)
    save        Parquet into a staging folder, then swapped into data_clean/<source> by renames

Why so careful: notebooks and reports trust data_clean blindly, so it must only ever hold a
complete, validated build. A failed or killed build leaves the previous one (and its manifest)
untouched; an unchanged source is not rebuilt.

The manifest is part of the data (pipeline/manifest.py): each source is read from a private
snapshot of its raw folder whose bytes were hashed as they were copied (pipeline/inputs.py), so
the recorded sha256 is that of the bytes parsed; if data_raw changes while the build runs, the
source is built once more, then refused. ``<source>/MANIFEST.json`` is written inside the staged
folder and swapped in with the data; data_clean/MANIFEST.json is an index of those, removed before
the swap and written after it (absent, never stale). Up to date means same input bytes, same code
(pipeline/codehash.py: the source module, derive, models, validation, relations and what they
import) and every output unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from settlement_research import SCHEMA_VERSION, __version__, paths
from settlement_research.errors import DataError
from settlement_research.io import sha256_file
from settlement_research.model import AGGREGATE_TABLES, PERSON_TABLES, TABLES
from settlement_research.pipeline import codehash, lineage
from settlement_research.pipeline import manifest as manifest_mod
from settlement_research.pipeline.inputs import InputChanged, raw_files
from settlement_research.pipeline.inputs import changed as input_changes
from settlement_research.pipeline.inputs import snapshot as snapshot_inputs
from settlement_research.pipeline.manifest import (
    MANIFEST,
    MANIFEST_VERSION,
    file_entry,
    read_manifest,
)
from settlement_research.pipeline.staging import OLD_PREFIX, STAGING_PREFIX, swap_in
from settlement_research.pipeline.staging import recover as _recover_staging
from settlement_research.problems import Problem

# PROVENANCE "source" -> module with read(raw_dir); None = reference data read from data_raw by
# other modules (KLASS code changes, used by harmonize), not a table source: skipped.
SOURCE_MODULES: dict[str, str | None] = {
    "synthetic": "settlement_research.sources.synthetic",
    "imdi": "settlement_research.sources.imdi",
    "ssb": "settlement_research.sources.ssb",
    "klass": None,
}
PROVENANCE = "PROVENANCE.json"
QUARANTINE = "quarantine"
ROW_NR = "__row_nr"
INPUT_PREFIX = ".input-"  # private snapshot of a raw source folder, read by the build
LOCK = ".build.lock"
# Test hook: seconds to sleep after the first table is written to staging (to kill a build mid-write).
PAUSE_ENV = "SETTLEMENT_RESEARCH_BUILD_PAUSE_AFTER_FIRST_TABLE"
FIRST_TABLE_MARKER = "build: first table written to staging"
# Test hooks between the steps of a build: the process dies (os._exit) at the step named by
# FAULT_ENV (snapshot, built, manifest_staged, staged, index_removed, swapped:<source>,
# index_written); FAULT_HOOK, if set, is called with every step name (tests edit inputs there).
FAULT_ENV = "SETTLEMENT_RESEARCH_BUILD_FAULT"
FAULT_MARKER = "build: dying at step"
FAULT_EXIT = 70
FAULT_HOOK: Callable[[str], None] | None = None

Source = str | ModuleType | None
RelationsCheck = Callable[..., list[Problem]]
Log = Callable[[str], None]


class BuildError(DataError, RuntimeError):
    """The build stopped; the message names the source, file, table, column and row as known."""


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------

@dataclass
class TableReport:
    """One output table: rows written, rows quarantined (of the rows that came in) and warnings."""

    table: str
    input_rows: int = 0
    rows: int = 0
    quarantined: int = 0
    warnings: int = 0
    derived_columns: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.input_rows if self.input_rows else 0.0


@dataclass
class SourceReport:
    """What happened to one source: built or up to date, its tables, warnings and stage timings."""

    source: str
    status: str  # "built" | "up_to_date"
    tables: dict[str, TableReport] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if self.status == "up_to_date":
            return f"{self.source}: up to date (inputs unchanged; use --force to rebuild)"
        lines = [f"{self.source}: built {len(self.tables)} table(s)"]
        lines.append(f"  {'table':<28}{'rows':>10}{'quarantined':>13}{'warnings':>10}")
        for t in self.tables.values():
            lines.append(f"  {t.table:<28}{t.rows:>10}{t.quarantined:>13}{t.warnings:>10}")
        for p in self.warnings[:10]:
            where = "" if p.message.startswith(p.table) else f"{p.table}: "
            counted = p.n_rows and "row" not in p.message
            lines.append(f"  warning {where}{p.message}" + (f" ({p.n_rows} row(s))" if counted else ""))
        if len(self.warnings) > 10:
            lines.append(f"  ... and {len(self.warnings) - 10} more warning(s)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------

def build(
    raw_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    *,
    max_quarantine_share: float = 0.01,
    force: bool = False,
    sources: Mapping[str, Source] | None = None,
    check_relations: RelationsCheck | None = None,
    log: Log | None = None,
) -> list[SourceReport]:
    """Build every source folder of ``raw_dir`` into ``out_dir``; raise ``BuildError`` on failure.

    ``sources`` maps a PROVENANCE ``source`` name to its module (or module name), default
    ``SOURCE_MODULES``; ``check_relations`` defaults to ``relations.check_relations``.
    All sources are staged first and swapped in together, so a failure changes nothing.
    """
    raw = Path(raw_dir) if raw_dir is not None else paths.data_raw_dir()
    out = Path(out_dir) if out_dir is not None else paths.data_clean_dir()
    say = log or (lambda msg: print(msg, flush=True))
    registry = dict(SOURCE_MODULES if sources is None else sources)
    if not raw.is_dir():
        raise BuildError(f"no raw data folder at {raw}; run `settlement-research synth` or an import first")
    out.mkdir(parents=True, exist_ok=True)
    params = {"max_quarantine_share": max_quarantine_share, "force": force}
    with _lock(out):
        _recover(out)
        manifest = read_manifest(out)
        folders = find_source_folders(raw)
        if not folders:
            raise BuildError(f"no source folders with {PROVENANCE} in {raw}")
        reports: list[SourceReport] = []
        staged: dict[str, Path] = {}
        try:
            for name, folder in folders.items():
                if name in registry and registry[name] is None:
                    if name == "klass":
                        _check_fetched_changes(folder, say)
                    say(f"build: {name} ({folder}) is reference data, not a table source; skipped")
                    continue
                provenance = _read_provenance(folder)
                module = _load_source_module(name, provenance, registry, folder)
                code = codehash.build_code_hash(module.__name__)
                inputs = fingerprint_inputs(raw, folder)
                previous = manifest.get("sources", {}).get(name)
                if not force and is_up_to_date(previous, inputs, out, code):
                    reports.append(SourceReport(name, "up_to_date", entry=previous or {}))
                    continue
                say(f"build: {name} ({folder}) ...")
                report, staging = _build_from_snapshot(
                    name, module, folder, raw, out, code=code, params=params,
                    max_quarantine_share=max_quarantine_share, check_relations=check_relations, say=say,
                )
                staged[name] = staging
                reports.append(report)
        except BaseException:
            for staging in staged.values():
                shutil.rmtree(staging, ignore_errors=True)
            raise
        if staged:
            _fault("staged")
            manifest_mod.remove_index(out)
            _fault("index_removed")
            for name, staging in staged.items():
                swap_in(staging, out / name)
                _fault(f"swapped:{name}")
            manifest_mod.write_index(out)
            _fault("index_written")
        for report in reports:
            say(report.summary())
        return reports


def _build_from_snapshot(
    name: str, module: ModuleType, folder: Path, raw: Path, out: Path, *, code: str,
    params: dict[str, Any], max_quarantine_share: float, check_relations: RelationsCheck | None, say: Log,
) -> tuple[SourceReport, Path]:
    """Stage one source from a snapshot of its raw folder, with its MANIFEST.json inside.

    The source parses the snapshot (the bytes that were hashed). If data_raw changes while the
    build runs, the staged result no longer describes data_raw: it is dropped and the source is
    built once more; a second change is an error and data_clean is left as it was.
    """
    for attempt in (1, 2):
        snap_root = out / f"{INPUT_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
        staging = out / f"{STAGING_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
        try:
            try:
                snap_folder, inputs, states = snapshot_inputs(raw, folder, snap_root)
            except InputChanged as exc:
                moved = [str(exc)]
            else:
                _fault("snapshot")
                provenance = _read_provenance(snap_folder)
                try:
                    _verify_provenance_checksums(snap_folder, provenance, snap_root, inputs)
                    report = build_source(
                        name, module, snap_folder, staging, raw_dir=snap_root,
                        max_quarantine_share=max_quarantine_share, check_relations=check_relations,
                    )
                except BuildError as exc:
                    raise BuildError(str(exc).replace(str(snap_root), str(raw))) from exc
                _fault("built")
                report.entry = _manifest_entry(name, module, inputs, staging, report, params, out, code, provenance)
                manifest_mod.write_source_manifest(staging, name, report.entry)
                _fault("manifest_staged")
                moved = input_changes(raw, folder, states)
                if not moved:
                    return report, staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(snap_root, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if attempt == 1:
            say(f"build: {name}: raw files changed during the build ({', '.join(moved)}); building again")
    raise BuildError(
        f"{name}: raw files in {folder} kept changing during the build ({', '.join(moved)}); "
        "data_clean was not changed. Wait until whatever writes them has finished, then build again."
    )


def _fault(step: str) -> None:
    """Test hook: die at ``step`` (``$SETTLEMENT_RESEARCH_BUILD_FAULT``) as a killed process would."""
    if FAULT_HOOK is not None:
        FAULT_HOOK(step)
    if os.environ.get(FAULT_ENV) == step:
        print(f"{FAULT_MARKER} {step}", flush=True)
        os._exit(FAULT_EXIT)


# --------------------------------------------------------------------------------------------
# one source
# --------------------------------------------------------------------------------------------

def build_source(
    name: str,
    module: ModuleType,
    folder: Path,
    staging: Path,
    *,
    raw_dir: Path,
    max_quarantine_share: float = 0.01,
    check_relations: RelationsCheck | None = None,
) -> SourceReport:
    """Build one source into ``staging`` (which must not exist). Raises ``BuildError``."""
    report = SourceReport(name, "built")
    staging.mkdir(parents=True)
    work = _Staged(staging)
    try:
        quarantine: dict[str, list[pl.DataFrame]] = {}
        clock = _Clock(report.timings)

        # 1. read: the source turns its raw layout into lazy model tables
        with clock("read"):
            lazy = _read_source(name, module, folder, raw_dir)
        unknown = sorted(set(lazy) - set(TABLES))
        if unknown:
            raise BuildError(f"{name}: read() returned unknown table(s) {', '.join(unknown)}")
        order = [t for t in TABLES if t in lazy]

        # 2. validate each table on its own and write its valid rows (later steps rewrite only
        #    the tables they change; the valid tables stay in memory for relations and derive)
        for i, table in enumerate(order):
            with clock("collect"):
                frame = _collect(lazy.pop(table), name, table, folder, raw_dir)
            with clock("validate"):
                valid, failing, tr = _validate_table(frame, table, name, _guess_files(folder, table, raw_dir))
            del frame
            report.tables[table] = tr
            _add_quarantine(quarantine, table, failing, "validation")
            with clock("write"):
                work.write(table, valid)
            del valid, failing
            if i == 0:
                _pause_hook(work)

        # 3. relations on the valid rows of every table; error rows are quarantined
        with clock("relations"):
            problems = _relations(work, order, check_relations, report)
            warnings = _apply_relation_problems(work, problems, report, quarantine, "relations")
        report.warnings.extend(w for w in warnings if w.table in PERSON_TABLES)

        # 4. derive municipality-year tables from the person level and merge them in
        with clock("derive"):
            derived_tables = _derive_and_merge(work, order, report, quarantine, name)
        if derived_tables:  # the merged aggregates get their cross-table rules checked again
            with clock("relations"):
                agg = [t for t in AGGREGATE_TABLES if work.has(t)]
                problems = [p for p in _relations(work, agg, check_relations, report) if p.table in AGGREGATE_TABLES]
                warnings = _apply_relation_problems(work, problems, report, quarantine, "relations")
        report.warnings.extend(w for w in warnings if w.table not in PERSON_TABLES)
        for w in report.warnings:
            if w.table in report.tables:
                report.tables[w.table].warnings += 1

        # 5. the quarantine budget: too many bad rows means the input, not a few rows, is wrong
        _check_quarantine_share(name, report, max_quarantine_share)

        # 6. save: the tables are in place already (once their writes finish); add quarantine files
        #    and JSON sidecars
        with clock("save"):
            work.flush()
            for table, rows in work.rows.items():
                report.tables[table].rows = rows
            for table, parts in quarantine.items():
                if parts:
                    (staging / QUARANTINE).mkdir(exist_ok=True)
                    pl.concat(parts, how="diagonal").write_parquet(staging / QUARANTINE / f"{table}.parquet")
            for sidecar in sorted(folder.glob("*.json")):
                shutil.copy2(sidecar, staging / sidecar.name)
        with clock("lineage"):  # data_clean/<source>/lineage/<table>.parquet (pipeline/lineage.py)
            lineage.write_lineage(name, module.__name__, folder, staging, work.frames, work.row_nrs,
                                  derived={t: r.derived_columns for t, r in report.tables.items()},
                                  covered=work.derived_keys)
        return report
    finally:
        work.close()


class _Staged:
    """The staged tables of one source: final Parquet files, and each row's input row number.

    Row numbers stay in memory (8 bytes a row) so the files are final as soon as they are written.
    The written frames stay in memory too: relations and derive need every table at once anyway,
    and reading them back from Parquet would only cost time.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.row_nrs: dict[str, pl.Series] = {}
        self.rows: dict[str, int] = {}
        self.frames: dict[str, pl.DataFrame] = {}
        self.derived_keys: dict[str, pl.DataFrame] = {}  # table -> keys the person level covers (lineage)
        # Parquet encoding runs on one core: a writer thread overlaps it with the next steps
        # (writes run one at a time, in order, so a rewritten table ends up with its last version)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="staged-write")
        self._pending: list[Future[None]] = []

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    def has(self, table: str) -> bool:
        return table in self.row_nrs

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """Write ``frame`` (with its ROW_NR column, which is kept aside, not written)."""
        self.row_nrs[table] = frame.get_column(ROW_NR).cast(pl.Int64)
        data = frame.drop(ROW_NR)
        self.rows[table] = data.height
        self.frames[table] = data
        self._pending.append(self._writer.submit(data.write_parquet, self.path(table)))

    def flush(self) -> None:
        """Wait until every table is on disk; a failed write raises here."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        """Finish (or, after an error, wait out) pending writes and stop the writer thread."""
        try:
            for future in self._pending:
                future.exception()
        finally:
            self._pending = []
            self._writer.shutdown(wait=True)

    def read(self, table: str, numbered: bool = False) -> pl.DataFrame:
        frame = self.frames[table] if table in self.frames else pl.read_parquet(self.path(table))
        return frame.with_columns(self.row_nrs[table].alias(ROW_NR)) if numbered else frame

    def scan(self, table: str) -> pl.LazyFrame:
        return self.frames[table].lazy() if table in self.frames else pl.scan_parquet(self.path(table))


class _Clock:
    """Adds wall time per stage to a dict (the benchmark reads it to say where the time goes)."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.into[stage] = self.into.get(stage, 0.0) + time.perf_counter() - start


def _read_source(name: str, module: ModuleType, folder: Path, raw_dir: Path) -> dict[str, pl.LazyFrame]:
    try:
        tables = module.read(folder)
    except Exception as exc:
        raise BuildError(
            f"{name}: reading {_where(folder, raw_dir, exc)} failed: {_first_line(exc)}"
            + _encoding_detail(exc, list(_data_files(folder)), raw_dir)
        ) from exc
    return {t: (f if isinstance(f, pl.LazyFrame) else f.lazy()) for t, f in tables.items()}


def _collect(lf: pl.LazyFrame, name: str, table: str, folder: Path, raw_dir: Path) -> pl.DataFrame:
    """Collect one table; a read error names the file (from the query plan), column and row."""
    try:
        return lf.collect()
    except Exception as exc:
        files = _plan_files(lf, folder) or _guess_files(folder, table, raw_dir, relative=False)
        where = ", ".join(_rel(f, raw_dir) for f in files) or f"a file in {_rel(folder, raw_dir)}"
        raise BuildError(
            f"{name}: cannot read table {table} from {where}: {_first_line(exc)}"
            + _encoding_detail(exc, files, raw_dir)
        ) from exc


def _validate_table(
    frame: pl.DataFrame, table: str, name: str, files: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, TableReport]:
    """Valid rows (model dtypes, with their input row number) and failing rows (row_nr, reason)."""
    from settlement_research.validation import describe, validate

    where = files[0] if len(files) == 1 else None
    result = validate(frame, table, source=where)
    table_level = [p for p in result.errors if not p.rows]
    if table_level:
        raise BuildError(
            f"{name}: table {table} from {', '.join(files) or 'the source'} cannot be used as a whole:\n"
            + describe(result)
        )
    assert result.valid_rows is not None and result.failing_rows is not None
    failing = result.failing_rows
    row_nrs = pl.int_range(0, result.n_rows, dtype=pl.Int64, eager=True).alias(ROW_NR).to_frame()
    if failing.height:
        row_nrs = row_nrs.join(failing.select(pl.col("row_nr").alias(ROW_NR)), on=ROW_NR, how="anti").sort(ROW_NR)
    valid = result.valid_rows.with_columns(row_nrs.get_column(ROW_NR))
    tr = TableReport(table, input_rows=result.n_rows, quarantined=failing.height)
    _count_reasons(tr, failing)
    return valid, failing, tr


def _count_reasons(tr: TableReport, failing: pl.DataFrame) -> None:
    if failing.height:
        for reason, n in failing.group_by("reason").len().iter_rows():
            tr.quarantine_reasons[reason] = tr.quarantine_reasons.get(reason, 0) + n


def _add_quarantine(
    quarantine: dict[str, list[pl.DataFrame]], table: str, failing: pl.DataFrame, stage: str
) -> None:
    """Quarantined rows keep their values as text (as read), with row_nr, reason and stage.

    ``row_nr`` is 1-based, as in every report and in ``validate --quarantine``.
    """
    if failing.height == 0:
        return
    cols = [c for c in failing.columns if c not in ("row_nr", "reason")]
    part = failing.select(
        (pl.col("row_nr") + 1).cast(pl.Int64), pl.col("reason").cast(pl.String), pl.lit(stage).alias("stage"),
        *[pl.col(c).cast(pl.String) for c in cols],
    )
    quarantine.setdefault(table, []).append(part)


def _relations(
    work: _Staged, tables: Sequence[str], check: RelationsCheck | None, report: SourceReport
) -> list[Problem]:
    """Cross-table rules over the valid rows (all tables in memory: relations need them together)."""
    if check is None:
        try:
            from settlement_research.relations import check_relations as check
        except ModuleNotFoundError as exc:
            if exc.name != "settlement_research.relations":
                raise
            if not any(w.rule == "relations_unavailable" for w in report.warnings):
                report.warnings.append(Problem(
                    rule="relations_unavailable", table="*", severity="warning",
                    message="settlement_research.relations is not installed; cross-table rules were not checked",
                ))
            return []
    frames = {t: work.read(t) for t in tables if work.has(t)}
    return list(check(frames))


def _apply_relation_problems(
    work: _Staged, problems: list[Problem], report: SourceReport,
    quarantine: dict[str, list[pl.DataFrame]], stage: str,
) -> list[Problem]:
    """Quarantine rows of error problems (row indices refer to the staged valid rows)."""
    bad: dict[str, dict[int, list[str]]] = {}
    for p in problems:
        if p.severity != "error":
            continue
        if not p.rows:
            raise BuildError(f"{report.source}: relation rule broken by table {p.table} as a whole: {p.message}")
        for r in p.rows:
            bad.setdefault(p.table, {}).setdefault(int(r), []).append(_reason(p))
    for table, rows in bad.items():
        frame = work.read(table, numbered=True)
        marks = pl.DataFrame(
            {"_pos": list(rows), "reason": ["; ".join(dict.fromkeys(v)) for v in rows.values()]},
            schema={"_pos": pl.Int64, "reason": pl.String},
        )
        numbered = frame.with_row_index("_pos").with_columns(pl.col("_pos").cast(pl.Int64))
        failing = numbered.join(marks, on="_pos", how="inner").sort("_pos")
        keep = numbered.join(marks, on="_pos", how="anti").sort("_pos").drop("_pos")
        failing = failing.drop("_pos").rename({ROW_NR: "row_nr"})
        _add_quarantine(quarantine, table, failing, stage)
        tr = report.tables[table]
        tr.quarantined += failing.height
        _count_reasons(tr, failing)
        work.write(table, keep)
    return [p for p in problems if p.severity != "error"]


def _derive_and_merge(
    work: _Staged, order: Sequence[str], report: SourceReport,
    quarantine: dict[str, list[pl.DataFrame]], name: str,
) -> list[str]:
    """Derive municipality-year tables from the staged person tables; validate the merged result."""
    from settlement_research.derive import DERIVATIONS, derive_tables, merge_with_source
    from settlement_research.validation import conform, validate

    person = {t: work.scan(t) for t in order if t in PERSON_TABLES}
    if not person:
        return []
    source_agg = {t: work.read(t, numbered=True) for t in AGGREGATE_TABLES if t in order}
    keys = {t: f.select("kommune_nr", "year") for t, f in source_agg.items() if t in DERIVATIONS}
    derived = derive_tables(person, keys=keys)
    classification = _single_classification_year(source_agg)
    for table, d in derived.items():
        merged, disagreements = merge_with_source(d, source_agg.get(table), classification_year=classification)
        row_nr = merged.get_column(ROW_NR) if ROW_NR in merged.columns else pl.Series(ROW_NR, [None] * merged.height, pl.Int64)
        conformed = conform(merged.drop(ROW_NR, strict=False), table)
        result = validate(conformed, table, source=f"{name} (derived)")
        tr = report.tables.setdefault(table, TableReport(table, input_rows=merged.height))
        tr.derived_columns = list(d.columns)
        work.derived_keys[table] = d.frame.select("kommune_nr", "year")
        if table not in source_agg:
            tr.input_rows = merged.height
        if disagreements:
            p = Problem(
                rule="derived_differs_from_source", table=table, severity="warning", n_rows=disagreements,
                message=f"{disagreements} value(s) of {', '.join(d.columns)} in the source differ from "
                        "the person level; the person level is used",
            )
            report.warnings.append(p)
        table_level = [p for p in result.errors if not p.rows]
        if table_level:
            raise BuildError(f"{name}: derived table {table} is invalid as a whole: {table_level[0].message}")
        assert result.failing_rows is not None and result.valid_rows is not None
        failing = result.failing_rows
        if failing.height:
            failing = failing.with_columns(row_nr=row_nr.gather(failing["row_nr"]))
            tr.quarantined += failing.height
            _count_reasons(tr, failing)
            _add_quarantine(quarantine, table, failing, "after_derive")
        keep = row_nr if not result.failing_rows.height else (
            row_nr.to_frame().with_row_index("_pos").with_columns(pl.col("_pos").cast(pl.Int64))
            .join(result.failing_rows.select(pl.col("row_nr").alias("_pos")), on="_pos", how="anti")
            .sort("_pos").get_column(ROW_NR)
        )
        work.write(table, result.valid_rows.with_columns(keep))
    return list(derived)


def _single_classification_year(frames: Mapping[str, pl.DataFrame]) -> int | None:
    years: set[int] = set()
    for f in frames.values():
        if "classification_year" in f.columns:
            years.update(int(v) for v in f["classification_year"].drop_nulls().unique())
    return years.pop() if len(years) == 1 else None


def _check_quarantine_share(name: str, report: SourceReport, limit: float) -> None:
    over = [t for t in report.tables.values() if t.input_rows and t.quarantined_share > limit]
    if not over:
        return
    lines = [f"{name}: too many rows quarantined (limit {limit:.2%} per table; --max-quarantine-share):"]
    for t in over:
        lines.append(f"  {t.table}: {t.quarantined} of {t.input_rows} rows ({t.quarantined_share:.2%})")
        for reason, n in sorted(t.quarantine_reasons.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"    {n} x {reason}")
    lines.append("data_clean was not changed.")
    raise BuildError("\n".join(lines))


def _reason(p: Problem) -> str:
    return f"{p.column}: {p.message}" if p.column and p.column not in p.message else p.message


def _pause_hook(work: _Staged) -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        work.flush()
        print(FIRST_TABLE_MARKER, flush=True)
        time.sleep(float(seconds))


# --------------------------------------------------------------------------------------------
# error locations
# --------------------------------------------------------------------------------------------

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _rel(path: str | Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _data_files(folder: Path) -> Iterator[Path]:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix.lower() != ".json" and not p.name.startswith("."):
            yield p


def _guess_files(folder: Path, table: str, raw_dir: Path, relative: bool = True) -> list[Any]:
    files = [p for p in _data_files(folder) if p.stem == table or p.stem.startswith(table + ".")]
    return [_rel(p, raw_dir) for p in files] if relative else files


def _plan_files(lf: pl.LazyFrame, folder: Path) -> list[Path]:
    """Files of ``folder`` the query plan scans (the plan names its scan sources)."""
    try:
        plan = lf.explain(optimized=False)
    except Exception:
        return []
    return [p for p in _data_files(folder) if str(p) in plan or str(p.resolve()) in plan]


def _where(folder: Path, raw_dir: Path, exc: BaseException) -> str:
    text = str(exc)
    named = [p for p in _data_files(folder) if str(p) in text or p.name in text]
    return ", ".join(_rel(p, raw_dir) for p in named) or _rel(folder, raw_dir)


def _encoding_detail(exc: BaseException, files: Sequence[Path], raw_dir: Path) -> str:
    """For an encoding error: the first line (and column) that is not UTF-8, in each text file."""
    text = str(exc).lower()
    if not isinstance(exc, UnicodeError) and "utf" not in text and "encoding" not in text:
        return ""
    details = []
    for path in files:
        if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
            continue
        found = locate_bad_utf8(path)
        if found:
            line, column = found
            col = f", column {column}" if column else ""
            details.append(f"{_rel(path, raw_dir)}: line {line}{col} is not valid UTF-8")
    return ("\n  " + "\n  ".join(details)) if details else ""


def locate_bad_utf8(path: Path) -> tuple[int, str | None] | None:
    """(1-based line, column name from the header) of the first byte sequence that is not UTF-8."""
    header: list[str] | None = None
    sep = ","
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                decoded = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                if header is None:
                    return n, None
                index = raw[: err.start].decode("utf-8", errors="replace").count(sep)
                return n, header[index] if index < len(header) else None
            if header is None:
                sep = max((",", ";", "\t"), key=decoded.count)
                header = [h.strip().strip('"') for h in decoded.rstrip("\r\n").split(sep)]
    return None


# --------------------------------------------------------------------------------------------
# sources, inputs, manifest
# --------------------------------------------------------------------------------------------

def find_source_folders(raw_dir: Path) -> dict[str, Path]:
    """Folders of ``raw_dir`` holding a PROVENANCE.json, by their ``source`` name."""
    found: dict[str, Path] = {}
    for folder in sorted(p for p in raw_dir.iterdir() if p.is_dir() and (p / PROVENANCE).is_file()):
        name = str(_read_provenance(folder).get("source") or folder.name)
        if name in found:
            raise BuildError(f"two raw folders claim source {name!r}: {found[name]} and {folder}")
        found[name] = folder
    return found


def _check_fetched_changes(folder: Path, say: Callable[[str], None]) -> None:
    """Fetched KLASS code changes must agree with the shipped code history (geo.changes).

    Why: harmonize uses the fetched changes beside the shipped table; a disagreement means one of
    the two is wrong, and a build that carried on would let notebooks harmonise with either.
    """
    from settlement_research.geo.changes import HarmonizeError, with_fetched

    try:
        table = with_fetched(folder.parent)  # reads <raw>/klass
    except HarmonizeError as exc:
        raise BuildError(f"fetched KLASS changes in {folder} disagree with the shipped code history: {exc}") from exc
    say(f"build: KLASS code changes in {folder} agree with the shipped history (covers {table.coverage})")


def _read_provenance(folder: Path) -> dict[str, Any]:
    path = folder / PROVENANCE
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"cannot read {path}: {_first_line(exc)}") from exc
    if not isinstance(data, dict):
        raise BuildError(f"{path}: expected a JSON object with a 'source' key")
    return data


def _load_source_module(
    name: str, provenance: dict[str, Any], registry: Mapping[str, Source], folder: Path
) -> ModuleType:
    if name not in registry:
        raise BuildError(
            f"{folder / PROVENANCE}: unknown source {name!r}; known sources: {', '.join(registry)}"
        )
    target = registry[name]
    assert target is not None
    module = importlib.import_module(target) if isinstance(target, str) else target
    if not hasattr(module, "read"):
        raise BuildError(f"source module {module.__name__} has no read(raw_dir) function")
    return module


def _provenance_files(provenance: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, sha256) pairs listed in PROVENANCE.json (a list of objects or a path -> sha map)."""
    files = provenance.get("files")
    pairs: list[tuple[str, str]] = []
    if isinstance(files, dict):
        for path, value in files.items():
            sha = value.get("sha256") if isinstance(value, dict) else value
            if isinstance(sha, str):
                pairs.append((str(path), sha))
    elif isinstance(files, list):
        for item in files:
            if isinstance(item, dict):
                path = item.get("path") or item.get("file") or item.get("name")
                sha = item.get("sha256")
                if path and isinstance(sha, str):
                    pairs.append((str(path), sha))
    return pairs


def _verify_provenance_checksums(
    folder: Path, provenance: dict[str, Any], raw_dir: Path, inputs: list[dict[str, Any]]
) -> None:
    """A raw file whose sha256 differs from PROVENANCE.json is corrupt (or was edited): stop."""
    known = {i["path"]: i["sha256"] for i in inputs}
    for rel, sha in _provenance_files(provenance):
        candidates = [folder / rel, folder.parent / rel, folder / Path(rel).name]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise BuildError(f"{folder / PROVENANCE} lists {rel}, which is missing from {folder}")
        actual = known.get(_rel(path, raw_dir)) or sha256_file(path)
        if actual != sha:
            raise BuildError(
                f"{path}: sha256 differs from {PROVENANCE} (file corrupted or changed after import); "
                "re-import or re-generate it"
            )


def fingerprint_inputs(raw_dir: Path, folder: Path) -> list[dict[str, Any]]:
    """Every file of a source folder: path relative to the raw dir, sha256 and size."""
    return [
        {"path": _rel(p, raw_dir), "sha256": sha256_file(p), "size": p.stat().st_size}
        for p in raw_files(folder)
    ]


def _manifest_entry(
    name: str, module: ModuleType, inputs: list[dict[str, Any]], staging: Path,
    report: SourceReport, params: dict[str, Any], out: Path, code: str,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest entry, with output paths as they will be after the swap (<source>/...)."""
    final = out / name

    def entry(path: Path, **extra: Any) -> dict[str, Any]:
        e = file_entry(path, staging, **extra)
        e["path"] = _rel(final / e["path"], out)
        return e

    outputs = []
    for table, tr in report.tables.items():
        outputs.append(entry(
            staging / f"{table}.parquet", table=table, rows=tr.rows, input_rows=tr.input_rows,
            quarantined_rows=tr.quarantined, warnings=tr.warnings, derived_columns=tr.derived_columns,
        ))
    quarantined = [
        entry(p, table=p.stem, rows=pl.scan_parquet(p).select(pl.len()).collect().item())
        for p in sorted((staging / QUARANTINE).glob("*.parquet"))
    ]
    sidecars = [entry(p) for p in sorted(staging.glob("*.json")) if p.name != MANIFEST]
    lineage_files = [entry(p, table=p.stem) for p in sorted((staging / lineage.LINEAGE_DIR).glob("*.parquet"))]
    result = {
        "source": name,
        "module": module.__name__,
        "code_hash": code,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "parameters": params,
        "inputs": inputs,
        "outputs": outputs,
        "quarantine": quarantined,
        "sidecars": sidecars,
        "lineage": lineage_files,
        "warnings": [w.to_dict() for w in report.warnings[:200]],
        "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
    }
    partial = (provenance or {}).get("partial")
    if partial:  # an import accepted with --allow-partial: what it lacks travels with the data
        result["partial"] = partial
    return result


def write_manifest(out: Path, sources: Mapping[str, Any]) -> Path:
    """Write per-source manifests for ``sources`` into their folders and the index (tests, tools)."""
    for name, entry in sources.items():
        manifest_mod.write_source_manifest(out / name, name, entry)
    index = manifest_mod.write_index(out)
    assert index is not None
    return index


def is_up_to_date(
    entry: Mapping[str, Any] | None, inputs: list[dict[str, Any]], out: Path, code: str | None = None
) -> bool:
    """Same inputs, same code (hash), same package and schema version, every output unchanged."""
    if not entry:
        return False
    if entry.get("schema_version") != SCHEMA_VERSION or entry.get("package_version") != __version__:
        return False
    if code is not None and entry.get("code_hash") != code:
        return False
    if entry.get("inputs") != inputs:
        return False
    if not entry.get("outputs"):
        return False
    return all(
        manifest_mod.file_problem(out / f["path"], f, full=True) is None for f in manifest_mod.entry_files(entry)
    )


# --------------------------------------------------------------------------------------------
# atomic swap, lock, recovery
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One build per out dir at a time (a second one would clean up the first one's staging)."""
    with open(out / LOCK, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build is running in {out}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _recover(out: Path) -> None:
    """Clean up after a killed build: drop staging and snapshot folders, restore a folder moved
    aside, and write the manifest index if a build died before writing it."""
    _recover_staging(out, (STAGING_PREFIX, INPUT_PREFIX))
    if not (out / MANIFEST).is_file():
        manifest_mod.write_index(out)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

CLI_HELP = "build data_clean from data_raw: validate, quarantine, derive, save with a manifest"


def cli_add_arguments(parser: Any) -> None:
    parser.add_argument("--raw", type=Path, default=None, help="raw folder (default: data_raw)")
    parser.add_argument("--out", type=Path, default=None, help="clean folder (default: data_clean)")
    parser.add_argument(
        "--max-quarantine-share", type=float, default=0.01,
        help="fail if any table loses more than this share of its rows (default 0.01)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if inputs are unchanged")


def cli_run(args: Any) -> int:
    try:
        build(args.raw, args.out, max_quarantine_share=args.max_quarantine_share, force=args.force)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    return 0


__all__ = [
    "BuildError", "SOURCE_MODULES", "SourceReport", "TableReport", "build", "build_source",
    "find_source_folders", "fingerprint_inputs", "is_up_to_date", "locate_bad_utf8",
    "read_manifest", "write_manifest", "MANIFEST", "MANIFEST_VERSION", "OLD_PREFIX", "STAGING_PREFIX",
]
