"""Geography: municipalities (kommune) as a versioned dimension, municipal context, agency regions.

Municipality codes changed in 2018, 2020 and 2024 and codes were reused, so a code is only
meaningful together with the classification years it was valid in (valid_from..valid_to).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    FYLKE_NR_PATTERN,
    HUSBANKEN_REGIONS,
    IMDI_REGIONS,
    MAX_YEAR,
    MIN_YEAR,
    Model,
    classification_year_col,
    col,
    count_col,
    kommune_nr_col,
    share_col,
    symbol_col,
    symbol_consistency,
    table_config,
    year_col,
)


class Kommune(Model):
    """One row per municipality code and classification period."""

    kommune_nr: str = kommune_nr_col()
    kommune_name: str = col("kommunenavn", "municipality name", "text", str_length={"min_value": 1})
    fylke_nr: str = col("fylkesnummer", "county code (2 characters)", "code", str_matches=FYLKE_NR_PATTERN)
    fylke_name: str = col("fylkesnavn", "county name", "text", str_length={"min_value": 1})
    imdi_region: str = col(
        "IMDi-region", "IMDi regional office the municipality belongs to", "category", isin=IMDI_REGIONS
    )
    husbanken_region: str = col(
        "Husbanken-region", "Husbanken regional office the municipality belongs to", "category",
        isin=HUSBANKEN_REGIONS,
    )
    centrality: pl.Int8 = col(
        "sentralitet", "SSB centrality class (1 most central … 6 least central)", "class 1-6",
        ge=1, le=6, nullable=True, public=True,
    )
    valid_from: pl.Int16 = col(
        "gyldig fra", "first classification year the code is valid in", "year", ge=1838, le=MAX_YEAR
    )
    valid_to: pl.Int16 = col(
        "gyldig til", "last classification year the code is valid in (null = still valid)", "year",
        ge=MIN_YEAR, le=9999, nullable=True,
    )

    Config = table_config(
        "kommune", "Municipalities", "Municipality dimension with county, agency regions and validity.",
        ["kommune_nr", "valid_from"], "aggregate",
    )

    @pa.dataframe_check(error="valid_to must not be before valid_from")
    def validity_order(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("valid_to").is_null() | (pl.col("valid_from") <= pl.col("valid_to"))).alias("ok")
        )

    @pa.dataframe_check(error="the county code must be the first two digits of the municipality code")
    def county_prefix(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("kommune_nr").str.slice(0, 2) == pl.col("fylke_nr")).alias("ok")
        )


CONTEXT_MEASURES = [
    "population", "immigrants", "refugees", "refugees_short_residence", "unemployment_share",
    "persistent_low_income_share", "social_assistance_share", "imdi_grants_nok",
]


class KommuneContextYear(Model):
    """Municipal context per year: population, immigrants, refugees, labour market, grants."""

    kommune_nr: str = kommune_nr_col()
    year: pl.Int16 = year_col()
    classification_year: pl.Int16 = classification_year_col()
    population: pl.Int32 = count_col("folkemengde", "population on 1 January", public=True)
    immigrants: pl.Int32 = count_col("innvandrere", "immigrants in the population on 1 January")
    refugees: pl.Int32 = count_col(
        "personer med flyktningbakgrunn", "persons with refugee background (innvandringsgrunn flukt)"
    )
    refugees_short_residence: pl.Int32 = count_col(
        "flyktninger, botid under 5 år", "refugees with less than 5 years of residence"
    )
    unemployment_share: pl.Float64 = share_col("arbeidsledighet", "registered unemployment, share of labour force")
    persistent_low_income_share: pl.Float64 = share_col(
        "vedvarende lavinntekt", "share of persons in households with persistent low income"
    )
    social_assistance_share: pl.Float64 = share_col(
        "sosialhjelp", "share of inhabitants 18+ receiving social assistance"
    )
    imdi_grants_nok: pl.Float64 = count_col(
        "integreringstilskudd", "integration grant paid by IMDi to the municipality", unit="NOK"
    )
    population_symbol: str = symbol_col("population")
    immigrants_symbol: str = symbol_col("immigrants")
    refugees_symbol: str = symbol_col("refugees")
    refugees_short_residence_symbol: str = symbol_col("refugees_short_residence")
    unemployment_share_symbol: str = symbol_col("unemployment_share")
    persistent_low_income_share_symbol: str = symbol_col("persistent_low_income_share")
    social_assistance_share_symbol: str = symbol_col("social_assistance_share")
    imdi_grants_nok_symbol: str = symbol_col("imdi_grants_nok")

    Config = table_config(
        "kommune_context_year", "Municipal context by year",
        "Population, immigrants, refugees, unemployment, low income, social assistance and IMDi grants.",
        ["kommune_nr", "year"], "aggregate",
    )

    @pa.dataframe_check(error="a value with a status symbol must be null (a symbol is never 0)")
    def symbols_mean_null(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return symbol_consistency(data, CONTEXT_MEASURES)

    @pa.dataframe_check(error="immigrants must not exceed the population")
    def immigrants_within_population(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("immigrants") <= pl.col("population")).fill_null(True).alias("ok")
        )

    @pa.dataframe_check(error="refugees with short residence must not exceed all refugees")
    def short_residence_within_refugees(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("refugees_short_residence") <= pl.col("refugees")).fill_null(True).alias("ok")
        )


ORDINAL_LEVELS = {"none": 0, "little": 1, "some": 2, "large": 3}


class RegionPairCoordination(Model):
    """How closely each Husbanken–IMDi office pair worked together (Fafo 2015, June 2014)."""

    husbanken_region: str = col("Husbanken-region", "Husbanken regional office", "category", isin=HUSBANKEN_REGIONS)
    imdi_region: str = col("IMDi-region", "IMDi regional office", "category", isin=IMDI_REGIONS)
    dimension: str = col(
        "samarbeidsdimensjon", "coordination dimension (agreement, plan, directors, programmes, "
        "arenas, joint_meetings, sharing, informal)", "category",
        isin=["agreement", "plan", "directors", "programmes", "arenas", "joint_meetings", "sharing", "informal"],
    )
    level: pl.Int8 = col(
        "nivå", "ordinal level: 0 none/no, 1 little, 2 some/yes, 3 large/high", "ordinal 0-3", ge=0, le=3, public=True
    )
    label: str = col("vurdering", "the authors' original wording", "text")
    observed_on: pl.Date = col("observert", "when the assessment applies", "date")

    Config = table_config(
        "region_pair_coordination", "Agency coordination by office pair",
        "Fafo 2015 table of Husbanken–IMDi cooperation on eight dimensions, as ordinal codes.",
        ["husbanken_region", "imdi_region", "dimension"], "aggregate",
    )
