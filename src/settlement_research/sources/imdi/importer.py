"""``settlement-research import-imdi FILE... [--out data_raw/imdi]``: IMDi exports -> model tables.

One run imports the given files together (so files giving the same numbers are checked against
each other) and writes, into the out dir: one Parquet per model table (model column names,
validated with the pandera model), ``rejected.parquet`` (every record not imported, with its
reason), ``import_summary.json`` and ``PROVENANCE.json``. Tables a previous run wrote but this run
does not produce are removed, so the folder always describes exactly one import.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.io import sha256_file, write_json_atomic, write_parquet_atomic
from settlement_research.model import get_model
from settlement_research.paths import data_raw_dir
from settlement_research.sources.imdi import editions
from settlement_research.sources.imdi.assemble import REJECTED_COLUMNS, Assembled, assemble
from settlement_research.sources.imdi.layouts import ReadResult, read_file

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


def import_files(paths: list[str | Path], prefer: list[str] | None = None) -> ImportResult:
    """Read, map, cross-check and merge the files; validate every table with its pandera model.

    ``prefer``: edition ids that win over the default precedence (``editions.PRECEDENCE_RULE``).
    """
    reads: list[tuple[Path, ReadResult]] = [(Path(p), read_file(p)) for p in paths]
    names = [p.name for p, _ in reads]
    if len(set(names)) != len(names):
        raise ValueError("two input files share a name; records are traced by file name")
    files = [_file_info(path, result) for path, result in reads]
    eds = [editions.infer(p.name, r.layout, r.records, f["sha256"]) for (p, r), f in zip(reads, files, strict=True)]
    for f, ed in zip(files, eds, strict=True):
        f.update(edition=ed.edition, publisher=ed.publisher, edition_per=ed.per and ed.per.isoformat())
    assembled = assemble((editions.tag(r.records, ed) for (_, r), ed in zip(reads, eds, strict=True)), prefer)
    tables = {name: validate_table(frame, name) for name, frame in assembled.tables.items()}
    summary = _summary(reads, assembled, tables)
    return ImportResult(tables, assembled, files, summary)


def validate_table(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Model.validate on the collected frame (pandera on a LazyFrame checks only names/dtypes)."""
    return get_model(table).validate(frame, lazy=True)


def _file_info(path: Path, result: ReadResult) -> dict[str, Any]:
    return {
        "name": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
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
            "kommune: every code version of the shipped KLASS 131 list (settlement_research/data/"
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


def write_outputs(result: ImportResult, out_dir: str | Path) -> Path:
    """Atomic writes of tables, rejected rows, summary and provenance; stale tables removed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLE_FILES:
        target = out / f"{name}.parquet"
        if name in result.tables:
            write_parquet_atomic(result.tables[name], target)
        elif target.exists():
            target.unlink()
    write_parquet_atomic(result.rejected, out / REJECTED_FILE)
    write_parquet_atomic(result.assembled.restatements, out / RESTATEMENTS_FILE)
    write_json_atomic(result.summary, out / SUMMARY_FILE)
    written = [f"{name}.parquet" for name in result.tables] + [REJECTED_FILE, RESTATEMENTS_FILE, SUMMARY_FILE]
    provenance = {
        "source": SOURCE_NAME,
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool": "settlement-research import-imdi",
        # the exports this import read (they are not copied here)
        "inputs": result.files,
        # the files in this folder, checked by the build before it reads them
        "files": [
            {"path": name, "sha256": sha256_file(out / name), "size": (out / name).stat().st_size}
            for name in written
        ],
        "tables": {name: {"file": f"{name}.parquet", "rows": frame.height}
                   for name, frame in result.tables.items()},
        "rejected_rows": result.rejected.height,
    }
    write_json_atomic(provenance, out / PROVENANCE_FILE)
    return out


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
    return {name: frame.lazy() for name, frame in import_files(csvs).tables.items()}


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
    if summary["conflicts"]:
        lines.append(f"conflicting keys (rejected): {len(summary['conflicts'])}")
    restated = summary.get("restated", {}).get("rows_by_status_and_outcome", {})
    if restated:
        lines.append("rows outside the data year's classification: " + ", ".join(
            f"{k} {v}" for k, v in restated.items()))
    verdict = "zero unexplained rows" if t["unexplained"] == 0 else f"{t['unexplained']} UNEXPLAINED rows"
    lines.append(verdict)
    return "\n".join(lines)


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="IMDi export CSV files")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: data_raw/imdi)"
    )
    parser.add_argument(
        "--prefer", action="append", default=None, metavar="EDITION",
        help="edition id ranked first (repeatable; default: the latest edition publishing a key wins)",
    )


def cli_run(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.files if not Path(p).is_file()]
    if missing:
        print(f"import-imdi: no such file: {', '.join(missing)}")
        return 2
    result = import_files(args.files, prefer=getattr(args, "prefer", None))
    out = write_outputs(result, args.out or data_raw_dir() / SOURCE_NAME)
    print(format_summary(result.summary))
    print(f"\nwrote {out}")
    if result.unexplained:
        return 1
    return 0


__all__ = [
    "SOURCE_NAME", "ImportResult", "import_files", "write_outputs", "read", "format_summary",
    "validate_table", "cli_add_arguments", "cli_run", "CLI_HELP",
]
