"""Notebooks 01 and 03 on IMDi's real 2015 exports (flat + raw wide), built into a tmp data_clean.

01 must compute the national figures from the municipality rows and set them against IMDi's own
national row; 03 must examine what the real data allow (size, population, settled per 1000) with
the tables harmonised to one classification year. Skipped without ../shared/real_data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from settlement_research.build import build
from settlement_research.reports.runner import run_notebook
from settlement_research.sources import imdi

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

NATIONAL_TOLERANCE = 0.05  # relations.check_relations' default for municipal sums vs the national row


@pytest.fixture(scope="module")
def imdi_clean(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("imdi_notebooks")
    files = sorted((real_data / "imdi_2015_flat").glob("*.csv")) + sorted((real_data / "imdi_2015_raw").glob("*.csv"))
    imdi.write_outputs(imdi.import_files(files), root / "raw" / "imdi")
    build(root / "raw", root / "clean", log=lambda _msg: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        mp.setenv("SETTLEMENT_RESEARCH_SOURCE", "imdi")
        yield root / "clean"


def _run(name: str, out: Path) -> dict[str, Any]:
    outcome = run_notebook(name, {"source": "imdi"}, out)
    assert outcome.status == "ok", outcome.error
    assert outcome.results_file is not None
    results = json.loads((out / outcome.results_file).read_text("utf-8"))
    assert results["source"] == "imdi"
    return results


def test_national_overview_sums_the_real_municipality_rows(imdi_clean: Path, tmp_path: Path) -> None:
    results = _run("01_national_overview", tmp_path)
    assert results["data_years"] == [2012, 2013, 2014]
    assert results["municipalities_by_year"] == {"2012": 428, "2013": 428, "2014": 428}
    # independent: the municipality rows of the clean table, summed here
    s = pl.read_parquet(imdi_clean / "imdi" / "kommune_settlement_year.parquet")
    expected = dict(s.group_by("year").agg(pl.col("settled").sum()).sort("year").iter_rows())
    assert results["settled_by_year"] == {str(y): v for y, v in expected.items()}
    national = results["national_settled_by_year"]
    assert national == {"2012": 5757, "2013": 6511, "2014": 7784}  # IMDi's fylke 00 rows
    for year, settled in results["settled_by_year"].items():
        gap = (settled - national[year]) / national[year]
        assert -NATIONAL_TOLERANCE <= gap <= 0, (year, gap)  # suppressed/unknown cells: never above
        assert results["relative_gap_by_year"][year] == pytest.approx(gap)
    status = results["decision_status_last_year"]
    assert status["year"] == 2014
    assert sum(status[k] for k in ("as_requested", "fewer", "declined", "no_decision")) == 428


def test_municipal_factors_examines_size_on_real_data(imdi_clean: Path, tmp_path: Path) -> None:
    results = _run("03_municipal_factors", tmp_path)
    assert results["classification_year"] == 2014 and results["municipalities"] == 428
    assert results["panel_years"] == [2012, 2013, 2014]
    assert results["primary_effect"] is None and results["within_effect"] is None  # no housing data
    by_size = results["settled_per_1000_by_size"]
    assert [g["size_group"] for g in by_size] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert sum(g["municipality_years"] for g in by_size) == 3 * 428
    medians = [g["median_population"] for g in by_size]
    assert medians == sorted(medians) and medians[0] < 2_000 < 20_000 < medians[-1]
    # refugees settled per 1000 inhabitants: a few per 1000 a year in 2012-2014, never tens
    assert all(0.5 < g["settled_per_1000"] < 5 for g in by_size)
    h11 = results["h11_log_population"]
    assert h11 is not None and h11["ci_low"] <= h11["estimate"] <= h11["ci_high"]
    assert results["n_obs"] > 900  # municipality-years with a request and a decision


def test_register_designs_say_in_one_line_that_they_need_the_register(imdi_clean: Path, tmp_path: Path) -> None:
    """02 stops, 05 skips its cells: both end ok (exit 0) with the same line from catalog.needs_note."""
    import argparse

    import nbformat

    from settlement_research.reports.runner import cli_run

    stopped = _run("02_housing_stability_and_outcomes", tmp_path / "02")
    assert stopped["not_applicable"] == "Source `imdi` has no person-level register: this design cannot be run on it."
    nb = nbformat.read(tmp_path / "02" / "02_housing_stability_and_outcomes.ipynb", as_version=4)
    shown = [o for c in nb.cells for o in c.get("outputs", [])]
    assert [o["output_type"] for o in shown] == ["error"] and shown[0]["traceback"] == [stopped["not_applicable"]]
    skipped = _run("05_dispersal_policy", tmp_path / "05")
    assert skipped["ordinary_work_effect"] is None
    page = (tmp_path / "05" / "05_dispersal_policy.html").read_text("utf-8")
    assert "has no person-level register or no municipal housing table: this design cannot be run on it." in page
    for name in ("02_housing_stability_and_outcomes", "05_dispersal_policy"):  # the CLI's exit code
        args = argparse.Namespace(name=name, parameter=["source=imdi"], out=tmp_path / f"cli_{name}", engine="inprocess")
        assert cli_run(args) == 0, name
