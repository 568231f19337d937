"""``settlement-research trace PAGE VALUE-OR-CELL``: the chain behind one number on a page.

page -> the page's table, row and column (``NAME.lineage.json``, written when the page rendered)
-> the clean table, its row and key, checked against data_clean as it is now -> the edition -> the
raw file (sha256) and record, or wide cell, with every transformation step; for register aggregates
"derived from N person-level rows" (N below the disclosure threshold shown as ``<t``), never ids.

A page names source, edition, file and record, not the file's sha256 (the whole file's: one edited
row would change it on every page that reads the file, and the report cache would re-render them
all). The sha256 and the steps are resolved here, from data_clean's lineage as the build wrote it,
and the file is looked up among the raw inputs the build's manifest lists; where the page's
origin differs from data_clean's now, the chain says the page predates the build.

VALUE-OR-CELL is either the text of a number as the page shows it (``112``, ``1 368``, ``45.2``)
or a cell ``TABLE:ROW:COLUMN`` as the lineage file names it (``settlement:2014:settled``; ROW may be
``#n``, the n-th row). A value that is not on the page, or is there more than once, is an error
(exit 2) that lists the candidates.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.errors import InputError
from settlement_research.pages.lineage import SOURCE_NAMES, lineage_file_for, origin_of, rows_text
from settlement_research.pipeline.lineage import lineage_path, split_steps

CLI_HELP = "print the chain behind one number on a page: page -> clean row -> edition -> raw file and record"
_SPACES = dict.fromkeys(map(ord, " \u202f\u00a0\u2009\t"), None)


class TraceError(InputError):
    """The number cannot be traced: no lineage file, not on the page, or ambiguous (exit 2)."""


def _norm(text: str) -> str:
    return str(text).translate(_SPACES).replace("\u2212", "-").strip()


def cell_id(entry: Mapping[str, Any], doc: Mapping[str, Any] | None = None) -> str:
    """``TABLE:ROW:COLUMN``; ROW is ``#n`` when the row's label is not unique in its table."""
    row = entry["row"]
    if doc is not None and sum(1 for e in doc["numbers"] if e["table"] == entry["table"]
                               and e["column"] == entry["column"] and e["row"] == row) > 1:
        row = f"#{entry['row_nr']}"
    return f"{entry['table']}:{row}:{entry['column']}"


def read_page_lineage(page: str | Path) -> tuple[Path, dict[str, Any]]:
    path = Path(page)
    lineage = path if path.name.endswith(".lineage.json") else lineage_file_for(path)
    if not lineage.is_file():
        raise TraceError(f"no lineage file for page {path}: expected {lineage}", file=lineage,
                         hint="render the page with `report` or `run-notebook` (pages write NAME.lineage.json)")
    try:
        doc = json.loads(lineage.read_text("utf-8"))
    except ValueError as exc:
        raise TraceError(f"{lineage} is not valid JSON: {exc}", file=lineage) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("numbers"), list):
        raise TraceError(f"{lineage} is not a page lineage file (no 'numbers' list)", file=lineage)
    return lineage, doc


def find(doc: Mapping[str, Any], query: str) -> list[dict[str, Any]]:
    """Entries matching a cell ``TABLE:ROW:COLUMN`` or, failing that, a value as shown."""
    entries = [e for e in doc["numbers"] if isinstance(e, dict)]
    if query.count(":") >= 2:
        table, rest = query.split(":", 1)
        row, column = rest.rsplit(":", 1)
        hits = [e for e in entries if e["table"] == table and e["column"].casefold() == column.casefold()
                and (str(e["row"]) == row or f"#{e['row_nr']}" == row)]
        if hits:
            return hits
    value = _norm(query)
    return [e for e in entries if _norm(e["text"]) == value]


def select(doc: Mapping[str, Any], query: str, page: Path) -> dict[str, Any]:
    hits = find(doc, query)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        cells = [cell_id(e, doc) for e in doc["numbers"]]
        raise TraceError(
            f"{query!r} is not a number or cell on {page} ({len(cells)} numbers listed); cells include: "
            f"{', '.join(cells[:12])}{' ...' if len(cells) > 12 else ''}",
            file=page, hint="pass the value as shown, or a cell TABLE:ROW:COLUMN (e.g. settlement:2014:settled)")
    listing = "\n  ".join(f"{cell_id(e, doc)}  shows {e['text']}" for e in hits[:30])
    raise TraceError(f"{query!r} is ambiguous on {page}: {len(hits)} cells match:\n  {listing}", file=page,
                     hint="pass one of these cells as TABLE:ROW:COLUMN (ROW may be #n, the n-th row)")


def _clean_check(clean_dir: Path, source: str, table: str, row: int | None, key: str, column: str | None, *,
                 t: int = 5, part: bool = False) -> str:
    """The clean row as data_clean holds it now (key and value), or why it cannot be checked.

    Where the source has a person-level register, a column the models do not declare public is a
    register count: its value is printed as the
    page could show it (below ``t`` as ``<t``), and not at all when the row is one ``part`` of a
    shown sum (a window total's years: with the total, the parts pin a hidden year exactly)."""
    path = clean_dir / source / f"{table}.parquet"
    if row is None:
        return f"{path}: no clean row recorded"
    if not path.is_file():
        return f"{path} is missing (data_clean changed since the page was rendered?)"
    from settlement_research.pipeline.lineage import key_expr

    frame = pl.scan_parquet(path).slice(row - 1, 1).collect()
    if frame.is_empty():
        return f"{path} has no row {row} now: data_clean changed since the page was rendered"
    now = frame.select(key_expr(table)).item()
    if now is not None and now != key:
        return f"{path} row {row} now holds {now}, not {key}: data_clean changed since the page was rendered"
    value = frame.get_column(column).item() if column and column in frame.columns else None
    symbol = frame.get_column(f"{column}_symbol").item() if column and f"{column}_symbol" in frame.columns else None
    from settlement_research.model import PERSON_TABLES, public_columns

    register = any((clean_dir / source / f"{name}.parquet").is_file() for name in PERSON_TABLES)
    if register and column not in public_columns().get(table, []) and isinstance(value, int | float) \
            and not isinstance(value, bool):
        if part:
            value = "(a part of the shown sum: not printed)"
        elif 0 < value < t:
            value = f"<{t}"
    shown = f" = {value}" if value is not None else (f" = symbol '{symbol}'" if symbol else "")
    return f"{path} row {row} ({key}), column {column}{shown}"


def _origins_now(clean_dir: Path, source: str, table: str, key: str, column: str | None) -> list[dict[str, Any]]:
    path = lineage_path(clean_dir, source, table)
    if not path.is_file():
        return []
    lin = pl.scan_parquet(path).filter(pl.col("key") == key).collect()
    own = lin.filter(pl.col("column") == column) if column else lin.clear()
    return (own if own.height else lin.filter(pl.col("column").is_null())).sort("origin_nr").to_dicts()


_NOT_COMPARED = ("person_level_rows", "clean_row", "sha256")  # banded; checked apart; older pages only


def _as_stated(origin: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in origin.items() if k not in _NOT_COMPARED}


def _stale(stated: list[Mapping[str, Any]], recs: list[dict[str, Any]], t: int) -> str | None:
    """Why the origins a page states are not the ones data_clean's lineage gives now, as the page
    would state them (``pages.lineage.origin_of``); None when they agree."""
    now = [_as_stated(origin_of(r, None, t)) for r in recs]
    then = [_as_stated(o) for o in stated]
    if then == now:
        return None
    gone = next((o for o in then if o not in now), None)
    what = ""
    if gone:
        what = ": it states " + ", ".join(f"{k} {gone[k]!r}" for k in ("file", "record", "cell", "value_raw", "edition",
                                                                      "derived_from") if gone.get(k) is not None)
    return (f"changed  the page's origin is not data_clean's lineage now{what} (the page was rendered from "
            "an earlier build; render it again)")


def _manifest_inputs(clean_dir: Path, source: str) -> list[dict[str, Any]]:
    """The raw inputs the build's manifest lists for ``source`` (path relative to data_raw, sha256)."""
    from settlement_research.pipeline.manifest import read_sources

    try:
        entry = read_sources(clean_dir).get(source) or {}
    except (OSError, ValueError):
        return []
    return [i for i in entry.get("inputs") or [] if isinstance(i, dict) and i.get("path")]


def _in_manifest(file: str | None, sha: str | None, inputs: list[dict[str, Any]]) -> str | None:
    """The build manifest's word on a raw file: listed with the same sha256, or a different one."""
    if not file:
        return None
    hits = [i for i in inputs if str(i["path"]) == file or str(i["path"]).endswith("/" + file)]
    if not hits:
        return None
    same = [i for i in hits if i.get("sha256") == sha]
    if same:
        return f"build manifest: raw input {same[0]['path']}, same sha256"
    return (f"build manifest: raw input {hits[0]['path']} has sha256 {hits[0].get('sha256')}, not the lineage's "
            "(the raw file changed after the lineage was written)")


def chain(entry: Mapping[str, Any], page: Path, *, clean_dir: Path, t: int) -> list[str]:
    """The printed chain for one page entry."""
    out = [f"page     {page}", f"number   {entry['text']}  (table '{entry['table']}', row {entry['row']}, "
           f"column '{entry['column']}')"]
    if entry.get("status") == "suppressed":
        out.append(f"hidden   {entry.get('reason') or 'suppressed'}: a suppressed cell shows its reason, not its origin")
        return out
    origin = entry.get("origin") or {}
    if origin.get("table") is None:
        out.append(f"origin   {origin.get('how') or 'computed on the page, not from a clean table'}")
        return out
    source, table, column = origin["source"], origin["table"], origin.get("column")
    if origin.get("how"):
        out.append(f"computed {origin['how']}")
    if origin.get("computed"):
        return out + _computed_chain(origin, clean_dir=clean_dir, t=t)
    if origin.get("pooled"):
        p = origin["pooled"]
        out.append(f"pooled   {p['clean_rows']} clean rows of {source}/{table} matching {p['key_pattern']}, column {column}")
        return out
    inputs: list[dict[str, Any]] | None = None  # the build manifest's raw inputs, read once
    for n, item in enumerate(origin.get("clean", []), 1):
        label = "clean   " if len(origin["clean"]) == 1 else f"clean {n} "
        check = _clean_check(clean_dir, source, table, item.get("row"), item["key"], column, t=t,
                             part=len(origin["clean"]) > 1)
        out.append(f"{label} {check}")
        recs = _origins_now(clean_dir, source, table, item["key"], column)
        if not recs:
            out.append("         no lineage recorded for this row in data_clean")
            continue
        stale = _stale(item.get("origins") or [], recs, t)
        if stale:
            out.append(stale)
        editions = sorted({r["edition"] for r in recs if r["edition"]})
        out.append(f"source   {SOURCE_NAMES.get(source, source)}" + (f", edition {', '.join(editions)}" if editions else ""))
        inputs = _manifest_inputs(clean_dir, source) if inputs is None else inputs
        for r in recs:
            out.append("  " + _describe(r, t))
            listed = _in_manifest(r.get("file"), r.get("file_sha256"), inputs)
            if listed:
                out.append(f"      ({listed})")
            for i, step in enumerate(split_steps(r["steps"]), 1):
                out.append(f"      {i}. {step}")
    return out


def _computed_chain(origin: Mapping[str, Any], *, clean_dir: Path, t: int) -> list[str]:
    """A number computed from whole tables: the estimator and sample, then each table's origins
    (files, editions and record ranges, with their steps) as its lineage records them."""
    c = origin["computed"]
    tables = c["tables"][0] + (f" (with {', '.join(c['tables'][1:])})" if len(c["tables"]) > 1 else "")
    rows = c.get("rows")
    if rows is not None:
        sample = f"{rows} rows of {tables}"
    elif c.get("person_level"):
        sample = f"person-level rows of {tables} (their number is published only where the page shows it)"
    else:
        sample = f"the rows of {tables}"
    out = [f"{'estimated' if c.get('model') else 'from    '} {'by ' + c['model'] + ' from ' if c.get('model') else ''}{sample}"]
    for table in c["tables"]:
        path = clean_dir / origin["source"] / f"{table}.parquet"
        if not path.is_file():
            out.append(f"clean    {path} is missing (data_clean changed since the page was rendered?)")
            continue
        n = pl.scan_parquet(path).select(pl.len()).collect().item()
        out.append(f"clean    {path} ({n} rows)")
        out += ["  " + line for line in table_origins(clean_dir, origin["source"], table)]
    return out


def table_origins(clean_dir: Path, source: str, table: str, *, limit: int = 6) -> list[str]:
    """What a whole clean table was made from, grouped by origin: file (sha256, edition), the rows
    and records each covers (a compact run counts as its span), and the steps."""
    path = lineage_path(clean_dir, source, table)
    if not path.is_file():
        return ["no lineage recorded for this table in data_clean"]
    lin = pl.read_parquet(path)
    span = pl.col("span").fill_null(1) if "span" in lin.columns else pl.lit(1)
    groups = (
        lin.with_columns(span.alias("_n"))
        .group_by("role", "source", "edition", "file", "file_sha256", "derived_from", "steps", maintain_order=True)
        .agg(pl.col("_n").sum().alias("rows"), pl.col("row").min().alias("first_row"),
             (pl.col("row") + pl.col("_n") - 1).max().alias("last_row"), pl.col("record").min().alias("first_record"),
             (pl.col("record") + pl.col("_n") - 1).max().alias("last_record"), pl.len().alias("runs"),
             pl.col("row").n_unique().alias("distinct_rows"), pl.col("column").drop_nulls().unique().sort().alias("columns"))
    )
    out = []
    for g in groups.head(limit).iter_rows(named=True):
        if g["role"] == "derived":
            cols = f"columns {', '.join(g['columns'])} of " if g["columns"] else ""
            out.append(f"origin: {cols}{g['distinct_rows']} clean rows derived from person-level rows of "
                       f"{g['derived_from']} (no person ids are kept in lineage)")
        else:
            where = [str(g["file"])]
            if g["file_sha256"]:
                where.append(f"sha256 {g['file_sha256']}")
            if g["edition"]:
                where.append(f"edition {g['edition']}")
            if g["first_record"] is not None:
                where.append(f"records {g['first_record']}-{g['last_record']}")
            runs = f" in {g['runs']} run{'s' if g['runs'] != 1 else ''} of consecutive records" \
                if g["runs"] < g["rows"] else ""
            out.append(f"origin: clean rows {g['first_row']}-{g['last_row']} ({g['rows']} rows{runs}) from "
                       + ", ".join(where))
        out += [f"    {i}. {step}" for i, step in enumerate(split_steps(g["steps"]), 1)]
    if groups.height > limit:
        out.append(f"... and {groups.height - limit} more origin groups (data_clean/{source}/lineage/{table}.parquet)")
    return out


def _describe(r: Mapping[str, Any], t: int) -> str:
    if r["role"] == "derived":
        n = rows_text(r["derived_rows"], None, t)  # never a number the page does not show (None here)
        return (f"origin {r['origin_nr']}: derived from {f'{n} ' if n else ''}person-level rows "
                f"of {r['derived_from']} (no person ids are kept in lineage)")
    where = [f"{r['file']}"]
    if r.get("file_sha256"):
        where.append(f"sha256 {r['file_sha256']}")
    if r.get("record"):
        where.append(f"record {r['record']}")
    if r.get("cell"):
        where.append(f"column '{r['cell']}'")
    if r.get("value_raw") is not None:
        where.append(f"text {r['value_raw']!r}")
    role = "" if r["role"] in ("value", "row") else f" ({r['role']})"
    if r.get("from_key"):  # a part of a harmonised row: which row of the old codes, and how much of it
        where = [f"harmonised from {r['from_key']}, weight {r['weight']:g}"] + (where if r.get("file") else [])
    return f"origin {r['origin_nr']}{role}: " + ", ".join(where)


def trace(page: str | Path, query: str, *, clean_dir: Path | None = None) -> list[str]:
    from settlement_research.paths import data_clean_dir

    lineage, doc = read_page_lineage(page)
    entry = select(doc, query, Path(page))
    t = int(doc.get("threshold") or 5)
    return chain(entry, Path(page), clean_dir=clean_dir or data_clean_dir(), t=t)


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", help="a rendered page (.html) or its NAME.lineage.json")
    parser.add_argument("value", metavar="VALUE-OR-CELL",
                        help="the number as the page shows it, or a cell TABLE:ROW:COLUMN (e.g. settlement:2014:settled)")
    parser.add_argument("--clean", type=Path, default=None, help="clean folder (default: data_clean)")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.textsafe import escape_terminal

    for line in trace(args.page, args.value, clean_dir=args.clean):
        print(escape_terminal(line))
    return 0


__all__ = ["CLI_HELP", "TraceError", "chain", "cell_id", "find", "read_page_lineage", "select", "trace",
           "cli_add_arguments", "cli_run"]
