"""Lineage of an IMDi import: every cell of the imported tables back to its export records.

``import-imdi`` keeps every record it read with its fate (``Assembled.records``: file, record
number, wide column, raw text, edition, sha256, code and value handling); this module turns the
records behind each clean cell into ``lineage/<table>.parquet`` beside the imported tables, keyed
like the tables (``pipeline.lineage.key_expr``). The build joins it to the clean rows.

A cell has one origin per record that gave it: files of one edition that publish the same number
(the flat and the raw wide export, the three settlement exports) must agree to be merged, so all
of them are origins. A count of an ended code folded into its namesake successor is an ``added``
origin. The clean tables take the edition chosen by precedence; ``imdi_edition_value`` keeps every
edition, so its lineage lists each edition's records.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from settlement_research.io import write_parquet_atomic
from settlement_research.pipeline.lineage import LINEAGE_DIR, STEP_SEP, key_expr

if TYPE_CHECKING:
    from settlement_research.sources.imdi.importer import ImportResult

_JOIN = ["table", "kommune_nr", "measure_year", "target", "edition"]
KOMMUNE_YEAR = ("kommune_settlement_year", "kommune_intro_year", "kommune_context_year")
NATIONAL = "national_settlement_year"
EDITIONS = "imdi_edition_value"
SHIPPED_CODES = "settlement_research/geo/data/kommune_codes.csv"


CHOSEN = "edition chosen by precedence (sources/imdi/editions.py): this edition's value is the clean value"
EVERY = "kept in imdi_edition_value with every other edition's value (`chosen` marks the clean one)"


def _steps(role: str, last: str = CHOSEN) -> pl.Expr:
    """The transformations of one record, in the order the importer applied them."""
    def opt(cond: pl.Expr, *parts: pl.Expr | str) -> pl.Expr:
        text = pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])
        return pl.when(cond).then(text + pl.lit(STEP_SEP)).otherwise(pl.lit(""))

    s = pl.col
    wide = s("column").is_not_null()
    read = pl.concat_str([
        pl.lit("read "), s("layout"), pl.lit(" export "), s("file"), pl.lit(" (edition "), s("edition"),
        pl.lit(", sha256 "), s("file_sha256").str.slice(0, 16), pl.lit("…): record "), s("row_nr").cast(pl.String),
        pl.when(wide).then(pl.lit(", column '") + s("column") + pl.lit("'")).otherwise(pl.lit("")),
        pl.lit(STEP_SEP),
    ])
    return pl.concat_str([
        read,
        opt(s("padded").fill_null(False), "code '", s("code_raw"), "' had lost its leading zero: restored to ",
            s("kommune_nr")),
        opt(s("recoded_from").is_not_null(), "stale code ", s("recoded_from"),
            " recoded to its namesake successor ", s("kommune_nr")),
        opt(role == "added", "ended code's count added to its namesake successor's in the same file and year"),
        pl.concat_str([pl.lit("indicator "), s("indicator").fill_null("?"),
                       pl.when(s("dims").fill_null("") != "").then(pl.lit(" [") + s("dims") + pl.lit("]"))
                       .otherwise(pl.lit("")),
                       pl.lit(" ("), s("enhet").fill_null("?"), pl.lit(") -> "), s("table"), pl.lit("."),
                       s("target"), pl.lit(STEP_SEP)]),
        opt(s("symbol").is_not_null(), "status symbol '", s("symbol").fill_null(""), "' kept as symbol, value null"),
        opt(s("symbol").is_null() & (s("kind") == "share"), "percent divided by 100 (a share)"),
        opt(s("symbol").is_null() & s("layout").str.starts_with("raw_wide") & s("value_raw").str.contains(",", literal=True),
            "decimal comma read as point"),
        opt(s("window_years").is_not_null(), "cohort indicator: year set to the cohort (leaving year), window ",
            s("window_years").cast(pl.String), " year(s)"),
        opt(s("classification_year").is_not_null(), "classification year ", s("classification_year").cast(pl.String),
            " (municipality codes as valid then; harmonise before joining across years)"),
        pl.lit(last),
    ])


def _origins(records: pl.DataFrame, edition_values: pl.DataFrame, *, every_edition: bool) -> pl.DataFrame:
    """Imported records (and folded-in ones) of the chosen (or every) edition, one row per record."""
    from settlement_research.sources.imdi import codes
    from settlement_research.sources.imdi.assemble import FOLDED

    used = records.filter(pl.col("reason").is_null()).with_columns(pl.lit("value").alias("role"))
    folded = records.filter(pl.col("reason") == FOLDED).with_columns(
        pl.col("kommune_nr").alias("_folded_from"),
        pl.col("kommune_nr").replace_strict(codes.NAMESAKE_SUCCESSOR, default=None).alias("kommune_nr"),
        pl.lit("added").alias("role"),
    )
    cand = pl.concat([used, folded], how="diagonal_relaxed")
    if not every_edition:
        chosen = edition_values.filter(pl.col("chosen")).select(_JOIN).unique()
        cand = cand.join(chosen, on=_JOIN, how="semi", nulls_equal=True)
    last = EVERY if every_edition else CHOSEN
    return cand.with_columns(
        pl.when(pl.col("role") == "added").then(_steps("added", last)).otherwise(_steps("value", last)).alias("steps")
    )


def _shape(origins: pl.DataFrame, key: pl.Expr, column: pl.Expr, from_key: pl.Expr | None = None) -> pl.DataFrame:
    out = origins.select(
        key.alias("key"), column.alias("column"), "role", pl.lit("imdi").alias("source"), "edition", "file",
        "file_sha256", pl.col("row_nr").cast(pl.Int64).alias("record"), pl.col("column").alias("cell"),
        "value_raw", "steps",
        *([] if from_key is None else [from_key.alias("from_key"),
                                       pl.when(from_key.is_not_null()).then(1.0).alias("weight")]),
    )
    return out.sort("key", "column", "role", "file", "record", nulls_last=True).with_columns(
        pl.int_range(1, pl.len() + 1).over("key", "column").cast(pl.Int32).alias("origin_nr")
    )


def _kv(name: str, expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f"{name}="), expr.cast(pl.String).fill_null("")])


def import_lineage(result: ImportResult) -> dict[str, pl.DataFrame]:
    """table -> its lineage rows (no ``row`` yet: the build numbers the clean rows)."""
    a = result.assembled
    out: dict[str, pl.DataFrame] = {}
    if a.records.is_empty():
        return out
    chosen = _origins(a.records, a.edition_values, every_edition=False)
    for table in KOMMUNE_YEAR:
        if table in result.tables:
            part = chosen.filter((pl.col("table") == table) & pl.col("kommune_nr").is_not_null())
            key = pl.concat_str([_kv("kommune_nr", pl.col("kommune_nr")), _kv("year", pl.col("measure_year"))],
                                separator=";")
            # a stale code recoded to its namesake successor, or an ended code's count folded into it:
            # the code it was published under, the whole of it (weight 1)
            old = pl.coalesce(pl.col("recoded_from"), pl.col("_folded_from")) if "_folded_from" in part.columns \
                else pl.col("recoded_from")
            from_key = pl.when(old.is_not_null()).then(
                pl.concat_str([_kv("kommune_nr", old), _kv("year", pl.col("measure_year"))], separator=";"))
            out[table] = _shape(part, key, pl.col("target"), from_key)
    if NATIONAL in result.tables:
        part = chosen.filter(pl.col("table") == NATIONAL)
        out[NATIONAL] = _shape(part, _kv("year", pl.col("measure_year")), pl.col("target"))
    if EDITIONS in result.tables:
        from settlement_research.sources.imdi.assemble import NATIONAL_CODE

        every = _origins(a.records, a.edition_values, every_edition=True)
        key = pl.concat_str([
            _kv("table", pl.col("table")), _kv("kommune_nr", pl.col("kommune_nr").fill_null(NATIONAL_CODE)),
            _kv("year", pl.col("measure_year")), _kv("measure", pl.col("target")), _kv("edition", pl.col("edition")),
        ], separator=";")
        out[EDITIONS] = _shape(every, key, pl.lit(None, pl.String))
    if "kommune" in result.tables:
        out["kommune"] = _kommune_lineage(result.tables["kommune"])
    return out


def _kommune_lineage(kommune: pl.DataFrame) -> pl.DataFrame:
    """The dimension is built from the shipped KLASS 131 list, names from the exports (dimension.py)."""
    from settlement_research.geo.codes import SHIPPED_CODES as CODES_FILE
    from settlement_research.geo.codes import data_folder
    from settlement_research.io import sha256_file

    shipped = data_folder() / CODES_FILE
    sha = sha256_file(shipped) if shipped.is_file() else None
    return kommune.select(key_expr("kommune")).with_columns(
        pl.lit(None, pl.String).alias("column"), pl.lit(1, pl.Int32).alias("origin_nr"), pl.lit("row").alias("role"),
        pl.lit("imdi").alias("source"), pl.lit(SHIPPED_CODES).alias("file"), pl.lit(sha, pl.String).alias("file_sha256"),
        pl.lit("kommune dimension (sources/imdi/dimension.py): the code versions of the shipped KLASS 131 "
               "list valid in the classification years the import uses, KLASS validity; names from the IMDi "
               "exports where they give one, else KLASS").alias("steps"),
    )


def write(result: ImportResult, folder: Path) -> list[str]:
    """Write ``folder/lineage/<table>.parquet``; returns the paths relative to ``folder``."""
    tables = import_lineage(result)
    if not tables:
        return []
    (folder / LINEAGE_DIR).mkdir(exist_ok=True)
    written = []
    for table, frame in tables.items():
        rel = f"{LINEAGE_DIR}/{table}.parquet"
        write_parquet_atomic(frame, folder / rel)
        written.append(rel)
    return written


__all__ = ["import_lineage", "write"]
