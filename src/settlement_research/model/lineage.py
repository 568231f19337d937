"""Row-level lineage: where each row (and cell) of a clean table came from.

One companion table per clean table, ``data_clean/<source>/lineage/<table>.parquet``: one row per
origin of a clean row, or of one of its cells (``column``; null = every column the row does not
list separately). An origin is a raw file and record (or a cell of a wide export) with its edition
and sha256, or "derived from N person-level rows" for register aggregates. Person identifiers are
never copied here: person tables are keyed by their clean row position only, and stored compactly
as runs (``span``): one origin row for every run of clean rows read from consecutive records.

Not in ``model.TABLES``: the catalog, the codebook of analysis tables and the relation rules are
about data, and lineage is about data's origin. It is validated like every table that reaches
data_clean (``pipeline.lineage`` collects it first, then validates).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import Model, col, table_config

ROLES = ["value", "added", "derived", "row", "harmonised"]


class TableLineage(Model):
    """One origin of a clean row or cell."""

    table: str = col("tabell", "clean table the row belongs to", "name")
    row: pl.Int64 = col("rad", "1-based position of the row in the clean table's Parquet file", "row", ge=1)
    key: str = col("nøkkel", "the row's primary key as 'col=value;...' (null for person tables)", "text",
                   nullable=True)
    column: str = col("kolonne", "the cell's column; null = every column not listed for the row", "name",
                      nullable=True)
    origin_nr: pl.Int32 = col("opphav", "1-based number of this origin among the cell's origins", "number", ge=1)
    role: str = col("rolle", "value (read), added (folded into the value), derived, row (whole row read), "
                    "harmonised (a part moved from another code, when the part's own origin is not known)",
                    "category", isin=ROLES)
    source: str = col("kilde", "source name (imdi, synthetic, ssb, ...)", "name")
    edition: str = col("utgave", "edition id of the source where it has editions", "id", nullable=True)
    file: str = col("fil", "raw file the value was read from", "path", nullable=True)
    file_sha256: str = col("sha256", "sha256 of that file's bytes", "hash", nullable=True)
    record: pl.Int64 = col("post", "1-based record (row) number in the file, header records counted "
                           "for IMDi exports, data rows for the synthetic extract", "row", nullable=True, ge=1)
    cell: str = col("celle", "value column of a wide export (the cell is record x this column)", "name",
                    nullable=True)
    value_raw: str = col("råverdi", "the text as it stood in the file", "text", nullable=True)
    derived_from: str = col("avledet_fra", "person-level table(s) a derived value was computed from",
                            "name", nullable=True)
    derived_rows: pl.Int64 = col("avledet_rader", "number of person-level rows the value was computed from "
                                 "(a count of register rows: shown on pages only at or above the threshold)",
                                 "rows", nullable=True, ge=0)
    steps: str = col("steg", "transformations applied, one sentence per line, first to last", "text")
    from_key: str = col("fra_nøkkel", "for a harmonised row: the key of the row (in its own classification's "
                        "codes) this part comes from, 'kommune_nr=1534;year=2014'", "text", nullable=True)
    weight: pl.Float64 = col("vekt", "for a harmonised row: the share of that row's counts this part takes "
                             "(1 = all of it: renumbering, merge or a split along an older border)", "share",
                             nullable=True, gt=0, le=1)
    span: pl.Int64 = col("spenn", "consecutive clean rows this origin covers: rows row..row+span-1 read from "
                         "records record..record+span-1 (1 = one row; person tables are stored as runs)", "rows", ge=1)

    Config = table_config(
        "table_lineage", "Lineage of a clean table",
        "Where each clean row or cell came from: source, edition, file, sha256, record or cell, and "
        "every transformation; or the person-level rows a derived value was computed from.",
        ["row", "column", "origin_nr"], "aggregate",
    )

    @pa.dataframe_check(error="a derived origin names its person-level table and row count, a harmonised one "
                              "its source key and weight, a read one its file")
    def origin_complete(cls, data: pa.PolarsData) -> pl.LazyFrame:
        role = pl.col("role")
        return data.lazyframe.select(
            pl.when(role == "derived").then(pl.col("derived_from").is_not_null() & pl.col("derived_rows").is_not_null())
            .when(role == "harmonised").then(pl.col("from_key").is_not_null() & pl.col("weight").is_not_null())
            .otherwise(pl.col("file").is_not_null()).alias("ok")
        )

    @pa.dataframe_check(error="a source key and a weight come together (a harmonised part)")
    def weight_with_key(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("from_key").is_null() == pl.col("weight").is_null()).alias("ok"))


__all__ = ["ROLES", "TableLineage"]
