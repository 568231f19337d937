"""National overview: the series of DESIGN §4 next to what the municipality rows add up to."""

from __future__ import annotations

import polars as pl

from settlement_research.model.base import DECISION_STATUS


def national_from_municipalities(settlement_year: pl.DataFrame) -> pl.DataFrame:
    """Per year: requested, decided and settled summed over municipalities, with coverage counts.

    Suppressed or missing cells are not zeros: the number of municipalities with a known value is
    reported beside each sum so a reader can see how complete it is.
    """
    measures = ["requested", "decided", "settled"]
    return (
        settlement_year.group_by("year")
        .agg(
            pl.len().alias("municipalities"),
            # a year in which no municipality has a known value has no sum (null), not 0
            *[pl.when(pl.col(m).is_not_null().any()).then(pl.col(m).sum()).alias(f"{m}_sum") for m in measures],
            *[pl.col(m).is_not_null().sum().alias(f"{m}_known") for m in measures],
        )
        .sort("year")
    )


def compare_with_published(settlement_year: pl.DataFrame, national: pl.DataFrame) -> pl.DataFrame:
    """Municipality sums against the published national series, with the relative gap."""
    sums = national_from_municipalities(settlement_year)
    return (
        sums.join(national.select("year", pl.col("settled").alias("settled_published"),
                                  "settled_within_6m_share", "months_permit_to_settlement"),
                  on="year", how="full", coalesce=True)
        .with_columns(((pl.col("settled_sum") - pl.col("settled_published")) / pl.col("settled_published"))
                      .alias("relative_gap"))
        .sort("year")
    )


def decision_status_counts(settlement_year: pl.DataFrame) -> pl.DataFrame:
    """Per year, how many municipalities decided as requested, fewer, declined or made no decision."""
    counts = settlement_year.group_by("year", "decision_status").agg(pl.len().alias("municipalities"))
    years = settlement_year.select(pl.col("year").unique())
    grid = years.join(pl.DataFrame({"decision_status": DECISION_STATUS}), how="cross")
    return (
        grid.join(counts, on=["year", "decision_status"], how="left")
        .with_columns(pl.col("municipalities").fill_null(0).cast(pl.Int32))
        .pivot(on="decision_status", index="year", values="municipalities")
        .select("year", *DECISION_STATUS)
        .sort("year")
    )
