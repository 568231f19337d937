"""IMDi's 2022 export harmonised with the shipped code history (skipped without ../shared/real_data).

Haram 2024 (1580) follows Haram's pre-2020 border; Klæbu is its own municipality until 2019; the
codes that ended before 2011 import in their own classification years.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.harmonize import FLAG_COL, FROM_COL, harmonize
from settlement_research.sources.imdi import import_files

pytestmark = pytest.mark.real_data
WIDE = "misc/imdi_bosatt_anmodede_wide_per_2022-09.csv"
YEARS = list(range(1995, 2023))


def _by_hand(real_data: Path, code: str) -> dict[int, list[str]]:
    """year -> [requested, decided, settled] cells of one 'K' row, read as plain text.

    The export has, per measure, one column per year 1995-2022 in the order: requested
    ('Anmodning'), original request, settled ('Faktisk bosetting'), decided ('Vedtak').
    """
    lines = (real_data / WIDE).read_bytes().decode("latin-1").splitlines()
    head = lines[0].split(";")
    row = next(line.split(";") for line in lines if line.startswith(f"K{code};"))
    cols = {"requested": "Anmodning om bosetting", "decided": "Vedtak", "settled": "Faktisk bosetting"}
    out: dict[int, list[str]] = {y: [] for y in YEARS}
    for name in cols.values():
        first = next(i for i, h in enumerate(head) if name in h)
        for j, y in enumerate(YEARS):
            out[y].append(row[first + j])
    return out


@pytest.fixture(scope="module")
def settlement(real_data: Path) -> pl.DataFrame:
    path = real_data / WIDE
    if not path.is_file():
        pytest.skip(f"{WIDE} is not present")
    return import_files([path]).tables["kommune_settlement_year"]


def test_haram_2014_is_exact_in_2024_codes(real_data: Path, settlement: pl.DataFrame) -> None:
    hand = _by_hand(real_data, "1534")
    assert hand[2014] == ["30", "24", "24"]
    out = harmonize(settlement, 2024, table="kommune_settlement_year")
    haram = out.filter((pl.col("kommune_nr") == "1580") & (pl.col("year") == 2014)).row(0, named=True)
    assert (haram["requested"], haram["decided"], haram["settled"]) == (30, 24, 24)
    assert haram[FROM_COL] == "1534" and haram[FLAG_COL] is None
    # years the export books under 1507 (2020-2023 Ålesund) can only be split by weights: flagged
    later = out.filter(pl.col("kommune_nr").is_in(["1508", "1580"]) & (pl.col("year") == 2021))
    assert set(later[FLAG_COL]) == {"split_equal"}


def test_klaebu_and_codes_ended_before_2011_keep_their_own_years(real_data: Path, settlement: pl.DataFrame) -> None:
    klaebu = settlement.filter(pl.col("kommune_nr").is_in(["1662", "5030"])).sort("year")
    # Klæbu's values (booked under 5030 for every year) are Klæbu's to 2019: as 1662 (its code to
    # 2017, classification 2017) before 2018, as 5030 in 2018-2019; never "covered by" Trondheim
    assert klaebu["year"].to_list() == list(range(1995, 2020))
    assert klaebu.filter(pl.col("year") <= 2017)["kommune_nr"].unique().to_list() == ["1662"]
    assert klaebu.filter(pl.col("year") <= 2017)["classification_year"].unique().to_list() == [2017]
    assert klaebu.filter(pl.col("year") >= 2018)["kommune_nr"].unique().to_list() == ["5030"]
    hand = _by_hand(real_data, "5030")
    for y, requested in klaebu.select("year", "requested").iter_rows():
        cell = hand[y][0]
        assert requested == (int(cell) if cell.isdigit() else None), y
    for code, last in {"0718": 2001, "1154": 2005, "1569": 2005, "1503": 2007, "1556": 2007, "1842": 2004}.items():
        rows = settlement.filter(pl.col("kommune_nr") == code)
        assert rows.height > 0, code
        # each year in a classification in which the code still denotes that year's unit
        assert rows.filter((pl.col("classification_year") < pl.col("year"))
                           | (pl.col("classification_year") > last)).is_empty(), code
    # Kristiansund 1995-2007 by hand from its two pre-2008 codes
    for y in range(1995, 2008):
        cells = [_by_hand(real_data, c)[y][0] for c in ("1503", "1556")]
        expected = sum(int(c) for c in cells if c.isdigit())
        got = settlement.filter(pl.col("kommune_nr").is_in(["1503", "1556"]) & (pl.col("year") == y))["requested"].sum()
        assert got == expected, y
    out = harmonize(settlement.filter(pl.col("year") <= 2007), 2024, table="kommune_settlement_year")
    assert out.filter(pl.col("kommune_nr") == "1505")[FROM_COL].unique().to_list() == ["1503+1556"]
