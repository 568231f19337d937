"""The reviewer's report: plausibility ranked worst first, rules that passed, profile, Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research import plausibility, review
from settlement_research.cli import main
from settlement_research.testing import make_aggregates
from settlement_research.validation import validate

KSY = "kommune_settlement_year"


def _clean(n_kommuner: int = 40) -> pl.DataFrame:
    frame = make_aggregates(n_kommuner=n_kommuner, seed=1)[KSY]
    assert not plausibility.check(frame, KSY)[0]  # the baseline has nothing to flag
    return frame


def _set(frame: pl.DataFrame, row: int, **values: int) -> pl.DataFrame:
    at = pl.int_range(pl.len()) == row
    return frame.with_columns(
        [pl.when(at).then(pl.lit(v, pl.Int32)).otherwise(pl.col(c)).alias(c) for c, v in values.items()]
        + [pl.when(at).then(pl.lit(None, pl.String)).otherwise(pl.col(f"{c}_symbol")).alias(f"{c}_symbol")
           for c in values]
    ).with_columns(  # keep the row valid: the status the numbers imply
        decision_status=pl.when(at).then(pl.lit("as_requested")).otherwise(pl.col("decision_status"))
    )


def test_single_file_ranks_settled_49_against_decided_4_first_and_lists_passed_rules(tmp_path: Path) -> None:
    frame = _clean()
    target = 137  # not the first row: the ranking, not the position, must bring it up
    frame = _set(frame, target, requested=3, decided=4, settled=49, settled_unaccompanied_minors=0)
    file = tmp_path / f"{KSY}.csv"
    frame.write_csv(file)

    code = main(["validate", str(file), "--report", str(tmp_path / "out"), "--format", "md"])
    assert code == 0  # every model rule holds: only plausibility can see it
    content = json.loads((tmp_path / "out" / f"{KSY}.csv.validation.json").read_text())
    table = content["tables"][0]

    findings = table["plausibility"]
    assert findings, "settled 49 against decided 4 must be flagged"
    first = findings[0]["examples"][0]
    assert (first["row"], first["settled"]) == (target + 1, 49)
    assert first["line"] == target + 2  # CSV: header is line 1
    assert all(f["kind"] == "ratio" for f in findings)
    assert {f["check"] for f in findings} >= {"settled_vs_decided", "settled_vs_requested"}
    for f in findings:
        assert f["examples"][0]["row"] == target + 1
        scores = [ex["score"] for ex in f["examples"]]
        assert scores == sorted(scores, reverse=True)

    rules = table["rules"]
    passed = [r for r in rules if r["status"] == "passed"]
    assert len(passed) == len(rules) > 20
    settled_min = next(r for r in rules if r["column"] == "settled" and r["rule"] == "greater_than_or_equal_to")
    assert settled_min["rows_checked"] == frame["settled"].drop_nulls().len()
    assert settled_min["failing_rows"] == 0 and settled_min["share_failing"] == 0
    assert any(r["rule"] == "decision_status_agrees" for r in passed)

    profile = {c["column"]: c for c in table["profile"]}
    assert profile["settled"]["max"] == frame["settled"].max() and profile["kommune_nr"]["distinct"] == frame["kommune_nr"].n_unique()

    md = (tmp_path / "out" / f"{KSY}.csv.validation.md").read_text()
    assert "### Plausibility" in md and f"| {target + 1} | {target + 2} |" in md
    assert md.index(f"| {target + 1} |") < md.index("### Rules")
    assert f"### Rules: {len(rules)} of {len(rules)} passed" in md and "### Column profile" in md
    page = (tmp_path / "out" / f"{KSY}.csv.validation.html").read_text()
    assert "Plausibility" in page and "Rules:" in page and "Column profile" in page


def test_share_failing_per_rule_counts_failing_rows(good_frame) -> None:
    bad = good_frame.with_columns(settled=pl.when(pl.int_range(pl.len()) < 2).then(-1).otherwise(pl.col("settled")))
    rules = review.rule_table(validate(bad, KSY))
    settled_min = next(r for r in rules if r["column"] == "settled" and r["rule"] == "greater_than_or_equal_to")
    assert settled_min["status"] == "failed" and settled_min["failing_rows"] == 2
    assert settled_min["share_failing"] == pytest.approx(2 / bad.height)
    assert review._share(1 / 2568) == "0.04 %" and review._share(0.0) == "0 %"


def test_folder_warnings_show_the_worst_rows_not_the_first(tmp_path: Path) -> None:
    tables = make_aggregates(n_kommuner=40, seed=1)
    frame = tables[KSY]
    mild = [r for r in range(0, 60, 3) if frame["decided"][r] is not None][:15]
    for r in mild:  # many rows just above decided come first in the file
        frame = _set(frame, r, settled=int(frame["decided"][r]) + 1, settled_unaccompanied_minors=0)
    target = 200
    frame = _set(frame, target, requested=3, decided=4, settled=49, settled_unaccompanied_minors=0)
    folder = tmp_path / "tables"
    folder.mkdir()
    frame.write_parquet(folder / f"{KSY}.parquet")
    tables["kommune"].write_parquet(folder / "kommune.parquet")
    main(["validate", str(folder), "--report", str(tmp_path / "out")])
    content = json.loads((tmp_path / "out" / "tables.validation.json").read_text())
    ksy = next(t for t in content["tables"] if t["table"] == KSY)
    warning = next(p for p in ksy["problems"] if p["rule"] == "settled_within_decided")
    assert warning["n_rows"] >= 16
    assert warning["examples"][0]["row"] == target + 1 and warning["row_numbers"][0] == target + 1
    assert warning["ranked_by"].startswith("plausibility")
    relations = {r["rule"]: r for r in content["relations"]}
    assert relations["settled_within_decided"]["status"] == "warned"
    assert relations["kommune_valid_in_year"]["status"] == "passed"
    assert relations["person_exists"]["status"] == "not checked"


def test_ratio_is_one_sided() -> None:
    frame = _clean()
    low = _set(frame, 50, requested=300, decided=300, settled=0, settled_unaccompanied_minors=0)
    assert not [f for f in plausibility.check(low, KSY)[0] if f.check == "settled_vs_decided"]
    assert [f.check for f in plausibility.check(low, KSY)[0]] == []


def _panel(factor_2015: float) -> pl.DataFrame:
    """30 municipalities of different sizes over 2012-2017, a national factor in 2015, some noise."""
    rows = []
    for k in range(30):
        size = 3 + 7 * k
        for year in range(2012, 2018):
            noise = ((k * 7 + year * 3) % 5) - 2
            factor = factor_2015 if year == 2015 else 1.0
            rows.append({"kommune_nr": f"{1000 + k:04d}", "year": year, "settled": max(0, round(size * factor) + noise)})
    return pl.DataFrame(rows, schema={"kommune_nr": pl.String, "year": pl.Int16, "settled": pl.Int32})


def test_a_national_wave_is_not_a_jump_but_one_municipalitys_spike_is() -> None:
    wave = _panel(4.0)  # every municipality settles four times as many in 2015
    findings, skipped, _ = plausibility.check(wave, KSY)
    assert [f.check for f in findings] == []
    assert {s.check for s in skipped} >= {"settled_vs_decided", "requested_jump"}  # columns absent
    one = wave.with_row_index("i").filter((pl.col("kommune_nr") == "1010") & (pl.col("year") == 2014))["i"].item()
    spike = wave.with_columns(
        settled=pl.when(pl.int_range(pl.len()) == one).then(pl.col("settled") * 5).otherwise(pl.col("settled"))
    )
    jumps = [f for f in plausibility.check(spike, KSY)[0] if f.check == "settled_jump"]
    # a spike is a jump into the year and out of it: both rows of that municipality lead the list
    assert jumps and set(jumps[0].rows[:2]) == {one, one + 1}


def test_small_tables_and_person_tables_are_not_scored(good_frame) -> None:
    findings, skipped, _ = plausibility.check(good_frame, KSY)
    assert not findings and skipped and "at least 10" in skipped[0].reason
    assert plausibility.checks_for("settlement") == []


def test_robust_z_survives_a_zero_mad() -> None:
    values = pl.DataFrame({"x": [0.0] * 9 + [10.0]})
    z = values.select(plausibility.robust_z(pl.col("x")))["x"]
    assert z[-1] > 3.5 and z[0] == 0
    assert values.select(plausibility.robust_z(pl.lit(1.0).repeat_by(3).explode()))["literal"].null_count() == 3


def test_data_strings_are_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    frame = _clean().with_columns(
        kommune_nr=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("<b>x|y</b>")).otherwise(pl.col("kommune_nr"))
    )
    file = tmp_path / f"{KSY}.csv"
    frame.write_csv(file)
    main(["validate", str(file), "--report", str(tmp_path), "--format", "md"])
    page = (tmp_path / f"{KSY}.csv.validation.html").read_text()
    md = (tmp_path / f"{KSY}.csv.validation.md").read_text()
    assert "<b>x" not in page and "&lt;b&gt;x|y&lt;/b&gt;" in page
    assert "<b>x" not in md and "&lt;b&gt;x\\|y&lt;/b&gt;" in md
