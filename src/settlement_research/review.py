"""The parts of the validation report a reviewer reads after the verdict.

validation_report.py says which rules broke. This module adds what a reviewer needs to trust a
file that passes, in the spirit of skimr and great_expectations' data docs:

- **rules**: every rule of the model (types, emptiness, ranges, codes, key, row rules) with the rows
  it was checked on, the rows failing and the share failing, including the ones that passed;
- **plausibility**: the findings of ``plausibility.check``, grouped per check, worst rows first;
- **profile**: per column its type, empty cells, status symbols, distinct values, min/median/max
  and the most frequent values;
- the examples of row-level warnings re-ranked by plausibility score (the worst rows, not the first).

Everything is plain data for the JSON report; ``table_html`` and ``render_markdown`` render it.
Every string that comes from the data is escaped (HTML, and Markdown table cells). Person-level
tables never show an identifier (``*_id`` columns are profiled by count only) nor value frequencies.
"""

from __future__ import annotations

import copy
import html
from typing import Any

import polars as pl

from settlement_research import plausibility
from settlement_research.model import PERSON_TABLES, get_model, primary_key
from settlement_research.problems import Problem, ValidationResult

MAX_EXAMPLES = 20
MD_EXAMPLES = 10
TOP_VALUES = 3
HIDDEN = "(hidden)"


# --------------------------------------------------------------------------------------------
# rules, passed and failed
# --------------------------------------------------------------------------------------------

def _check_words(column: Any, check: Any) -> str:
    from settlement_research.codebook import constraints_in_words

    single = copy.copy(column)
    single.checks = [check]
    single.unique = False
    try:
        return constraints_in_words(single) or check.name
    except ValueError:
        return str(check.error or check.name)


def _non_null(frame: pl.DataFrame | None, column: str) -> int | None:
    if frame is None or column not in frame.columns:
        return None
    return frame.height - frame.get_column(column).null_count()


def rule_table(result: ValidationResult) -> list[dict[str, Any]]:
    """Every model rule of the table with rows checked, rows failing, share failing and status.

    Rows checked: all rows for types, emptiness, the key and row rules; the non-empty cells for a
    column's value checks (an empty cell is judged by the emptiness rule, not by the range).
    Problems that match no model rule (a missing or unexpected column, an unreadable file, a
    cross-table rule) are listed after the model's rules.
    """
    schema = get_model(result.table).to_schema()
    n = result.n_rows
    frame = result.frame
    used: set[int] = set()

    def matching(rule: str, column: str | None) -> list[Problem]:
        found = [p for p in result.problems if p.rule == rule and (column is None or p.column == column)]
        used.update(id(p) for p in found)
        return found

    rows: list[dict[str, Any]] = []

    def add(rule: str, column: str | None, description: str, checked: int | None,
            problems: list[Problem]) -> None:
        whole = any(not p.rows and p.severity == "error" for p in problems)
        failing = checked if whole and checked is not None else sum(p.n_rows for p in problems)
        errors = any(p.severity == "error" for p in problems)
        status = "failed" if errors else ("warned" if problems else "passed")
        share = (failing / checked) if checked else (1.0 if whole else 0.0) if problems else 0.0
        rows.append({
            "rule": rule, "column": column, "description": description, "rows_checked": checked,
            "failing_rows": failing, "share_failing": share, "status": status,
        })

    for name, column in schema.columns.items():
        add("type", name, f"{name}: {column.dtype}", n, matching("type", name))
        if not column.nullable:
            add("not_nullable", name, f"{name}: must not be empty", n, matching("not_nullable", name))
        for chk in column.checks:
            add(chk.name, name, f"{name}: {_check_words(column, chk)}", _non_null(frame, name),
                matching(chk.name, name))
    key = primary_key(result.table)
    add("unique_key", None, f"key ({', '.join(key)}) is unique", n, matching("unique_key", None))
    for chk in schema.checks:
        add(chk.name, None, str(chk.error or chk.name), n, matching(chk.name, None))
    for p in result.problems:  # what no model rule covers: column set, unreadable, cross-table
        if id(p) in used:
            continue
        used.add(id(p))
        add(p.rule, p.column, p.message, n if p.rows or p.severity == "error" else None, [p])
    return rows


def relation_rules(results: list[ValidationResult]) -> list[dict[str, Any]]:
    """The cross-table rules with their status over a folder (checked only if their tables are)."""
    import importlib

    RULES = getattr(importlib.import_module("settlement_research.relations"), "RULES", None) or []
    present = {r.table for r in results if r.n_rows or r.frame is not None}
    out = []
    for rule in RULES:
        first, rest = rule.tables[0], rule.tables[1:]
        checked = first in present and (not rest or any(t in present for t in rest))
        problems = [p for r in results for p in r.problems if p.rule == rule.name]
        status = ("not checked" if not checked else
                  "failed" if any(p.severity == "error" for p in problems) else
                  "warned" if problems else "passed")
        out.append({
            "rule": rule.name, "severity": rule.severity, "tables": sorted(set(rule.tables)),
            "description": rule.description, "failing_rows": sum(p.n_rows for p in problems),
            "status": status,
        })
    return out


# --------------------------------------------------------------------------------------------
# per-column profile
# --------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 4)
    return str(value)


def profile(frame: pl.DataFrame, table: str) -> list[dict[str, Any]]:
    """Per column: dtype, empty cells (and share), status symbols, distinct, min/median/max, top values."""
    person = table in PERSON_TABLES
    n = frame.height
    out = []
    for name in frame.columns:
        s = frame.get_column(name)
        hidden = person and name.endswith("_id")
        nulls = s.null_count()
        entry: dict[str, Any] = {
            "column": name, "dtype": str(s.dtype), "rows": n, "empty": nulls,
            "empty_share": round(nulls / n, 4) if n else 0.0,
            "distinct": s.drop_nulls().n_unique(),
            "symbols": {}, "min": None, "median": None, "max": None, "top": [],
        }
        companion = f"{name}_symbol"
        if companion in frame.columns:
            counts = frame.get_column(companion).drop_nulls().value_counts(sort=True)
            entry["symbols"] = {str(k): int(v) for k, v in counts.iter_rows()}
        present = s.drop_nulls()
        if hidden:
            entry["top"] = [HIDDEN]
        elif present.len():
            if s.dtype.is_numeric() and s.dtype != pl.Boolean:
                finite = present.filter(present.is_finite()) if s.dtype.is_float() else present
                if finite.len():
                    entry["min"], entry["median"], entry["max"] = (
                        _plain(finite.min()), _plain(finite.median()), _plain(finite.max()))
            elif s.dtype in (pl.Date, pl.Datetime):
                entry["min"], entry["max"] = _plain(present.min()), _plain(present.max())
            if not (s.dtype.is_float()):
                counts = present.value_counts(sort=True).head(TOP_VALUES)
                if person:  # no frequencies of register data
                    entry["top"] = [_plain(v) for v in counts.get_column(name).to_list()]
                else:
                    entry["top"] = [f"{_plain(v)} ({c})" for v, c in counts.iter_rows()]
        out.append(entry)
    return out


# --------------------------------------------------------------------------------------------
# assembling the sections of one table
# --------------------------------------------------------------------------------------------

def table_sections(
    result: ValidationResult,
) -> tuple[dict[str, Any], dict[str, plausibility.RowScores]]:
    """The reviewer's sections of one table as plain data, and the plausibility scores per check."""
    sections: dict[str, Any] = {"rules": rule_table(result), "plausibility": [],
                                "plausibility_skipped": [], "profile": []}
    if result.frame is None:
        return sections, {}
    findings, skipped, scores = plausibility.check(result.frame, result.table, source=result.source)
    sections["plausibility"] = [f.to_dict() for f in findings]
    sections["plausibility_skipped"] = [{"check": s.check, "reason": s.reason} for s in skipped]
    sections["profile"] = profile(result.frame, result.table)
    return sections, scores


def rank_warning_examples(
    problem_dicts: list[dict[str, Any]], problems: list[Problem], result: ValidationResult,
    scores: dict[str, plausibility.RowScores],
) -> None:
    """Re-pick the examples of row-level warnings: the least plausible rows first, not the first rows.

    A warning is ranked by the plausibility check that compares exactly the columns it shows
    (``settled_within_decided`` shows settled and decided: ranked by ``settled_vs_decided``); a
    warning no check speaks to keeps its order. Errors keep row order (every failing row is listed
    in the quarantine anyway). The examples gain ``plausibility_score``.
    """
    if not scores or result.frame is None or result.table in PERSON_TABLES:
        return
    keys = [k for k in primary_key(result.table) if k in result.frame.columns]
    for out, p in zip(problem_dicts, problems, strict=True):
        if p.severity != "warning" or len(p.rows) < 2:
            continue
        shown_cols = {c for ex in p.examples[:1] for c in ex} | ({p.column} if p.column else set())
        compared = shown_cols - set(keys) - {"row", "line"}
        relevant = [s for s in scores.values() if set(s.columns) == compared]
        if not relevant:
            continue
        score = {r: max((s.by_row.get(r, 0.0) for s in relevant), default=0.0) for r in p.rows}
        ranked = sorted(p.rows, key=lambda r: (-score[r], r))[:MAX_EXAMPLES]
        shown = list(dict.fromkeys([*keys, *[c for c in result.frame.columns if c in shown_cols]]))
        picked = result.frame.select(shown).select(pl.all().gather(ranked)).to_dicts()
        out["examples"] = [
            {"row": r + 1, **{k: _plain(v) for k, v in values.items()},
             "plausibility_score": round(score[r], 2)}
            for r, values in zip(ranked, picked, strict=True)
        ]
        out["row_numbers"] = [r + 1 for r in ranked]
        out["ranked_by"] = "plausibility score (" + ", ".join(
            name for name, s in scores.items() if s in relevant) + "), worst first"


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

CSS = """
.rules td.passed{color:#137333} .rules td.failed{color:#d93025;font-weight:600}
.rules td.warned{color:#b06000} td.num{text-align:right;font-variant-numeric:tabular-nums}
details{margin:.6rem 0} summary{cursor:pointer;font-weight:600}
.rules td.desc{white-space:normal;min-width:18rem}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _share(value: float | None) -> str:
    """0 %, 0.04 %, 12.5 %: a single failing row in thousands never rounds to 0."""
    if value is None:
        return ""
    if value == 0:
        return "0 %"
    return f"{value * 100:.2f} %" if value < 0.001 else f"{value * 100:.1f} %"


def _examples_html(examples: list[dict[str, Any]]) -> str:
    if not examples:
        return ""
    cols = list(dict.fromkeys(k for ex in examples for k in ex))
    out = ["<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>"]
    for ex in examples:
        out.append("<tr>" + "".join(
            '<td class="null">empty</td>' if ex.get(c) is None else f"<td>{_e(ex.get(c))}</td>"
            for c in cols) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def table_html(t: dict[str, Any]) -> str:
    """The plausibility, rules and profile sections of one table of ``report_dict``."""
    out: list[str] = []
    findings = t.get("plausibility") or []
    out.append(f"<h3>Plausibility: {len(findings)} finding(s), worst first</h3>")
    if not findings:
        out.append("<p>No value lies beyond the plausibility threshold"
                   + (" (or no check applies to this table)." if not t.get("plausibility_skipped") else ".")
                   + "</p>")
    for f in findings:
        out.append(
            f'<div class="finding problem warning"><h3><span class="sev">{_e(f["kind"])}</span>{_e(f["message"])}</h3>'
            f'<p class="meta">check <code>{_e(f["check"])}</code> · {f["n_rows"]} of {f["n_checked"]} '
            f'row(s) beyond robust z {f["threshold"]} · worst {f["max_score"]}</p>'
            + _examples_html(f["examples"]) + "</div>"
        )
    for s in t.get("plausibility_skipped") or []:
        out.append(f'<p class="meta">not checked: <code>{_e(s["check"])}</code> — {_e(s["reason"])}</p>')
    rules = t.get("rules") or []
    n_passed = sum(r["status"] == "passed" for r in rules)
    opened = " open" if n_passed < len(rules) else ""
    out.append(f"<details{opened}><summary>Rules: {n_passed} of {len(rules)} passed</summary>")
    out.append('<table class="rules"><tr><th>status</th><th>rule</th><th>what it says</th>'
               "<th>rows checked</th><th>failing rows</th><th>share failing</th></tr>")
    for r in rules:
        out.append(
            f'<tr><td class="{_e(r["status"])}">{_e(r["status"])}</td><td><code>{_e(r["rule"])}</code></td>'
            f'<td class="desc">{_e(r["description"])}</td>'
            f'<td class="num">{_e(r["rows_checked"])}</td><td class="num">{_e(r["failing_rows"])}</td>'
            f'<td class="num">{_share(r["share_failing"])}</td></tr>'
        )
    out.append("</table></details>")
    prof = t.get("profile") or []
    if prof:
        out.append(f"<details><summary>Column profile ({len(prof)} columns)</summary>")
        out.append("<table><tr><th>column</th><th>type</th><th>empty</th><th>symbols</th>"
                   "<th>distinct</th><th>min</th><th>median</th><th>max</th><th>most frequent</th></tr>")
        for c in prof:
            symbols = ", ".join(f"{k} ×{v}" for k, v in c["symbols"].items())
            out.append(
                f'<tr><td><code>{_e(c["column"])}</code></td><td>{_e(c["dtype"])}</td>'
                f'<td class="num">{c["empty"]} ({_share(c["empty_share"])})</td><td>{_e(symbols)}</td>'
                f'<td class="num">{c["distinct"]}</td><td>{_e(c["min"])}</td><td>{_e(c["median"])}</td>'
                f'<td>{_e(c["max"])}</td><td>{_e("; ".join(map(str, c["top"])))}</td></tr>'
            )
        out.append("</table></details>")
    return "\n".join(out)


def relations_html(rules: list[dict[str, Any]]) -> str:
    if not rules:
        return ""
    out = ["<h2>Cross-table rules</h2>",
           '<table class="rules"><tr><th>rule</th><th>severity</th><th>tables</th><th>what it says</th>'
           "<th>failing rows</th><th>status</th></tr>"]
    for r in rules:
        out.append(
            f'<tr><td><code>{_e(r["rule"])}</code></td><td>{_e(r["severity"])}</td>'
            f'<td>{_e(", ".join(r["tables"]))}</td><td>{_e(r["description"])}</td>'
            f'<td class="num">{r["failing_rows"]}</td><td class="{_e(r["status"])}">{_e(r["status"])}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Markdown, for pasting into a review
# --------------------------------------------------------------------------------------------

def md_cell(value: Any) -> str:
    """A Markdown table cell: HTML-escaped (pasted Markdown renders inline HTML), pipes escaped."""
    text = "" if value is None else str(value)
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _md_table(heads: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in heads) + " |", "|" + "---|" * len(heads)]
    out += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return out + [""]


def render_markdown(content: dict[str, Any]) -> str:
    """The whole report (``report_dict`` output) as GitHub-flavoured Markdown."""
    from settlement_research.pages.banner import banner_markdown, data_info_for_path

    lines = [
        f"# Validation report: {md_cell(content.get('path') or '')}",
        "",
        banner_markdown(content.get("data") or data_info_for_path(None)),
        "",
        f"**{content['verdict']}** — {content['n_errors']} error(s), {content['n_warnings']} warning(s), "
        f"{content['rows_checked']} row(s) checked in {content['n_tables']} table(s); checked "
        f"{md_cell(content['checked_at'])}.",
        "",
    ]
    for t in content["tables"]:
        lines += [f"## {md_cell(t['table'])} — {t['verdict']}", ""]
        lines += [f"{t['rows_checked']} row(s) checked" + (f", {t['failing_rows']} failing" if t.get("failing_rows") is not None else "")
                  + (f"; file `{md_cell(t['file'])}`" if t.get("file") else ""), ""]
        problems = t.get("problems") or []
        if problems:
            lines += ["### Problems", ""]
            for p in problems:
                col = f"`{md_cell(p['column'])}`: " if p.get("column") else ""
                lines.append(f"- **{p['severity']}** {col}{md_cell(p['message'])} "
                             f"(rule `{md_cell(p['rule'])}`, {p['n_rows']} row(s))"
                             + (f" — hint: {md_cell(p['hint'])}" if p.get("hint") else ""))
            lines.append("")
            for p in problems:
                examples = (p.get("examples") or [])[:MD_EXAMPLES]
                if examples:
                    cols = list(dict.fromkeys(k for ex in examples for k in ex))
                    ranked = " (worst first)" if p.get("ranked_by") else ""
                    lines += [f"Examples of `{md_cell(p['rule'])}`{ranked}:", ""]
                    lines += _md_table(cols, [[ex.get(c) for c in cols] for ex in examples])
        findings = t.get("plausibility") or []
        lines += [f"### Plausibility: {len(findings)} finding(s), worst first", ""]
        for f in findings:
            lines += [f"**{md_cell(f['kind'])} · `{md_cell(f['check'])}`**: {md_cell(f['message'])} — "
                      f"{f['n_rows']} of {f['n_checked']} row(s) beyond robust z {f['threshold']}, "
                      f"worst {f['max_score']}", ""]
            examples = f["examples"][:MD_EXAMPLES]
            cols = list(dict.fromkeys(k for ex in examples for k in ex))
            lines += _md_table(cols, [[ex.get(c) for c in cols] for ex in examples])
        for s in t.get("plausibility_skipped") or []:
            lines += [f"- not checked: `{md_cell(s['check'])}` — {md_cell(s['reason'])}"]
        rules = t.get("rules") or []
        lines += [f"### Rules: {sum(r['status'] == 'passed' for r in rules)} of {len(rules)} passed", ""]
        lines += _md_table(
            ["status", "rule", "what it says", "rows checked", "failing rows", "share failing"],
            [[r["status"], r["rule"], r["description"], r["rows_checked"], r["failing_rows"],
              _share(r["share_failing"])] for r in rules],
        )
        prof = t.get("profile") or []
        if prof:
            lines += ["### Column profile", ""]
            lines += _md_table(
                ["column", "type", "empty", "symbols", "distinct", "min", "median", "max", "most frequent"],
                [[c["column"], c["dtype"], f"{c['empty']} ({_share(c['empty_share'])})",
                  ", ".join(f"{k} ×{v}" for k, v in c["symbols"].items()), c["distinct"], c["min"],
                  c["median"], c["max"], "; ".join(map(str, c["top"]))] for c in prof],
            )
    relations = content.get("relations") or []
    if relations:
        lines += ["## Cross-table rules", ""]
        lines += _md_table(
            ["rule", "severity", "tables", "failing rows", "status"],
            [[r["rule"], r["severity"], ", ".join(r["tables"]), r["failing_rows"], r["status"]] for r in relations],
        )
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["CSS", "md_cell", "profile", "rank_warning_examples", "relation_rules", "relations_html",
           "render_markdown", "rule_table", "table_html", "table_sections"]
