"""The generator's own analysis sample (used by benchmarks/coverage.py) is the notebooks' sample.

The coverage benchmark fits hundreds of registers from ``generator.analysis_frame`` instead of
rebuilding the person frame from the tables; that is only honest if both give the same persons
with the same values. These tests compare them row by row, for every allowed window, and for
notebook 05's sample (every leaver, no landmark), and check the truth is computed on that sample.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from settlement_research.analysis import indicators, models
from settlement_research.model import cast_to_model
from settlement_research.sources.synthetic.generator import Switches, analysis_frame, generate

PERSON = ["person", "household", "household_member", "settlement", "housing_spell", "intro_spell", "outcome_year"]
COLUMNS = ["kommune_nr", "settlement_year", "route", "age_at_settlement", "education", "household_type", "sex",
           "tenure_1y", "y"]


@pytest.fixture(scope="module")
def synth_and_frame() -> tuple:
    synth = generate(scale=0.1, seed=5, switches=Switches(hidden_confounder=0.5))
    tables = {k: cast_to_model(synth.tables[k], k) for k in PERSON}
    frames = {w: indicators.person_frame(tables, window_months=w) for w in (12, 24, 36)}
    return synth, frames


@pytest.mark.parametrize("window", [12, 24, 36])
def test_landmark_sample_is_the_notebooks_row_for_row(synth_and_frame: tuple, window: int) -> None:
    synth, frames = synth_and_frame
    kept, _ = indicators.landmark_sample(frames[window], window_months=window)
    notebook = kept.with_columns(pl.col("in_work_or_education").cast(pl.Int8).alias("y"))
    cheap = analysis_frame(synth, window)
    cols = [*COLUMNS, f"moves_{window}m"]

    def plain(frame: pl.DataFrame) -> pl.DataFrame:
        frame = models.collapse_rare(frame, "tenure_1y", min_count=50)
        return frame.select(pl.col(c).cast(pl.String) for c in cols).sort(cols)

    a, b = plain(notebook), plain(cheap)
    assert a.height == b.height == synth.ground_truth["effects"]["moves_on_work_or_education"]["by_window"][str(window)]["n"]
    assert a.equals(b)
    assert cheap["p"].is_between(0, 1).all() and cheap["p"].n_unique() > 100


def test_the_truth_is_what_the_model_converges_to_on_that_sample(synth_and_frame: tuple) -> None:
    # refit the notebook's LPM on the true probabilities (no outcome noise): it must return the truth
    synth, _ = synth_and_frame
    sample = models.collapse_rare(analysis_frame(synth, 24), "tenure_1y", min_count=50)
    fit = models.feols(sample.with_columns(pl.col("p").alias("y")),
                       "y ~ moves_24m + C(tenure_1y) + age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)")
    truth = synth.ground_truth["effects"]["moves_on_work_or_education"]["by_window"]["24"]["adjusted_lpm"]
    assert fit.term("moves_24m")["estimate"] == pytest.approx(truth, abs=2e-6)


def test_every_leaver_sample_is_notebook_05s(synth_and_frame: tuple) -> None:
    synth, frames = synth_and_frame
    notebook = frames[24].filter(pl.col("in_work_or_education").is_not_null() & (pl.col("age_at_settlement") >= 18))
    cheap = analysis_frame(synth, 24, landmark=False)
    assert cheap.height == notebook.height
    assert cheap["moves_24m"].null_count() == cheap.height - analysis_frame(synth, 24).height
    housing = synth.tables["kommune_housing_year"].select(
        "kommune_nr", pl.col("year").cast(pl.Int16).alias("settlement_year"),
        pl.col("municipal_dwellings_per_1000").alias("published"))
    joined = cheap.join(housing, on=["kommune_nr", "settlement_year"], how="left")
    assert np.allclose(joined["arrival_dwellings"].to_numpy(), joined["published"].to_numpy())
