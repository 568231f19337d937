"""sdc: primary/secondary suppression, rendering with data-sdc, and the page checks."""

from __future__ import annotations

import base64
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_research import sdc
from settlement_research.sdc.provenance import attrs


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sdc.THRESHOLD_ENV, raising=False)


def test_primary_suppression_hides_1_to_4_shows_0_and_5() -> None:
    frame = pl.DataFrame({"kommune_nr": ["0301", "1037", "1201", "0501", "5001"], "n": [0, 3, 5, 4, 40]})
    out = sdc.suppress(frame, ["n"], secondary=False)
    assert out["n"].to_list() == [0, None, 5, None, 40]
    assert out["n_symbol"].to_list() == [None, ":", None, ":", None]
    assert out["kommune_nr"].to_list() == frame["kommune_nr"].to_list()  # '0301' stays a string


def test_threshold_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"n": [3, 4, 10]})
    assert sdc.suppress(frame, ["n"], secondary=False)["n"].null_count() == 2
    monkeypatch.setenv(sdc.THRESHOLD_ENV, "4")
    assert sdc.threshold() == 4
    assert sdc.suppress(frame, ["n"], secondary=False)["n"].to_list() == [None, 4, 10]
    monkeypatch.setenv(sdc.THRESHOLD_ENV, "0")
    with pytest.raises(ValueError):
        sdc.threshold()


def test_secondary_suppression_protects_row_and_column_totals() -> None:
    # One small cell in row 0 and column 'a': its value would follow from the totals.
    frame = pl.DataFrame({"year": [2012, 2013, 2014], "a": [2, 20, 30], "b": [10, 12, 8], "c": [50, 60, 70]})
    out = sdc.suppress(frame, ["a", "b", "c"])
    mask = out.select(pl.col(c).is_null() for c in "abc").to_numpy()
    assert mask[0, 0]  # primary
    assert mask[0].sum() >= 2 and mask[:, 0].sum() >= 2
    for row in mask:
        assert row.sum() != 1
    for col in mask.T:
        assert col.sum() != 1
    assert mask[0, 1]  # the smallest other cell of the row (10) goes, not 50
    assert mask[1, 0]  # the smallest other cell of the column (20) goes, not 30


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(lambda r: st.integers(2, 5).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 12), min_size=c, max_size=c), min_size=r, max_size=r))))
def test_no_row_or_column_is_left_with_a_single_suppressed_cell(matrix: list[list[int]]) -> None:
    values = np.array(matrix, dtype=float)
    mask = sdc.suppression_mask(values, 5)
    assert mask[(values > 0) & (values < 5)].all()  # every primary cell is suppressed
    assert all(row.sum() != 1 for row in mask)
    assert all(col.sum() != 1 for col in mask.T)


def test_by_groups_and_dependent_columns() -> None:
    frame = pl.DataFrame({
        "year": [2012, 2012, 2012, 2013, 2013],
        "route": ["ordinary", "own", "agreed_self", "ordinary", "own"],
        "n": [30, 2, 9, 40, 50],
        "share_in_work": [0.5, 0.5, 0.3, 0.6, 0.4],
    })
    out = sdc.suppress(frame, ["n"], by=["year"], dependent={"share_in_work": "n"})
    assert out["n"].to_list() == [30, None, None, 40, 50]  # 9 protects 2 within 2012 only
    assert out["share_in_work"].to_list() == [0.5, None, None, 0.6, 0.4]
    assert out["share_in_work_symbol"].to_list() == [None, ":", ":", None, None]
    with pytest.raises(KeyError):
        sdc.suppress(frame, ["missing"])


def test_count_table_from_person_level_rows() -> None:
    persons = pl.DataFrame({
        "person_id": [f"P{i:06d}" for i in range(23)],
        "kommune_nr": ["0301"] * 20 + ["1037"] * 3,
    })
    out = sdc.count_table(persons, "kommune_nr")
    assert out.columns == ["kommune_nr", "n", "n_symbol"]
    # 3 is suppressed, and so is 20, or the total 23 would give it away
    assert out["n"].to_list() == [None, None]
    assert "person_id" not in out.columns


def unsigned(html: str) -> str:
    return re.sub(r' data-sdc-sig="[0-9a-f]+"', "", html)


def test_to_html_marks_controlled_cells_and_refuses_raw_small_counts() -> None:
    out = sdc.suppress(pl.DataFrame({"year": [2012, 2013, 2014], "n": [3, 12, 1200]}), ["n"], secondary=False)
    signed = sdc.to_html(out, caption="Settled").html
    html = unsigned(signed)
    assert 'data-sdc="suppressed"' in html and ">:<" in html
    assert '<td data-sdc="count">12</td>' in html
    assert "<td>2012</td>" in html  # labels are not formatted as numbers
    assert "n_symbol" not in html
    assert sdc.check_html(signed) == []
    assert "forged_mark" in [f.kind for f in sdc.check_html(html)]  # the marks without their signatures
    shares = sdc.suppress(pl.DataFrame({"n": [2, 30, 40, 50], "mean_months": [3.5, 2.25, 7.5, 1.0]}), ["n"],
                                 dependent={"mean_months": "n"})
    signed = sdc.to_html(shares).html
    html = unsigned(signed)
    assert html.count(">:<") == 4  # 2 (primary) and 30 (secondary), with their means
    # means are not counts; one column, one number of decimals (1.0 beside 7.5, never 1)
    assert '<td data-sdc="value">7.5</td>' in html and '<td data-sdc="value">1.0</td>' in html
    assert sdc.check_html(signed) == []
    with pytest.raises(ValueError, match="suppress"):
        sdc.to_html(pl.DataFrame({"n": [3], "n_symbol": [None]}, schema={"n": pl.Int64, "n_symbol": pl.String}))


def test_check_html_finds_identifiers_from_the_data_and_small_counts_but_not_in_images() -> None:
    ids = frozenset({"100000017", "H10000003"})
    svg = base64.b64encode(b'<svg><text>Oslo 2012</text></svg>').decode()
    clean = f'<p>Oslo</p><img src="data:image/svg+xml;base64,{svg}"><td {attrs("count", "0")}>0</td>'
    assert sdc.check_html(clean, ids=ids) == []
    # a raster image's bytes are not text (no identifier is read in base64), and its text cannot be
    # read at all: withheld as an image the gate cannot read (charts are SVG)
    raster = f'<p>Oslo</p><img src="data:image/png;base64,iVBORw0KGgo/100000017/BB"><td {attrs("count", "0")}>0</td>'
    assert {f.kind for f in sdc.check_html(raster, ids=ids)} == {"unreadable_image"}
    leaky = (f'<p>first: 100000017 (household H10000003)</p><table><tr><td {attrs("count", "3")}><b>3</b></td>'
             f'<td {attrs("count", "1 234")}>1 234</td></tr></table>')
    found = sdc.check_html(leaky, ids=ids)
    assert sorted(f.kind for f in found) == ["identifier", "small_count"]
    assert "2 identifier" in found[0].message
    assert all("100000017" not in f.message and " 3 " not in f.message for f in found)
    assert [f.kind for f in sdc.check_html(f'<td {attrs("suppressed", "4")}>4</td>')] == ["unreadable_cell"]
    # a 9-digit number that is no one's id is not a finding; an id of a new format is
    assert sdc.check_html("<p>123456789</p>", ids=ids) == []
    assert [f.kind for f in sdc.check_html("<p>see x-7781_b</p>", ids=frozenset({"x-7781_b"}))] == ["identifier"]


def test_check_results_checks_declared_person_level_keys() -> None:
    ids = frozenset({"100001234"})
    ok = {"kommune_nr": "1037", "settled": None, "population": 3, "share": 0.55, "_sdc": ["settled", "share"],
          "_public": ["population"]}
    assert sdc.check_results(ok, ids=ids) == []
    bad = {"settled": 3, "by_year": {"2012": 1, "2013": 7}, "note": "see 100001234", "who": [100001234],
           "share": 0.536723163841808, "_sdc": ["settled", "by_year", "share"]}
    found = sdc.check_results(bad, ids=ids)
    assert sorted(f.kind for f in found) == ["identifier", "precise_share", "small_count", "small_count"]
    assert "2 identifier" in next(f.message for f in found if f.kind == "identifier")  # the string and the int
    assert {f.where for f in found if f.kind == "small_count"} == {"results.settled", "results.by_year.2012"}
