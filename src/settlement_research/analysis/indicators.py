"""Indicators for the hypotheses of DESIGN §5, per person and per municipality-year.

Every window is a parameter: researchers disagree on what "stable" or "secondary migration" means,
and robustness checks need the definition to move.
"""

from __future__ import annotations

import polars as pl

DAYS_PER_MONTH = 30.4375
WORK_OR_EDUCATION = ["work", "education", "work_and_education"]
MUNICIPAL_TENURES = ["municipal_rental", "private_sublet_by_municipality"]
# Rungs of the housing ladder (boligkarriere): a move to a higher rung is a career step.
LADDER = {
    "temporary": 0, "shared_housing": 1, "municipal_rental": 1, "private_sublet_by_municipality": 2,
    "private_rental": 2, "owner_startlan": 3, "owner": 3,
}


def _observation_end(housing_spell: pl.DataFrame) -> pl.Expr:
    """Open spells are censored at the last date seen anywhere in the housing data."""
    last = max(
        d for d in (housing_spell["start_date"].max(), housing_spell["end_date"].max()) if d is not None
    )
    return pl.lit(last)


def _spells_with_settlement(settlement: pl.DataFrame, housing_spell: pl.DataFrame) -> pl.DataFrame:
    return housing_spell.join(
        settlement.select("person_id", "settlement_date", pl.col("kommune_nr").alias("first_kommune_nr")),
        on="person_id",
        how="inner",
    ).with_columns(pl.col("end_date").fill_null(_observation_end(housing_spell)).alias("_end"))


def housing_stability(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, window_months: int = 24
) -> pl.DataFrame:
    """Per person: moves, months in temporary and in municipal housing, career steps in the window.

    A move is the start of any spell after the first within ``window_months`` of settlement.
    """
    spells = _spells_with_settlement(settlement, housing_spell).with_columns(
        pl.col("settlement_date").dt.offset_by(f"{window_months}mo").alias("_window_end")
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
        starts_in_window.sum().cast(pl.Int32).alias(f"moves_{window_months}m"),
        pl.col("_months").filter(pl.col("tenure") == "temporary").sum().alias(f"months_temporary_{window_months}m"),
        pl.col("_months").filter(pl.col("tenure").is_in(MUNICIPAL_TENURES)).sum()
        .alias(f"months_municipal_{window_months}m"),
        (starts_in_window & (pl.col("_step") > 0)).sum().cast(pl.Int32).alias(f"career_steps_{window_months}m"),
    )
    return out.sort("person_id")


def tenure_at(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, years: tuple[int, ...] = (1, 3, 5)
) -> pl.DataFrame:
    """Per person: the tenure held 1, 3 and 5 years after settlement (null when not observed)."""
    spells = _spells_with_settlement(settlement, housing_spell)
    obs_end = _observation_end(housing_spell)
    out = settlement.select("person_id")
    for y in years:
        point = pl.col("settlement_date").dt.offset_by(f"{y}y")
        at = (
            spells.filter((pl.col("start_date") <= point) & (pl.col("_end") >= point) & (point <= obs_end))
            .sort("person_id", "spell_no")
            .group_by("person_id")
            .agg(pl.col("tenure").last().alias(f"tenure_{y}y"))
        )
        out = out.join(at, on="person_id", how="left")
    return out.sort("person_id")


def secondary_migration(
    settlement: pl.DataFrame, housing_spell: pl.DataFrame, *, years: int = 2
) -> pl.DataFrame:
    """Per person: left the first settlement municipality within ``years`` (sekundærflytting).

    Null when the window reaches beyond the end of observation (we cannot know yet).
    """
    spells = _spells_with_settlement(settlement, housing_spell)
    obs_end = housing_spell.select(_observation_end(housing_spell)).item()
    window_end = pl.col("settlement_date").dt.offset_by(f"{years}y")
    moved = (
        spells.filter((pl.col("kommune_nr") != pl.col("first_kommune_nr")) & (pl.col("start_date") <= window_end))
        .select("person_id").unique().with_columns(pl.lit(True).alias("_moved"))
    )
    col = f"left_first_kommune_{years}y"
    return (
        settlement.select("person_id", "settlement_date")
        .join(moved, on="person_id", how="left")
        .with_columns(
            pl.when(window_end > pl.lit(obs_end)).then(None)
            .otherwise(pl.col("_moved").fill_null(False)).alias(col)
        )
        .select("person_id", col)
        .sort("person_id")
    )


def intro_outcome(intro_spell: pl.DataFrame, outcome_year: pl.DataFrame, *, lag_years: int = 1) -> pl.DataFrame:
    """Per person who left the programme: in work or education ``lag_years`` after the end year.

    SSB measures status in November one year after leaving; persons whose status year is not yet
    observed get a null outcome, not a zero.
    """
    ended = (
        intro_spell.filter(pl.col("end_date").is_not_null())
        .sort("person_id", "spell_no")
        .group_by("person_id")
        .agg(pl.col("end_date").first().alias("intro_end_date"), pl.col("end_reason").first().alias("intro_end_reason"))
        .with_columns((pl.col("intro_end_date").dt.year() + lag_years).cast(pl.Int16).alias("outcome_year"))
    )
    status = outcome_year.select(
        "person_id", pl.col("year").alias("outcome_year"),
        pl.col("status").is_in(WORK_OR_EDUCATION).alias("in_work_or_education"),
    )
    return ended.join(status, on=["person_id", "outcome_year"], how="left").sort("person_id")


def person_frame(tables: dict[str, pl.DataFrame], *, window_months: int = 24, migration_years: int = 2) -> pl.DataFrame:
    """One analysis row per settled person: background, household, housing, programme and outcome."""
    settlement = tables["settlement"]
    household = tables["household_member"].join(tables["household"], on="household_id", how="left").select(
        "person_id", "household_type", pl.col("size").alias("household_size")
    )
    frame = (
        tables["person"]
        .join(settlement, on="person_id", how="inner")
        .join(household, on="person_id", how="left")
        .with_columns(
            (pl.col("settlement_date").dt.year() - pl.col("birth_year")).alias("age_at_settlement"),
            pl.col("settlement_date").dt.year().cast(pl.Int16).alias("settlement_year"),
        )
        .join(housing_stability(settlement, tables["housing_spell"], window_months=window_months), on="person_id", how="left")
        .join(tenure_at(settlement, tables["housing_spell"]), on="person_id", how="left")
        .join(secondary_migration(settlement, tables["housing_spell"], years=migration_years), on="person_id", how="left")
        .join(intro_outcome(tables["intro_spell"], tables["outcome_year"]), on="person_id", how="left")
    )
    return frame.sort("person_id")


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
        (pl.col("decided") / pl.col("requested")).alias("decided_requested_ratio"),
        (pl.col("settled") / pl.col("requested")).alias("settled_requested_ratio"),
    )
    if context_year is not None:
        panel = panel.join(context_year.select(*key, "population", "unemployment_share"), on=key, how="left")
        panel = panel.with_columns((pl.col("settled") / pl.col("population") * 1000).alias("settled_per_1000"))
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
