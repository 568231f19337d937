"""``settlement-research diff OLD NEW``: what changed between two builds, two editions or two files.

Why: a reviewer given a new IMDi edition or a rebuilt data_clean needs to see every restated
number, not a total that happens to agree. Per key (table, municipality, year, measure) the diff
lists what was added, removed and changed (old and new value and symbol), then a summary per
municipality and year and per table. When the two sides use different classification years, both
are harmonised to the later one first, and the report says so. HTML + JSON like ``validate``; exit
0 when identical, 1 when different, 2 when an input cannot be read.

OLD and NEW may each be: a folder of model tables (a build's data_clean/<source> or an import's
data_raw/imdi), a folder of IMDi exports, one IMDi export (CSV, imported on the fly), or one table
file (.parquet/.csv named after its table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.errors import InputError
from settlement_research.io import write_json_atomic, write_text_atomic
from settlement_research.model import TABLES, measure_columns, primary_key
from settlement_research.model.base import NOT_PUBLISHED

CLI_HELP = "compare two builds, editions or table files: added, removed and changed values (HTML + JSON)"
EXIT_IDENTICAL, EXIT_DIFFERENT, EXIT_UNREADABLE = 0, 1, 2
MAX_ROWS_HTML = 500
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# Tables compared key by key (the companion edition table is compared through the tables it feeds).
SKIP_TABLES = {"imdi_edition_value", "kommune"}

_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.String(), "kommune_nr": pl.String(), "year": pl.Int32(), "measure": pl.String(),
    "change": pl.String(), "old_value": pl.Float64(), "old_symbol": pl.String(),
    "new_value": pl.Float64(), "new_symbol": pl.String(),
}


class DiffInputError(InputError, ValueError):
    """An input of ``diff`` that cannot be read as tables."""


# --- reading either side -------------------------------------------------------------------------


def _table_of(path: Path) -> str | None:
    from settlement_research.validation_report import infer_table

    return infer_table(path)


def _read_table_file(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    from settlement_research.validation import conform

    raw = pl.read_csv(path, infer_schema=False)
    table = _table_of(path)
    return conform(raw, table) if table else raw


def _is_imdi_export(path: Path) -> bool:
    from settlement_research.sources.imdi.layouts import LayoutError, decode, detect_layout

    try:
        detect_layout(decode(path.read_bytes())[0])
    except (LayoutError, UnicodeDecodeError):
        return False
    return True


def load_side(path: Path, prefer: list[str] | None = None) -> tuple[dict[str, pl.DataFrame], str]:
    """(model table name -> frame, what the side is) for a folder or a file."""
    from settlement_research.sources.imdi import import_files

    if not path.exists():
        raise DiffInputError(f"{path}: no such file or folder")
    if path.is_dir():
        tables = {p.stem: pl.read_parquet(p) for p in sorted(path.glob("*.parquet")) if p.stem in TABLES}
        if tables:
            return tables, f"folder of tables {path}"
        exports = [p for p in sorted(path.glob("*.csv")) if _is_imdi_export(p)]
        if exports:
            return import_files(exports, prefer=prefer).tables, f"IMDi exports in {path} ({len(exports)} files)"
        raise DiffInputError(f"{path}: no <table>.parquet and no IMDi export in the folder")
    if path.suffix == ".csv" and _is_imdi_export(path):
        return import_files([path], prefer=prefer).tables, f"IMDi export {path.name}"
    table = _table_of(path)
    if table is None:
        raise DiffInputError(f"{path}: not an IMDi export and not named after a table ({', '.join(TABLES)})")
    return {table: _read_table_file(path)}, f"table file {path.name}"


# --- comparing -----------------------------------------------------------------------------------


def _classification_years(frame: pl.DataFrame) -> set[int]:
    if "classification_year" not in frame.columns:
        return set()
    return {int(y) for y in frame["classification_year"].drop_nulls().unique()}


def _harmonised(frame: pl.DataFrame, table: str, to_year: int) -> pl.DataFrame:
    from settlement_research.harmonize import FLAG_COLUMNS, harmonize

    out = harmonize(frame, to_year, table=table)
    return out.drop([c for c in FLAG_COLUMNS if c in out.columns])


def _long(frame: pl.DataFrame, table: str, keys: list[str]) -> pl.DataFrame:
    """One row per key and measure: value (Float64) and symbol (null where the model has none)."""
    measures = [c for c in measure_columns(table) if c in frame.columns]
    if not measures:
        measures = [c for c, t in frame.schema.items() if c not in keys and t.is_numeric()
                    and c != "classification_year"]
    parts = [
        frame.select(
            *[pl.col(k) for k in keys], pl.lit(m).alias("measure"), pl.col(m).cast(pl.Float64).alias("value"),
            (pl.col(f"{m}_symbol") if f"{m}_symbol" in frame.columns else pl.lit(None, pl.String)).alias("symbol"),
        )
        for m in measures
    ]
    return pl.concat(parts) if parts else pl.DataFrame()


def compare_table(old: pl.DataFrame, new: pl.DataFrame, table: str,
                  years: tuple[int, int] | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """(changes per key, notes) for one table present on both sides."""
    note: dict[str, Any] = {"table": table, "harmonised_to": None}
    for name in ("old", "new"):
        frame = old if name == "old" else new
        if years and "year" in frame.columns:
            frame = frame.filter(pl.col("year").is_between(*years))
        if name == "old":
            old = frame
        else:
            new = frame
    cls_old, cls_new = _classification_years(old), _classification_years(new)
    if cls_old and cls_new and cls_old != cls_new:
        to_year = max(cls_old | cls_new)
        old, new = _harmonised(old, table, to_year), _harmonised(new, table, to_year)
        note["harmonised_to"] = to_year
        note["classification_years"] = {"old": sorted(cls_old), "new": sorted(cls_new)}
    keys = [k for k in primary_key(table) if k in old.columns and k in new.columns]
    a, b = _long(old, table, keys), _long(new, table, keys)
    if a.is_empty() and b.is_empty():
        return pl.DataFrame(schema=_SCHEMA), note
    on = [*keys, "measure"]
    both = a.join(b, on=on, how="full", coalesce=True, suffix="_new", nulls_equal=True)
    # '~' (not in this edition) is the package's word for absent: a key it marks is not published
    present_old = pl.col("value").is_not_null() | (pl.col("symbol").fill_null(NOT_PUBLISHED) != NOT_PUBLISHED)
    present_new = pl.col("value_new").is_not_null() | (
        pl.col("symbol_new").fill_null(NOT_PUBLISHED) != NOT_PUBLISHED)
    change = (
        pl.when(present_new & ~present_old).then(pl.lit(ADDED))
        .when(present_old & ~present_new).then(pl.lit(REMOVED))
        .when(present_old & present_new & (~pl.col("value").eq_missing(pl.col("value_new"))
                                           | ~pl.col("symbol").eq_missing(pl.col("symbol_new"))))
        .then(pl.lit(CHANGED))
    )
    out = both.with_columns(change.alias("change")).filter(pl.col("change").is_not_null())
    out = out.select(
        pl.lit(table).alias("table"),
        (pl.col("kommune_nr") if "kommune_nr" in out.columns else pl.lit(None, pl.String)).alias("kommune_nr"),
        (pl.col("year") if "year" in out.columns else pl.lit(None, pl.Int32)).cast(pl.Int32).alias("year"),
        "measure", "change", pl.col("value").alias("old_value"), pl.col("symbol").alias("old_symbol"),
        pl.col("value_new").alias("new_value"), pl.col("symbol_new").alias("new_symbol"),
    ).cast(_SCHEMA)  # type: ignore[arg-type]
    note["keys_compared"] = int(both.height)
    return out.sort("kommune_nr", "year", "measure", nulls_last=True), note


def diff(old: Path, new: Path, *, years: tuple[int, int] | None = None, tables: list[str] | None = None,
         prefer: list[str] | None = None) -> dict[str, Any]:
    """The report's content: per key, per municipality-year, per table; ``identical`` verdict."""
    a, what_old = load_side(old, prefer)
    b, what_new = load_side(new, prefer)
    names = sorted((set(a) | set(b)) - SKIP_TABLES)
    if tables:
        names = [n for n in names if n in tables]
    changes, notes, only = [], [], []
    for name in names:
        if name not in a or name not in b:
            only.append({"table": name, "only_in": "new" if name in b else "old"})
            continue
        frame, note = compare_table(a[name], b[name], name, years)
        changes.append(frame)
        notes.append(note)
    keys = pl.concat(changes) if changes else pl.DataFrame(schema=_SCHEMA)
    per_kommune_year = (
        keys.filter(pl.col("kommune_nr").is_not_null())
        .group_by("table", "kommune_nr", "year")
        .agg(*(((pl.col("change") == c).sum()).alias(c) for c in (ADDED, REMOVED, CHANGED)),
             pl.col("measure").unique().sort().str.join(", ").alias("measures"))
        .sort("table", "kommune_nr", "year")
    )
    per_table = {
        n["table"]: {**n, **{c: int((keys.filter(pl.col("table") == n["table"])["change"] == c).sum())
                             for c in (ADDED, REMOVED, CHANGED)}}
        for n in notes
    }
    identical = keys.is_empty() and not only
    return {
        "verdict": "IDENTICAL" if identical else "DIFFERENT",
        "identical": identical,
        "old": {"path": str(old), "what": what_old},
        "new": {"path": str(new), "what": what_new},
        "years": list(years) if years else None,
        "compared_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "tables": per_table,
        "tables_only_on_one_side": only,
        "n_keys": {c: int((keys["change"] == c).sum()) for c in (ADDED, REMOVED, CHANGED)},
        "per_kommune_year": per_kommune_year.to_dicts(),
        "keys": keys.to_dicts(),
    }


# --- rendering -----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;
 padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.verdict{padding:1rem 1.2rem;border-radius:.5rem;font-size:1.1rem;margin:1rem 0}
.verdict.same{background:#e6f4ea;border:1px solid #34a853}
.verdict.diff{background:#fff8e1;border:1px solid #f9ab00}
.verdict strong{font-size:1.4rem;margin-right:.6rem}
.note{background:#e8f0fe;padding:.3rem .6rem;border-radius:.3rem;display:inline-block}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.15rem .5rem;text-align:left;white-space:nowrap}
th{background:#f5f5f5} .meta{color:#555;font-size:.9rem} code{background:#f5f5f5;padding:0 .2rem}
tr.added td:nth-child(5){color:#188038} tr.removed td:nth-child(5){color:#d93025}
"""


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return html.escape(str(v))


def render_html(content: dict[str, Any]) -> str:
    """The HTML page of ``diff`` output (every data string escaped)."""
    e = html.escape
    same = content["identical"]
    n = content["n_keys"]
    title = f"Diff: {content['old']['path']} → {content['new']['path']}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>",
        f'<div class="verdict {"same" if same else "diff"}"><strong>{e(content["verdict"])}</strong>'
        f'{n[ADDED]} added, {n[REMOVED]} removed, {n[CHANGED]} changed value(s)</div>',
        f'<p class="meta">old: {e(content["old"]["what"])}<br>new: {e(content["new"]["what"])}'
        + (f'<br>years {content["years"][0]}–{content["years"][1]}' if content["years"] else "")
        + f'<br>compared {e(content["compared_at"])}</p>',
    ]
    parts.append("<h2>Per table</h2><table><tr><th>table</th><th>added</th><th>removed</th><th>changed</th>"
                 "<th>note</th></tr>")
    for name, t in content["tables"].items():
        note = (f'harmonised both sides to the {t["harmonised_to"]} classification first (old used '
                f'{t["classification_years"]["old"]}, new {t["classification_years"]["new"]})'
                if t["harmonised_to"] else "same classification years: compared as published")
        parts.append(f"<tr><td>{e(name)}</td><td>{t[ADDED]}</td><td>{t[REMOVED]}</td><td>{t[CHANGED]}</td>"
                     f'<td><span class="note">{e(note)}</span></td></tr>')
    for o in content["tables_only_on_one_side"]:
        parts.append(f"<tr><td>{e(o['table'])}</td><td colspan=4>only in {e(o['only_in'])}</td></tr>")
    parts.append("</table>")
    pky = content["per_kommune_year"]
    parts.append(f"<h2>Per municipality and year ({len(pky)})</h2>")
    if pky:
        parts.append("<table><tr><th>table</th><th>kommune_nr</th><th>year</th><th>added</th><th>removed</th>"
                     "<th>changed</th><th>measures</th></tr>")
        for r in pky[:MAX_ROWS_HTML]:
            parts.append("<tr>" + "".join(f"<td>{_cell(r[k])}</td>" for k in
                                          ("table", "kommune_nr", "year", ADDED, REMOVED, CHANGED, "measures"))
                         + "</tr>")
        parts.append("</table>")
    keys = content["keys"]
    parts.append(f"<h2>Per key ({len(keys)})</h2>")
    if len(keys) > MAX_ROWS_HTML:
        parts.append(f'<p class="meta">first {MAX_ROWS_HTML} shown; the JSON file has all</p>')
    if keys:
        cols = ["table", "kommune_nr", "year", "measure", "change", "old_value", "old_symbol", "new_value",
                "new_symbol"]
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
        for r in keys[:MAX_ROWS_HTML]:
            parts.append(f'<tr class="{e(r["change"])}">' + "".join(f"<td>{_cell(r[c])}</td>" for c in cols) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(content: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    page, data = out_dir / "diff.html", out_dir / "diff.json"
    write_text_atomic(render_html(content), page)
    write_json_atomic(content, data)
    return page, data


# --- CLI -----------------------------------------------------------------------------------------


def _years(text: str) -> tuple[int, int]:
    a, _, b = text.partition("-")
    try:
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--years wants YYYY or YYYY-YYYY, not {text!r}") from None
    if lo > hi:
        raise argparse.ArgumentTypeError(f"--years {text!r}: first year after the last")
    return lo, hi


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD", help="folder of tables, IMDi export(s) or a table file")
    parser.add_argument("new", type=Path, metavar="NEW", help="the same kinds as OLD")
    parser.add_argument("--years", type=_years, default=None, metavar="YYYY[-YYYY]", help="compare only these years")
    parser.add_argument("--table", action="append", default=None, help="compare only this table (repeatable)")
    parser.add_argument("--prefer", action="append", default=None, metavar="EDITION",
                        help="edition precedence when a side is several IMDi exports (as import-imdi)")
    parser.add_argument("--report", type=Path, default=Path("diff_report"), metavar="DIR",
                        help="folder for diff.html and diff.json (default: ./diff_report)")


def cli_run(args: argparse.Namespace) -> int:
    # an unreadable input (DiffInputError) reaches the CLI boundary: exit 2, printed like every command
    content = diff(args.old, args.new, years=args.years, tables=args.table, prefer=args.prefer)
    page, data = write_report(content, args.report)
    n = content["n_keys"]
    print(f"{content['verdict']}: {n[ADDED]} added, {n[REMOVED]} removed, {n[CHANGED]} changed")
    for name, t in content["tables"].items():
        note = f" (harmonised to {t['harmonised_to']})" if t["harmonised_to"] else ""
        print(f"  {name}: {t[ADDED]} added, {t[REMOVED]} removed, {t[CHANGED]} changed{note}")
    print(f"wrote {page} and {data}")
    return EXIT_IDENTICAL if content["identical"] else EXIT_DIFFERENT


__all__ = ["CLI_HELP", "DiffInputError", "cli_add_arguments", "cli_run", "compare_table", "diff", "load_side",
           "render_html", "write_report"]
