"""notebooks/municipality_profile.py on a tiny synthetic data_clean (the shared ``tiny_register``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from settlement_research import sdc
from settlement_research.analysis import profile as pr

KEY_NUMBERS = ["kommune_nr", "kommune_name", "requested", "decided", "settled", "work_education_share",
               "work_education_share_norway", "coordination_index", "settled_by_year"]


@pytest.fixture(scope="module")
def tiny_clean(tiny_register: Path) -> Path:
    return tiny_register / "clean"


@pytest.fixture(scope="module")
def totals(tiny_clean: Path) -> pl.DataFrame:
    frame = pl.read_parquet(tiny_clean / "synthetic" / "kommune_settlement_year.parquet")
    return frame.filter(pl.col("year").is_between(2009, 2014)).group_by("kommune_nr").agg(
        pl.col("settled").sum(), pl.col("requested").sum()).sort("kommune_nr")


def render(kommune_nr: str, out: Path) -> tuple[Any, str, dict[str, Any]]:
    from settlement_research.reports.runner import run_notebook

    outcome = run_notebook("municipality_profile", {"kommune_nr": kommune_nr}, out)
    assert outcome.status == "ok", outcome.error
    page = (out / outcome.html).read_text("utf-8")
    results = json.loads((out / outcome.results_file).read_text("utf-8"))
    return outcome, page, results


def test_oslo_renders_with_string_parameter_and_key_numbers(tiny_clean: Path, totals: pl.DataFrame,
                                                            tmp_path: Path) -> None:
    outcome, page, results = render("0301", tmp_path)
    assert outcome.parameters == {"kommune_nr": "0301"}
    assert results["kommune_nr"] == "0301" and "(0301" in page
    assert set(KEY_NUMBERS) <= set(results)
    assert "settled" in results["_sdc"] and "settled_by_year" in results["_sdc"]
    oslo = totals.filter(pl.col("kommune_nr") == "0301").row(0, named=True)
    assert results["requested"] == oslo["requested"]
    assert results["settled"] == sdc.safe_count(oslo["settled"])
    assert outcome.findings == []  # the gate ran inside the render, with the render's key
    # the same files audited later: their marks were signed under a key that no longer exists
    later = sdc.audit_report(tmp_path / outcome.html, tmp_path / outcome.results_file, tmp_path / outcome.notebook)
    assert "forged_mark" in {f.kind for f in later}
    assert "import polars" not in page and "save_results" not in page  # no code in the note
    assert page.count("<svg") == 2 and "<img" not in page  # two charts, inline SVG with text as text


def test_few_settled_shows_suppressed_not_the_count(tiny_clean: Path, totals: pl.DataFrame, tmp_path: Path) -> None:
    three = totals.filter(pl.col("settled") == 3)
    assert three.height, "the tiny register has a municipality that settled 3"
    code = three["kommune_nr"][0]
    outcome, page, results = render(code, tmp_path)
    assert results["settled"] is None
    assert all(v is None or v == 0 or v >= sdc.threshold() for v in results["settled_by_year"].values())
    text = re.sub(r"<[^>]+>", "", page)
    assert "settled a number that is not shown (':')" in text
    assert "settled 3" not in text
    assert outcome.findings == []
    # the municipality's own row in the peer table shows ':' for settled
    peers = page.split("and five peers")[1].split("</tr>")[1]
    assert 'data-sdc="suppressed"' in peers


def test_no_requests_is_said_in_words(tiny_clean: Path, totals: pl.DataFrame, tmp_path: Path) -> None:
    none = totals.filter(pl.col("requested") == 0)
    assert none.height
    _, page, results = render(none["kommune_nr"][0], tmp_path)
    assert "was not asked by IMDi to settle refugees" in re.sub(r"<[^>]+>", "", page)
    assert not results["requested"]


def test_secondary_suppression_protects_the_shown_total() -> None:
    years = pl.DataFrame({
        "year": pl.Series([2009, 2010, 2011], dtype=pl.Int16), "requested": [10, 10, 10], "decided": [10, 10, 10],
        "decision_status": ["as_requested"] * 3, "settled": pl.Series([3, 12, 40], dtype=pl.Int32),
        "requested_symbol": [None] * 3, "decided_symbol": [None] * 3, "settled_symbol": [None] * 3,
    }, schema_overrides={"requested_symbol": pl.String, "decided_symbol": pl.String, "settled_symbol": pl.String})
    shown = pr.settlement_table(years)
    assert shown["settled"].to_list() == [None, None, 40]  # 3 primary, 12 so that 55 - 40 does not give it away
    assert pr.settlement_totals(years)["settled"] == 55
    assert pr.settlement_totals(years.with_columns(pl.Series("settled", [3, 0, 0], dtype=pl.Int32)))["settled"] is None


@pytest.mark.slow  # starts worker processes
def test_batch_after_in_process_runs_keeps_codes_as_strings_and_caches(tiny_clean: Path, tmp_path: Path) -> None:
    from settlement_research.reports.batch import run_batch

    sets = [{"kommune_nr": "0301"}, {"kommune_nr": "0101"}]
    first = run_batch("municipality_profile", sets, tmp_path, workers=1, progress=False)
    assert first["failed"] == 0 and first["rendered"] == 2
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert [r["parameters"]["kommune_nr"] for r in manifest["reports"]] == ["0301", "0101"]
    assert (tmp_path / "kommune_nr-0301.html").is_file() and "0301" in (tmp_path / "index.html").read_text("utf-8")
    second = run_batch("municipality_profile", sets, tmp_path, workers=1, progress=False)
    assert second["rendered"] == 0 and all(r["cached"] for r in second["reports"])
