"""Put a municipality-year table on one classification year, for pages that show one municipality.

Why: a clean table built from several IMDi editions mixes classifications. The 2022 export
publishes Bærum's 1995-2019 figures under its 2020 code 3024, Stavanger's under 1103 (classified
2019), the 2015 edition under the 2014 codes. A profile of 0219 Bærum for 2009-2014 filtered on
``kommune_nr == '0219'`` found nothing and showed every year as missing. Here every row is moved
onto the codes of ``year``:

* rows classified in or before ``year`` are harmonised forward (``harmonize``: merges summed, a
  merge with a missing part null with the part's symbol, never a partial sum shown as complete);
* rows classified after ``year`` are moved back only where that is exact: the later code is the
  one successor of exactly one code of ``year`` (no change, or a renumbering). A merged later code
  cannot be split back without person-level data; its years stay missing for the older units
  unless another edition publishes them under their own codes;
* where two rows land on one key, the row classified in or before ``year`` wins (it was published
  under the codes of its time).
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from settlement_research.geo.changes import ChangeTable, shipped_changes
from settlement_research.harmonize import FLAG_COLUMNS, harmonize


def exact_predecessors(year: int, later: int, codes: list[str], changes: ChangeTable | None = None) -> dict[str, str]:
    """later code -> its code in ``year``, for the ``codes`` (valid in ``later``) that denote the
    same unit in both years: one predecessor, which has no other successor."""
    ct = changes or shipped_changes()
    forward = ct.mapping(year, later)  # every code of ``year`` -> its successors in ``later``
    successors: dict[str, set[str]] = defaultdict(set)
    predecessors: dict[str, set[str]] = defaultdict(set)
    for old, new in forward.select("old_code", "new_code").iter_rows():
        if new is not None:
            successors[old].add(new)
            predecessors[new].add(old)
    out: dict[str, str] = {}
    for code in codes:
        olds = predecessors.get(code, set())
        if len(olds) == 1:
            (old,) = olds
            if successors[old] == {code}:
                out[code] = old
    return out


def on_classification(frame: pl.DataFrame, year: int, table: str) -> pl.DataFrame:
    """``frame`` (kommune_nr, year, classification_year, measures) with every row it can place on
    the codes of classification ``year``; the model's columns, classification_year = ``year``."""
    if frame.height == 0 or frame["classification_year"].drop_nulls().unique().to_list() == [year]:
        return frame  # already there (the synthetic register lives in 2014 and has its own codes)
    ct = shipped_changes()
    native = frame.filter(pl.col("classification_year") <= year)
    parts: list[pl.DataFrame] = []
    if native.height:
        forward = harmonize(native, year, table=table, partial="null", unknown="keep").drop(FLAG_COLUMNS)
        parts.append(forward.select(frame.columns).with_columns(pl.lit(0).alias("_later")))
    later = frame.filter(pl.col("classification_year") > year)
    for (cls,), rows in later.group_by("classification_year"):
        back = exact_predecessors(year, int(cls), rows["kommune_nr"].unique().to_list(), ct)
        moved = rows.filter(pl.col("kommune_nr").is_in(list(back))).with_columns(
            pl.col("kommune_nr").replace_strict(back, return_dtype=pl.String),
            pl.lit(year, frame.schema["classification_year"]).alias("classification_year"),
            pl.lit(int(cls)).alias("_later"),
        )
        parts.append(moved.select([*frame.columns, "_later"]))
    if not parts:
        return frame.clear()
    out = pl.concat(parts, how="vertical_relaxed").sort("kommune_nr", "year", "_later")
    return out.unique(["kommune_nr", "year"], keep="first", maintain_order=True).drop("_later").select(frame.columns)


def kommune_at(kommune: pl.DataFrame, year: int) -> pl.DataFrame:
    """The kommune dimension's rows valid in ``year`` (a reused code names the unit of that year)."""
    valid = kommune.filter((pl.col("valid_from").fill_null(-9999) <= year) & (pl.col("valid_to").fill_null(9999) >= year))
    return valid.sort("kommune_nr", "valid_from").unique("kommune_nr", keep="last", maintain_order=True)


__all__ = ["exact_predecessors", "kommune_at", "on_classification"]
