"""The codebook (docs/codebook.md) and Frictionless Data Package (docs/datapackage.json),
generated from the models and nothing else, so documentation cannot drift from the schema.

Output is deterministic (sorted, no timestamps) so a test can tell when the committed files are
stale: run ``make codebook`` (``settlement-research codebook``) after changing a model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl

from settlement_research.io import write_text_atomic
from settlement_research.model import TABLES
from settlement_research.model.base import SYMBOL_MEANING
from settlement_research.paths import project_root
from settlement_research.relations import RULES

CLI_HELP = "write docs/codebook.md and docs/datapackage.json from the models"
CODEBOOK_FILE = "codebook.md"
DATAPACKAGE_FILE = "datapackage.json"
LEVEL_WORDS = {"aggregate": "aggregate (public statistics)", "person": "person-level register data"}
LEVEL_ORDER = ["aggregate", "person"]


# --- reading the models --------------------------------------------------------------------------


def _frictionless_type(dtype: Any) -> str:
    """Frictionless field type of a polars dtype."""
    dt = dtype.type if hasattr(dtype, "type") else dtype
    if dt == pl.String:
        return "string"
    if dt == pl.Boolean:
        return "boolean"
    if dt == pl.Date:
        return "date"
    if dt.is_integer():
        return "integer"
    if dt.is_float():
        return "number"
    raise ValueError(f"no Frictionless type for polars dtype {dt}")


def _polars_type(dtype: Any) -> str:
    return str(dtype.type if hasattr(dtype, "type") else dtype)


def _xsd_pattern(pattern: str) -> str:
    """Frictionless patterns are XML Schema regexes, implicitly anchored: drop ^ and $."""
    return pattern.removeprefix("^").removesuffix("$")


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def field_constraints(column: pa.Column, primary_key: list[str]) -> dict[str, Any]:
    """Frictionless constraints of a column from its pandera checks."""
    out: dict[str, Any] = {"required": not column.nullable}
    for check in column.checks:
        stats = check.statistics or {}
        if check.name == "greater_than_or_equal_to":
            out["minimum"] = _number(stats["min_value"])
        elif check.name == "less_than_or_equal_to":
            out["maximum"] = _number(stats["max_value"])
        elif check.name == "in_range":
            out["minimum"], out["maximum"] = _number(stats["min_value"]), _number(stats["max_value"])
        elif check.name == "str_matches":
            out["pattern"] = _xsd_pattern(str(stats["pattern"]))
        elif check.name == "isin":
            out["enum"] = list(stats["allowed_values"])
        elif check.name == "str_length":
            if stats.get("min_value") is not None:
                out["minLength"] = stats["min_value"]
            if stats.get("max_value") is not None:
                out["maxLength"] = stats["max_value"]
        else:
            raise ValueError(f"codebook does not know how to describe the check {check.name!r}")
    if column.unique or primary_key == [column.name]:
        out["unique"] = True
    return out


def constraints_in_words(column: pa.Column) -> str:
    """The column's checks as a reader would say them."""
    words: list[str] = []
    low = high = None
    for check in column.checks:
        stats = check.statistics or {}
        if check.name == "greater_than_or_equal_to":
            low = _number(stats["min_value"])
        elif check.name == "less_than_or_equal_to":
            high = _number(stats["max_value"])
        elif check.name == "in_range":
            low, high = _number(stats["min_value"]), _number(stats["max_value"])
        elif check.name == "str_matches":
            words.append(f"matches `{stats['pattern']}`")
        elif check.name == "isin":
            words.append("one of " + ", ".join(f"`{v}`" for v in stats["allowed_values"]))
        elif check.name == "str_length":
            lo, hi = stats.get("min_value"), stats.get("max_value")
            if lo is not None and hi is not None:
                words.append(f"{lo} to {hi} characters")
            elif lo is not None:
                words.append(f"at least {lo} character{'s' if lo != 1 else ''}")
            elif hi is not None:
                words.append(f"at most {hi} characters")
        else:
            raise ValueError(f"codebook does not know how to describe the check {check.name!r}")
    if low is not None and high is not None:
        words.insert(0, f"between {low} and {high}")
    elif low is not None:
        words.insert(0, f"at least {low}")
    elif high is not None:
        words.insert(0, f"at most {high}")
    if column.unique:
        words.append("unique")
    return "; ".join(words)


def table_info(name: str) -> dict[str, Any]:
    """Everything the codebook says about one table, read from its model."""
    model = TABLES[name]
    schema = model.to_schema()
    meta = model.Config.metadata
    primary_key = list(meta["primary_key"])
    columns = []
    for col_name, column in schema.columns.items():
        col_meta = column.metadata or {}
        columns.append({
            "name": col_name,
            "polars_type": _polars_type(column.dtype),
            "type": _frictionless_type(column.dtype),
            "nullable": bool(column.nullable),
            "constraints": field_constraints(column, primary_key),
            "constraints_words": constraints_in_words(column),
            "no": col_meta.get("no", ""),
            "en": col_meta.get("en", column.description or ""),
            "unit": col_meta.get("unit", ""),
            "description": column.description or "",
        })
    return {
        "name": name,
        "title": schema.title or name,
        "description": schema.description or "",
        "doc": " ".join((model.__doc__ or "").split()),
        "level": meta["level"],
        "primary_key": primary_key,
        "row_rules": [check.error or check.name for check in schema.checks],
        "columns": columns,
    }


def _ordered_tables() -> list[str]:
    return sorted(TABLES, key=lambda n: (LEVEL_ORDER.index(TABLES[n].Config.metadata["level"]), n))


# --- rendering -----------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    """docs/codebook.md."""
    names = _ordered_tables()
    infos = [table_info(n) for n in names]
    out = [
        "# Codebook",
        "",
        "Generated from the pandera models in `src/settlement_research/model/` and the cross-table "
        "rules in `src/settlement_research/relations.py` by `make codebook`. Do not edit by hand.",
        "",
        "Conventions: `kommune_nr` is a 4-character code always paired with the classification year "
        "it belongs to; years are Int16; money ends in `_nok`; shares end in `_share` and lie in "
        "[0, 1]. A missing value is null, and the status symbol the source gave stands in the "
        "companion `<column>_symbol` column (never a 0).",
        "",
        "## Tables",
        "",
        "| table | title | level | primary key |",
        "|---|---|---|---|",
    ]
    for info in infos:
        out.append(
            f"| [`{info['name']}`](#{info['name']}) | {_cell(info['title'])} | "
            f"{LEVEL_WORDS[info['level']]} | {', '.join(f'`{c}`' for c in info['primary_key'])} |"
        )
    out.append("")
    for info in infos:
        out += [
            f"## {info['name']}",
            "",
            f"**{_cell(info['title'])}.** {info['description']}",
            "",
        ]
        if info["doc"] and info["doc"] != info["description"]:
            out += [info["doc"], ""]
        out += [
            f"- Level: {LEVEL_WORDS[info['level']]}"
            + (" (disclosure control applies to anything derived from it)" if info["level"] == "person" else ""),
            f"- Primary key (unique): {', '.join(f'`{c}`' for c in info['primary_key'])}",
            f"- File: `{info['name']}.parquet`",
            "",
        ]
        if info["row_rules"]:
            out += ["Row rules:", ""] + [f"- {rule}" for rule in info["row_rules"]] + [""]
        out += [
            "| column | type | nullable | constraints | Norwegian term | English meaning | unit |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in info["columns"]:
            out.append(
                f"| `{c['name']}` | {c['polars_type']} | {'yes' if c['nullable'] else 'no'} | "
                f"{_cell(c['constraints_words'])} | {_cell(c['no'])} | {_cell(c['en'])} | {_cell(c['unit'])} |"
            )
        out.append("")
    out += [
        "## Cross-table rules",
        "",
        "Checked by `relations.check_relations` on the set of tables a build produces; a rule whose "
        "tables are absent is skipped. Errors quarantine the failing rows; warnings are reported.",
        "",
        "| rule | severity | tables | what it says |",
        "|---|---|---|---|",
    ]
    for rule in sorted(RULES, key=lambda r: r.name):
        tables = ", ".join(f"`{t}`" for t in sorted(set(rule.tables)))
        out.append(f"| `{rule.name}` | {rule.severity} | {tables} | {_cell(rule.description)} |")
    out += [
        "",
        "## Status symbols",
        "",
        "SSB and IMDi mark missing cells with a symbol. The value becomes null and the symbol is "
        "kept in `<column>_symbol`; a symbol never means 0.",
        "",
        "| symbol | meaning |",
        "|---|---|",
    ]
    for symbol, meaning in SYMBOL_MEANING.items():
        out.append(f"| `{symbol}` | {_cell(meaning)} |")
    out.append("")
    return "\n".join(out)


def datapackage() -> dict[str, Any]:
    """docs/datapackage.json as a dict (Frictionless Data Package v2, Parquet resources)."""
    resources = []
    for name in sorted(TABLES):
        info = table_info(name)
        fields = []
        for c in info["columns"]:
            field: dict[str, Any] = {
                "name": c["name"],
                "type": c["type"],
                "description": c["description"],
                "unit": c["unit"],
                "constraints": c["constraints"],
            }
            if c["no"]:
                field["norwegian_term"] = c["no"]
            fields.append(field)
        resources.append({
            "name": name,
            "type": "table",
            "title": info["title"],
            "description": info["description"],
            "path": f"{name}.parquet",
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "level": info["level"],
            "row_rules": info["row_rules"],
            "schema": {"fields": fields, "primaryKey": info["primary_key"]},
        })
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "settlement-research",
        "title": "Refugee settlement in Norwegian municipalities",
        "description": "Clean, validated tables of settlement_research (data_clean/<source>/). "
        "Generated from the pandera models; do not edit by hand.",
        "resources": resources,
    }


def render_datapackage() -> str:
    return json.dumps(datapackage(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(out_dir: str | Path | None = None) -> list[Path]:
    """Write both files into ``out_dir`` (default docs/ of the project); return their paths."""
    folder = Path(out_dir) if out_dir is not None else project_root() / "docs"
    return [
        write_text_atomic(render_markdown(), folder / CODEBOOK_FILE),
        write_text_atomic(render_datapackage(), folder / DATAPACKAGE_FILE),
    ]


# --- CLI -----------------------------------------------------------------------------------------


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to write into (default: docs/ of the project)"
    )


def cli_run(args: argparse.Namespace) -> int:
    for path in write(args.out):
        print(f"wrote {path}")
    return 0


__all__ = ["datapackage", "render_datapackage", "render_markdown", "table_info", "write"]
