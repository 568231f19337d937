"""Finding one's way in a notebook: which tables exist, what their columns mean, how many rows.

``sr.tables()`` and ``sr.describe("table")`` read the pandera models (through the codebook's
``table_info``, so the notebook and docs/codebook.md say the same thing) and the Parquet footers in
data_clean/ (row counts without reading the data). ``describe`` renders as an HTML table in Jupyter
and as aligned plain text in a terminal; every string in the HTML is escaped.
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from typing import Any

import polars as pl

from settlement_research.model import TABLES

LEVEL_WORDS = {"aggregate": "aggregate", "person": "person-level (register)"}


def suggest(name: str, known: list[str] | tuple[str, ...] | Any) -> str:
    """" did you mean 'x'?" for a near miss, else '' (for inserting into an error message)."""
    close = difflib.get_close_matches(str(name), list(known), n=2, cutoff=0.6)
    if not close:
        return ""
    return " did you mean " + " or ".join(repr(c) for c in close) + "?"


def unknown_table_message(name: str) -> str:
    return f"unknown table {name!r};{suggest(name, TABLES)} known tables: {', '.join(TABLES)}"


def _row_counts() -> dict[str, dict[str, int]]:
    """source -> table -> rows, from the Parquet footers of data_clean/ (no data read)."""
    from settlement_research import catalog

    counts: dict[str, dict[str, int]] = {}
    for source in catalog.sources():
        folder = catalog.source_dir(source)
        per_table: dict[str, int] = {}
        for table in TABLES:
            file = folder / f"{table}.parquet"
            if file.is_file():
                try:
                    per_table[table] = int(pl.scan_parquet(file).select(pl.len()).collect().item())
                except Exception:  # an unreadable file shows as absent; load() gives the reason
                    continue
        counts[source] = per_table
    return counts


def tables() -> pl.DataFrame:
    """One row per table: name, title, grain (its primary key), level and rows in each source.

    The row-count columns are named after the sources in data_clean/ (null: not built there).
    """
    from settlement_research.codebook import table_info

    counts = _row_counts()
    rows = []
    for name in TABLES:
        info = table_info(name)
        row: dict[str, Any] = {
            "table": name,
            "title": info["title"],
            "grain": " × ".join(info["primary_key"]),
            "level": LEVEL_WORDS.get(info["level"], info["level"]),
        }
        for source, per_table in counts.items():
            row[f"rows_{source}"] = per_table.get(name)
        rows.append(row)
    schema: dict[str, Any] = {"table": pl.String, "title": pl.String, "grain": pl.String,
                              "level": pl.String}
    schema.update({f"rows_{s}": pl.Int64 for s in counts})
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class TableDescription:
    """What ``describe`` returns: the table's columns as a polars frame, shown nicely everywhere."""

    name: str
    title: str
    description: str
    level: str
    primary_key: list[str]
    row_rules: list[str]
    columns: pl.DataFrame

    def __str__(self) -> str:
        lines = [
            f"{self.name} — {self.title}",
            self.description,
            f"grain (unique key): {', '.join(self.primary_key)}; level: {self.level}",
        ]
        if self.row_rules:
            lines.append("row rules:")
            lines += [f"  - {r}" for r in self.row_rules]
        lines.append("")
        shown = ["column", "norwegian", "unit", "dtype", "nullable", "checks", "description"]
        cells = [[str(v) if v is not None else "" for v in row]
                 for row in self.columns.select(shown).rows()]
        cells = [[("yes" if c == "True" else "no" if c == "False" else c) for c in row] for row in cells]
        widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(shown)]
        widths[-1] = len(shown[-1])  # the description runs on, unpadded
        lines.append("  ".join(h.ljust(w) for h, w in zip(shown, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in cells:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [
            f"<div><p><strong>{e(self.name)}</strong> — {e(self.title)}<br>{e(self.description)}<br>"
            f"grain (unique key): <code>{e(', '.join(self.primary_key))}</code>; level: {e(self.level)}</p>"
        ]
        if self.row_rules:
            parts.append("<p>Row rules:</p><ul>" + "".join(f"<li>{e(r)}</li>" for r in self.row_rules)
                         + "</ul>")
        heads = ["column", "Norwegian term", "description", "unit", "dtype", "nullable", "checks"]
        keys = ["column", "norwegian", "description", "unit", "dtype", "nullable", "checks"]
        parts.append('<div style="overflow-x:auto"><table><thead><tr>'
                     + "".join(f'<th style="text-align:left">{h}</th>' for h in heads)
                     + "</tr></thead><tbody>")
        for row in self.columns.iter_rows(named=True):
            cells = []
            for k in keys:
                value = row[k]
                text = ("yes" if value else "no") if k == "nullable" else ("" if value is None else str(value))
                cell = f"<code>{e(text)}</code>" if k == "column" else e(text)
                cells.append(f'<td style="text-align:left">{cell}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div></div>")
        return "".join(parts)


def describe(name: str) -> TableDescription:
    """The columns of table ``name``: Norwegian term, English description, unit, dtype, nullability
    and checks, with the table's grain and row rules. ``.columns`` is the same as a polars frame."""
    from settlement_research.catalog import CatalogError
    from settlement_research.codebook import table_info

    if name not in TABLES:
        raise CatalogError(unknown_table_message(name))
    info = table_info(name)
    columns = pl.DataFrame(
        {
            "column": [c["name"] for c in info["columns"]],
            "norwegian": [c["no"] for c in info["columns"]],
            "description": [c["en"] for c in info["columns"]],
            "unit": [c["unit"] for c in info["columns"]],
            "dtype": [c["polars_type"] for c in info["columns"]],
            "nullable": [c["nullable"] for c in info["columns"]],
            "checks": [c["constraints_words"] for c in info["columns"]],
            "in_key": [c["name"] in info["primary_key"] for c in info["columns"]],
        },
        schema={"column": pl.String, "norwegian": pl.String, "description": pl.String,
                "unit": pl.String, "dtype": pl.String, "nullable": pl.Boolean, "checks": pl.String,
                "in_key": pl.Boolean},
    )
    return TableDescription(
        name=name, title=info["title"], description=info["description"],
        level=LEVEL_WORDS.get(info["level"], info["level"]), primary_key=info["primary_key"],
        row_rules=list(info["row_rules"]), columns=columns,
    )


__all__ = ["TableDescription", "describe", "suggest", "tables", "unknown_table_message"]
