"""Persons and households (person-level register data, pseudonymised ids)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    COUNTRY_GROUPS,
    EDUCATION,
    HOUSEHOLD_TYPES,
    MEMBER_ROLES,
    SEX,
    Model,
    col,
    id_col,
    table_config,
)


class Person(Model):
    """One row per person: who they are and when they came."""

    person_id: str = id_col("løpenummer", "pseudonymised person id")
    birth_year: pl.Int16 = col("fødselsår", "year of birth", "year", ge=1900, le=2035)
    sex: str = col("kjønn", "sex: female, male", "category", isin=SEX)
    country_group: str = col("landgruppe", "country of origin, grouped", "category", isin=COUNTRY_GROUPS)
    education: str = col(
        "utdanningsnivå", "highest completed education on arrival", "category", isin=EDUCATION
    )
    arrival_date: pl.Date = col("ankomstdato", "arrival in Norway (asylum application)", "date")
    permit_date: pl.Date = col(
        "vedtaksdato (UDI)", "date of UDI's residence permit (not the council's settlement decision)", "date"
    )
    unaccompanied_minor: bool = col("enslig mindreårig", "arrived as an unaccompanied minor", "flag")
    emigration_date: pl.Date = col(
        "utvandringsdato", "date of emigration from Norway (null = resident at the end of follow-up); "
        "observation of housing, programme and status ends here, so indicators are censored, not zero",
        "date", nullable=True,
    )

    Config = table_config("person", "Persons", "Refugees in the register extract.", ["person_id"], "person")

    @pa.dataframe_check(error="the residence permit must not come before arrival")
    def permit_after_arrival(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("permit_date") >= pl.col("arrival_date")).alias("ok"))

    @pa.dataframe_check(error="emigration must not come before the residence permit")
    def emigration_after_permit(cls, data: pa.PolarsData) -> pl.LazyFrame:
        ok = pl.col("emigration_date").is_null() | (pl.col("emigration_date") >= pl.col("permit_date"))
        return data.lazyframe.select(ok.alias("ok"))

    @pa.dataframe_check(error="an unaccompanied minor must be under 18 at arrival")
    def minor_is_minor(cls, data: pa.PolarsData) -> pl.LazyFrame:
        age = pl.col("arrival_date").dt.year() - pl.col("birth_year")
        return data.lazyframe.select((~pl.col("unaccompanied_minor") | (age <= 18)).alias("ok"))


class Household(Model):
    """One row per household at settlement."""

    household_id: str = id_col("husholdnings-id", "pseudonymised household id")
    household_type: str = col(
        "husholdningstype", "single, couple, family_with_children, single_parent", "category",
        isin=HOUSEHOLD_TYPES,
    )
    size: pl.Int16 = col("størrelse", "persons in the household", "persons", ge=1, le=20)

    Config = table_config("household", "Households", "Households at settlement.", ["household_id"], "person")

    @pa.dataframe_check(error="household size must fit the type (single 1, couple 2, others at least 2)")
    def size_fits_type(cls, data: pa.PolarsData) -> pl.LazyFrame:
        t, n = pl.col("household_type"), pl.col("size")
        ok = (
            pl.when(t == "single").then(n == 1)
            .when(t == "couple").then(n == 2)
            .otherwise(n >= 2)
        )
        return data.lazyframe.select(ok.alias("ok"))


class HouseholdMember(Model):
    """Links persons to their household."""

    household_id: str = id_col("husholdnings-id", "pseudonymised household id")
    person_id: str = id_col("løpenummer", "pseudonymised person id")
    role: str = col("rolle", "adult or child in the household", "category", isin=MEMBER_ROLES)

    Config = table_config(
        "household_member", "Household members", "Which household each person belongs to.",
        ["household_id", "person_id"], "person",
    )
