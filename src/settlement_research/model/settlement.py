"""Settlement: requests (anmodning), council decisions (vedtak) and persons settled (bosatt).

`decided` null means no decision was registered; 0 means the council declined. The decision status
is derived from the numbers and the model rejects a status that disagrees with them.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    DECISION_STATUS,
    ROUTES,
    Model,
    classification_year_col,
    col,
    count_col,
    id_col,
    kommune_nr_col,
    nulls_have_symbols,
    share_col,
    symbol_col,
    symbol_consistency,
    table_config,
    year_col,
)


def decision_status_expr(requested: str = "requested", decided: str = "decided") -> pl.Expr:
    """The decision status the numbers imply (the one rule, used by models, importers and synth).

    null decided -> no_decision; 0 -> declined; below requested -> fewer; at or above (or no
    request registered) -> as_requested.
    """
    req, dec = pl.col(requested), pl.col(decided)
    return (
        pl.when(dec.is_null()).then(pl.lit("no_decision"))
        .when(dec == 0).then(pl.lit("declined"))
        .when(req.is_not_null() & (dec < req)).then(pl.lit("fewer"))
        .otherwise(pl.lit("as_requested"))
    )


SETTLEMENT_MEASURES = [
    "requested", "requested_original", "decided", "settled", "settled_unaccompanied_minors", "family_reunified",
]


class KommuneSettlementYear(Model):
    """Requested, decided and settled refugees per municipality and year."""

    kommune_nr: str = kommune_nr_col()
    year: pl.Int16 = year_col()
    classification_year: pl.Int16 = classification_year_col()
    period_end: pl.Date = col(
        "periodeslutt", "last day the year's figures cover: 31 December for a full year, earlier for a "
        "year-to-date figure (the 2022 column of the export per 2022-09 runs to 30 September) - never sum "
        "a partial year with full years unnoticed; null = not stated by the source (a full year)", "date",
        nullable=True,
    )
    requested: pl.Int32 = count_col(
        "anmodet", "persons IMDi requested the municipality to settle (the revised request where IMDi "
        "revised it; the first request is requested_original)", public=True,
    )
    requested_original: pl.Int32 = count_col(
        "opprinnelig anmodning", "IMDi's original request before any revision (newer exports only)", public=True,
    )
    decided: pl.Int32 = count_col(
        "vedtatt", "persons the council decided to settle (null = no decision registered, 0 = declined)", public=True,
    )
    settled: pl.Int32 = count_col("bosatt", "refugees settled through IMDi in the year")
    settled_unaccompanied_minors: pl.Int32 = count_col(
        "bosatte enslige mindreårige", "unaccompanied minors settled in the year"
    )
    family_reunified: pl.Int32 = count_col(
        "familiegjenforente", "family-reunified with refugees (counted apart from settled)"
    )
    decision_status: str = col(
        "vedtaksstatus", "decision relative to the request: as_requested, fewer, declined, no_decision",
        "category", isin=DECISION_STATUS, public=True,
    )
    requested_symbol: str = symbol_col("requested")
    requested_original_symbol: str = symbol_col("requested_original")
    decided_symbol: str = symbol_col("decided")
    settled_symbol: str = symbol_col("settled")
    settled_unaccompanied_minors_symbol: str = symbol_col("settled_unaccompanied_minors")
    family_reunified_symbol: str = symbol_col("family_reunified")

    Config = table_config(
        "kommune_settlement_year", "Settlement by municipality and year",
        "IMDi requests, council decisions and settled refugees; the decision status agrees with them.",
        ["kommune_nr", "year"], "aggregate",
    )

    @pa.dataframe_check(
        error="decision_status disagrees with requested/decided (null decided = no_decision, "
        "0 = declined, below requested = fewer, at or above = as_requested)"
    )
    def decision_status_agrees(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("decision_status") == decision_status_expr()).fill_null(False).alias("ok")
        )

    @pa.dataframe_check(error="a value with a status symbol must be null (a symbol is never 0)")
    def symbols_mean_null(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return symbol_consistency(data, SETTLEMENT_MEASURES)

    @pa.dataframe_check(
        error="a null value must carry a symbol saying why ('.' no data, ':' suppressed, '-' nil, "
        "'~' not in this edition); a null symbol means the value is present (rows whose source states "
        "its period, period_end set: IMDi imports)"
    )
    def nulls_say_why(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Scoped to rows with period_end: sources that do not state a period yet (synthetic, derived)
        # still leave some nulls unexplained; widen the scope when they carry symbols too.
        return nulls_have_symbols(data, ["requested", "decided", "settled"], when=pl.col("period_end").is_not_null())

    @pa.dataframe_check(error="period_end lies inside the year")
    def period_end_in_year(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("period_end").dt.year() == pl.col("year")).fill_null(True).alias("ok")
        )

    @pa.dataframe_check(error="unaccompanied minors settled must not exceed all settled")
    def minors_within_settled(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("settled_unaccompanied_minors") <= pl.col("settled")).fill_null(True).alias("ok")
        )


class NationalSettlementYear(Model):
    """The national settlement series (IMDi annual reports), each value with its reference date."""

    year: pl.Int16 = year_col()
    settled: pl.Int32 = count_col("bosatte", "refugees settled in the year", public=True)
    waiting_in_reception: pl.Int32 = count_col(
        "bosettingsklare i mottak", "persons ready for settlement still in reception at the reference date"
    )
    settled_within_6m_share: pl.Float64 = share_col(
        "bosatt innen 6 måneder", "share settled within 6 months of the residence permit"
    )
    long_waiting: pl.Int32 = count_col(
        "lengeventende", "long-waiting in reception (definition as published by IMDi)"
    )
    months_permit_to_settlement: pl.Float64 = col(
        "ventetid", "average months from residence permit to settlement", "months", ge=0, nullable=True
    )
    requested: pl.Int32 = count_col("anmodet", "national row: persons requested")
    decided: pl.Int32 = count_col("vedtatt", "national row: persons the councils decided to settle")
    settled_unknown_kommune: pl.Int32 = count_col(
        "bosatt, uoppgitt kommune", "settled with no municipality given (fylke 99 / K9999); the "
        "municipalities plus this equal the national row"
    )
    requested_unknown_kommune: pl.Int32 = count_col("anmodet, uoppgitt kommune", "requested, no municipality given")
    decided_unknown_kommune: pl.Int32 = count_col("vedtatt, uoppgitt kommune", "decided, no municipality given")
    settled_unknown_kommune_symbol: str = symbol_col("settled_unknown_kommune")
    requested_unknown_kommune_symbol: str = symbol_col("requested_unknown_kommune")
    decided_unknown_kommune_symbol: str = symbol_col("decided_unknown_kommune")
    reference_date: pl.Date = col("referansedato", "date the figures refer to (2014: November)", "date")
    source: str = col("kilde", "publication the figures come from", "text")
    edition: str = col(
        "utgave", "edition the year's figures come from (null = not an edition-tracked source)", "id",
        nullable=True,
    )

    Config = table_config(
        "national_settlement_year", "National settlement series",
        "Settled, waiting, share within 6 months, long-waiting and waiting time (DESIGN §4).",
        ["year"], "aggregate",
    )


class Settlement(Model):
    """One row per settled person: when, where and by which route (person-level register data)."""

    person_id: str = id_col("løpenummer", "pseudonymised person id")
    settlement_date: pl.Date = col("bosettingsdato", "date of settlement in the municipality", "date")
    kommune_nr: str = kommune_nr_col()
    route: str = col(
        "bosettingsvei", "route: ordinary (through IMDi), agreed_self (avtalt selvbosetting), "
        "own (egenbosetting uten avtale)", "category", isin=ROUTES,
    )
    months_waited: pl.Float64 = col(
        "ventetid", "months from residence permit to settlement", "months", ge=0, le=240
    )

    Config = table_config(
        "settlement", "Settlements", "The settlement event of each person.", ["person_id"], "person",
    )


__all__ = [
    "KommuneSettlementYear", "NationalSettlementYear", "Settlement", "decision_status_expr", "share_col",
]
