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
  * a code known to have ended earlier (``CODE_VALIDITY``, else the shipped KLASS code list of
    ``settlement_research/data``) belongs to its last valid year;
  * a code valid in the data year keeps the unit it denoted then only until its next recorded
    change (``stable_until``): 1103 Stavanger's 2014 value belongs to classification <= 2019;
  * a nameless row of the 2022 export (a code outside its classification) with a code KLASS does
    not know (ended before 2011, ``LIST_FIRST_YEAR``) belongs to its data year.
Rows restating a year under a later (or ended) code are resolved in ``restated.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# The municipality changes the 2015 edition straddles (KLASS 131): code -> (first, last) valid year.
# 2012: 1723 Mosvik + 1729 Inderøy -> 1756 Inderøy; 2013: 1901 Harstad + 1915 Bjarkøy -> 1903 Harstad.
CODE_VALIDITY: dict[str, tuple[int | None, int | None]] = {
    "1723": (None, 2011),
    "1729": (None, 2011),
    "1756": (2012, None),
    "1901": (None, 2012),
    "1915": (None, 2012),
    "1903": (2013, None),
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


def is_municipality(code: str) -> bool:
    """False for the non-municipal codes in IMDi/SSB lists: 9999 and xx99 unknown, 21xx Svalbard,
    22xx Jan Mayen, 23xx continental shelf."""
    return not (code == "9999" or code.endswith("99") or code[:2] in {"21", "22", "23"})


@lru_cache(maxsize=1)
def _shipped_validity() -> dict[str, tuple[int | None, int | None]]:
    """code -> (valid_from, valid_to) from the package's shipped KLASS 131 code list (2011-2025)."""
    from settlement_research.harmonize import shipped_code_list

    return {
        code: (first, last)
        for code, first, last in shipped_code_list().select("code", "valid_from", "valid_to").iter_rows()
    }


def validity(code: str) -> tuple[int | None, int | None]:
    """(first, last) classification year of ``code``: ``CODE_VALIDITY``, else the shipped code list.

    IMDi's own markers are sometimes wrong ('Trondheim (t.o.m. 2019)' for 1601, which KLASS ended
    in 2017 when Trondheim became 5001); KLASS decides which classification a code belongs to.
    """
    return CODE_VALIDITY.get(code) or _shipped_validity().get(code, (None, None))


def classification_year(code: str, default: int, label_end: int | None) -> int:
    """The classification year of ``code`` in an export whose default classification is ``default``."""
    year = default
    if label_end is not None:
        year = min(year, label_end)
    _first, last = validity(code)
    if last is not None:
        year = min(year, last)
    return year


def valid_in(code: str, year: int) -> bool:
    """Whether ``code`` is valid in classification ``year`` (``CODE_VALIDITY``, else the shipped list)."""
    first, last = validity(code)
    return (first is None or year >= first) and (last is None or year <= last)


# --- restatements (see restated.py) ---------------------------------------------------------------

# The first classification year of the shipped code list: a code it does not know had ended earlier.
LIST_FIRST_YEAR = 2011


def known(code: str) -> bool:
    """Whether KLASS (``CODE_VALIDITY`` or the shipped list) knows ``code`` at all."""
    return code in CODE_VALIDITY or code in _shipped_validity()


@lru_cache(maxsize=1)
def _change_years() -> dict[str, list[int]]:
    """code -> sorted effective years of the shipped changes that involve it (as old or new code)."""
    from settlement_research.harmonize import shipped_changes

    years: dict[str, set[int]] = {}
    for old, new, year in shipped_changes().changes.select("old_code", "new_code", "year").iter_rows():
        years.setdefault(old, set()).add(int(year))
        years.setdefault(new, set()).add(int(year))
    return {code: sorted(ys) for code, ys in years.items()}


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


@lru_cache(maxsize=1)
def _renumberings() -> dict[tuple[str, int], str]:
    """(old code, effective year) -> new code, for changes that only renumbered a municipality
    (one successor, and the successor has no other predecessor that year)."""
    from settlement_research.harmonize import shipped_changes

    edges = shipped_changes().changes.select("old_code", "new_code", "year").unique().iter_rows()
    succ: dict[tuple[str, int], set[str]] = {}
    pred: dict[tuple[str, int], set[str]] = {}
    for old, new, year in edges:
        succ.setdefault((old, int(year)), set()).add(new)
        pred.setdefault((new, int(year)), set()).add(old)
    return {
        (old, year): next(iter(news))
        for (old, year), news in succ.items()
        if len(news) == 1 and pred[(next(iter(news)), year)] == {old} and next(iter(news)) != old
    }


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
