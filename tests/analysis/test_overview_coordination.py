"""National sums, decision-status counts and the coordination layer."""

from __future__ import annotations

import polars as pl
import pytest

from settlement_research.analysis import coordination, overview


def _settlement_year() -> pl.DataFrame:
    return pl.DataFrame({
        "kommune_nr": ["0101", "0301", "1103", "0101", "0301", "1103"],
        "year": [2013, 2013, 2013, 2014, 2014, 2014],
        "requested": [10, 100, 20, 10, 120, 20],
        "decided": [10, 80, None, 0, 120, 25],
        "settled": [9, 85, None, 0, 118, 24],
        "decision_status": ["as_requested", "fewer", "no_decision", "declined", "as_requested", "as_requested"],
    })


def test_national_sums_report_coverage() -> None:
    sums = overview.national_from_municipalities(_settlement_year())
    y13 = sums.filter(pl.col("year") == 2013).row(0, named=True)
    assert y13["settled_sum"] == 94 and y13["settled_known"] == 2 and y13["municipalities"] == 3


def test_compare_with_published_gives_relative_gap() -> None:
    national = pl.DataFrame({"year": [2013, 2014], "settled": [100, 142], "settled_within_6m_share": [0.5, 0.48],
                             "months_permit_to_settlement": [8.0, 8.3]})
    cmp = overview.compare_with_published(_settlement_year(), national)
    assert cmp.filter(pl.col("year") == 2013)["relative_gap"].item() == pytest.approx(-0.06)


def test_decision_status_counts_include_zero_categories() -> None:
    counts = overview.decision_status_counts(_settlement_year())
    assert counts.columns == ["year", "as_requested", "fewer", "declined", "no_decision"]
    assert counts.filter(pl.col("year") == 2014).row(0) == (2014, 2, 0, 1, 0)


def test_kommune_coordination_and_permutation_over_pairs() -> None:
    kommune = pl.DataFrame({
        "kommune_nr": ["1601", "1201", "0602", "1902"], "kommune_name": ["A", "B", "C", "D"],
        "fylke_nr": ["16", "12", "06", "19"],
        "imdi_region": ["midt_norge", "vest", "indre_ost", "nord"],
        "husbanken_region": ["midt_norge", "vest", "sor", "hammerfest"],
    })
    out = coordination.kommune_coordination(kommune)
    assert out.filter(pl.col("kommune_nr") == "1601")["coordination_index"].item() == pytest.approx(0.875)
    assert out.filter(pl.col("kommune_nr") == "0602")["region_mismatch"].item() is True
    assert out.filter(pl.col("kommune_nr") == "1201")["region_mismatch"].item() is False
    pairs = pl.DataFrame({"office_pair": list("abcdefghi"),
                          "coordination_index": [0.1 * i for i in range(9)], "y": [float(i) for i in range(9)]})
    res = coordination.permutation_test(pairs, "y", n_perm=2000)
    assert res["slope"] == pytest.approx(10.0)
    assert res["p_value"] < 0.01 and res["n_pairs"] == 9
    flat = pairs.with_columns(pl.lit(1.0).alias("y"))
    assert coordination.permutation_test(flat, "y", n_perm=200)["p_value"] == 1.0


def test_pair_level_takes_the_ratio_of_sums_not_the_mean_of_ratios() -> None:
    import polars as pl

    from settlement_research.analysis import coordination

    panel = pl.DataFrame({
        "office_pair": ["A", "A", "B"], "coordination_index": [0.2, 0.2, 0.8], "kommune_nr": ["0101", "0102", "0201"],
        "settled": [1, 90, 5], "requested": [2, 200, 10], "settled_requested_ratio": [0.5, 0.45, 0.5],
    })
    pairs = coordination.pair_level(panel, "settled_requested_ratio", numerator="settled", denominator="requested")
    a = pairs.filter(pl.col("office_pair") == "A").row(0, named=True)
    assert a["settled_requested_ratio"] == 91 / 202  # not (0.5 + 0.45) / 2
    assert a["municipalities"] == 2
