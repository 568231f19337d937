"""IMDi editions are data, not conflicts: which edition each value comes from, and which one wins.

Why: IMDi republishes its figures. The 2015 edition (flat and raw wide exports) and the newer wide
export "per 2022-09" both give 2012-2014, sometimes under other codes (1903 Harstad restating
1901's 2012) and sometimes with other numbers (Vestby 2012 requested 20 vs 15). Rejecting every
key on which they disagree lost published counts; picking silently hid restatements. So:

* every record carries its **edition**: publisher, edition id, the date the figures run to
  ("per" date, when the edition states one) and the file's sha256 (``tag``);
* each edition is assembled on its own (codes, restatements inside the edition), then the clean
  tables take one value per key by an explicit **precedence** (``choose``). Default ``latest``:
  the latest edition that publishes the key wins; a published value *and* a published symbol
  ('.', ':') both count as publishing - a 0 or ':' is a value, never a conflict. An explicit
  order (``--prefer ID``) puts the named editions first;
* keys are compared per **municipality unit**: rows of one table and year whose codes overlap
  after harmonisation (1901 of 2012 and 1903 of 2014 are both Harstad) form one unit, and a unit
  takes all cells of one measure from one edition, so a municipality is never counted twice. A
  unit's rows keep one code set: the one most of the table's measures get from their preferred
  edition (ties: precedence); a measure published only under another code set is listed, not
  mixed in;
* a code that denotes exactly the unit's code in another classification (0701 Horten of 2015 is
  3801 of 2021: renumbered, nothing else mapped into it) is the same municipality, so its values
  join the unit under the unit's code instead of being listed as lost;
* the national row of each year comes from the edition most of the year's settlement counts come
  from; an edition with no national row (the export per 2022-09) gets its own total, summed from
  its rows plus its unknown-municipality row, so the clean table reconciles with the edition it
  shows (``relations.national_sum_reconciles``, exact);
* every edition's value is kept in the companion table ``imdi_edition_value``, and every
  difference between editions is listed in ``restatements`` (same code: per key; other codes:
  the unit's sums), never resolved silently.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from settlement_research.sources.imdi.layouts import FLAT, RAW_WIDE

PUBLISHER = "IMDi"
LATEST = "latest"
PRECEDENCE_RULE = (
    "inside one edition, a count under any code of the same municipality and year beats a '.' "
    "(sources/imdi/restated.py); between editions, per key (table, municipality unit, year, "
    "measure): the highest-ranked edition that publishes it (a number or a status symbol); rank: "
    "the editions named with --prefer first, in that order, then the latest 'per' date (an edition "
    "without one counts as running to 31 December of its last data year); a unit takes one measure "
    "from one edition and keeps one code set, the one most of its measures get from their preferred "
    "edition (a code denoting exactly the same municipality, as a renumbering, joins it); the "
    "national row of a year is the edition most of the year's settlement counts come from, "
    "summed from that edition's own rows when it publishes none"
)
# The 2015 layouts are known to be the 2015 edition of integreringsdata (SOURCES.md).
EDITION_2015 = "imdi-2015"
_PER = re.compile(r"per[_-]?(\d{4})-(\d{2})(?:-(\d{2}))?", re.I)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "mai": 5, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "okt": 10, "oct": 10, "nov": 11, "des": 12, "dec": 12,
}
_MONTH_YY = re.compile(r"(?:^|[_-])(" + "|".join(_MONTHS) + r")(\d{2})(?:$|[_.-])", re.I)

EDITION_COLUMNS: dict[str, pl.DataType] = {
    "edition": pl.String(), "publisher": pl.String(), "edition_per": pl.Date(),
    "edition_rank_date": pl.Date(), "file_sha256": pl.String(),
}


@dataclass(frozen=True)
class Edition:
    """One publication of IMDi figures: who, which, up to when, from which file."""

    edition: str
    publisher: str
    per: dt.date | None       # the date the figures run to, when the edition states it
    rank_date: dt.date        # for ``latest``: per, else 31 December of the last data year
    sha256: str


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def per_date(name: str) -> dt.date | None:
    """The 'per' date a file name states: 'per_2022-09' -> 2022-09-30; 'sep22' -> 2022-09-30."""
    stem = Path(name).stem
    if m := _PER.search(stem):
        y, mo = int(m.group(1)), int(m.group(2))
        return dt.date(y, mo, int(m.group(3))) if m.group(3) else _month_end(y, mo)
    if m := _MONTH_YY.search(stem):
        return _month_end(2000 + int(m.group(2)), _MONTHS[m.group(1).lower()])
    return None


def infer(name: str, layout: str, records: pl.DataFrame, sha256: str) -> Edition:
    """The edition of one file, from its layout, its name and its data years."""
    years = records["year"].drop_nulls()
    last = int(years.max()) if years.len() else None  # type: ignore[arg-type]
    per = per_date(name)
    if layout in (FLAT, RAW_WIDE):
        ed = EDITION_2015
    elif per is not None:
        ed = f"imdi-per-{per.isoformat()}"
    else:
        ed = f"imdi-wide-{last}" if last else "imdi-wide"
    rank = per or dt.date(last or 1900, 12, 31)
    return Edition(ed, PUBLISHER, per, rank, sha256)


def tag(records: pl.DataFrame, edition: Edition) -> pl.DataFrame:
    """Records with their edition columns."""
    return records.with_columns(
        pl.lit(edition.edition).alias("edition"),
        pl.lit(edition.publisher).alias("publisher"),
        pl.lit(edition.per, pl.Date).alias("edition_per"),
        pl.lit(edition.rank_date, pl.Date).alias("edition_rank_date"),
        pl.lit(edition.sha256).alias("file_sha256"),
    )


def ranks(records: pl.DataFrame, prefer: list[str] | None = None) -> dict[str, int]:
    """Edition -> rank (0 = preferred). Editions of one id share the latest rank date of their files."""
    eds = records.group_by("edition").agg(pl.col("edition_rank_date").max()).sort(
        "edition_rank_date", "edition", descending=[True, False]
    )
    order = [e for e in (prefer or []) if e in eds["edition"].to_list()]
    unknown = [e for e in (prefer or []) if e not in eds["edition"].to_list()]
    if unknown:
        raise ValueError(
            f"--prefer names editions not in this import: {unknown}; editions: {eds['edition'].to_list()}"
        )
    order += [e for e in eds["edition"].to_list() if e not in order]
    return {e: i for i, e in enumerate(order)}


def period_end(year: pl.Expr, per: pl.Expr) -> pl.Expr:
    """Last day a figure of ``year`` covers: 31 December, or the edition's per date inside the year."""
    dec31 = pl.date(year, 12, 31)
    return pl.when(per.is_not_null() & (per < dec31) & (per.dt.year() == year)).then(per).otherwise(dec31)


# --- choosing ------------------------------------------------------------------------------------

UNIT_KEY = ["table", "measure_year", "unit"]
_SCHEMA_RESTATED: dict[str, pl.DataType] = {
    "table": pl.String(), "year": pl.Int32(), "measure": pl.String(), "kind": pl.String(),
    "chosen_edition": pl.String(), "other_edition": pl.String(),
    "chosen_codes": pl.String(), "other_codes": pl.String(),
    "chosen_value": pl.Float64(), "chosen_symbol": pl.String(),
    "other_value": pl.Float64(), "other_symbol": pl.String(),
}
SAME_CODE = "restated (same code)"
OTHER_CODES = "restated (other codes: sums of the municipality unit compared)"
COVERAGE = "published only by the other edition under other codes (not in the clean table)"


def _finder(parent: dict[tuple, tuple]):  # noqa: ANN202 - a closure over one union-find forest
    def find(k: tuple) -> tuple:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k
    return find


def _units(merged: pl.DataFrame, images: dict[tuple[str, int], frozenset[str]]) -> pl.DataFrame:
    """Attach ``unit``: one id per group of overlapping municipalities in (table, year)."""
    rows = merged.select("table", "measure_year", "kommune_nr", "classification_year").unique()
    out = []
    for (table, year), group in rows.group_by(["table", "measure_year"]):
        keys = list(group.select("kommune_nr", "classification_year").iter_rows())
        parent = {k: k for k in keys}
        find = _finder(parent)

        owner: dict[str, tuple] = {}
        for k in keys:
            if k[0] is None:
                continue
            for img in images.get((k[0], k[1]), frozenset({f"?{k[0]}"})):
                if img in owner:
                    parent[find(k)] = find(owner[img])
                else:
                    owner[img] = k
        for k in keys:
            root = find(k)
            out.append({"table": table, "measure_year": year, "kommune_nr": k[0],
                        "classification_year": k[1], "unit": f"{root[0]}@{root[1]}"})
    schema = {"table": pl.String, "measure_year": pl.Int32, "kommune_nr": pl.String,
              "classification_year": pl.Int32, "unit": pl.String}
    units = pl.DataFrame(out, schema=schema)
    return merged.join(units, on=["table", "measure_year", "kommune_nr", "classification_year"],
                       how="left", nulls_equal=True)


def _codes_str(codes: pl.Expr) -> pl.Expr:
    return codes.unique().sort().str.join("+")


def choose(
    merged: pl.DataFrame, rank: dict[str, int], images: dict[tuple[str, int], frozenset[str]]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(chosen cells, every edition's cell with ``chosen``, restatements between editions).

    ``merged``: one row per (table, kommune_nr, measure_year, target, edition) with value, symbol
    and classification_year. National rows (kommune_nr null) take, per year, all cells of the
    best-ranked edition that has a national row, so they stay one edition's series.
    """
    m = _units(merged, images).with_columns(
        pl.col("edition").replace_strict(rank, return_dtype=pl.Int32).alias("_rank")
    )
    # a unit's code set per edition: the (code, classification) rows the edition has there
    code_sets = m.group_by(*UNIT_KEY, "edition").agg(
        _codes_str(pl.concat_str("kommune_nr", pl.col("classification_year").cast(pl.String),
                                 separator="/")).alias("_set"),
    )
    sets = m.group_by(*UNIT_KEY, "target", "edition").agg(pl.col("_rank").first()).join(
        code_sets, on=[*UNIT_KEY, "edition"], how="left", nulls_equal=True)
    # the unit's frame: the code set that the most measures' preferred editions use (ties: rank);
    # one table's rows of one municipality must share one classification, so a measure published
    # only under another code set cannot join it (listed as COVERAGE instead)
    preferred = sets.sort("_rank").group_by(*UNIT_KEY, "target", maintain_order=True).agg(
        pl.col("_set").first(), pl.col("_rank").first())
    top_sets = (
        preferred.group_by(*UNIT_KEY, "_set").agg(pl.len().alias("_n"), pl.col("_rank").min())
        .sort("_n", "_rank", descending=[True, False])
        .group_by(UNIT_KEY, maintain_order=True).agg(pl.col("_set").first().alias("_top_set"))
    )
    # a measure comes from the best edition whose code set matches the unit's top edition's (for
    # units where the top edition publishes the measure, that is the top edition itself)
    sets = sets.join(top_sets, on=UNIT_KEY, how="left").with_columns(
        (pl.col("_set") == pl.col("_top_set")).alias("_compatible")
    )
    # a single code that denotes exactly the top set's single code (renumbered: 0701 Horten of
    # 2015 is 3801 of 2021) is the same municipality: its values join the unit under the top code
    pairs = sets.filter(~pl.col("_compatible") & ~pl.col("_set").str.contains("+", literal=True)
                        & ~pl.col("_top_set").str.contains("+", literal=True)).select("_set", "_top_set").unique()
    same = [(a, b) for a, b in pairs.iter_rows() if _same_territory(a, b)]
    if same:
        same_frame = pl.DataFrame({"_set": [a for a, _ in same], "_top_set": [b for _, b in same],
                                   "_same": [True] * len(same)})
        sets = sets.join(same_frame, on=["_set", "_top_set"], how="left").with_columns(
            (pl.col("_compatible") | pl.col("_same").fill_null(False)).alias("_compatible")).drop("_same")
    winners = (
        sets.filter(pl.col("_compatible")).sort("_rank")
        .group_by(*UNIT_KEY, "target", maintain_order=True).agg(pl.col("edition").first().alias("_win"))
    )
    m = m.join(winners, on=[*UNIT_KEY, "target"], how="left", nulls_equal=True).with_columns(
        (pl.col("kommune_nr").is_not_null() & (pl.col("edition") == pl.col("_win"))).fill_null(False).alias("chosen")
    ).drop("_win")
    # national rows: the edition the year's municipal settlement counts come from (its totals),
    # else the best-ranked edition with a national row
    totals = totals_editions(m)
    national = m.filter(pl.col("kommune_nr").is_null())
    nat_any = national.sort("_rank").group_by("measure_year", maintain_order=True).agg(
        pl.col("edition").first().alias("_nat_any"))
    m = (
        m.join(totals.select("measure_year", pl.col("edition").alias("_tot")), on="measure_year", how="left")
        .join(nat_any, on="measure_year", how="left")
        .with_columns(
            pl.when(pl.col("kommune_nr").is_null())
            .then(pl.col("edition") == pl.coalesce("_tot", "_nat_any")).otherwise(pl.col("chosen"))
            .fill_null(False).alias("chosen")
        )
        .drop("_tot", "_nat_any")
    )
    chosen = _under_top_code(m.filter(pl.col("chosen")), code_sets, top_sets)
    return chosen, m, _restatements(m)


def _same_territory(a: str, b: str) -> bool:
    """Do 'code/classification' a and b denote one municipality (one maps onto the other whole,
    and nothing else maps into it)?"""
    from settlement_research.sources.imdi import codes
    from settlement_research.sources.imdi.restated import _images_at

    (ca, ya), (cb, yb) = (x.split("/") for x in (a, b))
    (lo, lo_y), (hi, hi_y) = sorted([(ca, int(ya)), (cb, int(yb))], key=lambda t: t[1])
    if lo_y == hi_y or not (codes.valid_in(lo, lo_y) and codes.valid_in(hi, hi_y)):
        return False
    images = _images_at(lo_y, hi_y)
    return images.get(lo) == frozenset({hi}) and sum(hi in v for v in images.values()) == 1


def _under_top_code(chosen: pl.DataFrame, code_sets: pl.DataFrame, top_sets: pl.DataFrame) -> pl.DataFrame:
    """Chosen cells published under a code equivalent to the unit's top code are booked under it."""
    kom = chosen.filter(pl.col("kommune_nr").is_not_null())
    moved = (
        kom.join(code_sets, on=[*UNIT_KEY, "edition"], how="left").join(top_sets, on=UNIT_KEY, how="left")
        .with_columns(
            (pl.col("_set") != pl.col("_top_set")).fill_null(False).alias("_move"),
            pl.col("_top_set").str.split("/").list.first().alias("_top_code"),
            pl.col("_top_set").str.split("/").list.last().cast(chosen.schema["classification_year"], strict=False)
            .alias("_top_cls"),
        )
        .with_columns(
            pl.when(pl.col("_move")).then(pl.col("_top_code")).otherwise(pl.col("kommune_nr")).alias("kommune_nr"),
            pl.when(pl.col("_move")).then(pl.col("_top_cls")).otherwise(pl.col("classification_year"))
            .alias("classification_year"),
        )
        .drop("_set", "_top_set", "_move", "_top_code", "_top_cls")
    )
    return pl.concat([moved.select(chosen.columns), chosen.filter(pl.col("kommune_nr").is_null())])


TOTAL_MEASURES = ("requested", "decided", "settled")
SETTLEMENT_TABLE = "kommune_settlement_year"


def totals_editions(m: pl.DataFrame) -> pl.DataFrame:
    """Per year: the edition most of the clean table's settlement counts come from (ties: rank),
    and every edition that contributes (``editions``), so a report can say where totals come from."""
    cells = m.filter(
        pl.col("chosen") & pl.col("kommune_nr").is_not_null() & (pl.col("table") == SETTLEMENT_TABLE)
        & pl.col("target").is_in(list(TOTAL_MEASURES))
    )
    per = cells.group_by("measure_year", "edition").agg(pl.len().alias("_n"), pl.col("_rank").first())
    return (
        per.sort("_n", "_rank", descending=[True, False]).group_by("measure_year", maintain_order=True)
        .agg(pl.col("edition").first(), pl.col("edition").sort().alias("editions"))
        .sort("measure_year")
    )


def _restatements(m: pl.DataFrame) -> pl.DataFrame:
    """Every difference between the chosen edition and another one, per key or per unit."""
    kom = m.filter(pl.col("kommune_nr").is_not_null())
    win = kom.filter(pl.col("chosen"))
    other = kom.filter(~pl.col("chosen"))
    if other.is_empty():
        return pl.DataFrame(schema=_SCHEMA_RESTATED)

    def per_edition(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        return frame.group_by(*UNIT_KEY, "target", "edition").agg(
            _codes_str(pl.col("kommune_nr")).alias(f"{prefix}_codes"),
            pl.when(pl.col("value").is_not_null().any()).then(pl.col("value").sum()).alias(f"{prefix}_value"),
            pl.col("value").is_null().any().alias(f"{prefix}_has_null"),
            pl.col("symbol").drop_nulls().unique().sort().str.join(",").alias(f"{prefix}_symbol"),
            pl.len().alias(f"{prefix}_n"),
        ).rename({"edition": f"{prefix}_edition"})

    a = per_edition(win, "chosen")
    b = per_edition(other, "other")
    pairs = b.join(a, on=[*UNIT_KEY, "target"], how="left")
    same = pairs.filter(pl.col("chosen_codes") == pl.col("other_codes"))
    # same code set: compare cell by cell
    cells = (
        other.join(win.select(*UNIT_KEY, "target", "kommune_nr", pl.col("edition").alias("chosen_edition"),
                              pl.col("value").alias("chosen_value"), pl.col("symbol").alias("chosen_symbol")),
                   on=[*UNIT_KEY, "target", "kommune_nr"], how="inner")
        .join(same.select(*UNIT_KEY, "target", "other_edition"), left_on=[*UNIT_KEY, "target", "edition"],
              right_on=[*UNIT_KEY, "target", "other_edition"], how="semi")
        .filter(~(pl.col("value").eq_missing(pl.col("chosen_value"))
                  & pl.col("symbol").eq_missing(pl.col("chosen_symbol"))))
        .select(
            "table", pl.col("measure_year").alias("year"), pl.col("target").alias("measure"),
            pl.lit(SAME_CODE).alias("kind"), "chosen_edition", pl.col("edition").alias("other_edition"),
            pl.col("kommune_nr").alias("chosen_codes"), pl.col("kommune_nr").alias("other_codes"),
            "chosen_value", "chosen_symbol", pl.col("value").alias("other_value"),
            pl.col("symbol").alias("other_symbol"),
        )
    )
    across = pairs.filter(pl.col("chosen_codes") != pl.col("other_codes")).filter(
        ~(pl.col("chosen_value").eq_missing(pl.col("other_value"))
          & pl.col("chosen_symbol").eq_missing(pl.col("other_symbol")))
    ).select(
        "table", pl.col("measure_year").alias("year"), pl.col("target").alias("measure"),
        pl.lit(OTHER_CODES).alias("kind"), "chosen_edition", "other_edition", "chosen_codes",
        "other_codes", "chosen_value", pl.col("chosen_symbol").replace("", None),
        "other_value", pl.col("other_symbol").replace("", None),
    )
    lost = pairs.filter(pl.col("chosen_codes").is_null()).select(
        "table", pl.col("measure_year").alias("year"), pl.col("target").alias("measure"),
        pl.lit(COVERAGE).alias("kind"), pl.lit(None, pl.String).alias("chosen_edition"), "other_edition",
        pl.lit(None, pl.String).alias("chosen_codes"), "other_codes", pl.lit(None, pl.Float64).alias("chosen_value"),
        pl.lit(None, pl.String).alias("chosen_symbol"), "other_value", pl.col("other_symbol").replace("", None),
    )
    across = across.filter(pl.col("chosen_codes").is_not_null())
    out = pl.concat([cells.cast(_SCHEMA_RESTATED), across.cast(_SCHEMA_RESTATED), lost.cast(_SCHEMA_RESTATED)])
    return out.sort("table", "year", "measure", "chosen_codes", "other_codes", nulls_last=True)


__all__ = [
    "EDITION_2015", "EDITION_COLUMNS", "Edition", "LATEST", "PRECEDENCE_RULE", "PUBLISHER", "choose",
    "infer", "per_date", "period_end", "ranks", "tag", "totals_editions",
]
