"""Render validation results as one self-contained HTML page and a JSON file with the same content.

The page is for a reviewer who did not write the data: the verdict comes first, then each problem
as a sentence with its failing rows and up to 20 examples. No scripts, no external assets, so it
opens anywhere and can be archived next to the data. Problem messages and examples quote values
from the file under review, so every text and attribute is escaped (``textsafe.escape_html``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from settlement_research.io import write_json_atomic, write_text_atomic
from settlement_research.problems import Problem, ValidationResult
from settlement_research.textsafe import escape_html

MAX_EXAMPLES = 20

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;
 padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
.verdict{padding:1rem 1.2rem;border-radius:.5rem;font-size:1.1rem;margin:1rem 0}
.verdict.valid{background:#e6f4ea;border:1px solid #34a853}
.verdict.invalid{background:#fce8e6;border:1px solid #d93025}
.verdict strong{font-size:1.4rem;margin-right:.6rem}
.problem{border-left:4px solid #d93025;padding:.2rem 0 .4rem 1rem;margin:1rem 0}
.problem.warning{border-left-color:#f9ab00}
.sev{display:inline-block;font-size:.75rem;font-weight:600;text-transform:uppercase;padding:0 .4rem;
 border-radius:.3rem;background:#d93025;color:#fff;margin-right:.4rem}
.warning .sev{background:#f9ab00;color:#1d1d1f}
.hint{background:#fff8e1;padding:.3rem .6rem;border-radius:.3rem;display:inline-block}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.15rem .5rem;text-align:left;white-space:nowrap}
th{background:#f5f5f5} td.null{color:#999;font-style:italic}
.meta{color:#555;font-size:.9rem} code{background:#f5f5f5;padding:0 .2rem}
"""


def report_dict(
    results: ValidationResult | Sequence[ValidationResult], path: str | Path | None = None,
    *, relations_checked: bool = False,
) -> dict[str, Any]:
    """The report's content as plain data (the JSON file is exactly this).

    ``relations_checked``: the cross-table rules ran (folder mode), so their status is listed too.
    """
    from settlement_research import review
    from settlement_research.pages.banner import data_info_for_path

    items = [results] if isinstance(results, ValidationResult) else list(results)
    n_errors = sum(len(r.errors) for r in items)
    n_warnings = sum(len(r.warnings) for r in items)
    return {
        "data": data_info_for_path(path),  # synthetic or not, in text at the top of the page
        "verdict": "VALID" if n_errors == 0 else "INVALID",
        "valid": n_errors == 0,
        "path": str(path) if path is not None else None,
        "checked_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "n_tables": len(items),
        "n_errors": n_errors,
        "n_warnings": n_warnings,
        "rows_checked": sum(r.n_rows for r in items),
        "tables": [_table_dict(r) for r in items],
        "relations": review.relation_rules(items) if relations_checked else [],
    }


def _table_dict(r: ValidationResult) -> dict[str, Any]:
    from settlement_research import review

    failing = r.failing_rows.height if r.failing_rows is not None else None
    out = {
        "table": r.table,
        "file": r.source,
        "verdict": "VALID" if r.valid else "INVALID",
        "valid": r.valid,
        "rows_checked": r.n_rows,
        "failing_rows": failing,
        "valid_rows": r.valid_rows.height if r.valid_rows is not None else None,
        "n_errors": len(r.errors),
        "n_warnings": len(r.warnings),
        "problems": [_problem_dict(p) for p in r.problems],
    }
    sections, scores = review.table_sections(r)  # rules passed, plausibility, column profile
    review.rank_warning_examples(out["problems"], r.problems, r, scores)
    out.update(sections)
    return out


def _problem_dict(p: Problem) -> dict[str, Any]:
    """The problem as JSON-able data; person ids of register tables are never shown."""
    from settlement_research.model import PERSON_TABLES

    hide = p.table in PERSON_TABLES
    out = p.to_dict()
    out["examples"] = [
        {k: "(hidden)" if hide and k.endswith("_id") and v is not None else _plain(v) for k, v in ex.items()}
        for ex in p.examples[:MAX_EXAMPLES]
    ]
    out["row_numbers"] = [i + 1 for i in p.rows[:MAX_EXAMPLES]]
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def render_html(content: dict[str, Any]) -> str:
    """The HTML page for ``report_dict`` output."""
    from settlement_research import review
    from settlement_research.pages.banner import banner_html, data_info_for_path

    e = escape_html
    valid = content["valid"]
    title = "Validation report" + (f": {content['path']}" if content.get("path") else "")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}{review.CSS}</style></head><body>",
        banner_html(content.get("data") or data_info_for_path(None)),
        f"<h1>{e(title)}</h1>",
        f'<div class="verdict {"valid" if valid else "invalid"}"><strong>{e(content["verdict"])}</strong>'
        f'{e(content["n_errors"])} error(s), {e(content["n_warnings"])} warning(s), '
        f'{e(content["rows_checked"])} row(s) checked in {e(content["n_tables"])} table(s)'
        + (f'<br><span class="meta">file: <code>{e(str(content["path"]))}</code></span>' if content.get("path") else "")
        + "</div>",
        f'<p class="meta">checked {e(content["checked_at"])}</p>',
    ]
    if content["n_tables"] > 1:
        parts.append("<table><tr><th>table</th><th>file</th><th>verdict</th><th>rows</th>"
                     "<th>failing rows</th><th>errors</th><th>warnings</th></tr>")
        for t in content["tables"]:
            parts.append(
                f'<tr><td><a href="#{e(t["table"])}">{e(t["table"])}</a></td><td>{e(str(t["file"] or ""))}</td>'
                f'<td>{e(t["verdict"])}</td><td>{e(t["rows_checked"])}</td><td>{e(_n(t["failing_rows"]))}</td>'
                f'<td>{e(t["n_errors"])}</td><td>{e(t["n_warnings"])}</td></tr>'
            )
        parts.append("</table>")
    for t in content["tables"]:
        parts.append(_table_html(t))
        parts.append(review.table_html(t))
    parts.append(review.relations_html(content.get("relations") or []))
    parts.append("</body></html>")
    return "\n".join(parts)


def _n(value: Any) -> str:
    return "" if value is None else str(value)


def _table_html(t: dict[str, Any]) -> str:
    e = escape_html
    out = [
        f'<h2 id="{e(t["table"])}">{e(t["table"])} — {e(t["verdict"])}</h2>',
        f'<p class="meta">{e(t["rows_checked"])} row(s) checked'
        + (f', {e(t["failing_rows"])} failing' if t["failing_rows"] is not None else "")
        + (f'; file <code>{e(str(t["file"]))}</code>' if t["file"] else "") + "</p>",
    ]
    if not t["problems"]:
        out.append("<p>No problems found: every rule of the model holds.</p>")
    for p in t["problems"]:
        out.append(_problem_html(p))
    return "\n".join(out)


def _problem_html(p: dict[str, Any]) -> str:
    e = escape_html
    sev = p["severity"]
    where = f'column <code>{e(p["column"])}</code>: ' if p.get("column") else ""
    rows = p.get("row_numbers") or []
    if p["n_rows"] and rows:
        more = f" and {p['n_rows'] - len(rows)} more" if p["n_rows"] > len(rows) else ""
        count = f'{p["n_rows"]} failing row(s): row {", ".join(map(str, rows))}{more}'
    elif sev == "error":
        count = "applies to the whole table (every row fails)"
    else:
        count = "applies to the whole table"
    out = [
        f'<div class="problem {e(sev)}">',
        f'<h3><span class="sev">{e(sev)}</span>{where}{e(p["message"])}</h3>',
        f'<p class="meta">rule <code>{e(p["rule"])}</code> · table <code>{e(p["table"])}</code> · {e(count)}</p>',
    ]
    if p.get("hint"):
        out.append(f'<p class="hint">Hint: {e(p["hint"])}</p>')
    examples = p.get("examples") or []
    if examples:
        cols = list(dict.fromkeys(k for ex in examples for k in ex))
        out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
        for ex in examples:
            cells = []
            for c in cols:
                v = ex.get(c)
                cells.append('<td class="null">empty</td>' if v is None else f"<td>{e(str(v))}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    out.append("</div>")
    return "\n".join(out)


def write_report(
    results: ValidationResult | Iterable[ValidationResult],
    html_path: str | Path,
    json_path: str | Path,
    path: str | Path | None = None,
    *,
    markdown_path: str | Path | None = None,
    relations_checked: bool = False,
) -> dict[str, Any]:
    """Write the HTML and JSON report (and Markdown if ``markdown_path``) atomically; return the content."""
    from settlement_research import review

    items = [results] if isinstance(results, ValidationResult) else list(results)
    if path is None and len(items) == 1:
        path = items[0].source
    content = report_dict(items, path, relations_checked=relations_checked)
    write_text_atomic(render_html(content), html_path)
    write_json_atomic(content, json_path)
    if markdown_path is not None:
        write_text_atomic(review.render_markdown(content), markdown_path)
    return content


def load_report(json_path: str | Path) -> dict[str, Any]:
    return json.loads(Path(json_path).read_text(encoding="utf-8"))



# --------------------------------------------------------------------------------------------
# the `settlement-research validate` command
# --------------------------------------------------------------------------------------------

CLI_HELP = "validate a table file (or a folder of tables) against the data model and write a report"

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".txt")


def cli_add_arguments(parser: Any) -> None:
    parser.add_argument("path", type=Path, help="a .parquet/.csv table file, or a folder of <table>.parquet/csv")
    parser.add_argument("--table", help="table name (default: inferred from the file name)")
    parser.add_argument("--report", type=Path, metavar="DIR",
                        help="folder for PATH.validation.html/.json (default: next to PATH; reports/validation/ for "
                             "files in data_raw or data_clean, which are never written to)")
    parser.add_argument("--quarantine", type=Path, metavar="FILE",
                        help="write the failing rows with a `reason` column (.csv or .parquet); "
                             "for a folder PATH, a folder receiving one file per table")
    parser.add_argument("--format", choices=("html", "md"), default="html",
                        help="md: also write PATH.validation.md, for pasting into a review "
                             "(the HTML and JSON reports are always written)")


def infer_table(path: str | Path) -> str | None:
    """The table a file holds: its stem equals a table name or starts with one plus '_' or '.'."""
    from settlement_research.model import TABLES

    name = Path(path).name
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    matches = [t for t in TABLES if stem == t or stem.startswith(t + "_") or stem.startswith(t + ".")]
    return max(matches, key=len) if matches else None


def cli_run(args: Any) -> int:
    from settlement_research.errors import InputError
    from settlement_research.model import TABLES

    path: Path = args.path
    if not path.exists():
        raise InputError(f"{path}: no such file or folder", file=path)
    if args.table is not None and args.table not in TABLES:
        from settlement_research.explore import unknown_table_message

        raise InputError(unknown_table_message(args.table), key=args.table,
                         hint=f"known tables: {', '.join(TABLES)}")
    if path.is_dir():
        return _run_folder(path, args)
    table = args.table or infer_table(path)
    if table is None:
        raise InputError(f"cannot tell which table {path.name} holds", file=path,
                         hint=f"name the file after a table or pass --table NAME; known tables: {', '.join(TABLES)}")
    return _run_files(path, [(table, path)], args)


def _run_folder(folder: Path, args: Any) -> int:
    from settlement_research.errors import InputError
    from settlement_research.model import TABLES

    found: dict[str, Path] = {}
    for suffix in TABLE_SUFFIXES:  # Parquet first: if both exist the Parquet file is the table
        for table in TABLES:
            candidate = folder / f"{table}{suffix}"
            if candidate.is_file() and table not in found:
                found[table] = candidate
    if args.table:
        found = {t: p for t, p in found.items() if t == args.table}
    if not found:
        raise InputError(f"no table files in {folder}", file=folder,
                         hint=f"expected files named <table>.parquet or <table>.csv; known tables: {', '.join(TABLES)}")
    return _run_files(folder, list(found.items()), args)


def default_report_dir(target: Path) -> Path:
    """Next to the validated file, except inside data_raw or data_clean: data_raw is never
    modified, and a stray file in data_clean would break its manifest (``verify``). Reports on
    those go to reports/validation/ instead."""
    from settlement_research.paths import data_clean_dir, data_raw_dir, project_root

    here = target.resolve()
    for protected in (data_raw_dir(), data_clean_dir()):
        root = protected.resolve()
        if here == root or root in here.parents:
            return project_root() / "reports" / "validation"
    return target.parent


def _run_files(target: Path, files: list[tuple[str, Path]], args: Any) -> int:
    import sys

    from settlement_research import io as sr_io
    from settlement_research import validation as v
    from settlement_research.errors import TextFormatError

    report_dir = args.report if args.report is not None else default_report_dir(target)
    _check_outputs(target, report_dir, args.quarantine)
    results: list[ValidationResult] = []
    originals: dict[str, Any] = {}
    unreadable: list[str] = []
    lines_of: dict[str, list[int] | None] = {}
    for table, file in files:
        try:
            frame, lines = v.read_table_lines(file)
        except v.UnreadableFileError as exc:
            unreadable.append(str(exc))
            print(f"settlement-research validate: {exc}", file=sys.stderr)
            results.append(ValidationResult(table=table, n_rows=0, source=str(file), problems=[Problem(
                rule="unreadable_file", table=table, message=str(exc),
                hint=exc.hint or "check that the file is a complete Parquet or CSV (UTF-8 or Latin-1) file",
            )]))
            continue
        except TextFormatError as exc:  # readable, but cut short, mixed encoding or ragged: invalid
            results.append(ValidationResult(table=table, n_rows=0, source=str(file), problems=[Problem(
                rule="text_format", table=table, message=str(exc), hint=exc.hint,
                examples=[{"line": exc.line}] if exc.line is not None else [],
            )]))
            continue
        originals[table] = frame
        lines_of[table] = lines
        results.append(v.validate(frame, table, source=file, lines=lines))
    if unreadable and not originals:
        return EXIT_UNREADABLE
    if target.is_dir():
        results = _add_relations(results, originals)

    base = target.name.rstrip("/") or "tables"
    html_path = report_dir / f"{base}.validation.html"
    json_path = report_dir / f"{base}.validation.json"
    md_path = report_dir / f"{base}.validation.md" if getattr(args, "format", "html") == "md" else None
    content = write_report(results, html_path, json_path, path=target, markdown_path=md_path,
                           relations_checked=target.is_dir())

    if args.quarantine is not None:
        for r in results:
            if r.failing_rows is None:
                continue
            if target.is_dir():
                src_suffix = Path(r.source or "x.parquet").suffix.lower()
                ext = ".csv" if src_suffix in (".csv", ".txt") else ".parquet"
                out = args.quarantine / f"{r.table}{ext}"
            else:
                out = args.quarantine
            failing = quarantine_rows(r.failing_rows, lines_of.get(r.table))
            if out.suffix.lower() in (".csv", ".txt"):
                sr_io.write_csv_atomic(failing, out)
            else:
                sr_io.write_parquet_atomic(failing, out)

    for r in results:
        print(v.describe(r))
    print(f"{content['verdict']}: {content['n_errors']} error(s), {content['n_warnings']} warning(s), "
          f"{content['rows_checked']} row(s) checked; report {md_path or html_path}")
    _print_plausibility(content)
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_VALID if content["valid"] else EXIT_INVALID


def quarantine_rows(failing: Any, lines: list[int] | None = None) -> Any:
    """Failing rows as written to a quarantine file: ``row_nr`` 1-based like the report and the
    console (``ValidationResult`` keeps 0-based positions), plus the CSV ``line`` when known."""
    import polars as pl

    out = failing.with_columns((pl.col("row_nr") + 1).cast(pl.Int64))
    if lines is not None:
        lookup = pl.Series("line", lines, dtype=pl.Int64)
        out = out.with_columns(line=lookup.gather(failing["row_nr"]) if failing.height else pl.lit(None, pl.Int64))
        out = out.select("row_nr", "line", *[c for c in out.columns if c not in ("row_nr", "line")])
    return out


def _check_outputs(target: Path, report_dir: Path, quarantine: Path | None) -> None:
    """Refuse unusable output paths before any work: a report folder that cannot be made or
    written, a quarantine file that is a folder (or a quarantine folder that is a file)."""
    from settlement_research.errors import OutputError

    _check_folder(report_dir, "--report")
    if quarantine is None:
        return
    if target.is_dir():
        if quarantine.exists() and not quarantine.is_dir():
            raise OutputError(f"--quarantine {quarantine} is a file; for a folder of tables it must be a folder",
                              file=quarantine, hint="give a folder for the quarantined rows of each table")
        _check_folder(quarantine, "--quarantine")
        return
    if quarantine.is_dir():
        raise OutputError(f"--quarantine {quarantine} is a folder; for one table it must be a file",
                          file=quarantine, hint="give a file name ending in .csv or .parquet")
    if quarantine.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq"):
        raise OutputError(f"--quarantine {quarantine}: use a .csv or .parquet file name",
                          file=quarantine, hint="the suffix chooses the format: .csv or .parquet")
    _check_folder(quarantine.parent, "--quarantine")


def _check_folder(folder: Path, option: str) -> None:
    import os

    from settlement_research.errors import OutputError

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{option} {folder}: cannot create this folder ({exc.strerror or exc})",
                          file=folder, hint="choose a folder you can write to") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {folder}: this folder is not writable", file=folder,
                          hint="choose a folder you can write to")


def _print_plausibility(content: dict[str, Any], limit: int = 5) -> None:
    """The worst plausibility findings in the terminal summary (the report has them all)."""
    findings = [f for t in content["tables"] for f in t.get("plausibility") or []]
    if not findings:
        return
    print(f"plausibility: {len(findings)} finding(s), worst first:")
    for f in findings[:limit]:
        worst = f["examples"][0] if f["examples"] else {}
        where = ", ".join(f"{k}={v}" for k, v in worst.items() if k not in ("score", "line"))
        print(f"  - {f['table']}: {f['message']}: {f['n_rows']} row(s); worst z={f['max_score']} ({where})")
    if len(findings) > limit:
        print(f"  ... and {len(findings) - limit} more in the report")


def _add_relations(results: list[ValidationResult], originals: dict[str, Any]) -> list[ValidationResult]:
    """Cross-table rules from settlement_research.relations, when that module exists."""
    import importlib

    from settlement_research import validation as v

    try:
        relations = importlib.import_module("settlement_research.relations")
    except ModuleNotFoundError as exc:
        if exc.name != "settlement_research.relations":
            raise
        return results
    check = getattr(relations, "check_relations", None)
    if check is None:
        return results
    # only tables whose columns are all there can take part in cross-table rules
    tables = {
        r.table: r.frame for r in results
        if r.frame is not None and not any(p.rule == "missing_column" and p.severity == "error" for p in r.problems)
    }
    extra: list[Problem] = list(check(tables))
    by_table: dict[str, list[Problem]] = {}
    for p in extra:
        by_table.setdefault(p.table, []).append(p)
    out = []
    for r in results:
        if r.table in by_table:
            r = v.with_problems(r, by_table.pop(r.table), originals.get(r.table))
        out.append(r)
    for table, problems in by_table.items():  # problems about tables not in the folder
        out.append(ValidationResult(table=table, n_rows=0, problems=problems))
    return out


__all__ = ["CLI_HELP", "cli_add_arguments", "cli_run", "infer_table", "load_report", "render_html",
           "report_dict", "write_report"]
