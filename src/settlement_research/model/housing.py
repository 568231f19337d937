"""Housing: municipal housing supply per year and each person's housing spells (boligkarriere).

A housing spell is one person's stay in one dwelling with one tenure. The first spell starts at
settlement; spells of a person never overlap and at most one is open (checked in relations.py).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from settlement_research.model.base import (
    TENURES,
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

HOUSING_MEASURES = [
    "municipal_dwellings_per_1000", "refused_share", "startlan_per_1000", "startlan_nok",
    "rental_grant_nok",
]


class KommuneHousingYear(Model):
    """Municipal housing per year: supply (KOSTRA) and, from the person level, refugees' housing."""

    kommune_nr: str = kommune_nr_col()
    year: pl.Int16 = year_col()
    classification_year: pl.Int16 = classification_year_col()
    municipal_dwellings: pl.Int32 = count_col(
        "kommunalt disponerte boliger", "dwellings the municipality disposes of", unit="dwellings", public=True,
    )
    municipal_dwellings_per_1000: pl.Float64 = col(
        "kommunale boliger per 1000 innbyggere", "municipal dwellings per 1000 inhabitants",
        "dwellings per 1000 inhabitants", ge=0, le=1000, nullable=True,
    )
    waiting_list: pl.Int32 = count_col("ventelisteplasser", "applicants on the waiting list for a municipal dwelling")
    refused_share: pl.Float64 = share_col(
        "andel nye søknader avslått", "share of new applications for a municipal dwelling refused"
    )
    startlan_count: pl.Int32 = count_col("startlån", "start-up loans (Husbanken startlån) granted", unit="loans")
    startlan_per_1000: pl.Float64 = col(
        "startlån per 1000 innbyggere", "start-up loans granted per 1000 inhabitants",
        "loans per 1000 inhabitants", ge=0, nullable=True,
    )
    startlan_nok: pl.Float64 = count_col("startlån, beløp", "start-up loans granted", unit="NOK")
    rental_grant_nok: pl.Float64 = count_col(
        "tilskudd til utleieboliger", "Husbanken grant for rental housing", unit="NOK"
    )
    refugees_housed: pl.Int32 = count_col(
        "bosatte flyktninger med bolig", "settled refugees with a housing spell in the year (person level)"
    )
    municipal_rental_share: pl.Float64 = share_col(
        "andel i kommunal utleiebolig", "share of refugees' person-years in municipal rental (incl. sublet)"
    )
    private_rental_share: pl.Float64 = share_col(
        "andel i privat leie", "share of refugees' person-years in private rental"
    )
    owner_share: pl.Float64 = share_col("andel eiere", "share of refugees' person-years in owned dwellings")
    temporary_share: pl.Float64 = share_col(
        "andel i midlertidig botilbud", "share of refugees' person-years in temporary accommodation"
    )
    municipal_exits: pl.Int32 = count_col(
        "utflyttinger fra kommunal bolig", "refugee spells in municipal rental that ended in the year",
        unit="spells",
    )
    municipal_dwelling_years: pl.Float64 = count_col(
        "botid i kommunal bolig", "refugee dwelling-years in municipal rental in the year", unit="dwelling-years"
    )
    throughput: pl.Float64 = count_col(
        "gjennomstrømming", "exits from municipal rental per dwelling-year", unit="exits per dwelling-year"
    )
    municipal_dwellings_per_1000_symbol: str = symbol_col("municipal_dwellings_per_1000")
    refused_share_symbol: str = symbol_col("refused_share")
    startlan_per_1000_symbol: str = symbol_col("startlan_per_1000")
    startlan_nok_symbol: str = symbol_col("startlan_nok")
    rental_grant_nok_symbol: str = symbol_col("rental_grant_nok")

    Config = table_config(
        "kommune_housing_year", "Municipal housing by year",
        "Municipal dwellings, waiting list, refusals, startlån and grants; refugees' tenure mix and "
        "throughput of municipal housing derived from housing spells.",
        ["kommune_nr", "year"], "aggregate",
    )

    @pa.dataframe_check(error="a value with a status symbol must be null (a symbol is never 0)")
    def symbols_mean_null(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return symbol_consistency(data, HOUSING_MEASURES)

    @pa.dataframe_check(error="tenure shares of a municipality-year must not add up to more than 1")
    def tenure_shares_sum(cls, data: pa.PolarsData) -> pl.LazyFrame:
        total = pl.sum_horizontal(
            pl.col("municipal_rental_share").fill_null(0), pl.col("private_rental_share").fill_null(0),
            pl.col("owner_share").fill_null(0), pl.col("temporary_share").fill_null(0),
        )
        return data.lazyframe.select((total <= 1.0 + 1e-9).alias("ok"))


class HousingSpell(Model):
    """One person's stay in one dwelling with one tenure (person-level register data)."""

    person_id: str = id_col("løpenummer", "pseudonymised person id")
    spell_no: pl.Int16 = col("boforhold nr", "order of the spell for the person, from 1", "number", ge=1)
    kommune_nr: str = kommune_nr_col()
    start_date: pl.Date = col("fra dato", "first day of the spell", "date")
    end_date: pl.Date = col("til dato", "last day of the spell (null = ongoing)", "date", nullable=True)
    tenure: str = col(
        "disposisjonsform", "tenure: " + ", ".join(TENURES), "category", isin=TENURES,
    )
    new_address: bool = col(
        "ny adresse", "the spell began with a move to another address (true for the first spell: the move "
        "from reception); false when only the tenure or contract changed in the same dwelling (e.g. "
        "leie-til-eie, a sublet lease taken over); null = unknown. A move is a change of address.",
        "flag", nullable=True,
    )
    rooms: pl.Int16 = col("antall rom", "rooms in the dwelling", "rooms", ge=1, le=20, nullable=True)
    persons: pl.Int16 = col("antall personer", "persons living in the dwelling", "persons", ge=1, le=30, nullable=True)

    Config = table_config(
        "housing_spell", "Housing spells", "Tenure spells of each settled person.",
        ["person_id", "spell_no"], "person",
    )

    @pa.dataframe_check(error="a spell must not end before it starts")
    def start_before_end(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return spell_order(data)
