"""Calibration to DESIGN §4 and recoverability of the injected effects (ground_truth.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf

from settlement_research.sources.synthetic import calibration as cal
from settlement_research.sources.synthetic import reader
from settlement_research.sources.synthetic.generator import generate
from settlement_research.sources.synthetic.writer import write_register

WORK_OR_EDUCATION = ["work", "education", "work_and_education"]


@pytest.fixture(scope="module")
def scale_one() -> dict[str, pl.DataFrame]:
    return generate(scale=1.0, seed=2014).tables


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pl.DataFrame], dict]:
    out = tmp_path_factory.mktemp("truth")
    write_register(out, scale=0.5, seed=21)
    tables = {k: v.collect() for k, v in reader.read(out).items()}
    return tables, json.loads((out / "ground_truth.json").read_text("utf-8"))


def test_settled_per_year_within_two_percent_at_scale_one(scale_one: dict[str, pl.DataFrame]) -> None:
    ksy = scale_one["kommune_settlement_year"].group_by("year").agg(pl.col("settled").sum()).sort("year")
    for year, settled in ksy.iter_rows():
        published = cal.PUBLISHED[year]["settled"]
        assert abs(settled - published) <= 0.02 * published, year
    person_level = (
        scale_one["settlement"].filter(pl.col("route") != "own")
        .group_by(pl.col("settlement_date").dt.year().alias("year")).len().sort("year")
    )
    assert person_level["len"].to_list() == ksy["settled"].to_list()


def test_waiting_times_follow_the_published_series(scale_one: dict[str, pl.DataFrame]) -> None:
    s = scale_one["settlement"].filter(pl.col("route") != "own").group_by(
        pl.col("settlement_date").dt.year().alias("year")
    ).agg((pl.col("months_waited") <= 6).mean().alias("share"), pl.col("months_waited").mean().alias("months"))
    for year, share, months in s.sort("year").iter_rows():
        assert abs(share - cal.PUBLISHED[year]["within_6m_pct"] / 100) < 0.03, year
        assert abs(months - cal.PUBLISHED[year]["months"]) < 0.6, year
    shares = s.sort("year")["share"].to_list()
    assert shares[0] > shares[-1] + 0.2  # faster settlement in 2009 than in 2014


def test_households_and_programme_look_realistic(scale_one: dict[str, pl.DataFrame]) -> None:
    t = scale_one
    members = t["household_member"].join(t["household"], on="household_id").join(t["person"], on="person_id")
    single_adults = members.filter((pl.col("household_type") == "single") & ~pl.col("unaccompanied_minor")).height
    assert 0.65 <= single_adults / members.height <= 0.75
    types = set(t["household"]["household_type"])
    assert types == {"single", "couple", "family_with_children", "single_parent"}
    assert 0.03 <= t["person"]["unaccompanied_minor"].mean() <= 0.08
    reasons = t["intro_spell"]["end_reason"].value_counts().sort("end_reason")
    assert set(reasons["end_reason"]) == {"completed", "interrupted", "ongoing"}
    start_lag = (t["intro_spell"].join(t["settlement"], on="person_id")
                 .select((pl.col("start_date") - pl.col("settlement_date")).dt.total_days()))
    assert start_lag.to_series().median() < 120
    tenures = set(t["housing_spell"]["tenure"])
    assert {"municipal_rental", "private_rental", "owner_startlan", "private_sublet_by_municipality",
            "shared_housing", "temporary"} <= tenures
    first = t["housing_spell"].filter(pl.col("spell_no") == 1).join(t["settlement"], on="person_id")
    assert (first["start_date"] == first["settlement_date"]).all()
    assert (first["kommune_nr"] == first["kommune_nr_right"]).all()
    moved = t["housing_spell"].join(t["settlement"], on="person_id").filter(
        pl.col("kommune_nr") != pl.col("kommune_nr_right"))["person_id"].n_unique()
    assert 0.05 < moved / t["person"].height < 0.5  # secondary migration for some
    assert t["housing_spell"]["end_date"].max() <= cal.FOLLOW_UP_END
    assert t["outcome_year"]["year"].max() == cal.FOLLOW_UP_END.year


def test_every_municipality_year_has_a_spread_of_decisions(scale_one: dict[str, pl.DataFrame]) -> None:
    ksy = scale_one["kommune_settlement_year"]
    assert ksy.height == 428 * 6
    assert ksy.select(pl.col("requested", "settled").null_count()).row(0) == (0, 0)
    ksy = ksy.with_columns(
        pl.when(pl.col("decided").is_null()).then(pl.lit("no_decision"))
        .when(pl.col("decided") == 0).then(pl.lit("declined"))
        .when(pl.col("decided") < pl.col("requested")).then(pl.lit("fewer"))
        .otherwise(pl.lit("as_requested")).alias("status")
    )
    shares = dict(ksy["status"].value_counts(normalize=True).iter_rows())
    assert set(shares) == {"as_requested", "fewer", "declined", "no_decision"}
    assert all(v > 0.03 for v in shares.values()), shares


def test_share_in_work_or_education_one_year_after_is_near_published(
    extract: tuple[dict[str, pl.DataFrame], dict],
) -> None:
    _tables, truth = extract
    assert 0.45 <= truth["analysis_sample"]["share_in_work_or_education"] <= 0.55
    assert truth["analysis_sample"]["mean_structural_probability"] == pytest.approx(
        cal.WORK_EDUCATION_ONE_YEAR_TARGET, abs=1e-3)


def _person_sample(t: dict[str, pl.DataFrame], window: int = 24) -> pl.DataFrame:
    """The ground truth's landmark sample and exposures, computed from the tables by their definitions
    (plain polars, independent of analysis.indicators)."""
    obs_end = t["housing_spell"].select(pl.max_horizontal(pl.col("start_date").max(), pl.col("end_date").max())).item()
    spells = t["housing_spell"].join(t["settlement"].select("person_id", "settlement_date"), on="person_id")
    moves = spells.group_by("person_id").agg(
        ((pl.col("spell_no") > 1) & pl.col("new_address")
         & (pl.col("start_date") <= pl.col("settlement_date").dt.offset_by(f"{window}mo"))).sum().alias("moves")
    )
    point = pl.col("settlement_date").dt.offset_by("1y")
    tenure = spells.filter(
        (pl.col("start_date") <= point) & (pl.col("end_date").fill_null(obs_end) >= point)
    ).select("person_id", pl.col("tenure").alias("tenure_1y"))
    ended = t["intro_spell"].filter(pl.col("end_date").is_not_null()).select(
        "person_id", (pl.col("end_date").dt.year() + 1).cast(pl.Int16).alias("year"))
    y = ended.join(t["outcome_year"], on=["person_id", "year"]).select(
        "person_id", "year", pl.col("status").is_in(WORK_OR_EDUCATION).cast(pl.Int8).alias("y"))
    landmark = pl.max_horizontal(pl.col("settlement_date").dt.offset_by(f"{window}mo"), point)
    d = (
        y.join(moves, on="person_id").join(tenure, on="person_id")
        .join(t["person"], on="person_id").join(t["settlement"], on="person_id")
        .join(t["household_member"].join(t["household"], on="household_id"), on="person_id")
        .filter(pl.date(pl.col("year"), 11, 15) > landmark)
        .with_columns(
            (pl.col("settlement_date").dt.year() - pl.col("birth_year")).alias("age"),
            (pl.col("sex") == "male").cast(pl.Int8).alias("male"),
        )
    )
    # tenures held by fewer than 50 are merged, or left out when even together they are fewer
    counts = d["tenure_1y"].value_counts()
    rare = counts.filter(pl.col("count") < 50)
    if rare["count"].sum() < 50:
        return d.filter(~pl.col("tenure_1y").is_in(rare["tenure_1y"].implode()))
    return d.with_columns(pl.when(pl.col("tenure_1y").is_in(rare["tenure_1y"].implode())).then(pl.lit("other (rare)"))
                          .otherwise(pl.col("tenure_1y")).alias("tenure_1y"))


ADJUSTED = (
    "y ~ moves + C(tenure_1y, Treatment('municipal_rental')) + age + I((age - 30) ** 2) + C(education)"
    " + C(household_type) + male"
)


@pytest.mark.parametrize("window", [12, 24, 36])
def test_moves_effect_is_recovered_per_window_and_the_naive_slope_is_biased(
    extract: tuple[dict[str, pl.DataFrame], dict], window: int,
) -> None:
    tables, truth = extract
    d = _person_sample(tables, window)
    eff = truth["effects"]["moves_on_work_or_education"]["by_window"][str(window)]
    assert d.height == eff["n"]
    naive = np.polyfit(d["moves"].to_numpy(), d["y"].to_numpy(), 1)[0]
    assert naive == pytest.approx(eff["naive_ols_slope"], abs=1e-6)  # same sample, same definitions
    fit = smf.ols(ADJUSTED, d.to_pandas()).fit(cov_type="HC1")
    est, se = fit.params["moves"], fit.bse["moves"]
    assert eff["adjusted_lpm"] < -0.02
    assert abs(est - eff["adjusted_lpm"]) < 3 * se  # the model's own estimand
    assert abs(naive - eff["adjusted_lpm"]) > 2 * se  # confounding: the naive slope is off
    if window <= 24:
        assert abs(eff["causal_ame"] - eff["adjusted_logit_ame"]) < 0.005
    else:
        assert eff["causal_ame"] is None  # timing-dependent: no single causal number to compare with


def test_windows_have_different_truths(extract: tuple[dict[str, pl.DataFrame], dict]) -> None:
    _tables, truth = extract
    by = truth["effects"]["moves_on_work_or_education"]["by_window"]
    assert by["36"]["adjusted_logit_ame"] > by["24"]["adjusted_logit_ame"] + 0.005  # diluted by late moves
    assert by["12"]["n"] > by["24"]["n"] > by["36"]["n"]  # later landmark, fewer outcomes after it


def test_tenure_effect_is_recovered(extract: tuple[dict[str, pl.DataFrame], dict]) -> None:
    tables, truth = extract
    d = _person_sample(tables)
    eff = truth["effects"]["tenure_1y_on_work_or_education"]["by_window"]["24"]["contrasts"]["owner_startlan"]
    owners = d.filter(pl.col("tenure_1y") == "owner_startlan")
    assert owners.height == eff["n_exposed"]
    naive = owners["y"].mean() - d.filter(pl.col("tenure_1y") == "municipal_rental")["y"].mean()
    assert naive == pytest.approx(eff["naive_difference"], abs=1e-6)
    fit = smf.ols(ADJUSTED, d.to_pandas()).fit()
    est = fit.params["C(tenure_1y, Treatment('municipal_rental'))[T.owner_startlan]"]
    se = fit.bse["C(tenure_1y, Treatment('municipal_rental'))[T.owner_startlan]"]
    assert eff["causal_ame"] > 0.05
    assert abs(est - eff["adjusted_lpm"]) < 2.5 * se


def test_moves_are_changes_of_address_and_emigrants_leave(extract: tuple[dict[str, pl.DataFrame], dict]) -> None:
    tables, _truth = extract
    spells = tables["housing_spell"]
    assert spells.filter(pl.col("spell_no") == 1)["new_address"].all()
    same = spells.filter(~pl.col("new_address"))
    assert same.height > 0 and set(same["tenure"]) <= {"owner_startlan", "private_rental"}
    emigrants = tables["person"].filter(pl.col("emigration_date").is_not_null())
    assert 0.03 < emigrants.height / tables["person"].height < 0.25
    late = tables["outcome_year"].join(emigrants, on="person_id").filter(
        pl.date(pl.col("year"), 11, 15) >= pl.col("emigration_date"))
    assert late.height == 0  # nobody is observed after emigrating
    last = spells.join(emigrants, on="person_id").group_by("person_id").agg(
        pl.col("end_date").sort_by("spell_no").last(), pl.col("emigration_date").first())
    gap = last.select((pl.col("emigration_date") - pl.col("end_date")).dt.total_days()).to_series()
    assert (gap == 1).all()


def test_dwellings_effect_is_recovered_and_the_naive_slope_is_biased(
    extract: tuple[dict[str, pl.DataFrame], dict],
) -> None:
    tables, truth = extract
    eff = truth["effects"]["municipal_dwellings_on_decided_requested"]
    panel = (
        tables["kommune_settlement_year"]
        .join(tables["kommune_housing_year"].select("kommune_nr", "year", "municipal_dwellings_per_1000"),
              on=["kommune_nr", "year"])
        .join(tables["kommune"].select("kommune_nr", "centrality"), on="kommune_nr")
        .filter((pl.col("requested") > 0) & pl.col("decided").is_not_null()
                & pl.col("municipal_dwellings_per_1000").is_not_null())
        .with_columns((pl.col("decided") / pl.col("requested")).alias("ratio"))
        .to_pandas()
    )
    adjusted = smf.ols("ratio ~ municipal_dwellings_per_1000 + C(centrality)", panel).fit()
    naive = smf.ols("ratio ~ municipal_dwellings_per_1000", panel).fit()
    est = adjusted.params["municipal_dwellings_per_1000"]
    naive_est = naive.params["municipal_dwellings_per_1000"]
    truth_ame = eff["ame_plus_one"]
    assert truth_ame > 0.005
    assert abs(est - truth_ame) < 0.004
    assert abs(naive_est - truth_ame) > 2 * abs(est - truth_ame)
    assert abs(eff["naive_ols_slope"] - truth_ame) > 0.004


def test_ground_truth_names_its_estimands(extract: tuple[dict[str, pl.DataFrame], dict]) -> None:
    _tables, truth = extract
    for name, eff in truth["effects"].items():
        assert len(eff["estimand"]) > 100, name
        assert eff["confounders"], name
    assert truth["outcome_model"]["moves"] == cal.MOVES_LOGIT


@pytest.mark.parametrize("window", [12, 24, 36])
def test_indicators_of_the_analysis_layer_match_the_truth_definitions(
    extract: tuple[dict[str, pl.DataFrame], dict], window: int,
) -> None:
    from settlement_research.analysis import indicators, models

    tables, truth = extract
    frame, _left_out = indicators.landmark_sample(indicators.person_frame(tables, window_months=window),
                                                  window_months=window)
    frame = models.collapse_rare(frame, "tenure_1y", min_count=50)
    assert frame.height == truth["effects"]["moves_on_work_or_education"]["by_window"][str(window)]["n"]
    mine = _person_sample(tables, window).select("person_id", pl.col("moves").alias(f"moves_{window}m"),
                                                 "tenure_1y").sort("person_id")
    theirs = frame.select("person_id", f"moves_{window}m", "tenure_1y").sort("person_id")
    assert mine.cast(dict(theirs.schema)).equals(theirs)


def test_scale_changes_size_not_shape(tmp_path: Path) -> None:
    small = generate(scale=0.02, seed=1).tables
    larger = generate(scale=0.1, seed=1).tables
    assert small["settlement"].height < larger["settlement"].height
    assert small["kommune"].height == larger["kommune"].height == cal.N_MUNICIPALITIES_2014
