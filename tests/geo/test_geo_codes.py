"""geo.codes: which codes are municipalities, and when each code was valid (the shipped list)."""

from __future__ import annotations

import pytest

from settlement_research.geo import codes
from settlement_research.sources import ssb
from settlement_research.sources.imdi import codes as imdi_codes


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0301", True), ("3103", True), ("5001", True), ("2030", True), ("1580", True), ("0716", True),
        ("0300", False),  # not a code: Oslo is 0301
        ("2111", False), ("2121", False), ("2199", False),  # Svalbard (Spitsbergen, Bjørnøya, unknown)
        ("2211", False),  # Jan Mayen
        ("2311", False), ("2321", False),  # the continental shelf
        ("9999", False), ("0199", False), ("1599", False),  # unknown municipality
        ("0000", False), ("0100", False),  # country and county totals
        ("301", False), ("03010", False), ("EAK", False), ("0", False), ("", False),
        ("\u0660\u0663\u0660\u0661", False), ("\uff10\uff13\uff10\uff11", False),  # non-ASCII digits
        (301, False), (None, False),
    ],
)
def test_one_definition_of_municipality(code: object, expected: bool) -> None:
    assert codes.is_municipality(code) is expected
    # the sources use the same function, not a copy
    assert ssb.is_municipality is codes.is_municipality
    assert imdi_codes.is_municipality is codes.is_municipality


# Number of municipalities on 1 January of each year (SSB): the reforms of 1994-2024 in one line each.
MUNICIPALITIES_PER_YEAR = {
    1994: 435, 2001: 435,  # 1994 Fredrikstad was the last merger before 2002
    2002: 434,  # Våle + Ramnes -> Re (0716); Ølen moved to Rogaland (1214 -> 1159)
    2005: 433,  # Skjerstad into Bodø
    2006: 431,  # Vindafjord + Ølen -> 1160; Aure + Tustna -> 1576
    2008: 430,  # Kristiansund + Frei -> 1505
    2011: 430, 2012: 429,  # Mosvik + Inderøy -> 1756
    2013: 428, 2016: 428,  # Harstad + Bjarkøy -> 1903
    2017: 426,  # Sandefjord + Andebu + Stokke -> 0710
    2018: 422, 2019: 422,  # Holmestrand, Larvik, Færder, Indre Fosen; Trøndelag renumbered
    2020: 356, 2023: 356, 2024: 357,  # the 2020 reform; 2024: Haram out of Ålesund again
}


@pytest.mark.parametrize(("year", "n"), MUNICIPALITIES_PER_YEAR.items())
def test_municipalities_per_year(year: int, n: int) -> None:
    valid = codes.codes_at(year)
    assert len(valid) == n
    assert all(codes.is_municipality(c) for c in valid)


def test_reused_code_has_one_period_per_unit() -> None:
    assert codes.periods("0716") == [(1838, 2001, "Våle"), (2002, 2019, "Re")]
    assert codes.name("0716", 1998) == "Våle" and codes.name("0716", 2010) == "Re"
    assert codes.name("0716", 2020) is None
    assert codes.valid_in("0716", 1998) and codes.valid_in("0716", 2019) and not codes.valid_in("0716", 2020)
    assert codes.validity("0716") == (2002, 2019)  # the latest unit
    # IMDi's exports name the unit that has a reused code last (0716 'Re (t.o.m. 2019)'), but a value
    # belongs to the unit that had the code in its data year (0716 in 1998 is Våle: REUSED_CODE_RULE)
    assert imdi_codes.valid_in("0716", 1998) and imdi_codes.valid_in("0716", 2002)
    assert not imdi_codes.valid_in("0716", 2020)


def test_klaebu_is_a_municipality_until_2019() -> None:
    assert codes.validity("1662") == (1838, 2017)
    assert codes.validity("5030") == (2018, 2019)
    assert all(codes.valid_in("1662", y) for y in range(1995, 2018))
    assert not codes.valid_in("1662", 2018) and not codes.valid_in("5030", 2020)
    assert codes.name("5030", 2019) == "Klæbu"


def test_codes_that_ended_before_2011_are_known() -> None:
    ended = {"0102": 1991, "0103": 1993, "0718": 2001, "1214": 2001, "1842": 2004, "1154": 2005,
             "1159": 2005, "1569": 2005, "1572": 2005, "1503": 2007, "1556": 2007}
    for code, last in ended.items():
        assert codes.known(code) and codes.validity(code)[1] == last, code
        assert imdi_codes.known(code)
    assert codes.validity("1159") == (2002, 2005)  # Ølen in Rogaland; 1214 Ølen in Hordaland before
    assert not codes.known("2111") and not codes.known("9999")
