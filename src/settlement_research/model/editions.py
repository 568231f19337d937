"""Every published value of every edition, so choosing one edition for the clean tables loses nothing.

IMDi republishes its figures (the 2015 edition, the export per 2022-09, ...). The clean tables hold
one value per key chosen by a documented precedence (sources/imdi/editions.py); this companion
table keeps each edition's value beside it, with where it came from, and marks the chosen one.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    KOMMUNE_NR_PATTERN,
    SYMBOLS,
    Model,
    col,
    table_config,
    year_col,
)


class ImdiEditionValue(Model):
    """One published value (or symbol) per table, municipality, year, measure and edition."""

    table: str = col("tabell", "model table the value belongs to", "name")
    kommune_nr: str = col(
        "kommunenummer", "municipality code (4 characters); 0000 = the national row", "code",
        str_matches=KOMMUNE_NR_PATTERN,
    )
    year: pl.Int16 = year_col()
    measure: str = col("mål", "model column the value belongs to", "name")
    edition: str = col("utgave", "edition id (imdi-2015, imdi-per-2022-09-30, ...)", "id")
    classification_year: pl.Int16 = col(
        "klassifikasjonsår", "classification year of kommune_nr in this edition (null for the national row)",
        "year", nullable=True,
    )
    value: pl.Float64 = col("verdi", "the published number (null where a symbol stood)", "as measure",
                            nullable=True)
    symbol: str = col("symbol", "status symbol where the value is null", "symbol", nullable=True,
                      isin=SYMBOLS)
    publisher: str = col("utgiver", "publisher of the edition", "text")
    edition_per: pl.Date = col("per", "date the edition's figures run to, when it states one", "date",
                               nullable=True)
    period_end: pl.Date = col("periodeslutt", "last day the value covers (31 December for full years)", "date")
    files: str = col("filer", "file(s) of the edition giving the value", "text")
    file_sha256: str = col("sha256", "sha256 of those files", "hash")
    chosen: bool = col("valgt", "this edition's value is the one in the clean table", "flag")

    Config = table_config(
        "imdi_edition_value", "Every edition's values (IMDi)",
        "Each IMDi edition's value of each key, its provenance, and which one the clean tables hold.",
        ["table", "kommune_nr", "year", "measure", "edition"], "aggregate",
    )

    @pa.dataframe_check(error="a value and a symbol never stand together, and one of them is given")
    def value_or_symbol(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("value").is_null() != pl.col("symbol").is_null()).alias("ok"))


__all__ = ["ImdiEditionValue"]
