"""``settlement-research import-imdi FILE... [--out data_raw/imdi]``: IMDi exports -> model tables.

One run imports the given files together (so files giving the same numbers are checked against
each other) and writes, into the out dir: one Parquet per model table (model column names,
validated with the pandera model), ``rejected.parquet`` (every record not imported, with its
reason), ``import_summary.json`` and ``PROVENANCE.json``. Tables a previous run wrote but this run
does not produce are removed, so the folder always describes exactly one import.

Complete or refuse: a file cut short (``coverage.truncation``) is never imported; an export that
lacks municipalities of its classification year is refused unless ``--allow-partial``, which
records what is missing in import_summary.json and PROVENANCE.json (and so in the build's
manifest); an import that holds less data than the one already in the folder is refused unless
``--replace``. The folder is replaced atomically: written beside it, then swapped in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.errors import InputError, TextFormatError
from settlement_research.geo import centrality
from settlement_research.io import sha256_file, write_json_atomic, write_parquet_atomic
from settlement_research.model import get_model
from settlement_research.paths import data_raw_dir
from settlement_research.pipeline import lineage_imdi
from settlement_research.pipeline.staging import STAGING_PREFIX, staging_path, swap_in
from settlement_research.pipeline.staging import recover as recover_staging
from settlement_research.relations import check_relations
from settlement_research.sources.imdi import editions
from settlement_research.sources.imdi.assemble import REJECTED_COLUMNS, Assembled, assemble
from settlement_research.sources.imdi.coverage import (
    coverage,
    describe_missing,
    format_why,
    truncation,
)
from settlement_research.sources.imdi.layouts import ReadResult, decode, detect_layout, read_bytes

SOURCE_NAME = "imdi"
TABLE_FILES = [
    "kommune", "kommune_settlement_year", "kommune_intro_year", "kommune_context_year",
    "national_settlement_year", "imdi_edition_value",
]
RESTATEMENTS_FILE = "restatements.parquet"
REJECTED_FILE = "rejected.parquet"
SUMMARY_FILE = "import_summary.json"
PROVENANCE_FILE = "PROVENANCE.json"

CLI_HELP = "import IMDi integreringsdata exports (flat, raw wide, 2022 wide) into data_raw/imdi"
OWN_FILES = frozenset([*(f"{t}.parquet" for t in TABLE_FILES), REJECTED_FILE, RESTATEMENTS_FILE, SUMMARY_FILE, PROVENANCE_FILE,
                       lineage_imdi.LINEAGE_DIR])


class ImportRefused(InputError, ValueError):
    """The import was refused: a truncated or incomplete export, or it would replace more data.

    Unusable input, not invalid data: the command exits 2 and data_raw is left as it was.
    """

    exit_code = 2


@dataclass
class ImportResult:
    """What one import produced: validated tables, every record's fate, per-file summary."""

    tables: dict[str, pl.DataFrame]
    assembled: Assembled
    files: list[dict[str, Any]]
    summary: dict[str, Any]

    @property
    def rejected(self) -> pl.DataFrame:
        return self.assembled.rejected.select(REJECTED_COLUMNS).sort(
            "file", "row_nr", "column", nulls_last=True
        )

    @property
    def unexplained(self) -> int:
        return int(self.summary["totals"]["unexplained"])

    @property
    def complete(self) -> bool:
        """Every file covers every municipality of its classification year, in every data year."""
        return bool(self.summary["coverage"]["complete"])


def read_export(path: Path) -> tuple[ReadResult, dict[str, Any]]:
    """Read a file once: decode and parse it (``textio.read_text_table``), check on the reader's
    decoded text that it is not cut short, describe it (sha256 of those bytes)."""
    data = path.read_bytes()
    if not data.strip():
        raise ImportRefused(f"{path.name}: the file is empty; nothing was imported", file=path,
                            hint="download the export again")
    try:
        result = read_bytes(data, path.name)
    except TextFormatError as exc:  # cut inside a quote, joined, ragged or mixed-encoding: refused whole
        if "cut short" in str(exc):  # a refused file only: decoded again to show where it ends
            text, _encoding = decode(data, str(path))
            _refuse_truncated(path, truncation(text, detect_layout(text)) or str(exc), exc)
        raise ImportRefused(f"{exc}. Nothing was imported.", file=path, line=exc.line,
                            hint=exc.hint or "download the export again") from exc
    why = truncation(result.text, result.layout) if result.text is not None else None
    if why:
        _refuse_truncated(path, why)
    result.text = None  # the check is done; the records hold what is needed
    return result, _file_info(path, result, data)


def _refuse_truncated(path: Path, why: str, cause: Exception | None = None) -> None:
    raise ImportRefused(
        f"{path}: the file is cut short (truncated or incomplete): {why}. Nothing was imported; "
        "download the export again (a partial file would import wrong numbers).", file=path
    ) from cause


def import_files(paths: list[str | Path], prefer: list[str] | None = None) -> ImportResult:
    """Read, map, cross-check and merge the files; validate every table with its pandera model.

    A truncated file raises ``ImportRefused``; coverage is measured (``summary['coverage']``) but
    judged by ``require_complete`` so tests and tools can inspect a partial export.
    ``prefer``: edition ids that win over the default precedence (``editions.PRECEDENCE_RULE``).
    """
    names = [Path(p).name for p in paths]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ImportRefused(
            f"two input files share the name {', '.join(twice)}; records are traced by file name",
            file=twice[0], hint="rename one of them (e.g. add the edition date) or import them in separate runs",
        )
    reads: list[tuple[Path, ReadResult]] = []
    files: list[dict[str, Any]] = []
    for p in paths:
        result, info = read_export(Path(p))
        reads.append((Path(p), result))
        files.append(info)
    eds = [editions.infer(p.name, r.layout, r.records, f["sha256"]) for (p, r), f in zip(reads, files, strict=True)]
    for f, ed in zip(files, eds, strict=True):
        f.update(edition=ed.edition, publisher=ed.publisher, edition_per=ed.per and ed.per.isoformat())
    assembled = assemble((editions.tag(r.records, ed) for (_, r), ed in zip(reads, eds, strict=True)), prefer)
    tables = {name: validate_table(frame, name) for name, frame in assembled.tables.items()}
    summary = _summary(reads, assembled, tables)
    summary["national_totals"] = national_totals(tables)
    summary["coverage"] = coverage(assembled.records, names)
    return ImportResult(tables, assembled, files, summary)


def national_totals(tables: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """Per year: which edition the national totals come from, published or derived, the clean
    table's sums against them, and the reconciliation rule's verdict (relations.py)."""
    nat, kom = tables.get("national_settlement_year"), tables.get("kommune_settlement_year")
    if nat is None or kom is None:
        return {"years": [], "problems": []}
    ev = tables.get("imdi_edition_value")
    used: dict[int, list[str]] = {}
    if ev is not None:
        chosen = ev.filter(pl.col("chosen") & (pl.col("table") == "kommune_settlement_year")
                           & pl.col("measure").is_in(list(editions.TOTAL_MEASURES)))
        used = {int(y): sorted(e) for y, e in chosen.group_by("year").agg(pl.col("edition").unique()).iter_rows()}
    sums = kom.group_by("year").agg(*(pl.col(m).sum().alias(m) for m in editions.TOTAL_MEASURES))
    clean = {int(r["year"]): r for r in sums.iter_rows(named=True)}
    years = []
    for row in nat.sort("year").iter_rows(named=True):
        y = int(row["year"])
        derived = [m for m in editions.TOTAL_MEASURES if f"{m}: this edition publishes no national row" in row["source"]]
        years.append({
            "year": y, "edition": row["edition"], "national_row": "derived" if derived else "published",
            "derived_measures": derived, "cell_editions": used.get(y, []),
            **{f"national_{m}": row[m] for m in editions.TOTAL_MEASURES},
            **{f"unknown_{m}": row[f"{m}_unknown_kommune"] for m in editions.TOTAL_MEASURES},
            **{f"clean_{m}": (int(clean[y][m]) if y in clean else None) for m in editions.TOTAL_MEASURES},
        })
    problems = [p.message for p in check_relations(
        {k: tables[k] for k in ("kommune_settlement_year", "national_settlement_year") if k in tables})
        if p.rule == "national_sum_reconciles"]
    return {"years": years, "problems": problems}


def _year_spans(years: list[int]) -> str:
    spans: list[str] = []
    for y in sorted(years):
        if spans and int(spans[-1].split("-")[-1]) == y - 1:
            spans[-1] = f"{spans[-1].split('-')[0]}-{y}"
        else:
            spans.append(str(y))
    return ", ".join(spans)


def require_complete(result: ImportResult, *, allow_partial: bool = False) -> None:
    """Refuse an export that lacks municipalities, unless ``allow_partial`` (then record the gap)."""
    cov = result.summary["coverage"]
    if not result.tables:
        raise ImportRefused(
            "nothing to import: the files hold no municipality-year values\n" + describe_missing(cov)
        )
    if cov["complete"]:
        return
    if not allow_partial:
        raise ImportRefused(
            "incomplete export: not every municipality of its classification year is there\n"
            + describe_missing(cov) + "\nwhy (from the data of this import):\n" + format_why(cov)
            + "\nIf the export really covers only part of the country, import it with --allow-partial "
            "(what is missing is then recorded in import_summary.json and the build's manifest)."
        )
    result.summary["partial"] = {
        "allowed_by": "--allow-partial",
        "files": [
            {k: f.get(k) for k in ("file", "classification_year", "expected", "present", "missing", "missing_by_year",
                                   "why_partial")}
            for f in cov["files"] if not f["complete"]
        ],
    }


def validate_table(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Model.validate on the collected frame (pandera on a LazyFrame checks only names/dtypes)."""
    return get_model(table).validate(frame, lazy=True)


def _file_info(path: Path, result: ReadResult, data: bytes) -> dict[str, Any]:
    return {
        "name": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "layout": result.layout,
        "encoding": result.encoding,
        "header_records": result.header_records,
    }


def _summary(
    reads: list[tuple[Path, ReadResult]], assembled: Assembled, tables: dict[str, pl.DataFrame]
) -> dict[str, Any]:
    records = assembled.records
    per_file = []
    by_file = {
        f: frame for (f,), frame in records.partition_by("file", as_dict=True).items()
    } if records.height else {}
    for path, result in reads:
        frame = by_file.get(path.name, records.clear())
        read_n = frame.height
        imported = frame.filter(pl.col("reason").is_null()).height
        reasons = (
            frame.filter(pl.col("reason").is_not_null()).group_by("reason").len().sort("len", descending=True)
        )
        rejected = {r: int(n) for r, n in reasons.iter_rows()}
        padded = frame.filter(pl.col("padded")).select("row_nr").n_unique()
        recoded = assembled.recoded.filter(pl.col("file") == path.name)
        per_file.append({
            "file": path.name,
            "layout": result.layout,
            "encoding": result.encoding,
            "unit": "row" if result.layout == "flat_long" else "cell (data row x value column)",
            "header_records": result.header_records,
            "padding_columns_ignored": result.padding_columns,
            "blank_records_ignored": result.blank_records,
            "read": read_n,
            "imported": imported,
            "rejected": sum(rejected.values()),
            "rejected_by_reason": rejected,
            "unexplained": read_n - imported - sum(rejected.values()),
            "rows_with_leading_zero_restored": int(padded),
            "codes_recoded": [
                {"from": a, "to": b, "year": int(y), "records": int(n)}
                for _f, y, a, b, n in recoded.iter_rows()
            ],
        })
    totals = {
        k: sum(int(f[k]) for f in per_file) for k in ("read", "imported", "rejected", "unexplained")
    }
    return {
        "source": SOURCE_NAME,
        "files": per_file,
        "totals": totals,
        "tables": {name: frame.height for name, frame in tables.items()},
        "conflicts": assembled.conflicts.to_dicts(),
        "editions": {
            "precedence": editions.PRECEDENCE_RULE,
            "ranked": sorted(assembled.ranks, key=assembled.ranks.__getitem__),
            "restatements": assembled.restatements.height,
            "restatements_by_kind": {
                k: int(n) for k, n in assembled.restatements.group_by("kind").len().sort("kind").iter_rows()
            },
        },
        "kommune_written": "kommune" in tables,
        "centrality": _centrality_summary(tables.get("kommune")),
        "kommune_not_in_dimension": assembled.kommune_skipped.to_dicts(),
        "restated": _restated_summary(assembled.restated),
        "notes": [
            "Each record is a flat row or a wide cell; read = imported + rejected, unexplained must be 0.",
            "Raw wide exports strip leading zeros: 3-digit codes were restored to 4 digits "
            "deliberately (rows_with_leading_zero_restored); no other layout is ever padded.",
            "Symbols become a null value plus <column>_symbol, never 0.",
            "classification_year: a multi-year export uses the codes of its latest data year, a "
            "raw wide export those of its file year; a code marked or known as ended earlier "
            "belongs to its last valid year (sources/imdi/codes.py).",
            "kommune: every code version of the shipped KLASS 131 list (settlement_research/geo/data/"
            "kommune_codes.csv) valid in a classification year between the earliest and the latest "
            "this import uses, with KLASS validity; names from the IMDi files where they give one, "
            "else KLASS; agency regions of post-2014 codes from their 2014 predecessors. A used code "
            "the list does not know gets a version from the files' evidence if they name it; "
            "otherwise its records are rejected (kommune_not_in_dimension), so kommune always "
            "covers every code used (sources/imdi/dimension.py).",
            "One row per municipality and year: a row under the code valid in the data year is "
            "authoritative; a row restating the year under a later (or ended) code is rejected with "
            "the reason when its municipality overlaps another row's after harmonisation, else kept "
            "with its own classification_year so harmonize can map it; rows that overlap share one "
            "classification_year (restated: sources/imdi/restated.py).",
        ],
    }


def _centrality_summary(kommune: pl.DataFrame | None) -> dict[str, Any] | None:
    """Where the kommune dimension's centrality class comes from, and which versions (geo.centrality)."""
    if kommune is None:
        return None
    missing = kommune.filter(pl.col("centrality").is_null())
    return {
        "source": centrality.SOURCE,
        "versions": {
            f"before {centrality.INDEX_YEAR}": centrality.VERSION_BEFORE_2020,
            f"{centrality.INDEX_YEAR}-{centrality.BORDERS_YEAR - 1}": centrality.VERSION_2020,
            f"{centrality.BORDERS_YEAR}-": centrality.VERSION_2024,
        },
        "rule": "each code version's class in its last valid classification year, capped at "
                f"{centrality.BORDERS_YEAR} (sources/imdi/dimension.py, geo/centrality.py)",
        "no_class": [f"{k} ({a}-{b if b is not None else ''})" for k, a, b in
                     missing.select("kommune_nr", "valid_from", "valid_to").iter_rows()],
    }


def _restated_summary(log: pl.DataFrame) -> dict[str, Any]:
    """Rows outside the data year's own classification: how many were kept, rejected, recoded."""
    by = log.group_by("status", "outcome").len().sort("status", "outcome")
    counts = {f"{s}/{o}": int(n) for s, o, n in by.iter_rows()}
    kept = log.filter((pl.col("status") != "own") & (pl.col("outcome") == "kept"))
    return {
        "rows_by_status_and_outcome": counts,
        "kept_under_later_or_ended_code_by_year": {
            str(y): int(n) for y, n in kept.group_by("year").len().sort("year").iter_rows()
        },
    }


def less_data(result: ImportResult, out: Path) -> list[str]:
    """How the import in ``out`` (if any) holds more than ``result``: tables lost or with fewer rows."""
    prov_path = out / PROVENANCE_FILE
    if not prov_path.is_file():
        present = sorted(p.name for p in out.glob("*.parquet")) if out.is_dir() else []
        return [f"{', '.join(present)} without {PROVENANCE_FILE}"] if present else []
    try:
        old = json.loads(prov_path.read_text("utf-8")).get("tables", {})
    except (OSError, ValueError, AttributeError):
        return [f"{prov_path} cannot be read, so the earlier import cannot be compared"]
    lost = []
    for name, info in sorted(old.items()):
        rows = int(info.get("rows", 0)) if isinstance(info, dict) else int(info)
        if name not in result.tables:
            lost.append(f"{name}: {rows} row(s), this import has none")
        elif result.tables[name].height < rows:
            lost.append(f"{name}: {rows} row(s), this import {result.tables[name].height}")
    return lost


def write_outputs(result: ImportResult, out_dir: str | Path, *, replace: bool = False) -> Path:
    """Tables, rejected rows, summary and provenance, swapped in as one folder.

    The folder is written beside ``out_dir`` and swapped in by renames, so a reader sees the old
    import or the new one, never a mixture. Files in ``out_dir`` that an import does not write
    (exports dropped there by hand) are kept. An import with less data than the one in place is
    refused (``ImportRefused``) unless ``replace``.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover_staging(out.parent, (f"{STAGING_PREFIX}{out.name}-",))
    lost = less_data(result, out) if out.is_dir() else []
    if lost and not replace:
        raise ImportRefused(
            f"{out} holds an earlier import with more data; it was left as it was:\n  "
            + "\n  ".join(lost) + "\nPass --replace to replace it anyway."
        )
    staging = staging_path(out.parent, out.name)
    staging.mkdir()
    try:
        for name, frame in result.tables.items():
            write_parquet_atomic(frame, staging / f"{name}.parquet")
        write_parquet_atomic(result.rejected, staging / REJECTED_FILE)
        write_parquet_atomic(result.assembled.restatements, staging / RESTATEMENTS_FILE)
        write_json_atomic(result.summary, staging / SUMMARY_FILE)
        written = [f"{name}.parquet" for name in result.tables] + [REJECTED_FILE, RESTATEMENTS_FILE, SUMMARY_FILE]
        written += lineage_imdi.write(result, staging)  # lineage/<table>.parquet: each cell's records
        provenance = {
            "source": SOURCE_NAME,
            "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tool": "settlement-research import-imdi",
            # the exports this import read (they are not copied here)
            "inputs": result.files,
            # the files in this folder, checked by the build before it reads them
            "files": [
                {"path": name, "sha256": sha256_file(staging / name), "size": (staging / name).stat().st_size}
                for name in written
            ],
            "tables": {name: {"file": f"{name}.parquet", "rows": frame.height}
                       for name, frame in result.tables.items()},
            "rejected_rows": result.rejected.height,
            "coverage_complete": result.summary["coverage"]["complete"],
        }
        if "partial" in result.summary:
            provenance["partial"] = result.summary["partial"]
        write_json_atomic(provenance, staging / PROVENANCE_FILE)
        if out.is_dir():
            _keep_foreign_files(out, staging)
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _keep_foreign_files(old: Path, new: Path) -> None:
    """Carry over what an import does not own (hard links: nothing is copied or modified)."""
    for p in old.iterdir():
        if p.name in OWN_FILES:
            continue
        target = new / p.name
        if p.is_dir():
            shutil.copytree(p, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(p, target)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def run_import(
    paths: list[str | Path], out_dir: str | Path, *, allow_partial: bool = False, replace: bool = False,
    prefer: list[str] | None = None,
) -> ImportResult:
    """``import-imdi``: import, refuse what is truncated, incomplete or smaller, swap in atomically."""
    result = import_files(paths, prefer=prefer)
    require_complete(result, allow_partial=allow_partial)
    write_outputs(result, out_dir, replace=replace)
    return result


def read(raw_dir: Path) -> dict[str, pl.LazyFrame]:
    """Source protocol: the imported model tables in ``raw_dir`` (data_raw/imdi) as LazyFrames.

    A folder holding IMDi CSV exports but no import yet is imported in memory, so dropping the
    exports into data_raw/imdi also works.
    """
    raw_dir = Path(raw_dir)
    found = {name: raw_dir / f"{name}.parquet" for name in TABLE_FILES}
    present = {name: pl.scan_parquet(path) for name, path in found.items() if path.is_file()}
    if present:
        return present
    csvs = sorted(p for p in raw_dir.glob("*.csv") if p.is_file())
    if not csvs:
        return {}
    result = import_files(csvs)
    require_complete(result)  # a partial export needs `import-imdi --allow-partial` to be accepted
    return {name: frame.lazy() for name, frame in result.tables.items()}


# --- CLI -----------------------------------------------------------------------------------------


def format_summary(summary: dict[str, Any]) -> str:
    """The printed table: per file read / imported / rejected / unexplained, then reasons."""
    head = f"{'file':<50} {'layout':<14} {'read':>8} {'imported':>9} {'rejected':>9} {'unexpl.':>8}"
    lines = [head, "-" * len(head)]
    for f in summary["files"]:
        lines.append(
            f"{f['file'][:50]:<50} {f['layout']:<14} {f['read']:>8} {f['imported']:>9} "
            f"{f['rejected']:>9} {f['unexplained']:>8}"
        )
    t = summary["totals"]
    lines += ["-" * len(head), f"{'total':<65} {t['read']:>8} {t['imported']:>9} {t['rejected']:>9} "
              f"{t['unexplained']:>8}", "", "rejected by reason:"]
    reasons: dict[str, int] = {}
    for f in summary["files"]:
        for r, n in f["rejected_by_reason"].items():
            reasons[r] = reasons.get(r, 0) + n
    for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {n:>8}  {r}")
    lines += ["", "tables: " + ", ".join(f"{k} ({v} rows)" for k, v in summary["tables"].items())]
    eds = summary.get("editions")
    if eds:
        lines.append(f"editions (preferred first): {', '.join(eds['ranked'])}; restatements listed: "
                     f"{eds['restatements']} (restatements.parquet)")
    totals = summary.get("national_totals", {}).get("years", [])
    if totals:
        by: dict[tuple[str, str], list[int]] = {}
        for nt in totals:
            by.setdefault((nt["edition"], nt["national_row"]), []).append(nt["year"])
        lines.append("national totals per year (the clean table's sums are checked against them): " + "; ".join(
            f"{_year_spans(ys)} from {ed} ({kind} national row)" for (ed, kind), ys in sorted(by.items())))
        problems = summary["national_totals"]["problems"]
        lines.append("  reconcile exactly with the clean table" if not problems else
                     f"  {len(problems)} year/measure(s) do NOT reconcile:\n    " + "\n    ".join(problems))
    if summary["conflicts"]:
        lines.append(f"conflicting keys (rejected): {len(summary['conflicts'])}")
    restated = summary.get("restated", {}).get("rows_by_status_and_outcome", {})
    if restated:
        lines.append("rows outside the data year's classification: " + ", ".join(
            f"{k} {v}" for k, v in restated.items()))
    verdict = "zero unexplained rows" if t["unexplained"] == 0 else f"{t['unexplained']} UNEXPLAINED rows"
    lines.append(verdict)
    cov = summary.get("coverage")
    if cov and cov["complete"]:
        lines.append("coverage: every municipality of each file's classification year is present")
    elif cov:
        lines.append("PARTIAL export (accepted with --allow-partial; recorded in import_summary.json):")
        lines.append(describe_missing(cov))
        lines.append("why (from the data of this import):")
        lines.append(format_why(cov))
    return "\n".join(lines)


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="IMDi export CSV files")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: data_raw/imdi)"
    )
    parser.add_argument(
        "--allow-partial", action="store_true",
        help="accept an export lacking municipalities of its classification year (recorded as partial)",
    )
    parser.add_argument(
        "--replace", action="store_true",
        help="replace an earlier import in the out folder even if it holds more data",
    )
    parser.add_argument(
        "--prefer", action="append", default=None, metavar="EDITION",
        help="edition id ranked first (repeatable; default: the latest edition publishing a key wins)",
    )


def cli_run(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.files if not Path(p).is_file()]
    if missing:
        raise InputError(f"no such file: {', '.join(missing)}", file=missing[0])
    out = args.out or data_raw_dir() / SOURCE_NAME
    result = run_import(args.files, out, allow_partial=args.allow_partial, replace=args.replace,
                        prefer=args.prefer)  # ImportRefused reaches the CLI boundary (exit 2)
    print(format_summary(result.summary))
    print(f"\nwrote {out}")
    if result.unexplained:
        return 1
    return 0


__all__ = [
    "SOURCE_NAME", "ImportRefused", "ImportResult", "import_files", "less_data", "read_export",
    "require_complete", "run_import", "write_outputs", "read", "format_summary", "validate_table",
    "cli_add_arguments", "cli_run", "CLI_HELP",
]
