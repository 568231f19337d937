"""SSB's centrality class (1 most central ... 6 least central) of a municipality in a classification year.

Why: a profile compares a municipality with peers of its centrality class, and IMDi's files carry no
class. The classes come from SSB's own list, shipped in ``geo/data/sentralitet_klass710.csv`` (KLASS
710: every municipality code valid 1994-2024 with a class; provenance in the file's header).

Which version applies to which classification years (``classes_at``):

* 2024 and later: the class SSB gives the 2024 municipality (the 2020 index, SSB Notater 2020/4, on
  2024 borders; Haram 1580, split from Ålesund in 2024, has its own). ``VERSION_2024``.
* 2020-2023: the 2020 index, the class of the 2020-2023 code itself (1507 Ålesund). ``VERSION_2020``.
* before 2020 (the 2014 codes of IMDi's 2015 edition, 1995-2019 in the 2022 export): no index of the
  year is shipped. SSB's 2017 index (Notater 2017/40, for the 2018-2019 municipalities) was not
  found as data, and the older standard (0-3, 1994) is a different classification. The class given
  is that of the 2024 municipality that contains the municipality, reached through the
  harmonisation layer (``ChangeTable.mapping(year, 2024)``; an exact split follows its border:
  1534 Haram -> 1580). ``VERSION_BEFORE_2020``. When the parts of a municipality lie in 2024
  municipalities of different classes the class is null and ``basis`` says why. SSB groups every
  ended code the same way in the shipped list (0219 Bærum -> 3201 class 1); the tests check that the
  harmonisation layer gives SSB's class for every pre-2020 code.

Never joined across years by code alone: a code of another year goes through the change table.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import polars as pl

from settlement_research.geo import codes as geo_codes
from settlement_research.geo.changes import shipped_changes

SHIPPED_CENTRALITY = "sentralitet_klass710.csv"
SOURCE = (
    "SSB KLASS 710 (centrality class of every municipality code 1994-2024), shipped as "
    "settlement_research/geo/data/sentralitet_klass710.csv"
)
INDEX_YEAR = 2020  # the first classification year whose own codes carry a class of the index
BORDERS_YEAR = 2024  # the classification the list gives every earlier code through
VERSION_2024 = "SSB centrality index 2020 on the 2024 municipalities"
VERSION_2020 = "SSB centrality index 2020"
VERSION_BEFORE_2020 = (
    "SSB centrality index 2020 of the 2024 municipality that contains it (no index of the year is shipped)"
)
SCHEMA = {"kommune_nr": pl.String, "centrality": pl.Int8, "basis": pl.String}
SPLIT_ACROSS_CLASSES = "its parts lie in 2024 municipalities of different classes"


def version_key(year: int) -> str:
    """'2024', '2020' or 'before_2020': the version of ``classes_at(year)`` (for the pages' words)."""
    if year >= BORDERS_YEAR:
        return "2024"
    return "2020" if year >= INDEX_YEAR else "before_2020"


def split_across_classes(kommune_nr: str, year: int) -> bool:
    """Whether ``kommune_nr`` of ``year`` has no class because its parts lie in 2024
    municipalities of different classes (1850 Tysfjord: Narvik 4, Hamarøy 6)."""
    basis = classes_at(year, [kommune_nr])["basis"]
    return basis.len() == 1 and str(basis[0]).startswith(SPLIT_ACROSS_CLASSES)


def version(year: int) -> str:
    """Which version of the index ``classes_at(year)`` gives (see the module docstring)."""
    if year >= BORDERS_YEAR:
        return VERSION_2024
    return VERSION_2020 if year >= INDEX_YEAR else VERSION_BEFORE_2020


@lru_cache(maxsize=1)
def shipped() -> pl.DataFrame:
    """The shipped list: kommune_nr, centrality (Int8 1-6), label (SSB's name with validity)."""
    raw = geo_codes.read_shipped_csv(SHIPPED_CENTRALITY)
    out = raw.select(
        pl.col("kommune_kode").alias("kommune_nr"),
        pl.col("sentralitetsklasse").cast(pl.Int8).alias("centrality"),
        pl.col("kommune_navn").alias("label"),
    )
    bad = out.filter(~pl.col("kommune_nr").map_elements(geo_codes.is_municipality, return_dtype=pl.Boolean)
                     | ~pl.col("centrality").is_between(1, 6) | pl.col("kommune_nr").is_duplicated())
    if bad.height:
        raise ValueError(f"{SHIPPED_CENTRALITY}: bad rows {bad.rows()[:5]}")
    return out


def _own(year: int) -> dict[str, int]:
    return dict(shipped().select("kommune_nr", "centrality").iter_rows())


def classes_at(year: int, codes: Iterable[str] | None = None) -> pl.DataFrame:
    """kommune_nr, centrality (null when not determined), basis: the class of each code of
    classification ``year`` (default: every code valid then), by the version rules above."""
    wanted = sorted(set(codes)) if codes is not None else geo_codes.codes_at(year)
    own = _own(year)
    rows: list[tuple[str, int | None, str]] = []
    if year >= INDEX_YEAR:
        for code in wanted:
            cls = own.get(code) if geo_codes.valid_in(code, year) else None
            rows.append((code, cls, version(year) if cls is not None else "code not in SSB's list for this year"))
        return pl.DataFrame(rows, schema=SCHEMA, orient="row")
    mapping = shipped_changes().mapping(year, BORDERS_YEAR, codes=wanted)
    for code, group in sorted(mapping.group_by("old_code"), key=lambda g: str(g[0][0])):
        targets = sorted(t for t in group["new_code"].to_list() if t is not None)
        found = {t: own.get(t) for t in targets}
        classes = set(found.values())
        if not targets:
            rows.append((str(code[0]), None, f"code not valid in {year}"))
        elif None in classes:
            rows.append((str(code[0]), None, f"2024 municipality {', '.join(t for t, c in found.items() if c is None)} "
                                             "not in SSB's list"))
        elif len(classes) > 1:
            parts = ", ".join(f"{t}: {c}" for t, c in found.items())
            rows.append((str(code[0]), None, f"{SPLIT_ACROSS_CLASSES} ({parts})"))
        else:
            (cls,) = classes
            rows.append((str(code[0]), cls, f"{VERSION_BEFORE_2020}: {', '.join(targets)}"))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def for_periods(periods: pl.DataFrame) -> pl.DataFrame:
    """``periods`` (kommune_nr, valid_from, valid_to: one row per code version, as the kommune
    dimension) with ``centrality`` and ``centrality_basis``: each version's class in its last valid
    classification year, capped at 2024 (a version valid since 1838 and still valid takes 2024's)."""
    ref = pl.min_horizontal(pl.col("valid_to").fill_null(BORDERS_YEAR), pl.lit(BORDERS_YEAR)).cast(pl.Int32)
    keyed = periods.with_columns(ref.alias("_ref"))
    found = [
        classes_at(int(year), group["kommune_nr"].to_list()).with_columns(pl.lit(int(year), pl.Int32).alias("_ref"))
        for (year,), group in keyed.group_by("_ref")
    ]
    table = pl.concat(found) if found else pl.DataFrame(schema={**SCHEMA, "_ref": pl.Int32})
    return keyed.join(table.rename({"basis": "centrality_basis"}), on=["kommune_nr", "_ref"], how="left").drop("_ref")


__all__ = [
    "BORDERS_YEAR", "INDEX_YEAR", "SOURCE", "VERSION_2020", "VERSION_2024", "VERSION_BEFORE_2020",
    "SPLIT_ACROSS_CLASSES", "classes_at", "for_periods", "shipped", "split_across_classes", "version",
    "version_key",
]
