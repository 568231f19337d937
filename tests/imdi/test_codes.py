"""Code rules: zeros restored only where the layout strips them, validity markers, classification."""

from __future__ import annotations

import pytest

from settlement_research.sources.imdi import codes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("101", ("0101", True)), ("301", ("0301", True)), ("0301", ("0301", False)),
     ("1103", ("1103", False)), ("99", (None, False)), ("1", (None, False)), ("", (None, False)),
     ("10101", (None, False)), ("K301", (None, False))],
)
def test_restore_zeros_only_for_three_digits(raw: str, expected: tuple[str | None, bool]) -> None:
    assert codes.restore_zeros(raw) == expected


@pytest.mark.parametrize(
    ("label", "years"),
    [("Mosvik  (-2011)", (None, 2011)), ("Inderøy (f.o.m. 2012)", (2012, None)),
     ("Moss (t.o.m. 2019)", (None, 2019)), ("Kråkerøy (1908-1993)", (1908, 1993)),
     ("Våler (Østf.)", (None, None)), ("Halden", (None, None)), (None, (None, None))],
)
def test_label_years(label: str | None, years: tuple[int | None, int | None]) -> None:
    assert codes.label_years(label) == years


def test_clean_name_drops_only_validity_markers() -> None:
    assert codes.clean_name("Inderøy (f.o.m. 2012)") == "Inderøy"
    assert codes.clean_name("Mosvik  (-2011)") == "Mosvik"
    assert codes.clean_name("0101 Halden                 ".split(" ", 1)[1]) == "Halden"
    assert codes.clean_name("Våler (Østf.)") == "Våler (Østf.)"
    assert codes.clean_name("  ") is None


def test_label_code() -> None:
    assert codes.label_code("0101 Halden") == "0101"
    assert codes.label_code("1903 Harstad") == "1903"
    assert codes.label_code("99 Uoppgitt kommune") is None
    assert codes.label_code(None) is None


def test_non_municipal_codes() -> None:
    for code in ("9999", "0199", "2111", "2211", "2311", "2399"):
        assert not codes.is_municipality(code)
    for code in ("0101", "0301", "1903", "2030", "5001"):
        assert codes.is_municipality(code)


def test_classification_year_rules() -> None:
    # the export's classification unless the code ended before it
    assert codes.classification_year("0301", 2014, None) == 2014
    assert codes.classification_year("1729", 2014, None) == 2011
    assert codes.classification_year("1901", 2014, None) == 2012
    assert codes.classification_year("0104", 2022, 2019) == 2019
    assert codes.valid_in("1903", 2013) and not codes.valid_in("1903", 2012)
    assert codes.valid_in("1901", 2012) and not codes.valid_in("1901", 2013)
    assert codes.valid_in("0301", 1995)
