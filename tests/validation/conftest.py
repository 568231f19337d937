"""Small hand-made kommune_settlement_year frames for the validation tests."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from settlement_research.model import columns

SYMBOL_OF = ["requested", "decided", "settled", "settled_unaccompanied_minors", "family_reunified"]
# columns these frames leave empty (no period stated, no original request)
EMPTY_EXTRA = {"period_end": pl.Date, "requested_original": pl.Int32, "requested_original_symbol": pl.String}
COLUMNS = columns("kommune_settlement_year")  # model order
TYPES = {
    "kommune_nr": pl.String, "year": pl.Int16, "classification_year": pl.Int16,
    **{c: pl.Int32 for c in SYMBOL_OF}, "decision_status": pl.String,
    **{f"{c}_symbol": pl.String for c in SYMBOL_OF}, **EMPTY_EXTRA,
}

# kommune_nr, year, requested, decided, settled, minors, family_reunified, decision_status
GOOD_ROWS = [
    ("0301", 2014, 100, 100, 90, 5, 10, "as_requested"),
    ("1103", 2014, 40, 30, 28, 2, 3, "fewer"),
    ("4601", 2014, 60, None, 12, 0, None, "no_decision"),
    ("5001", 2014, 25, 0, 0, 0, 1, "declined"),
    ("0301", 2015, 110, 120, 118, 8, 12, "as_requested"),
]


def ksy_frame(rows: list[tuple] = GOOD_ROWS) -> pl.DataFrame:
    """A kommune_settlement_year frame in model dtypes (symbols all empty)."""
    data = {
        "kommune_nr": [r[0] for r in rows],
        "year": [r[1] for r in rows],
        "classification_year": [2014 for _ in rows],
        "requested": [r[2] for r in rows],
        "decided": [r[3] for r in rows],
        "settled": [r[4] for r in rows],
        "settled_unaccompanied_minors": [r[5] for r in rows],
        "family_reunified": [r[6] for r in rows],
        "decision_status": [r[7] for r in rows],
        **{f"{c}_symbol": [None for _ in rows] for c in SYMBOL_OF},
        **{c: [None for _ in rows] for c in EMPTY_EXTRA},
    }
    return pl.DataFrame(data, schema=TYPES).select(COLUMNS)


def ksy_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The same frame as a CSV would give it: every column text."""
    return frame.with_columns(pl.all().cast(pl.String))


@pytest.fixture
def good_frame() -> pl.DataFrame:
    return ksy_frame()


@pytest.fixture
def make_frame() -> Callable[..., pl.DataFrame]:
    return ksy_frame


# The "done when" file: a lost leading zero (row 2), a duplicated key (rows 3 and 4), a negative
# count (row 5) and an inconsistent decision status (row 6); row 1 and 7 are fine.
DONE_WHEN_ROWS = [
    ("0301", 2014, 100, 100, 90, 5, 10, "as_requested"),
    ("301", 2015, 50, 50, 40, 1, 2, "as_requested"),
    ("1103", 2014, 40, 30, 28, 2, 3, "fewer"),
    ("1103", 2014, 40, 30, 28, 2, 3, "fewer"),
    ("4601", 2014, 60, 60, -4, None, None, "as_requested"),
    ("5001", 2014, 25, 10, 10, 0, 1, "as_requested"),
    ("1804", 2014, 30, 30, 30, 3, 0, "as_requested"),
]


@pytest.fixture
def done_when_frame() -> pl.DataFrame:
    return ksy_text(ksy_frame(DONE_WHEN_ROWS))


@pytest.fixture
def as_text() -> Callable[[pl.DataFrame], pl.DataFrame]:
    return ksy_text
