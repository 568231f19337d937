"""Makers of valid tables for tests: deterministic frames per model and consistent small registers.

Everyone's tests need data that passes the models (and, for person-level tables, the cross-table
rules). Building it by hand in every test drifts from the model; these makers are tested against
the models and ``relations.check_relations`` so they stay in step. Generation is vectorised numpy,
so a register of a million persons takes seconds (benchmarks use it too).

``hypothesis`` is a development dependency: the strategies import it only when called.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from settlement_research.model import AGGREGATE_TABLES, PERSON_TABLES, cast_to_model, get_model
from settlement_research.model.base import (
    COUNTRY_GROUPS,
    EDUCATION,
    INTRO_END_REASONS,
    OUTCOME_STATUS,
    ROUTES,
    SEX,
    SYMBOLS,
    TENURES,
)
from settlement_research.model.settlement import decision_status_expr
from settlement_research.regions import (
    COUNTIES_2014,
    DIMENSIONS,
    husbanken_region,
    imdi_region,
)

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

REFORM_YEAR = 2020
# 2014 county -> county after the 2020 reform; municipalities there get a new code from 2020.
NEW_COUNTY = {
    "01": "30", "02": "30", "06": "30", "04": "34", "05": "34", "07": "38", "08": "38",
    "09": "42", "10": "42", "12": "46", "14": "46", "16": "50", "17": "50", "19": "54", "20": "54",
}
NEW_COUNTY_NAMES = {
    "30": "Viken", "34": "Innlandet", "38": "Vestfold og Telemark", "42": "Agder", "46": "Vestland",
    "50": "Trøndelag", "54": "Troms og Finnmark",
}
DEFAULT_YEARS = range(2012, 2018)
EPOCH = dt.date(1970, 1, 1)


# --- generic helpers -----------------------------------------------------------------------------


def empty_frame(table: str) -> pl.DataFrame:
    """A zero-row frame with the model's columns and dtypes."""
    schema = get_model(table).to_schema()
    return pl.DataFrame(schema={name: col.dtype.type for name, col in schema.columns.items()})


conform_to_model = cast_to_model  # order and cast columns as the model says; missing ones typed nulls


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype("int64")).cast(pl.Int32).cast(pl.Date)


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _with_symbols(
    frame: pl.DataFrame, columns: list[str], rng: np.random.Generator, p_missing: float
) -> pl.DataFrame:
    """Blank some values and give every blank a status symbol (a symbol always means null; a null
    value always says why, in tables whose model has the rule)."""
    n = frame.height
    out = []
    for c in columns:
        missing = rng.random(n) < p_missing
        symbol = rng.choice(SYMBOLS, n).tolist()
        out += [
            pl.when(pl.Series(missing)).then(None).otherwise(pl.col(c)).alias(c),
            pl.when(pl.Series(missing)).then(pl.Series(symbol, dtype=pl.String)).otherwise(None)
            .alias(f"{c}_symbol"),
        ]
    return frame.with_columns(out)


# --- the municipality dimension ------------------------------------------------------------------


def kommune_dimension(seed: int = 0) -> pl.DataFrame:
    """All 2014 municipality codes (valid until 2019 where the 2020 reform renumbered them) plus
    their 2020 successors: a versioned dimension like KLASS 131, renumbering only (no mergers)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    next_no: dict[str, int] = {}
    for fylke, (name, count, _imdi, _hb) in sorted(COUNTIES_2014.items()):
        for i in range(1, count + 1):
            code = f"{fylke}{i:02d}"
            new = NEW_COUNTY.get(fylke)
            base = {
                "kommune_name": f"Kommune {code}", "imdi_region": imdi_region(fylke),
                "husbanken_region": husbanken_region(code),
                "centrality": int(rng.integers(1, 7)) if rng.random() > 0.05 else None,
            }
            rows.append(
                {**base, "kommune_nr": code, "fylke_nr": fylke, "fylke_name": name,
                 "valid_from": 1838, "valid_to": REFORM_YEAR - 1 if new else None}
            )
            if new:
                next_no[new] = next_no.get(new, 0) + 1
                successor = f"{new}{next_no[new]:02d}"
                rows.append(
                    {**base, "kommune_nr": successor, "fylke_nr": new,
                     "fylke_name": NEW_COUNTY_NAMES[new], "kommune_name": f"Kommune {successor}",
                     "valid_from": REFORM_YEAR, "valid_to": None}
                )
    return conform_to_model(pl.DataFrame(rows), "kommune")


def _successors(kommune: pl.DataFrame) -> pl.DataFrame:
    """old code -> code from the reform year (the same municipality renumbered)."""
    old = kommune.filter(pl.col("valid_to") == REFORM_YEAR - 1).select("kommune_nr", "kommune_name")
    new = kommune.filter(pl.col("valid_from") == REFORM_YEAR).select(
        pl.col("kommune_nr").alias("successor"), pl.col("kommune_name").str.replace("Kommune ", "")
    )
    # Successors are numbered in the order of their predecessors within the new county.
    old = old.with_columns(
        pl.col("kommune_nr").str.slice(0, 2).replace_strict(NEW_COUNTY, return_dtype=pl.String).alias("_new")
    ).with_columns(pl.int_range(1, pl.len() + 1).over("_new").alias("_i"))
    new = new.with_columns(
        pl.col("successor").str.slice(0, 2).alias("_new"), pl.col("successor").str.slice(2, 2).cast(pl.Int64).alias("_i")
    )
    return old.join(new.drop("kommune_name"), on=["_new", "_i"]).select("kommune_nr", "successor")


def code_in_year(codes: pl.Series, years: pl.Series, kommune: pl.DataFrame) -> pl.Series:
    """The code a (2014) municipality has in ``years``: its successor from the reform year on."""
    frame = pl.DataFrame({"kommune_nr": codes, "year": years.cast(pl.Int32)}).with_row_index("_i")
    out = frame.join(_successors(kommune), on="kommune_nr", how="left").sort("_i")
    return out.select(
        pl.when((pl.col("year") >= REFORM_YEAR) & pl.col("successor").is_not_null())
        .then(pl.col("successor")).otherwise(pl.col("kommune_nr"))
    ).to_series().alias("kommune_nr")


def _kommune_years(kommune: pl.DataFrame, years: range | list[int]) -> pl.DataFrame:
    """Every (kommune_nr, year) where the code is valid, classification_year = year."""
    return (
        kommune.select("kommune_nr", "valid_from", "valid_to")
        .join(pl.DataFrame({"year": list(years)}, schema={"year": pl.Int16}), how="cross")
        .filter(
            (pl.col("valid_from") <= pl.col("year"))
            & (pl.col("year") <= pl.col("valid_to").fill_null(9999))
        )
        .select("kommune_nr", "year", pl.col("year").alias("classification_year"))
        .sort("kommune_nr", "year")
    )


# --- aggregate tables ----------------------------------------------------------------------------


def _settlement_year(keys: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = keys.height
    requested = rng.integers(0, 60, n)
    kind = rng.random(n)
    decided = np.where(
        kind < 0.1, 0, np.where(kind < 0.35, (requested * rng.random(n)).astype(int), requested + rng.integers(0, 5, n))
    )
    decided_null = kind > 0.95
    settled = (decided * rng.uniform(0.5, 1.0, n)).astype(int)
    frame = keys.with_columns(
        pl.Series("requested", requested),
        pl.when(pl.Series(decided_null)).then(None).otherwise(pl.Series(decided)).alias("decided"),
        pl.when(pl.Series(decided_null)).then(0).otherwise(pl.Series(settled)).alias("settled"),
        pl.Series("family_reunified", rng.integers(0, 20, n)),
    ).with_columns(
        (pl.col("settled") * pl.Series(rng.uniform(0, 0.3, n))).cast(pl.Int64).alias("settled_unaccompanied_minors"),
    )
    frame = _with_symbols(frame, ["requested", "family_reunified", "settled_unaccompanied_minors"], rng, 0.05)
    frame = _with_symbols(frame, ["settled"], rng, 0.02)
    frame = frame.with_columns(
        pl.when(pl.col("decided").is_null()).then(pl.lit("..")).alias("decided_symbol"),
    ).with_columns(decision_status_expr().alias("decision_status"))
    return conform_to_model(frame, "kommune_settlement_year")


def _housing_year(keys: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = keys.height
    shares = rng.dirichlet(np.ones(5), n)
    exits = rng.integers(0, 20, n)
    dwelling_years = rng.uniform(1, 100, n)
    frame = keys.with_columns(
        pl.Series("municipal_dwellings", rng.integers(0, 5000, n)),
        pl.Series("municipal_dwellings_per_1000", rng.uniform(0, 40, n)),
        pl.Series("waiting_list", rng.integers(0, 300, n)),
        pl.Series("refused_share", rng.uniform(0, 1, n)),
        pl.Series("startlan_count", rng.integers(0, 400, n)),
        pl.Series("startlan_per_1000", rng.uniform(0, 10, n)),
        pl.Series("startlan_nok", rng.uniform(0, 5e8, n)),
        pl.Series("rental_grant_nok", rng.uniform(0, 5e7, n)),
        pl.Series("refugees_housed", rng.integers(0, 500, n)),
        pl.Series("municipal_rental_share", shares[:, 0]),
        pl.Series("private_rental_share", shares[:, 1]),
        pl.Series("owner_share", shares[:, 2]),
        pl.Series("temporary_share", shares[:, 3]),
        pl.Series("municipal_exits", exits),
        pl.Series("municipal_dwelling_years", dwelling_years),
        pl.Series("throughput", exits / dwelling_years),
    )
    frame = _with_symbols(
        frame, ["municipal_dwellings_per_1000", "refused_share", "startlan_per_1000", "startlan_nok",
                "rental_grant_nok"], rng, 0.08,
    )
    return conform_to_model(frame, "kommune_housing_year")


def _intro_year(keys: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = keys.height
    participants = rng.integers(0, 300, n)
    leavers = (participants * rng.uniform(0, 0.5, n)).astype(int)
    base = rng.integers(0, 100, n)
    count = (base * rng.uniform(0, 1, n)).astype(int)
    frame = keys.with_columns(
        pl.Series("participants", participants),
        pl.Series("leavers", leavers),
        pl.Series("leavers_completed", (leavers * rng.uniform(0, 1, n)).astype(int)),
        pl.Series("work_education_count", count),
        pl.Series("work_education_base", base),
        pl.when(pl.Series(base) > 0).then(pl.Series(count) / pl.Series(base)).alias("work_education_share"),
        pl.Series("window_years", rng.choice([1, 3], n)),
    )
    frame = _with_symbols(frame, ["participants", "leavers", "work_education_share"], rng, 0.08)
    return conform_to_model(frame, "kommune_intro_year")


def _context_year(keys: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = keys.height
    population = rng.integers(200, 700_000, n)
    immigrants = (population * rng.uniform(0, 0.35, n)).astype(int)
    refugees = (immigrants * rng.uniform(0, 0.4, n)).astype(int)
    frame = keys.with_columns(
        pl.Series("population", population),
        pl.Series("immigrants", immigrants),
        pl.Series("refugees", refugees),
        pl.Series("refugees_short_residence", (refugees * rng.uniform(0, 1, n)).astype(int)),
        pl.Series("unemployment_share", rng.uniform(0, 0.1, n)),
        pl.Series("persistent_low_income_share", rng.uniform(0, 0.2, n)),
        pl.Series("social_assistance_share", rng.uniform(0, 0.1, n)),
        pl.Series("imdi_grants_nok", rng.uniform(0, 1e8, n)),
    )
    measures = [
        "population", "immigrants", "refugees", "refugees_short_residence", "unemployment_share",
        "persistent_low_income_share", "social_assistance_share", "imdi_grants_nok",
    ]
    frame = _with_symbols(frame, measures, rng, 0.05)
    return conform_to_model(frame, "kommune_context_year")


def _national(settlement_year: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The national row per year, equal to the sum of the published municipal cells."""
    frame = (
        settlement_year.group_by("year").agg(pl.col("settled").sum().cast(pl.Int64))
        .sort("year")
    )
    n = frame.height
    return conform_to_model(
        frame.with_columns(
            pl.Series("waiting_in_reception", rng.integers(0, 6000, n)),
            pl.Series("settled_within_6m_share", rng.uniform(0.4, 0.8, n)),
            pl.Series("long_waiting", rng.integers(0, 3000, n)),
            pl.Series("months_permit_to_settlement", rng.uniform(4, 9, n)),
            pl.date(pl.col("year").cast(pl.Int32), 12, 31).alias("reference_date"),
            pl.lit("synthetic (settlement_research.testing)").alias("source"),
        ),
        "national_settlement_year",
    )


def _edition_values(settlement_year: pl.DataFrame) -> pl.DataFrame:
    """Every published settlement cell as one edition's value (the companion of IMDi imports)."""
    measures = ["requested", "decided", "settled"]
    long = pl.concat([
        settlement_year.select(
            "kommune_nr", "year", "classification_year", pl.lit(m).alias("measure"),
            pl.col(m).cast(pl.Float64).alias("value"), pl.col(f"{m}_symbol").alias("symbol"),
        )
        for m in measures
    ]).filter(pl.col("value").is_not_null() | pl.col("symbol").is_not_null())
    return conform_to_model(
        long.with_columns(
            pl.lit("kommune_settlement_year").alias("table"), pl.lit("synthetic").alias("edition"),
            pl.lit("settlement_research.testing").alias("publisher"), pl.lit(None, pl.Date).alias("edition_per"),
            pl.date(pl.col("year").cast(pl.Int32), 12, 31).alias("period_end"), pl.lit("synthetic").alias("files"),
            pl.lit("0" * 64).alias("file_sha256"), pl.lit(True).alias("chosen"),
        ),
        "imdi_edition_value",
    )


def _coordination(rng: np.random.Generator) -> pl.DataFrame:
    from settlement_research.model.base import HUSBANKEN_REGIONS, IMDI_REGIONS

    labels = ["no", "little", "some", "large"]
    frame = (
        pl.DataFrame({"husbanken_region": HUSBANKEN_REGIONS})
        .join(pl.DataFrame({"imdi_region": IMDI_REGIONS}), how="cross")
        .join(pl.DataFrame({"dimension": DIMENSIONS}), how="cross")
    )
    level = rng.integers(0, 4, frame.height)
    return conform_to_model(
        frame.with_columns(
            pl.Series("level", level),
            pl.Series("label", [labels[i] for i in level]),
            pl.lit(dt.date(2014, 6, 1)).alias("observed_on"),
        ),
        "region_pair_coordination",
    )


def make_aggregates(
    n_kommuner: int = 20, years: range | list[int] = DEFAULT_YEARS, seed: int = 0
) -> dict[str, pl.DataFrame]:
    """Consistent aggregate tables that pass their models and ``check_relations`` (no warnings).

    ``n_kommuner`` of the 2014 municipalities (and their successors when ``years`` cross 2020)
    in every municipality-year table; the national row is the sum of the published cells.
    """
    rng = np.random.default_rng(seed)
    dimension = kommune_dimension(seed)
    old = dimension.filter(pl.col("valid_from") < REFORM_YEAR)
    chosen = old.sample(min(n_kommuner, old.height), seed=seed)["kommune_nr"]
    chosen_all = pl.concat([chosen, _successors(dimension).filter(pl.col("kommune_nr").is_in(chosen.implode()))["successor"]])
    kommune = dimension.filter(pl.col("kommune_nr").is_in(chosen_all.implode())).sort("kommune_nr", "valid_from")
    keys = _kommune_years(kommune, years)
    settlement_year = _settlement_year(keys, rng)
    return {
        "kommune": kommune,
        "kommune_settlement_year": settlement_year,
        "kommune_housing_year": _housing_year(keys, rng),
        "kommune_intro_year": _intro_year(keys, rng),
        "kommune_context_year": _context_year(keys, rng),
        "national_settlement_year": _national(settlement_year, rng),
        "region_pair_coordination": _coordination(rng),
    }


# --- the person-level register -------------------------------------------------------------------


def make_register(
    n_persons: int = 50, seed: int = 0, *, kommune: pl.DataFrame | None = None
) -> dict[str, pl.DataFrame]:
    """A small consistent register: person, household, household_member, settlement,
    housing_spell, intro_spell, outcome_year and the ``kommune`` dimension it refers to.

    Every table passes its model and the whole passes ``check_relations``. Households settle
    together in one municipality (2010–2017) and keep it; codes follow the 2020 renumbering.
    """
    rng = np.random.default_rng(seed)
    kommune = kommune_dimension(seed) if kommune is None else kommune
    if n_persons <= 0:
        return {t: empty_frame(t) for t in PERSON_TABLES} | {"kommune": kommune}

    # Households: sizes until n persons; the last one is cut to fit.
    sizes = rng.choice([1, 1, 1, 1, 2, 2, 3, 4, 5, 6], n_persons)
    ends = np.cumsum(sizes)
    n_hh = int(np.searchsorted(ends, n_persons) + 1)
    sizes = sizes[:n_hh]
    sizes[-1] -= ends[n_hh - 1] - n_persons
    with_children = rng.random(n_hh) < 0.7
    hh_type = np.where(
        sizes == 1, "single",
        np.where(sizes == 2, np.where(rng.random(n_hh) < 0.6, "couple", "single_parent"),
                 np.where(with_children, "family_with_children", "single_parent")),
    )
    n_adults = np.where((hh_type == "couple") | (hh_type == "family_with_children"), 2, 1)
    hh_ids = np.char.add("H", np.char.zfill(np.arange(1, n_hh + 1).astype(str), 7))

    # Household-level events.
    arrival = rng.integers(_day(dt.date(2009, 1, 1)), _day(dt.date(2016, 6, 30)), n_hh)
    permit = arrival + rng.integers(30, 500, n_hh)
    settle = permit + rng.integers(0, 400, n_hh)
    base_codes = kommune.filter(pl.col("valid_from") < REFORM_YEAR, pl.col("valid_to").fill_null(9999) >= 2017)
    hh_kommune = base_codes["kommune_nr"].to_numpy().astype(str)[rng.integers(0, base_codes.height, n_hh)]
    route = rng.choice(ROUTES, n_hh, p=[0.8, 0.12, 0.08])

    # Members.
    hh_of = np.repeat(np.arange(n_hh), sizes)
    pos = np.arange(n_persons) - np.repeat(ends[:n_hh] - sizes, sizes)
    adult = pos < n_adults[hh_of]
    person_ids = np.char.add("P", np.char.zfill(np.arange(1, n_persons + 1).astype(str), 7))
    arr_year = (pl.Series(arrival[hh_of]).cast(pl.Int32).cast(pl.Date).dt.year()).to_numpy()
    minor_single = (hh_type[hh_of] == "single") & (rng.random(n_persons) < 0.08)
    birth_year = np.where(
        adult & ~minor_single, arr_year - rng.integers(18, 60, n_persons), arr_year - rng.integers(0, 18, n_persons)
    )
    settle_p = settle[hh_of]
    household = conform_to_model(
        pl.DataFrame({"household_id": hh_ids, "household_type": hh_type, "size": sizes}), "household"
    )
    member = conform_to_model(
        pl.DataFrame({
            "household_id": hh_ids[hh_of], "person_id": person_ids,
            "role": np.where(adult & ~minor_single, "adult", "child"),
        }),
        "household_member",
    )
    person = conform_to_model(
        pl.DataFrame({
            "person_id": person_ids, "birth_year": birth_year, "sex": rng.choice(SEX, n_persons),
            "country_group": rng.choice(COUNTRY_GROUPS, n_persons),
            "education": rng.choice(EDUCATION, n_persons),
            "arrival_date": _dates(arrival[hh_of]), "permit_date": _dates(permit[hh_of]),
            "unaccompanied_minor": minor_single,
        }),
        "person",
    )
    settlement = conform_to_model(
        pl.DataFrame({
            "person_id": person_ids, "settlement_date": _dates(settle_p),
            "kommune_nr": hh_kommune[hh_of], "route": route[hh_of],
            "months_waited": (settle_p - permit[hh_of]) / 30.4375,
        }),
        "settlement",
    )

    # Housing spells per household, copied to each member: consecutive, the last one maybe open.
    n_spells = rng.integers(1, 5, n_hh)
    sp_hh = np.repeat(np.arange(n_hh), n_spells)
    length = rng.integers(60, 900, sp_hh.size)
    first = np.cumsum(n_spells) - n_spells  # index of each household's first spell
    before = np.cumsum(length) - length  # total length of all earlier spells
    offset = before - np.repeat(before[first], n_spells)  # days from settlement to the spell's start
    sp_no = np.arange(sp_hh.size) - np.repeat(first, n_spells) + 1
    start = settle[sp_hh] + offset
    end = start + length  # a spell ends on the day the next one starts (moving day)
    last = sp_no == n_spells[sp_hh]
    open_end = last & (rng.random(sp_hh.size) < 0.6)
    hh_spells = pl.DataFrame({
        "_hh": sp_hh, "spell_no": sp_no, "start_date": _dates(start),
        "end_date": _dates(end), "_open": open_end,
        "tenure": rng.choice(TENURES, sp_hh.size), "rooms": rng.integers(1, 7, sp_hh.size),
        "persons": sizes[sp_hh],
    }).with_columns(pl.when(pl.col("_open")).then(None).otherwise(pl.col("end_date")).alias("end_date"))
    members_hh = pl.DataFrame({"person_id": person_ids, "_hh": hh_of, "_code": hh_kommune[hh_of]})
    housing = members_hh.join(hh_spells, on="_hh").sort("person_id", "spell_no")
    housing = housing.with_columns(
        code_in_year(housing["_code"], housing["start_date"].dt.year(), kommune)
    )
    housing_spell = conform_to_model(housing, "housing_spell")

    # Introduction programme: most adults aged 18-55, one spell, some a second after interruption.
    age = (pl.Series(settle_p).cast(pl.Int32).cast(pl.Date).dt.year().to_numpy()) - birth_year
    takes = adult & ~minor_single & (age >= 18) & (age <= 55) & (rng.random(n_persons) < 0.85)
    idx = np.flatnonzero(takes)
    s1 = settle_p[idx] + rng.integers(0, 90, idx.size)
    d1 = rng.integers(150, 3 * 365 + 183, idx.size)
    reason1 = rng.choice(INTRO_END_REASONS, idx.size, p=[0.55, 0.3, 0.15])
    second = (reason1 == "interrupted") & (rng.random(idx.size) < 0.4)
    i2 = idx[second]
    s2 = s1[second] + d1[second] + rng.integers(30, 200, i2.size)
    d2 = rng.integers(100, 700, i2.size)
    reason2 = rng.choice(["completed", "interrupted", "ongoing"], i2.size)
    intro = pl.DataFrame({
        "_p": np.concatenate([idx, i2]), "spell_no": np.concatenate([np.ones(idx.size, int), np.full(i2.size, 2)]),
        "_s": np.concatenate([s1, s2]), "_d": np.concatenate([d1, d2]),
        "end_reason": np.concatenate([reason1, reason2]),
    })
    intro = intro.with_columns(
        pl.Series("person_id", person_ids[intro["_p"].to_numpy()]),
        pl.Series("_code", hh_kommune[hh_of][intro["_p"].to_numpy()]),
        pl.col("_s").cast(pl.Int32).cast(pl.Date).alias("start_date"),
        pl.when(pl.col("end_reason") == "ongoing").then(None)
        .otherwise((pl.col("_s") + pl.col("_d")).cast(pl.Int32).cast(pl.Date)).alias("end_date"),
    ).sort("person_id", "spell_no")
    intro = intro.with_columns(code_in_year(intro["_code"], intro["start_date"].dt.year(), kommune))
    intro_spell = conform_to_model(intro, "intro_spell")

    # Outcomes: November one and two years after each closed last spell.
    last_closed = intro.filter(pl.col("end_date").is_not_null()).group_by("person_id").agg(
        pl.col("end_date").max(), pl.col("_code").first()
    )
    outcome = (
        last_closed.join(pl.DataFrame({"_after": [1, 2]}), how="cross")
        .with_columns((pl.col("end_date").dt.year() + pl.col("_after")).cast(pl.Int16).alias("year"))
        .sort("person_id", "year")
    )
    k = outcome.height
    outcome = outcome.with_columns(
        pl.Series("status", rng.choice(OUTCOME_STATUS, k)),
        pl.Series("_abroad", rng.random(k) < 0.03),
    )
    outcome = outcome.with_columns(code_in_year(outcome["_code"], outcome["year"], kommune)).with_columns(
        pl.when(pl.col("_abroad")).then(None).otherwise(pl.col("kommune_nr")).alias("kommune_nr")
    )
    outcome_year = conform_to_model(outcome, "outcome_year")

    return {
        "kommune": kommune,
        "person": person,
        "household": household,
        "household_member": member,
        "settlement": settlement,
        "housing_spell": housing_spell,
        "intro_spell": intro_spell,
        "outcome_year": outcome_year,
    }


# --- one table -----------------------------------------------------------------------------------


def valid_frame(table: str, n: int = 10, seed: int = 0) -> pl.DataFrame:
    """``n`` rows of ``table`` that pass its model; the same (table, n, seed) gives the same frame.

    Aggregate tables come from ``make_aggregates``, person-level ones from ``make_register``
    (grown until the table has ``n`` rows). Raises ValueError when the table's primary key cannot
    hold ``n`` distinct rows (e.g. more than 46 national years).
    """
    get_model(table)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return empty_frame(table)
    if table in AGGREGATE_TABLES:
        if table == "kommune":
            frame = kommune_dimension(seed)
        elif table == "national_settlement_year":
            frame = make_aggregates(30, range(1990, 2036), seed)[table]
        elif table == "region_pair_coordination":
            frame = _coordination(np.random.default_rng(seed))
        elif table == "imdi_edition_value":
            frame = _edition_values(make_aggregates(max(5, n // 12 + 1), DEFAULT_YEARS, seed)["kommune_settlement_year"])
        else:
            frame = make_aggregates(max(5, n // 4 + 1), DEFAULT_YEARS, seed)[table]
        if frame.height < n:
            raise ValueError(f"{table} holds at most {frame.height} distinct rows, asked for {n}")
        return frame.sample(n, seed=seed).sort(get_model(table).Config.metadata["primary_key"])
    persons = n
    while True:
        frame = make_register(persons, seed)[table]
        if frame.height >= n:
            return frame.head(n)
        persons *= 2


# --- hypothesis strategies -----------------------------------------------------------------------


def frames(table: str, *, min_rows: int = 1, max_rows: int = 20) -> SearchStrategy[pl.DataFrame]:
    """A hypothesis strategy of valid frames of ``table`` (row count and seed drawn, shrinking to
    the smallest, first-seeded frame)."""
    from hypothesis import strategies as st

    get_model(table)
    return st.builds(
        lambda n, seed: valid_frame(table, n, seed),
        st.integers(min_rows, max_rows), st.integers(0, 2**16),
    )


def registers(*, max_persons: int = 30) -> SearchStrategy[dict[str, pl.DataFrame]]:
    """A hypothesis strategy of consistent person-level registers (see ``make_register``)."""
    from hypothesis import strategies as st

    return st.builds(make_register, st.integers(1, max_persons), st.integers(0, 2**16))


__all__ = [
    "code_in_year", "conform_to_model", "empty_frame", "frames", "kommune_dimension",
    "make_aggregates", "make_register", "registers", "valid_frame",
]
