"""One row per municipality and data year when exports restate years under other classifications.

Why: IMDi's newer wide export (2022) gives many years twice - under the code valid in the year
('0104 Moss (t.o.m. 2019)') and under a later code that restates the year for the later
municipality ('3001 Halden' carries 2014 values; '5004 Steinkjer', a 2018 code, carries 1995-2017).
The 2015 flat exports restate 2012 under the 2014 codes (1903 Harstad). Kept side by side, such
rows count a municipality twice (2014: 11 417 settled against IMDi's national 7 784) and harmonize
refuses the table (two classification years on one municipality).

Documented rule, per model table and data year (a "row" is one kommune_nr of that table and year):

* own row: its code is valid in the data year (KLASS 131 via ``codes.valid_in``, any period of a
  reused code: 0716 is Våle's in 1995-2001, ``codes.REUSED_CODE_RULE``; rows whose label
  markers exclude the year were rejected before). It is authoritative and always kept.
* restated row: its code became valid only after the data year; stale row: its code had ended
  (by KLASS) before it.
* two rows *meet* when their municipalities overlap after harmonisation: their codes, mapped with
  the shipped change table to the last year it records (``HORIZON``), share a code. Rows that
  meet must carry one classification year - rows of one classification never double count
  (distinct codes of one classification are disjoint), rows of two may, and harmonize refuses
  them. A group of meeting rows therefore takes one classification year:
    - with own rows: the earliest of theirs (any year from the data year to the code's next
      change denotes the same municipality, ``codes.stable_end``), or a restated/stale row's year
      inside all own rows' ranges when that keeps more rows;
    - without own rows: the restatement closest to the data year (ties: the earlier); a stale
      row's classification only when nothing restates the year (a stale code's unit is not the
      data year's municipality: 0102 Sarpsborg ended in 1991, 3003 restates Sarpsborg 1992-2019).
  A restated or stale row of another classification year is rejected with the reason. A stale
  or restated row whose code was only renumbered (1601 Trondheim -> 5001 in 2018; 1662 Klæbu ->
  5030) is recoded to the code valid in the data year instead; a stale row that meets nothing keeps its code.
* a rejected row is rejected per measure, not whole: where the kept rows of its group publish no
  number for a count measure (only '.', no data, or no cell at all) and the rejected rows do, the
  same edition publishes that count under another code of the same municipality and year (the
  export per 2022-09 gives Harstad's 2012 request under 1901 with settled '.', and its settled
  58 under 5402 with request '.'). A value beats a '.': the rejected rows' counts are added and
  booked under the kept row that overlaps them most (``FILLED``), and the kept row's '.' is
  rejected (``DOT_REPLACED``), so the edition's own totals are preserved. Where a kept row
  publishes a number (or ':') the rejected rows' cells stay rejected: they restate it.
* a restated row that meets nothing (no row in the year's own classification for its
  municipality: 3001 Halden in the 2022 export alone) is kept with its own classification year,
  so harmonize can map it.
* a code the shipped list does not know (ended before it begins, ``codes.LIST_FIRST_YEAR``) cannot
  be mapped, so whether it meets anything is unknown: it is kept only where no restated or stale
  row is kept in the same table and year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from settlement_research.harmonize import SHIPPED_COVERAGE, shipped_changes
from settlement_research.sources.imdi import codes

YEAR_TABLES = ("kommune_settlement_year", "kommune_intro_year", "kommune_context_year")
HORIZON = SHIPPED_COVERAGE[1]  # the last effective year the shipped change table records

OWN, RESTATED, STALE, UNKNOWN = "own", "restated", "stale", "unknown_code"

RESTATED_REASON = (
    "restated under a later classification (code valid from {first}); a row in the data year's own "
    "classification covers the same municipality, so the data year's own code is kept"
)
RESTATED_CLOSER_REASON = (
    "restated under a later classification (code valid from {first}); a restatement in a "
    "classification closer to the data year covers the same municipality and is kept"
)
STALE_REASON = (
    "code had ended before the data year (KLASS 131: last valid {last}) and was not only renumbered; "
    "a row in the data year's own classification covers the same municipality and is kept"
)
STALE_CLOSER_REASON = (
    "code had ended before the data year (KLASS 131: last valid {last}); a row in a classification "
    "closer to the data year covers the same municipality and is kept"
)
UNMAPPABLE_REASON = (
    "code not in the shipped KLASS 131 list (it ended before 1991): harmonize cannot map it, and rows "
    "of this year restate municipalities under later codes, so it could be counted twice"
)
DOT_REPLACED = (
    "'.' (no data) under this code, while the same edition publishes the count under another code "
    "of the same municipality and year (a value beats a '.'): that count is booked under this code"
)
FILLED_ADDED = (
    "count added to another code's count of the same edition, municipality and year, booked under "
    "the code kept for the year (its own cell there is '.')"
)
NO_DATA = "."  # the only symbol that does not publish a figure
FILL_KINDS = ("count", "nok")  # additive measures: counts under several codes of one unit add up
# Reason families for documentation (the year in a reason names the code's KLASS validity).
REASON_TEMPLATES = [RESTATED_REASON, RESTATED_CLOSER_REASON, STALE_REASON, STALE_CLOSER_REASON, UNMAPPABLE_REASON,
                    DOT_REPLACED, FILLED_ADDED]

_ROW_KEY = ["table", "measure_year", "kommune_nr"]
LOG_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.String(), "year": pl.Int32(), "kommune_nr": pl.String(), "status": pl.String(),
    "classification_year": pl.Int32(), "outcome": pl.String(), "recoded_to": pl.String(),
    "reason": pl.String(),
}


@dataclass
class _Row:
    table: str
    year: int
    code: str
    cls: int
    status: str
    image: frozenset[str] | None = None
    outcome: str = "kept"
    new_cls: int | None = None
    reason: str | None = None
    recipient: _Row | None = None  # rejected row: the first kept row of its group it overlaps
    overlaps: list[_Row] = field(default_factory=list)  # rejected row: the kept rows it overlaps


def status(code: str, year: int) -> str:
    """own / restated / stale for a code KLASS knows, unknown_code otherwise. A reused code is own
    in every period it was valid in (0716: Våle to 2001, Re 2002-2019; ``codes.REUSED_CODE_RULE``)."""
    if not codes.known(code):
        return UNKNOWN
    if codes.valid_in(code, year):
        return OWN
    first, last = codes.validity(code)
    if first is not None and year < first:
        return RESTATED
    if last is not None and year > last:
        return STALE
    return OWN


def _candidates() -> pl.Expr:
    return (
        pl.col("reason").is_null() & (pl.col("geo_level") == "kommune") & pl.col("kommune_nr").is_not_null()
        & pl.col("classification_year").is_not_null() & pl.col("table").is_in(list(YEAR_TABLES))
    )


def _rows(cand: pl.DataFrame) -> list[_Row]:
    """One row per (table, year, code); its classification: the records' closest to the year."""
    grouped = (
        cand.with_columns((pl.col("classification_year") - pl.col("measure_year")).abs().alias("_d"))
        .sort(*_ROW_KEY, "_d", "classification_year")
        .group_by(_ROW_KEY, maintain_order=True)
        .agg(pl.col("classification_year").first())
    )
    return [
        _Row(t, int(y), k, int(c), status(k, int(y)))
        for t, y, k, c in grouped.select(*_ROW_KEY, "classification_year").iter_rows()
    ]


def _attach_images(rows: list[_Row]) -> None:
    """Each row's codes at ``HORIZON``; None when the change table cannot map it."""
    ct = shipped_changes()
    by_cls: dict[int, set[str]] = {}
    for r in rows:
        if r.status != UNKNOWN and r.cls >= codes.LIST_FIRST_YEAR and codes.valid_in(r.code, r.cls):
            by_cls.setdefault(r.cls, set()).add(r.code)
    images: dict[tuple[str, int], frozenset[str]] = {}
    for cls, group in by_cls.items():
        m = ct.mapping(cls, max(cls, HORIZON), codes=sorted(group)).drop_nulls("new_code")
        for old, news in m.group_by("old_code").agg(pl.col("new_code")).iter_rows():
            images[(old, cls)] = frozenset(news)
    for r in rows:
        r.image = images.get((r.code, r.cls))


def _components(rows: list[_Row]) -> list[list[_Row]]:
    """Groups of rows (one table and year) that meet, directly or through others."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, r in enumerate(rows):
        for code in r.image or ():
            if code in owner:
                parent[find(i)] = find(owner[code])
            else:
                owner[code] = i
    groups: dict[int, list[_Row]] = {}
    for i, r in enumerate(rows):
        if r.image is not None:
            groups.setdefault(find(i), []).append(r)
    return list(groups.values())


def _by_table_year(rows: list[_Row]) -> dict[tuple[str, int], list[_Row]]:
    out: dict[tuple[str, int], list[_Row]] = {}
    for r in rows:
        out.setdefault((r.table, r.year), []).append(r)
    return out


def _stale_recodes(rows: list[_Row]) -> dict[tuple[str, int, str], str]:
    """Stale or restated rows that meet a row of another classification and whose code was only
    renumbered from or to the code valid in the data year (5030 Klæbu restating 2010 is 1662)."""
    out: dict[tuple[str, int, str], str] = {}
    for group in _by_table_year(rows).values():
        for comp in _components(group):
            for r in comp:
                if r.status in (STALE, RESTATED) and any(o.cls != r.cls for o in comp):
                    recode = codes.renumbered_to if r.status == STALE else codes.renumbered_from
                    own = recode(r.code, r.year)
                    if own is not None and not any(o.code == own for o in group):
                        out[(r.table, r.year, r.code)] = own
    return out


def _decide(comp: list[_Row]) -> None:
    own = [r for r in comp if r.status == OWN]
    other = [r for r in comp if r.status != OWN]
    year = comp[0].year
    if own:
        ends = [codes.stable_end(r.code, year) for r in own]
        hi = min((e for e in ends if e is not None), default=math.inf)
        c_min = min(r.cls for r in own)
        options = {c_min} | {r.cls for r in other if year <= r.cls <= hi}
        chosen = min(options, key=lambda c: (-sum(r.cls == c for r in other), c))
    else:
        restating = {r.cls for r in comp if r.status == RESTATED} or {r.cls for r in comp}
        chosen = min(restating, key=lambda c: (abs(c - year), c))
    for r in own:
        r.new_cls = chosen
    for r in other:
        if r.cls == chosen:
            r.new_cls = chosen
            continue
        r.outcome = "rejected"
        first, last = codes.validity(r.code)
        if r.status == RESTATED:
            r.reason = (RESTATED_REASON if own else RESTATED_CLOSER_REASON).format(first=first)
        else:
            r.reason = (STALE_REASON if own else STALE_CLOSER_REASON).format(last=last)
    kept = sorted((r for r in comp if r.outcome == "kept"), key=lambda r: r.code)
    for r in comp:
        if r.outcome == "rejected":
            r.overlaps = [k for k in kept if _overlap(r, k)]
            r.recipient = r.overlaps[0] if r.overlaps else None


def _overlap(a: _Row, b: _Row) -> bool:
    """Do two rows of one year denote overlapping municipalities? The earlier classification's
    code is mapped to the later one (the horizon images that form groups are coarser: 0704
    Tonsberg and 0718 Ramnes both lie in 2024's Tonsberg, but 0716 Re of 2019 overlaps only Ramnes)."""
    (early, late) = (a, b) if a.cls <= b.cls else (b, a)
    if early.cls == late.cls:
        return early.code == late.code
    if not (codes.valid_in(early.code, early.cls) and codes.valid_in(late.code, late.cls)):
        return bool((a.image or frozenset()) & (b.image or frozenset()))
    return late.code in _images_at(early.cls, late.cls).get(early.code, frozenset())


@lru_cache(maxsize=256)
def _images_at(from_cls: int, to_cls: int) -> dict[str, frozenset[str]]:
    """Every code of ``from_cls`` -> its codes in ``to_cls`` (shipped change table)."""
    m = shipped_changes().mapping(from_cls, to_cls).drop_nulls("new_code")
    return {old: frozenset(news) for old, news in m.group_by("old_code").agg(pl.col("new_code")).iter_rows()}


def _recode_records(
    records: pl.DataFrame, recodes: dict[tuple[str, int, str], str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Recode the records of renumbered stale rows; their classification follows the new code."""
    table = pl.DataFrame(
        [{"table": t, "measure_year": y, "kommune_nr": k, "_to": s} for (t, y, k), s in recodes.items()],
        schema={"table": pl.String, "measure_year": pl.Int32, "kommune_nr": pl.String, "_to": pl.String},
    )
    hit = records.join(table, on=_ROW_KEY, how="left").with_columns(
        pl.when(pl.col("_to").is_not_null() & pl.col("reason").is_null()).then(pl.col("_to")).alias("_to")
    )
    combos = hit.filter(pl.col("_to").is_not_null()).select(
        "_to", "default_classification", "label_end", "measure_year"
    ).unique()
    cls_rows = []
    for to, d, e, y in combos.iter_rows():
        cls = codes.classification_year(to, d, e)
        until = codes.stable_until(to, y)
        cls_rows.append({"_to": to, "default_classification": d, "label_end": e, "measure_year": y,
                         "_cls": min(cls, until) if until is not None else cls})
    cls_table = pl.DataFrame(cls_rows, schema={
        "_to": pl.String, "default_classification": pl.Int32, "label_end": pl.Int32,
        "measure_year": pl.Int32, "_cls": pl.Int32,
    })
    hit = hit.join(cls_table, on=["_to", "default_classification", "label_end", "measure_year"],
                   how="left", nulls_equal=True)
    recoded = pl.col("_to").is_not_null()
    out = hit.with_columns(
        pl.when(recoded).then(pl.col("kommune_nr")).otherwise(pl.col("recoded_from")).alias("recoded_from"),
        pl.when(recoded).then(pl.col("_to")).otherwise(pl.col("kommune_nr")).alias("kommune_nr"),
        pl.when(recoded).then(pl.col("_cls")).otherwise(pl.col("classification_year"))
        .cast(records.schema["classification_year"]).alias("classification_year"),
    )
    log = (
        out.filter(recoded).group_by("file", "year", "recoded_from", "kommune_nr").len("records")
        .rename({"kommune_nr": "recoded_to"})
    )
    return out.drop("_to", "_cls"), log


def _fill_dots(records: pl.DataFrame, rows: list[_Row]) -> pl.DataFrame:
    """A value beats a '.' inside one edition: rejected rows' counts fill a kept row's '.'.

    Per (table, year, group, measure of kind count/nok): when no kept row of the group publishes
    the measure (every kept cell is '.', or there is none) and rejected rows give numbers, those
    numbers are added per file and booked under the kept row that overlaps them most
    (``recoded_from`` names the code they stood under); the kept row's '.' cells of that measure
    are rejected with ``DOT_REPLACED``.
    """
    donors = [r for r in rows if r.outcome == "rejected" and r.recipient is not None]
    if not donors:
        return records
    key_schema = {"table": pl.String, "measure_year": pl.Int32, "kommune_nr": pl.String}
    donor_rows = pl.DataFrame(
        [{"table": r.table, "measure_year": r.year, "kommune_nr": r.code, "_why": r.reason,
          "_donor": i, "_to": r.recipient.code, "_to_cls": r.recipient.new_cls}
         for i, r in enumerate(donors) if r.recipient is not None],
        schema={**key_schema, "_why": pl.String, "_donor": pl.Int64, "_to": pl.String, "_to_cls": pl.Int32},
    )
    kept_rows = pl.DataFrame(  # per donor, the kept rows it overlaps
        [{"table": k.table, "measure_year": k.year, "kommune_nr": k.code, "_donor": i}
         for i, r in enumerate(donors) for k in r.overlaps],
        schema={**key_schema, "_donor": pl.Int64},
    )
    indexed = records.with_row_index("_i")
    additive = pl.col("kind").is_in(list(FILL_KINDS))
    published = (
        indexed.filter(_candidates() & additive & ~(pl.col("value").is_null() & (pl.col("symbol") == NO_DATA)))
        .join(kept_rows, on=_ROW_KEY, how="inner").select("_donor", "target").unique()
    )
    donor_cells = (
        indexed.join(donor_rows, on=_ROW_KEY, how="inner")
        .filter((pl.col("reason") == pl.col("_why")) & additive & pl.col("value").is_not_null())
        .join(published, on=["_donor", "target"], how="anti")
    )
    if donor_cells.is_empty():
        return records
    # per file and recipient key, the first donor record carries the sum; the others are marked added
    per_key = ["file", "table", "measure_year", "_to", "target"]
    fill = donor_cells.select(
        "_i", "_to", "_to_cls", pl.col("value").sum().over(per_key).alias("_sum"),
        (pl.col("_i") == pl.col("_i").min().over(per_key)).alias("_first"),
    )
    filled_keys = donor_cells.select("table", "measure_year", pl.col("_to").alias("kommune_nr"), "target").unique()
    dots = (
        indexed.filter(pl.col("reason").is_null() & pl.col("value").is_null() & (pl.col("symbol") == NO_DATA))
        .join(filled_keys, on=[*_ROW_KEY, "target"], how="semi").select("_i", pl.lit(True).alias("_dot"))
    )
    first = pl.col("_first").fill_null(False)
    out = indexed.join(fill, on="_i", how="left").join(dots, on="_i", how="left").with_columns(
        pl.when(first).then(pl.lit(None, pl.String))
        .when(pl.col("_first").is_not_null()).then(pl.lit(FILLED_ADDED))
        .when(pl.col("_dot").fill_null(False)).then(pl.lit(DOT_REPLACED))
        .otherwise(pl.col("reason")).alias("reason"),
        pl.when(first).then(pl.col("_sum")).otherwise(pl.col("value")).alias("value"),
        pl.when(first).then(pl.col("kommune_nr")).otherwise(pl.col("recoded_from")).alias("recoded_from"),
        pl.when(first).then(pl.col("_to")).otherwise(pl.col("kommune_nr")).alias("kommune_nr"),
        pl.when(first).then(pl.col("_to_cls")).otherwise(pl.col("classification_year"))
        .cast(records.schema["classification_year"]).alias("classification_year"),
    )
    return out.drop("_i", "_to", "_to_cls", "_sum", "_first", "_dot")


def resolve(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(records with restated rows decided, recoded stale codes, one log row per decided row).

    ``records``: assembled records with reason, kommune_nr, table, measure_year and
    classification_year. Kept rows take their group's classification year; rejected rows get
    the reason; nothing else changes.
    """
    empty_log = pl.DataFrame(schema=LOG_SCHEMA)
    recode_log = pl.DataFrame(schema={"file": pl.String, "year": pl.Int32, "recoded_from": pl.String,
                                      "recoded_to": pl.String, "records": pl.UInt32})
    rows = _rows(records.filter(_candidates()))
    if not rows:
        return records, recode_log, empty_log
    _attach_images(rows)
    recodes = _stale_recodes(rows)
    if recodes:
        records, recode_log = _recode_records(records, recodes)
        rows = _rows(records.filter(_candidates()))
        _attach_images(rows)
    for group in _by_table_year(rows).values():
        for comp in _components(group):
            _decide(comp)
        if any(r.status != OWN and r.outcome == "kept" and r.image is not None for r in group):
            for r in group:
                if r.status == UNKNOWN:
                    r.outcome, r.reason = "rejected", UNMAPPABLE_REASON
    decided = pl.DataFrame(
        [
            {"table": r.table, "measure_year": r.year, "kommune_nr": r.code, "_cls": r.new_cls,
             "_why": r.reason}
            for r in rows if r.new_cls is not None or r.reason is not None
        ],
        schema={"table": pl.String, "measure_year": pl.Int32, "kommune_nr": pl.String,
                "_cls": pl.Int32, "_why": pl.String},
    )
    flagged = _candidates()
    out = records.join(decided, on=_ROW_KEY, how="left").with_columns(
        pl.when(flagged & pl.col("_why").is_not_null()).then(pl.col("_why"))
        .otherwise(pl.col("reason")).alias("reason"),
        pl.when(flagged & pl.col("_cls").is_not_null()).then(pl.col("_cls"))
        .otherwise(pl.col("classification_year")).cast(records.schema["classification_year"])
        .alias("classification_year"),
    ).drop("_cls", "_why")
    out = _fill_dots(out, rows)
    entries = [
        {"table": t, "year": y, "kommune_nr": k, "status": STALE, "classification_year": None,
         "outcome": "recoded", "recoded_to": to, "reason": None}
        for (t, y, k), to in recodes.items()
    ]
    for r in rows:
        if r.status == OWN and r.new_cls == r.cls:
            continue
        outcome = r.outcome if r.status != OWN else "classification aligned"
        entries.append({
            "table": r.table, "year": r.year, "kommune_nr": r.code, "status": r.status,
            "classification_year": r.new_cls if r.new_cls is not None else r.cls,
            "outcome": outcome, "recoded_to": None, "reason": r.reason,
        })
    log = pl.DataFrame(entries, schema=LOG_SCHEMA)
    return out, recode_log, log.sort("table", "year", "kommune_nr")


__all__ = ["HORIZON", "REASON_TEMPLATES", "resolve", "status"]
