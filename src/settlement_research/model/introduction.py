"""Introduction programme (introduksjonsprogram) and status afterwards (work and/or education).

SSB measures status in November one year after leaving the programme; IMDi reports three-year
windows. The aggregate table states the window it uses.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    INTRO_END_REASONS,
    OUTCOME_STATUS,
    Model,
    classification_year_col,
    col,
    count_col,
    id_col,
    kommune_nr_col,
    share_col,
    spell_order,
    symbol_col,
    symbol_consistency,
    table_config,
    year_col,
)

INTRO_MEASURES = ["participants", "leavers", "work_education_share"]


class KommuneIntroYear(Model):
    """Introduction-programme participants, leavers and status afterwards per municipality-year."""

    kommune_nr: str = kommune_nr_col()
    year: pl.Int16 = year_col()
    classification_year: pl.Int16 = classification_year_col()
    participants: pl.Int32 = count_col("deltakere", "participants in the introduction programme during the year")
    leavers: pl.Int32 = count_col("avsluttet", "participants who left the programme in the year")
    leavers_completed: pl.Int32 = count_col("fullført", "leavers who completed the programme")
    work_education_count: pl.Int32 = count_col(
        "i arbeid eller utdanning", "former participants in work and/or education after the window"
    )
    work_education_base: pl.Int32 = count_col(
        "grunnlag", "former participants the share is computed over (denominator)"
    )
    work_education_share: pl.Float64 = share_col(
        "overgang til arbeid/utdanning", "share in work and/or education after the window"
    )
    window_years: pl.Int8 = col(
        "måleperiode", "years after leaving the programme at which status is measured (SSB: 1)",
        "years", ge=0, le=5, nullable=True,
    )
    participants_symbol: str = symbol_col("participants")
    leavers_symbol: str = symbol_col("leavers")
    work_education_share_symbol: str = symbol_col("work_education_share")

    Config = table_config(
        "kommune_intro_year", "Introduction programme by municipality and year",
        "Participants, leavers and the share in work or education afterwards (window stated).",
        ["kommune_nr", "year"], "aggregate",
    )

    @pa.dataframe_check(error="a value with a status symbol must be null (a symbol is never 0)")
    def symbols_mean_null(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return symbol_consistency(data, INTRO_MEASURES)

    @pa.dataframe_check(error="work_education_count must not exceed its base")
    def count_within_base(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("work_education_count") <= pl.col("work_education_base")).fill_null(True).alias("ok")
        )

    @pa.dataframe_check(error="completed leavers must not exceed leavers")
    def completed_within_leavers(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("leavers_completed") <= pl.col("leavers")).fill_null(True).alias("ok")
        )


class IntroSpell(Model):
    """One person's participation in the introduction programme (person-level register data)."""

    person_id: str = id_col("løpenummer", "pseudonymised person id")
    spell_no: pl.Int16 = col("deltakelse nr", "order of the spell for the person, from 1", "number", ge=1)
    kommune_nr: str = kommune_nr_col()
    start_date: pl.Date = col("startdato", "programme start", "date")
    end_date: pl.Date = col("sluttdato", "programme end (null = ongoing)", "date", nullable=True)
    end_reason: str = col(
        "avslutningsårsak", "why the spell ended: completed, interrupted, ongoing", "category",
        isin=INTRO_END_REASONS,
    )

    Config = table_config(
        "intro_spell", "Introduction-programme spells", "Participation spells of each person.",
        ["person_id", "spell_no"], "person",
    )

    @pa.dataframe_check(error="a spell must not end before it starts")
    def start_before_end(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return spell_order(data)

    @pa.dataframe_check(error="end_reason 'ongoing' if and only if end_date is null")
    def ongoing_means_open(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            ((pl.col("end_reason") == "ongoing") == pl.col("end_date").is_null()).alias("ok")
        )

    @pa.dataframe_check(error="a spell of more than 3 years and 6 months is outside the programme's rules")
    def duration_within_rules(cls, data: pa.PolarsData) -> pl.LazyFrame:
        days = (pl.col("end_date") - pl.col("start_date")).dt.total_days()
        return data.lazyframe.select((days <= 3 * 365 + 183).fill_null(True).alias("ok"))


class OutcomeYear(Model):
    """Each person's main activity in November of a year (person-level register data)."""

    person_id: str = id_col("løpenummer", "pseudonymised person id")
    year: pl.Int16 = year_col()
    status: str = col(
        "status", "main activity in November: " + ", ".join(OUTCOME_STATUS), "category", isin=OUTCOME_STATUS
    )
    kommune_nr: str = kommune_nr_col(nullable=True)

    Config = table_config(
        "outcome_year", "Outcome status by year", "Work, education or neither in November of each year.",
        ["person_id", "year"], "person",
    )
