"""Person level -> municipality-year: the aggregates the register can answer for itself.

Public statistics publish settled, housing mix and programme outcomes per municipality and year;
with person-level data (the licensed register or the synthetic one) we compute them ourselves, so
the aggregate tables and the register can never disagree. Everything here is a pure function on
polars frames (LazyFrame or DataFrame in, DataFrame out).

Zeros versus nulls: inside the years the person table covers, a municipality with no events has a
true 0 (``keys`` lets the caller ask for such rows); outside them the answer is unknown (no row).
Shares whose denominator is 0 are null, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

Frame = pl.DataFrame | pl.LazyFrame
KEYS = ["kommune_nr", "year"]

# "settled" in the model means settled through IMDi: ordinary and agreed self-settlement count
# toward the council's decision; own settlement without agreement does not (DESIGN §1).
SETTLED_ROUTES: tuple[str, ...] = ("ordinary", "agreed_self")

# Tenure groups of the housing shares. Municipal rental includes private dwellings the
# municipality leases and sublets (the model says "incl. sublet"); owners include startlån owners.
MUNICIPAL_TENURES: tuple[str, ...] = ("municipal_rental", "private_sublet_by_municipality")
PRIVATE_RENTAL_TENURES: tuple[str, ...] = ("private_rental",)
OWNER_TENURES: tuple[str, ...] = ("owner", "owner_startlan")
TEMPORARY_TENURES: tuple[str, ...] = ("temporary",)

# SSB's measure: status in November of the year after leaving the programme.
WORK_EDUCATION_STATUS: tuple[str, ...] = ("work", "education", "work_and_education")
OUTCOME_WINDOW_YEARS = 1

SETTLEMENT_COLUMNS = ["settled", "settled_unaccompanied_minors"]
HOUSING_COLUMNS = [
    "refugees_housed", "municipal_rental_share", "private_rental_share", "owner_share",
    "temporary_share", "municipal_exits", "municipal_dwelling_years", "throughput",
]
INTRO_COLUMNS = [
    "participants", "leavers", "leavers_completed", "work_education_count", "work_education_base",
    "work_education_share", "window_years",
]
# derived table -> the person tables it needs (all must be present)
DERIVATIONS: dict[str, tuple[str, ...]] = {
    "kommune_settlement_year": ("settlement",),
    "kommune_housing_year": ("housing_spell",),
    "kommune_intro_year": ("intro_spell",),
}


@dataclass(frozen=True)
class Derived:
    """A derived municipality-year frame and the columns it is the authority for."""

    table: str
    frame: pl.DataFrame
    columns: list[str]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy()


def _keys_in_years(keys: Frame | None, first: int | None, last: int | None) -> pl.LazyFrame | None:
    """The caller's (kommune_nr, year) keys that fall inside the covered years."""
    if keys is None or first is None or last is None:
        return None
    return (
        _lazy(keys).select(pl.col("kommune_nr").cast(pl.String), pl.col("year").cast(pl.Int16))
        .filter(pl.col("year").is_between(first, last)).unique()
    )


def _with_keys(events: pl.LazyFrame, grid: pl.LazyFrame | None) -> pl.LazyFrame:
    """Events per key, plus the grid's keys that had no events (their counts filled later)."""
    events = events.with_columns(pl.col("year").cast(pl.Int16))
    if grid is None:
        return events
    return grid.join(events, on=KEYS, how="full", coalesce=True)


def _max_date(frame: pl.LazyFrame, columns: Sequence[str]) -> dt.date | None:
    value = frame.select(pl.max_horizontal([pl.col(c).max() for c in columns])).collect().item()
    return value


def _person_number(frame: pl.LazyFrame | None = None) -> pl.Expr:
    """person_id as a dense integer: counting distinct integers is twice as fast as strings.

    With ``frame`` sorted by person_id (as extracts come) the number is a running count of
    changes, the same value as the dense rank without sorting the strings again.
    """
    pid = pl.col("person_id")
    if frame is not None:
        check = frame.select(pid.is_sorted().alias("sorted"), pid.null_count().alias("nulls")).collect()
        if check["sorted"][0] and check["nulls"][0] == 0:
            return pid.ne_missing(pid.shift(1)).cum_sum().cast(pl.UInt32)
    return pid.rank("dense")


def _share(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))


def _jan1(year: pl.Expr) -> pl.Expr:
    """Days from 1970-01-01 to 1 January of ``year`` (proleptic Gregorian), as integers."""
    y = year.cast(pl.Int64) - 1
    return 365 * (y - 1969) + y // 4 - y // 100 + y // 400 - (1969 // 4 - 1969 // 100 + 1969 // 400)


def _spell_years(spells: pl.LazyFrame, as_of: dt.date, first: int, span: int) -> pl.LazyFrame:
    """One row per spell and calendar year it overlaps, with the days of that overlap.

    Open spells (null end) run to ``as_of``; ``end_date`` is the last day of the spell, inclusive.
    ``_cell`` numbers the (municipality, year) cell: ``_k * span + year - first``, where ``_k`` is
    the position of the spell's kommune_nr among the distinct codes. Everything that runs on the
    exploded rows is integer arithmetic (days since 1970, no per-row dates or divisions): about
    three times faster than dates and strings, and integer sums do not depend on the order in
    which parallel threads add them up.
    """
    end = pl.min_horizontal(pl.coalesce(pl.col("end_date"), pl.lit(as_of)), pl.lit(as_of))
    year = pl.col("year")
    return (
        spells.with_columns(_end=end)
        .filter(pl.col("start_date") <= pl.col("_end"))
        .with_columns(
            year=pl.int_ranges(pl.col("start_date").dt.year(), pl.col("_end").dt.year() + 1, dtype=pl.Int32)
        )
        .explode("year")
        .with_columns(
            _days=pl.min_horizontal(pl.col("_end").cast(pl.Int64), _jan1(year + 1) - 1)
            - pl.max_horizontal(pl.col("start_date").cast(pl.Int64), _jan1(year)) + 1,
            _cell=pl.col("_k").cast(pl.Int64) * span + (year - first),
        )
    )


def _kommune_codes(frame: pl.LazyFrame) -> tuple[pl.Series, pl.Expr]:
    """Distinct kommune_nr (sorted, a null last if any) and an expression for each row's position.

    Grouping by a small integer instead of the 4-character string is what makes the
    municipality-year aggregation over millions of spell-years cheap.
    """
    codes = frame.select(pl.col("kommune_nr").unique().sort(nulls_last=True)).collect().to_series()
    known = codes.drop_nulls()
    position = pl.col("kommune_nr").cast(pl.Enum(known.to_list())).to_physical().cast(pl.Int64)
    return codes, position.fill_null(known.len())


def _cells(codes: pl.Series, first: int, span: int) -> list[pl.Expr]:
    """kommune_nr and year back from ``_cell``."""
    k = (pl.col("_cell") // span).cast(pl.UInt32)
    return [
        pl.lit(codes).gather(k).alias("kommune_nr"),
        (pl.col("_cell") % span + first).cast(pl.Int16).alias("year"),
    ]


def _distinct_persons(years: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """Distinct ``_pid`` per ``_cell``: one integer key per (cell, person), made unique, counted."""
    pair = pl.col("_cell") * (1 << 32) + pl.col("_pid").cast(pl.Int64)
    return (
        years.select(pair.unique().alias("_pair"))
        .group_by((pl.col("_pair") // (1 << 32)).alias("_cell"))
        .agg(pl.len().cast(pl.Int32).alias(name))
    )


def _year_span(spells: pl.LazyFrame, as_of: dt.date) -> tuple[int | None, int]:
    """The first start year (None if no start dates) and the number of years up to ``as_of``."""
    first = spells.select(pl.col("start_date").dt.year().min()).collect().item()
    return first, max(as_of.year - (first if first is not None else as_of.year) + 1, 1)


def _year_days(year: pl.Expr) -> pl.Expr:
    return (_jan1(year + 1) - _jan1(year)).cast(pl.Float64)


# --------------------------------------------------------------------------------------------
# kommune_settlement_year
# --------------------------------------------------------------------------------------------

def settlement_by_kommune_year(
    settlement: Frame,
    person: Frame | None = None,
    *,
    keys: Frame | None = None,
    routes: Sequence[str] = SETTLED_ROUTES,
) -> pl.DataFrame:
    """Settled (and, with ``person``, settled unaccompanied minors) per municipality and year.

    The year is that of ``settlement_date``; only ``routes`` count as settled (through IMDi).
    Keys inside the covered years without settlements get 0.
    """
    lf = _lazy(settlement).filter(pl.col("route").is_in(list(routes)))
    lf = lf.with_columns(year=pl.col("settlement_date").dt.year().cast(pl.Int16))
    span = _lazy(settlement).select(
        pl.col("settlement_date").dt.year().min().alias("lo"), pl.col("settlement_date").dt.year().max().alias("hi")
    ).collect()
    aggs = [pl.len().cast(pl.Int32).alias("settled")]
    if person is not None:
        minors = _lazy(person).select("person_id", "unaccompanied_minor")
        lf = lf.join(minors, on="person_id", how="left")
        aggs.append(pl.col("unaccompanied_minor").fill_null(False).sum().cast(pl.Int32)
                    .alias("settled_unaccompanied_minors"))
    events = lf.group_by(KEYS).agg(aggs)
    out = _with_keys(events, _keys_in_years(keys, span["lo"][0], span["hi"][0]))
    counts = ["settled"] + (["settled_unaccompanied_minors"] if person is not None else [])
    return out.with_columns(pl.col(c).fill_null(0).cast(pl.Int32) for c in counts).sort(KEYS).collect()


# --------------------------------------------------------------------------------------------
# kommune_housing_year
# --------------------------------------------------------------------------------------------

def housing_by_kommune_year(
    housing_spell: Frame, *, keys: Frame | None = None, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Refugees' housing per municipality-year from housing spells.

    - ``refugees_housed``: distinct persons with a spell in the municipality during the year;
    - tenure shares: person-years in each tenure group / all refugee person-years there;
    - ``municipal_exits``: municipal-rental spells (incl. sublet) ending in the year;
    - ``municipal_dwelling_years``: years of refugee occupancy of municipal rental in the year,
      counted per person spell (the same unit as the exits, so the ratio is a rate);
    - ``throughput`` = exits / dwelling-years (null when there were no dwelling-years).

    Open spells run to ``as_of`` (default: the latest date in the table).
    """
    spells = _lazy(housing_spell)
    if as_of is None:
        as_of = _max_date(spells, ["start_date", "end_date"])
    if as_of is None:  # empty table
        return _empty(HOUSING_COLUMNS, "kommune_housing_year")
    # only small integers go through the explode: person number, municipality and tenure group
    groups = {t: 0 for t in MUNICIPAL_TENURES} | {t: 1 for t in PRIVATE_RENTAL_TENURES}
    groups |= {t: 2 for t in OWNER_TENURES} | {t: 3 for t in TEMPORARY_TENURES}
    first, span = _year_span(spells, as_of)
    codes, position = _kommune_codes(spells)
    slim = spells.select(
        "start_date", "end_date", _pid=_person_number(spells), _k=position,
        _group=pl.col("tenure").replace_strict(groups, default=9, return_dtype=pl.UInt8),
    )
    years = (
        _spell_years(slim, as_of, first or 0, span)
        .select("_cell", "_pid", "_group", "end_date", "year", "_days").collect().lazy()
    )
    group = pl.col("_group")
    days = pl.col("_days")
    ended_here = pl.col("end_date").is_not_null() & (pl.col("end_date") <= as_of) & (
        pl.col("end_date").dt.year() == pl.col("year")
    )
    sums = years.group_by("_cell").agg(
        days.sum().alias("_d"),
        days.filter(group == 0).sum().alias("_d_municipal"),
        days.filter(group == 1).sum().alias("_d_private"),
        days.filter(group == 2).sum().alias("_d_owner"),
        days.filter(group == 3).sum().alias("_d_temporary"),
        ((group == 0) & ended_here).sum().cast(pl.Int32).alias("municipal_exits"),
    )
    housed, sums = pl.collect_all([_distinct_persons(years, "refugees_housed"), sums])
    cells = _cells(codes, first or 0, span)
    # person-years = days / days of the year; the year is fixed within a cell, so summing days
    # first is exact (and the same whatever order the rows are added in)
    per_year = _year_days(pl.col("year").cast(pl.Int32))
    events = sums.join(housed, on="_cell", how="left").lazy().with_columns(*cells).select(
        "kommune_nr", "year", "refugees_housed", "municipal_exits",
        (pl.col("_d") / per_year).alias("_py"),
        (pl.col("_d_municipal") / per_year).alias("municipal_dwelling_years"),
        (pl.col("_d_private") / per_year).alias("_private"),
        (pl.col("_d_owner") / per_year).alias("_owner"),
        (pl.col("_d_temporary") / per_year).alias("_temporary"),
    )
    out = _with_keys(events, _keys_in_years(keys, first, as_of.year)).with_columns(
        pl.col("refugees_housed", "municipal_exits").fill_null(0).cast(pl.Int32),
        pl.col("_py", "municipal_dwelling_years", "_private", "_owner", "_temporary").fill_null(0.0),
    )
    # a part over its whole can exceed 1 by a rounding error (sums in different order): clip it
    out = out.with_columns(
        municipal_rental_share=_share("municipal_dwelling_years", "_py").clip(upper_bound=1.0),
        private_rental_share=_share("_private", "_py").clip(upper_bound=1.0),
        owner_share=_share("_owner", "_py").clip(upper_bound=1.0),
        temporary_share=_share("_temporary", "_py").clip(upper_bound=1.0),
        throughput=_share("municipal_exits", "municipal_dwelling_years"),
    )
    return out.select(KEYS + HOUSING_COLUMNS).sort(KEYS).collect()


# --------------------------------------------------------------------------------------------
# kommune_intro_year
# --------------------------------------------------------------------------------------------

def intro_by_kommune_year(
    intro_spell: Frame,
    outcome_year: Frame | None = None,
    *,
    keys: Frame | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Introduction-programme participants, leavers and status one year after, per municipality-year.

    - ``participants``: distinct persons with a spell in the municipality during the year;
    - ``leavers``: distinct persons whose spell ended in the year (completed or interrupted);
    - ``leavers_completed``: those of them who completed;
    - ``work_education_count`` / ``_base``: leavers of the year with a status in November of the
      next year (the base) and those in work and/or education (SSB's measure, ``window_years`` 1).
      Null when the outcome table does not cover the next year.

    The row's year is the year of leaving for the outcome columns (the leaver cohort).
    """
    spells = _lazy(intro_spell)
    if as_of is None:
        as_of = _max_date(spells, ["start_date", "end_date"])
    if as_of is None:
        return _empty(INTRO_COLUMNS, "kommune_intro_year")
    first, span = _year_span(spells, as_of)
    codes, position = _kommune_codes(spells)
    slim = spells.select("start_date", "end_date", _pid=_person_number(spells), _k=position)
    participants = (
        _distinct_persons(_spell_years(slim, as_of, first or 0, span), "participants")
        .select(*_cells(codes, first or 0, span), "participants")
    )
    left = (
        spells.filter(pl.col("end_date").is_not_null() & (pl.col("end_date") <= as_of)
                      & (pl.col("end_reason") != "ongoing"))
        .with_columns(year=pl.col("end_date").dt.year().cast(pl.Int16))
        .group_by(["kommune_nr", "year", "person_id"])
        .agg((pl.col("end_reason") == "completed").any().alias("completed"))
    )
    leavers = left.group_by(KEYS).agg(
        pl.len().cast(pl.Int32).alias("leavers"),
        pl.col("completed").sum().cast(pl.Int32).alias("leavers_completed"),
    )
    lo_out = hi_out = None
    if outcome_year is not None:
        outcomes = _lazy(outcome_year)
        span = outcomes.select(pl.col("year").min().alias("lo"), pl.col("year").max().alias("hi")).collect()
        lo_out, hi_out = span["lo"][0], span["hi"][0]
        status = outcomes.select(
            "person_id", (pl.col("year").cast(pl.Int16) - OUTCOME_WINDOW_YEARS).alias("year"),
            pl.col("status").is_in(list(WORK_EDUCATION_STATUS)).alias("_in_work_edu"),
        )
        after = left.join(status, on=["person_id", "year"], how="inner").group_by(KEYS).agg(
            pl.len().cast(pl.Int32).alias("work_education_base"),
            pl.col("_in_work_edu").sum().cast(pl.Int32).alias("work_education_count"),
        )
    else:
        after = leavers.select(KEYS).with_columns(
            work_education_base=pl.lit(None, pl.Int32), work_education_count=pl.lit(None, pl.Int32)
        ).head(0)
    events = (
        participants.join(leavers, on=KEYS, how="full", coalesce=True)
        .join(after, on=KEYS, how="full", coalesce=True)
    )
    out = _with_keys(events, _keys_in_years(keys, first, as_of.year))
    # the outcome is observed only when the year after leaving is in the outcome table
    observed = (
        (pl.col("year") + OUTCOME_WINDOW_YEARS).is_between(lo_out, hi_out)
        if lo_out is not None else pl.lit(False)
    )
    out = out.with_columns(
        pl.col("participants", "leavers", "leavers_completed").fill_null(0).cast(pl.Int32),
        *[
            pl.when(observed).then(pl.col(c).fill_null(0)).cast(pl.Int32).alias(c)
            for c in ("work_education_base", "work_education_count")
        ],
    ).with_columns(
        work_education_share=_share("work_education_count", "work_education_base"),
        window_years=pl.lit(OUTCOME_WINDOW_YEARS, pl.Int8),
    )
    return out.select(KEYS + INTRO_COLUMNS).sort(KEYS).collect()


def _empty(columns: list[str], table: str) -> pl.DataFrame:
    from settlement_research.validation import conform

    return conform(pl.DataFrame(schema={"kommune_nr": pl.String, "year": pl.Int16}), table).select(
        KEYS + columns
    )


# --------------------------------------------------------------------------------------------
# all tables, and merging with a source's own aggregate columns
# --------------------------------------------------------------------------------------------

def derive_tables(
    tables: Mapping[str, Frame], *, keys: Mapping[str, Frame] | None = None
) -> dict[str, Derived]:
    """Every municipality-year table the given person tables allow (empty dict when none).

    ``keys`` maps a table to the (kommune_nr, year) keys the source already has, so that
    municipality-years inside the covered period with no events get zeros.
    """
    keys = keys or {}
    out: dict[str, Derived] = {}
    if "settlement" in tables:
        frame = settlement_by_kommune_year(
            tables["settlement"], tables.get("person"), keys=keys.get("kommune_settlement_year")
        )
        out["kommune_settlement_year"] = Derived(
            "kommune_settlement_year", frame, [c for c in SETTLEMENT_COLUMNS if c in frame.columns]
        )
    if "housing_spell" in tables:
        frame = housing_by_kommune_year(tables["housing_spell"], keys=keys.get("kommune_housing_year"))
        out["kommune_housing_year"] = Derived("kommune_housing_year", frame, list(HOUSING_COLUMNS))
    if "intro_spell" in tables:
        frame = intro_by_kommune_year(
            tables["intro_spell"], tables.get("outcome_year"), keys=keys.get("kommune_intro_year")
        )
        out["kommune_intro_year"] = Derived("kommune_intro_year", frame, list(INTRO_COLUMNS))
    return out


def merge_with_source(
    derived: Derived,
    source: pl.DataFrame | None,
    *,
    classification_year: int | None = None,
) -> tuple[pl.DataFrame, int]:
    """The source's aggregate table with the derived columns put in; returns (frame, disagreements).

    Where the person level covers a municipality-year it is the authority: its values replace the
    source's and the matching ``<col>_symbol`` is cleared (a computed value is not suppressed).
    Elsewhere the source's values stay. New keys get ``classification_year`` (default: the
    source's single classification year, else the row's year) and, for settlement, the decision
    status the numbers imply. ``disagreements`` counts cells where both had a different value.
    Columns keep their order; extra helper columns are dropped, so the caller can ``conform``.
    """
    frame = derived.frame.with_columns(_derived=pl.lit(True))
    if source is None or source.height == 0:
        merged = frame
        src_cols: list[str] = []
    else:
        src = source.with_columns(pl.col("year").cast(pl.Int16))
        clash = [c for c in derived.columns if c in src.columns]
        src = src.rename({c: f"{c}__source" for c in clash})
        merged = src.join(frame, on=KEYS, how="full", coalesce=True)
        src_cols = clash
    is_derived = pl.col("_derived").fill_null(False)
    disagreements = 0
    if src_cols:
        diff = pl.sum_horizontal(
            (is_derived & pl.col(f"{c}__source").is_not_null() & pl.col(c).is_not_null()
             & (pl.col(f"{c}__source").cast(pl.Float64) - pl.col(c).cast(pl.Float64)).abs().gt(1e-9))
            .cast(pl.Int64)
            for c in src_cols
        )
        disagreements = int(merged.select(diff.sum()).item() or 0)
        merged = merged.with_columns(
            pl.when(is_derived).then(pl.col(c)).otherwise(pl.col(f"{c}__source")).alias(c) for c in src_cols
        ).drop([f"{c}__source" for c in src_cols])
    symbols = [f"{c}_symbol" for c in derived.columns if f"{c}_symbol" in merged.columns]
    merged = merged.with_columns(
        pl.when(is_derived).then(None).otherwise(pl.col(s)).alias(s) for s in symbols
    )
    if classification_year is None and source is not None and "classification_year" in source.columns:
        values = source["classification_year"].drop_nulls().unique()
        classification_year = int(values[0]) if values.len() == 1 else None
    fill = pl.lit(classification_year, pl.Int16) if classification_year is not None else pl.col("year")
    if "classification_year" in merged.columns:
        merged = merged.with_columns(pl.coalesce(pl.col("classification_year"), fill).cast(pl.Int16))
    else:
        merged = merged.with_columns(classification_year=fill.cast(pl.Int16))
    if derived.table == "kommune_settlement_year":
        from settlement_research.model.settlement import decision_status_expr

        for c in ("requested", "decided"):
            if c not in merged.columns:
                merged = merged.with_columns(pl.lit(None, pl.Int32).alias(c))
        status = decision_status_expr()
        merged = merged.with_columns(
            decision_status=pl.coalesce(pl.col("decision_status"), status)
            if "decision_status" in merged.columns else status
        )
    return merged.drop("_derived").sort(KEYS), disagreements


__all__ = [
    "DERIVATIONS", "Derived", "SETTLED_ROUTES", "derive_tables", "housing_by_kommune_year",
    "intro_by_kommune_year", "merge_with_source", "settlement_by_kommune_year",
]
