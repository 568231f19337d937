"""Which codes are municipalities, and when each code was valid (KLASS 131, shipped in ``geo/data``).

Why one module: every source, ``harmonize`` and ``build`` must agree on what a municipality code
is. Two rules are kept apart on purpose:

* ``is_municipality(code)`` is about the *form* of a code: four ASCII digits that can denote a
  municipality. Not municipalities: 9999 and xx99 ("unknown municipality" rows), xx00 (county or
  country totals; 0300 is not a code, Oslo is 0301), and the areas outside the municipal system
  that SSB lists beside them: 21xx Svalbard (2111 Spitsbergen), 22xx Jan Mayen (2211) and 23xx
  the continental shelf (2311).
* ``validity``/``valid_in``/``codes_at`` are about *time*: the shipped code list
  (``kommune_codes.csv``) says in which classification years a code existed. Codes are reused
  (0716 Våle to 2001, 0716 Re 2002-2019), so a code has one or more periods.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

SHIPPED_CODES = "kommune_codes.csv"
CODES_SCHEMA: dict[str, Any] = {
    "code": pl.String, "name": pl.String, "valid_from": pl.Int16, "valid_to": pl.Int16,
}
# The first classification year for which the shipped list holds every valid code; earlier
# years hold only the ended codes IMDi's files use (0102 Sarpsborg, 0103 Fredrikstad, ...).
LIST_FIRST_YEAR = 1994
# Unknown-municipality code (IMDi's K9999, SSB's 9999) and county prefixes outside the municipal system.
UNKNOWN_MUNICIPALITY = "9999"
NON_MUNICIPAL_COUNTIES = frozenset({"21", "22", "23"})
_CODE = re.compile(r"[0-9]{4}")


def is_code(code: object) -> bool:
    """Four ASCII digits ('0301'); never '301', 301 or non-ASCII digits ('٠٣٠١')."""
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


def is_municipality(code: object) -> bool:
    """Whether ``code`` can denote a municipality (see the module docstring); 9999 is not one."""
    if not is_code(code):
        return False
    text = str(code)
    return text[2:] not in ("00", "99") and text[:2] not in NON_MUNICIPAL_COUNTIES


def data_folder() -> Path:
    """The folder of the shipped tables (``settlement_research/geo/data``)."""
    return Path(str(resources.files("settlement_research.geo") / "data"))


def read_shipped_csv(name: str) -> pl.DataFrame:
    """A shipped table: UTF-8, ',' separated, '#' comment lines, every column read as text."""
    path = data_folder() / name
    return pl.read_csv(path.read_bytes(), infer_schema=False, comment_prefix="#")


@lru_cache(maxsize=1)
def code_list() -> pl.DataFrame:
    """The shipped code list: code, name, valid_from, valid_to (null = still valid), county_name."""
    codes = read_shipped_csv(SHIPPED_CODES)
    return codes.with_columns([pl.col(c).cast(t) for c, t in CODES_SCHEMA.items()]).select(
        *CODES_SCHEMA, "county_name"
    ).sort("code", "valid_from")


@lru_cache(maxsize=1)
def _periods() -> dict[str, list[tuple[int, int | None, str]]]:
    out: dict[str, list[tuple[int, int | None, str]]] = {}
    for code, name, first, last in code_list().select("code", "name", "valid_from", "valid_to").iter_rows():
        out.setdefault(code, []).append((int(first), None if last is None else int(last), name))
    return out


def periods(code: str) -> list[tuple[int, int | None, str]]:
    """Every (valid_from, valid_to, name) period of ``code``, oldest first; [] if unknown."""
    return list(_periods().get(code, []))


def known(code: str) -> bool:
    """Whether the shipped list knows ``code`` at all."""
    return code in _periods()


def validity(code: str) -> tuple[int | None, int | None]:
    """(first, last) classification year of the *latest* unit with ``code`` ((None, None) if unknown).

    For a reused code this is the latest unit's period (0716 -> Re, 2002-2019). A value under a
    reused code belongs to the unit that had the code in its data year (``valid_in`` any period;
    IMDi's 0716 for 1995-2001 is Våle's: ``sources.imdi.codes.REUSED_CODE_RULE``).
    """
    ps = _periods().get(code)
    if not ps:
        return None, None
    first, last, _ = ps[-1]
    return first, last


def valid_in(code: str, year: int) -> bool:
    """Whether ``code`` denotes a municipality in classification ``year`` (any of its periods)."""
    return any(first <= year and (last is None or year <= last) for first, last, _ in _periods().get(code, []))


def name(code: str, year: int | None = None) -> str | None:
    """The municipality's name in ``year`` (default: its latest name); None when not valid then."""
    ps = _periods().get(code, [])
    if year is None:
        return ps[-1][2] if ps else None
    return next((n for first, last, n in ps if first <= year and (last is None or year <= last)), None)


def codes_at(year: int) -> list[str]:
    """Every municipality code valid in classification ``year`` (complete from ``LIST_FIRST_YEAR``)."""
    return sorted(code for code in _periods() if valid_in(code, year))


def county(code: str) -> str:
    """The county number of a municipality code (its first two digits)."""
    return code[:2]
