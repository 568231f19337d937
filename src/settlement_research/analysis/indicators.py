"""Indicators for the hypotheses of DESIGN §5, per person and per municipality-year.

Every window is a parameter: researchers disagree on what "stable" or "secondary migration" means,
and robustness checks need the definition to move.
"""

from __future__ import annotations

import polars as pl

DAYS_PER_MONTH = 30.4375
WORK_OR_EDUCATION = ["work", "education", "work_and_education"]
OUTCOME_DAY_OF_NOVEMBER = 15  # SSB's November status, dated mid-month
MUNICIPAL_TENURES = ["municipal_rental", "private_sublet_by_municipality"]
# Rungs of the housing ladder (boligkarriere): a move to a higher rung is a career step.
LADDER = {
    "temporary": 0, "shared_housing": 1, "municipal_rental": 1, "private_sublet_by_municipality": 2,
    "private_rental": 2, "owner_startlan": 3, "owner": 3,
}


# The definitions the notebooks rely on, stated once (rendered into docs/hypotheses.md).
DEFINITIONS: dict[str, str] = {
    "move": "a change of address: a housing spell with spell_no > 1 that began at a new address "
            "(housing_spell.new_address true or unknown); a new tenure in the same dwelling (leie-til-eie, a "
            "lease taken over) is not a move",
    "moves_<W>m": "moves on or before settlement_date + W calendar months; null (not 0) when the person is not "
                  "observed to the end of the window (window_complete_<W>m false)",
    "observed_until": "the last day a person is observed: the last date in the housing data, or the day before "
                      "person.emigration_date; emigration censors every indicator, emigrants are never stayers",
    "months_temporary_<W>m / months_municipal_<W>m": "months (30.4375 days) in temporary / municipal (incl. "
                                                     "sublet) tenures within the window; null when censored",
    "tenure_<Y>y": "tenure of the spell covering settlement_date + Y years; null when not observed then",
    "left_first_kommune_<N>y_after_<L>y": "landmark L years after settlement: among persons observed then and "
                                           "still living in the first municipality, a spell in another municipality "
                                           "starting in (landmark, landmark + N years]; null when not at risk at the "
                                           "landmark or censored before the window ends without a move",
    "in_work_or_education / outcome_date": "status work, education or both in November (the 15th) of the year after "
                                           "the first ended programme spell; null when not observed (not yet, or "
                                           "emigrated)",
    "landmark sample": "programme leavers whose outcome_date lies after max(settlement + W months, settlement + 1 "
                       "year) and whose moves window is complete: every exposure precedes the outcome",
    "ratios (decided/requested, settled/requested, settled per 1000)": "null when the base is 0 or missing, never "
                                                                       "NaN, inf or 0",
}


def _observation_end(housing_spell: pl.DataFrame) -> pl.Expr:
    """The last date the data cover: the last date seen anywhere in the housing data."""
    last = max(
        d for d in (housing_spell["start_date"].max(), housing_spell["end_date"].max()) if d is not None
    )
    return pl.lit(last)


def observation_end(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, person: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per person: the last day they are observed, the data's end or the day before emigration.

    Emigration censors: after it nothing is known, so a window reaching past it is incomplete.
    """
    out = settlement.select("person_id").with_columns(_observation_end(housing_spell).alias("observed_until"))
    if person is not None and "emigration_date" in person.columns:
        out = out.join(person.select("person_id", "emigration_date"), on="person_id", how="left").with_columns(
            pl.min_horizontal("observed_until", pl.col("emigration_date").dt.offset_by("-1d")).alias("observed_until")
        ).drop("emigration_date")
    return out


def _spells_with_settlement(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, person: pl.DataFrame | None = None
) -> pl.DataFrame:
    return housing_spell.join(
        settlement.select("person_id", "settlement_date", pl.col("kommune_nr").alias("first_kommune_nr")),
        on="person_id",
        how="inner",
    ).join(observation_end(settlement, housing_spell, person), on="person_id", how="left").with_columns(
        pl.col("end_date").fill_null(pl.col("observed_until")).alias("_end")
    )


def _is_move(columns: list[str]) -> pl.Expr:
    """A move is a change of address: a later spell that began at a new address.

    Where ``new_address`` is unknown (null, or a source without the column) every new spell counts.
    """
    new = pl.col("new_address").fill_null(True) if "new_address" in columns else pl.lit(True)
    return (pl.col("spell_no") > 1) & new


def housing_stability(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, window_months: int = 24,
    person: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per person: moves, months in temporary and in municipal housing, career steps in the window.

    A move is a change of address (``new_address``; a new tenure in the same dwelling is not one)
    on or before settlement + ``window_months``. A person not observed to the end of the window
    (data end or emigration) gets nulls and ``window_complete_<W>m`` false: never zero moves.
    """
    w = window_months
    spells = _spells_with_settlement(settlement, housing_spell, person).with_columns(
        pl.col("settlement_date").dt.offset_by(f"{w}mo").alias("_window_end")
    )
    in_window_days = (
        pl.min_horizontal("_end", "_window_end") - pl.max_horizontal("start_date", "settlement_date")
    ).dt.total_days().clip(lower_bound=0)
    spells = spells.sort("person_id", "spell_no").with_columns(
        (in_window_days / DAYS_PER_MONTH).alias("_months"),
        pl.col("tenure").replace_strict(LADDER, return_dtype=pl.Int8).alias("_rung"),
    ).with_columns(
        (pl.col("_rung") - pl.col("_rung").shift(1).over("person_id")).alias("_step"),
    )
    starts_in_window = (pl.col("spell_no") > 1) & (pl.col("start_date") <= pl.col("_window_end"))
    out = spells.group_by("person_id").agg(
        (pl.col("observed_until").first() >= pl.col("_window_end").first()).alias(f"window_complete_{w}m"),
        (_is_move(housing_spell.columns) & (pl.col("start_date") <= pl.col("_window_end"))).sum().cast(pl.Int32).alias(f"moves_{w}m"),
        pl.col("_months").filter(pl.col("tenure") == "temporary").sum().alias(f"months_temporary_{w}m"),
        pl.col("_months").filter(pl.col("tenure").is_in(MUNICIPAL_TENURES)).sum().alias(f"months_municipal_{w}m"),
        (starts_in_window & (pl.col("_step") > 0)).sum().cast(pl.Int32).alias(f"career_steps_{w}m"),
    )
    complete = pl.col(f"window_complete_{w}m")
    measures = [f"moves_{w}m", f"months_temporary_{w}m", f"months_municipal_{w}m", f"career_steps_{w}m"]
    out = out.with_columns(pl.when(complete).then(pl.col(c)).otherwise(None).alias(c) for c in measures)
    return out.sort("person_id")


def tenure_at(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, years: tuple[int, ...] = (1, 3, 5),
    person: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per person: the tenure held 1, 3 and 5 years after settlement (null when not observed then)."""
    spells = _spells_with_settlement(settlement, housing_spell, person)
    out = settlement.select("person_id")
    for y in years:
        point = pl.col("settlement_date").dt.offset_by(f"{y}y")
        at = (
            spells.filter((pl.col("start_date") <= point) & (pl.col("_end") >= point)
                          & (point <= pl.col("observed_until")))
            .sort("person_id", "spell_no")
            .group_by("person_id")
            .agg(pl.col("tenure").last().alias(f"tenure_{y}y"))
        )
        out = out.join(at, on="person_id", how="left")
    return out.sort("person_id")


def secondary_migration(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, years: int = 2, from_years: int = 0,
    person: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per person: left the first settlement municipality within ``years`` after a landmark.

    Landmark design: the landmark is settlement + ``from_years``; only persons observed there and
    still living in the first municipality are at risk (others null), so an exposure measured at the
    landmark (tenure) comes before the outcome. Null as well when the window reaches past the
    person's observation (data end or emigration) without a move: emigrants are censored, not stayers.
    """
    spells = _spells_with_settlement(settlement, housing_spell, person)
    landmark = pl.col("settlement_date").dt.offset_by(f"{from_years}y")
    window_end = landmark.dt.offset_by(f"{years}y")
    at_landmark = (
        spells.filter((pl.col("start_date") <= landmark) & (pl.col("_end") >= landmark)
                      & (landmark <= pl.col("observed_until")))
        .group_by("person_id")
        .agg((pl.col("kommune_nr").sort_by("spell_no").last() == pl.col("first_kommune_nr").first()).alias("_at_risk"))
    )
    moved = (
        spells.filter((pl.col("kommune_nr") != pl.col("first_kommune_nr")) & (pl.col("start_date") > landmark)
                      & (pl.col("start_date") <= window_end))
        .select("person_id").unique().with_columns(pl.lit(True).alias("_moved"))
    )
    col = f"left_first_kommune_{years}y" + (f"_after_{from_years}y" if from_years else "")
    return (
        settlement.select("person_id", "settlement_date")
        .join(observation_end(settlement, housing_spell, person), on="person_id", how="left")
        .join(at_landmark, on="person_id", how="left")
        .join(moved, on="person_id", how="left")
        .with_columns(
            pl.when(~pl.col("_at_risk").fill_null(False)).then(None)
            .when(pl.col("_moved").fill_null(False)).then(True)
            .when(window_end > pl.col("observed_until")).then(None)
            .otherwise(False).alias(col)
        )
        .select("person_id", col)
        .sort("person_id")
    )


def intro_outcome(intro_spell: pl.DataFrame, outcome_year: pl.DataFrame, *, lag_years: int = 1) -> pl.DataFrame:
    """Per person who left the programme: in work or education ``lag_years`` after the end year.

    SSB measures status in November (the 15th here: ``outcome_date``) one year after leaving;
    persons whose status year is not yet observed (or who emigrated) get a null outcome, not a zero.
    """
    ended = (
        intro_spell.filter(pl.col("end_date").is_not_null())
        .sort("person_id", "spell_no")
        .group_by("person_id")
        .agg(pl.col("end_date").first().alias("intro_end_date"), pl.col("end_reason").first().alias("intro_end_reason"))
        .with_columns((pl.col("intro_end_date").dt.year() + lag_years).cast(pl.Int16).alias("outcome_year"))
        .with_columns(pl.date(pl.col("outcome_year"), 11, OUTCOME_DAY_OF_NOVEMBER).alias("outcome_date"))
    )
    status = outcome_year.select(
        "person_id", pl.col("year").alias("outcome_year"),
        pl.col("status").is_in(WORK_OR_EDUCATION).alias("in_work_or_education"),
    )
    return ended.join(status, on=["person_id", "outcome_year"], how="left").sort("person_id")


def person_frame(
    tables: dict[str, pl.DataFrame], *, window_months: int = 24, migration_years: int = 2,
    migration_from_years: int = 1,
) -> pl.DataFrame:
    """One analysis row per settled person: background, household, housing, programme and outcome.

    Secondary migration is measured after a landmark (``migration_from_years`` after settlement,
    where tenure_1y is measured), so tenure precedes it; emigration censors every indicator.
    """
    settlement, spells, person = tables["settlement"], tables["housing_spell"], tables["person"]
    household = tables["household_member"].join(tables["household"], on="household_id", how="left").select(
        "person_id", "household_type", pl.col("size").alias("household_size"), "role",
    )
    migration = secondary_migration(settlement, spells, years=migration_years, from_years=migration_from_years,
                                    person=person)
    frame = (
        person
        .join(settlement, on="person_id", how="inner")
        .join(household, on="person_id", how="left")
        .with_columns(
            (pl.col("settlement_date").dt.year() - pl.col("birth_year")).alias("age_at_settlement"),
            pl.col("settlement_date").dt.year().cast(pl.Int16).alias("settlement_year"),
        )
        .join(housing_stability(settlement, spells, window_months=window_months, person=person), on="person_id", how="left")
        .join(tenure_at(settlement, spells, person=person), on="person_id", how="left")
        .join(migration, on="person_id", how="left")
        .join(intro_outcome(tables["intro_spell"], tables["outcome_year"]), on="person_id", how="left")
    )
    return frame.sort("person_id")


def landmark_sample(frame: pl.DataFrame, *, window_months: int, tenure_years: int = 1) -> tuple[pl.DataFrame, int]:
    """Persons whose outcome is observed after every exposure window closed, and how many left out.

    The landmark is max(settlement + ``window_months`` months, settlement + ``tenure_years``): moves
    and tenure are measured up to it, the outcome (``outcome_date``) strictly after it, and only
    persons with a complete moves window are kept. Without this, a move after the outcome would be
    counted as its cause.
    """
    observed = frame.filter(pl.col("in_work_or_education").is_not_null())
    landmark = pl.max_horizontal(pl.col("settlement_date").dt.offset_by(f"{window_months}mo"),
                                 pl.col("settlement_date").dt.offset_by(f"{tenure_years}y"))
    kept = observed.filter((pl.col("outcome_date") > landmark) & pl.col(f"moves_{window_months}m").is_not_null())
    return kept, observed.height - kept.height


def ratio(numerator: str, denominator: str) -> pl.Expr:
    """numerator / denominator, null when the base is 0 or null (never NaN or inf)."""
    base = pl.col(denominator)
    return pl.when(base.is_null() | (base == 0)).then(None).otherwise(pl.col(numerator) / base)


def kommune_year_frame(
    settlement_year: pl.DataFrame,
    context_year: pl.DataFrame | None = None,
    housing_year: pl.DataFrame | None = None,
    intro_year: pl.DataFrame | None = None,
    settlement: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Municipality-year panel: decided/requested, settled per 1000, status, speed, housing, outcomes.

    All inputs must share one classification year of codes (harmonise first); the join refuses
    otherwise rather than silently mismatching municipalities.
    """
    frames = [f for f in (settlement_year, context_year, housing_year, intro_year) if f is not None]
    years = {y for f in frames if "classification_year" in f.columns for y in f["classification_year"].unique()}
    if len(years) > 1:
        raise ValueError(
            f"inputs mix classification years {sorted(years)}; harmonise them first "
            "(settlement_research.harmonize.harmonize(frame, to_year=...))"
        )
    key = ["kommune_nr", "year"]
    panel = settlement_year.with_columns(
        ratio("decided", "requested").alias("decided_requested_ratio"),
        ratio("settled", "requested").alias("settled_requested_ratio"),
    )
    if context_year is not None:
        panel = panel.join(context_year.select(*key, "population", "unemployment_share"), on=key, how="left")
        panel = panel.with_columns((ratio("settled", "population") * 1000).alias("settled_per_1000"))
    if housing_year is not None:
        keep = [c for c in ("municipal_dwellings_per_1000", "startlan_per_1000", "throughput", "refused_share")
                if c in housing_year.columns]
        panel = panel.join(housing_year.select(*key, *keep), on=key, how="left")
    if intro_year is not None:
        panel = panel.join(intro_year.select(*key, "participants", "work_education_share"), on=key, how="left")
    if settlement is not None:
        speed = (
            settlement.with_columns(pl.col("settlement_date").dt.year().cast(pl.Int16).alias("year"))
            .group_by("kommune_nr", "year")
            .agg((pl.col("months_waited") <= 6).mean().alias("settled_within_6m_share"),
                 pl.col("months_waited").mean().alias("months_waited_mean"))
        )
        panel = panel.join(speed, on=key, how="left")
    return panel.sort(key)
