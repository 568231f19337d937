"""Request splitting: every piece under the cell limit, the whole selection covered exactly once."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_research.sources.ssb import CELL_LIMIT, cell_count, split_selection


def _cells(selection: dict[str, list[str]]) -> Counter:
    dims = sorted(selection)
    return Counter(itertools.product(*[[(d, c) for c in selection[d]] for d in dims]))


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=4),
    limit=st.integers(1, 60),
)
def test_pieces_fit_and_cover_exactly_once(sizes, limit):
    selection = {f"D{i}": [f"c{j}" for j in range(n)] for i, n in enumerate(sizes)}
    pieces = split_selection(selection, limit)
    assert all(cell_count(p) <= limit for p in pieces)
    covered = sum((_cells(p) for p in pieces), Counter())
    assert covered == _cells(selection)  # every cell once, none twice
    assert all(list(p) == list(selection) for p in pieces)  # dimension order kept


def test_realistic_population_request_is_split_along_the_largest_dimension():
    # 07459 unaggregated: ~1000 regions x 2 sexes x 106 ages x 1 content x 39 years = 8.3 M cells.
    selection = {
        "Region": [f"{i:04d}" for i in range(1000)], "Kjonn": ["1", "2"],
        "Alder": [f"{a:03d}" for a in range(106)], "ContentsCode": ["Personer1"],
        "Tid": [str(y) for y in range(1986, 2025)],
    }
    pieces = split_selection(selection)
    assert all(cell_count(p) <= CELL_LIMIT for p in pieces)
    assert sum(cell_count(p) for p in pieces) == cell_count(selection)
    assert len(pieces) == math.ceil(cell_count(selection) / CELL_LIMIT)  # no wasted requests here
    # Only the region dimension was cut, into disjoint chunks in the original order.
    assert all(p["Tid"] == selection["Tid"] and p["Alder"] == selection["Alder"] for p in pieces)
    assert list(itertools.chain.from_iterable(p["Region"] for p in pieces)) == selection["Region"]


def test_small_selection_is_one_request():
    selection = {"Region": ["0301"], "Tid": ["2020", "2021"]}
    assert split_selection(selection) == [selection]


@pytest.mark.parametrize("limit", [1, 7])
def test_single_code_dimensions_are_never_split_needlessly(limit):
    selection = {"ContentsCode": ["A"], "Tid": ["1", "2", "3", "4", "5", "6", "7"]}
    pieces = split_selection(selection, limit)
    assert len(pieces) == math.ceil(7 / limit)
