"""Municipality codes in IMDi's exports: leading zeros, validity markers and classification years.

Why this module exists: IMDi's files mix code conventions. The flat exports keep 4-digit codes; the
raw wide exports strip leading zeros ('101' = 0101 Halden), which is restored here deliberately
and counted (nowhere else in the package is a code ever padded). Labels carry validity markers
('Mosvik (-2011)', 'Inderøy (f.o.m. 2012)', 'Moss (t.o.m. 2019)'), and a few files keep using a
code after it ended (1901 Harstad for 2013/2014 data, when Harstad was 1903).

Classification year (the KLASS 131 version a code belongs to), documented rule:
  * a multi-year export (flat, newer wide) states every year in the codes of its latest data
    year (evidence: 1903 Harstad appears for 2012 settlement, before the code existed); a raw wide
    export (one year per file) uses that year's codes;
  * a code the label marks as ended ('(-2011)', '(t.o.m. 2019)') belongs to its last valid year;
  * a code known to have ended earlier (the shipped KLASS code list, ``settlement_research.geo``)
    belongs to its last valid year;
  * a code valid in the data year keeps the unit it denoted then only until its next recorded
    change (``stable_until``): 1103 Stavanger's 2014 value belongs to classification <= 2019;
  * a nameless row of the 2022 export (a code outside its classification) with a code the shipped
    list does not know (ended before ``LIST_FIRST_YEAR``) belongs to its data year.
Rows restating a year under a later (or ended) code are resolved in ``restated.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from settlement_research.geo import codes as geo_codes
from settlement_research.geo.changes import SHIPPED_COVERAGE, shipped_changes

# The municipality changes the 2015 edition straddles: code -> (first, last) valid year, from the
# shipped code list (geo). 2012: 1723 Mosvik + 1729 Inderøy -> 1756 Inderøy; 2013: 1901 Harstad +
# 1915 Bjarkøy -> 1903 Harstad.
CODE_VALIDITY: dict[str, tuple[int | None, int | None]] = {
    code: geo_codes.validity(code) for code in ("1723", "1729", "1756", "1901", "1915", "1903")
}
# An ended code IMDi kept using for the successor that carries its name (1901 Harstad -> 1903).
NAMESAKE_SUCCESSOR: dict[str, str] = {"1729": "1756", "1901": "1903"}

_FOM_TOM = r"[tf]\.o\.m\.?\s*\d{4}(?:\s*,\s*[tf]\.o\.m\.?\s*\d{4})?"
_END_MARKERS = [
    re.compile(r"\(\s*-\s*(\d{4})\s*\)"),                 # Mosvik (-2011)
    re.compile(r"\(\s*\d{4}\s*-\s*(\d{4})\s*\)"),         # Kråkerøy (1908-1993)
    # Moss (t.o.m. 2019); Holmestrand (f.o.m. 2018, t.o.m. 2019)
    re.compile(r"\((?:\s*f\.o\.m\.?\s*\d{4}\s*,)?\s*t\.o\.m\.?\s*(\d{4})\s*\)", re.I),
]
_START_MARKERS = [
    re.compile(r"\(\s*f\.o\.m\.?\s*(\d{4})\s*(?:,\s*t\.o\.m\.?\s*\d{4}\s*)?\)", re.I),  # (f.o.m. 2020)
    re.compile(r"\(\s*(\d{4})\s*-\s*\d{4}\s*\)"),
]
_ALL_MARKERS = re.compile(r"\(\s*(?:-\s*\d{4}|\d{4}\s*-\s*\d{4}|" + _FOM_TOM + r")\s*\)", re.I)
_LABEL_CODE = re.compile(r"^\s*(\d{2,4})\b")


@dataclass(frozen=True)
class Code:
    """A normalised code: 4 characters, whether it was padded, and what the label said."""

    kommune_nr: str | None
    padded: bool
    start_year: int | None
    end_year: int | None


def restore_zeros(raw: str) -> tuple[str | None, bool]:
    """Raw wide layout only: '101' -> ('0101', True); '0301'/'1103' unchanged; anything else None.

    Only a 3-digit code can have lost exactly one leading zero (counties 01-09); a 1- or 2-digit
    value is not a municipality code and is never padded.
    """
    raw = raw.strip()
    if re.fullmatch(r"\d{4}", raw):
        return raw, False
    if re.fullmatch(r"\d{3}", raw):
        return "0" + raw, True
    return None, False


def label_years(*labels: str | None) -> tuple[int | None, int | None]:
    """(start, end) validity years a label states, e.g. 'Mosvik  (-2011)' -> (None, 2011)."""
    start = end = None
    for label in labels:
        if not label:
            continue
        for rx in _END_MARKERS:
            if m := rx.search(label):
                end = int(m.group(1))
                break
        for rx in _START_MARKERS:
            if m := rx.search(label):
                start = int(m.group(1))
                break
    return start, end


def clean_name(name: str | None) -> str | None:
    """Municipality name without validity markers and padding ('Inderøy (f.o.m. 2012)' -> 'Inderøy')."""
    if name is None:
        return None
    out = re.sub(r"\s+", " ", _ALL_MARKERS.sub("", name)).strip()
    return out or None


def label_code(label: str | None) -> str | None:
    """The code a '0101 Halden' label starts with (4 digits only; '99 Uoppgitt' gives None)."""
    if not label:
        return None
    m = _LABEL_CODE.match(label)
    return m.group(1) if m and len(m.group(1)) == 4 else None


# One definition of "municipality" and of code validity for the package: see ``settlement_research.geo``.
is_municipality = geo_codes.is_municipality
validity = geo_codes.validity
known = geo_codes.known


def valid_in(code: str, year: int) -> bool:
    """Whether ``code`` denotes a municipality in classification ``year``, in any of its periods.

    A reused code denotes, for a data year, the unit that had it in that year: IMDi's 0716 values
    for 1995-2001 are Våle's own, for 2002-2019 Re's (the decision and its evidence are in
    ``REUSED_CODE_RULE``). The label names only the last unit ('Re (t.o.m. 2019)').
    """
    return geo_codes.valid_in(code, year)


# The 0716 question, decided from the 2022-09 export (plain csv, ``tests/imdi/test_reused_code.py``):
REUSED_CODE_RULE = (
    "a reused code's values for a data year belong to the unit that had the code in that year: 0716 in "
    "1995-2001 is Våle (ended 2001), not Re (Våle + Ramnes 0718 from 2002) restating Ramnes. Evidence in "
    "the 2022-09 export: IMDi does not restate any other merge before 2011 under the later code (1505 "
    "Kristiansund, 1160 Vindafjord and 1576 Aure are '.' before their merger, the ended codes carry the "
    "values; 1804 Bodø 2001 requested 110 beside Skjerstad's own 20); 0716 requested 15/30/15/20 in "
    "1998-2001 is the request every small Vestfold municipality got (Svelvik, Sande and Tjøme 30/15/20 in "
    "1999-2001; identical 1998-2001 requests are common: 10 groups of municipalities share one), while Re "
    "restated would be Våle + Ramnes, i.e. Våle requested nothing in four years in which every Vestfold "
    "municipality was, yet decided 12/15/15/8 against Ramnes' 0/0; and with 0716 as Våle the national sum "
    "is the sum of every municipality row, as in every other year of the export"
)


def classification_year(code: str, default: int, label_end: int | None) -> int:
    """The classification year of ``code`` in an export whose default classification is ``default``."""
    year = default
    if label_end is not None:
        year = min(year, label_end)
    _first, last = validity(code)
    if last is not None:
        year = min(year, last)
    return year


# --- restatements (see restated.py) ---------------------------------------------------------------

# The first classification year the shipped tables map from (``geo.changes.SHIPPED_COVERAGE``):
# a code they do not know had ended before it (or never was a municipality code).
LIST_FIRST_YEAR = SHIPPED_COVERAGE[0] - 1


def _change_years() -> dict[str, list[int]]:
    """code -> sorted effective years of the shipped changes that involve it (as old or new code)."""
    return shipped_changes().change_years


def stable_until(code: str, year: int) -> int | None:
    """Last classification year in which ``code`` still denotes the unit it denoted in ``year``
    (None: no later change recorded). 1103 Stavanger took in Finnøy and Rennesøy in 2020 under
    its own code, so its 2014 unit lasts to 2019."""
    later = [y for y in _change_years().get(code, []) if y > year]
    return later[0] - 1 if later else None


def stable_end(code: str, year: int) -> int | None:
    """Last classification year ``code`` denotes its ``year`` unit: the earlier of KLASS's end and
    the next recorded change (None: still the same unit)."""
    ends = [y for y in (validity(code)[1], stable_until(code, year)) if y is not None]
    return min(ends) if ends else None


def _renumberings() -> dict[tuple[str, int], str]:
    """(old code, effective year) -> new code, for changes that only renumbered a municipality."""
    return shipped_changes().renumberings


def renumbered_to(code: str, year: int) -> str | None:
    """The code an ended ``code`` was only renumbered to by data ``year`` (1601 Trondheim -> 5001 in
    2018), else None (merged, split, never ended, or unknown)."""
    last = validity(code)[1]
    if last is None or year <= last:
        return None
    current = code
    for y in range(last + 1, year + 1):
        if y in _change_years().get(current, []):
            nxt = _renumberings().get((current, y))
            if nxt is None:
                return None
            current = nxt
    return current if valid_in(current, year) else None


def renumbered_from(code: str, year: int) -> str | None:
    """The code valid in data ``year`` that ``code`` is only a renumbering of (5030 Klæbu, from 2018,
    was 1662 Klæbu before: ``renumbered_from('5030', 2010) == '1662'``), else None (merged, split,
    already valid in ``year``, or unknown). Such a restatement is the data year's own municipality."""
    first = validity(code)[0]
    if first is None or year >= first:
        return None
    back = {(new, y): old for (old, y), new in _renumberings().items()}
    current = code
    for y in range(first, year, -1):
        if y in _change_years().get(current, []):
            prev = back.get((current, y))
            if prev is None:
                return None
            current = prev
    return current if valid_in(current, year) else None
