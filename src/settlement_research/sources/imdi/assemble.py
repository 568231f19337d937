"""From long records to model tables: codes, values, reasons, cross-file agreement, merging.

Every record ends in exactly one of two places: a cell of a model table (``reason`` null) or the
rejected list with the first reason that applies (``REASONS``, checked in that order). Symbols
('.', ':', 'Inf', ...) become a null value plus ``<column>_symbol``; they are never 0.

Every record carries its edition (``editions.py``). Several files of ONE edition may give the same
(kommune_nr, year, column) - the three settlement exports, the raw and flat version of one
indicator. They must agree (value and symbol); if they do, the key is merged into one cell, if
not, every record of the key is rejected as a conflict and named in the summary. Different
editions never conflict: each is assembled on its own and the clean tables take one value per
key by the documented precedence (``editions.PRECEDENCE_RULE``); every edition's value is kept
in ``imdi_edition_value`` and the differences are listed as restatements.

Unknown-municipality rows (fylke 99 in the 2015 edition, K9999 in the newer export) go to
``national_settlement_year`` as ``<measure>_unknown_kommune``, so the municipalities plus the
unknown row reconcile exactly with the national row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from settlement_research.harmonize import shipped_changes
from settlement_research.model import cast_to_model, measure_columns
from settlement_research.model.base import NOT_PUBLISHED, SYMBOLS
from settlement_research.model.settlement import decision_status_expr
from settlement_research.sources.imdi import codes, editions, restated
from settlement_research.sources.imdi.dimension import (
    NO_COUNTY,
    NO_DIMENSION,
    NOT_VALID,
    kommune_dimension,
)
from settlement_research.sources.imdi.layouts import RAW_WIDE, WIDE_2022
from settlement_research.sources.imdi.measures import (
    COHORT_INDICATORS,
    INTRO,
    KEPT_WINDOW_YEARS,
    NATIONAL,
    NOT_MAPPED,
    SETTLEMENT,
    target_for,
)

# Rejection reasons, in the order they are checked (the first that applies is reported).
NO_GEOGRAPHY = "no geography code in the row"
BYDEL = "city-district (bydel) row: not municipality level"
NARINGSREGION = "economic-region (naeringsregion) row: not municipality level"
FYLKE = "county (fylke) row: not municipality level"
NATIONAL_UNMAPPED = "national row (fylke 00): measure not in national_settlement_year"
UNKNOWN_GEO = "unknown_kommune"  # geo_level of fylke 99 / K9999 rows
UNKNOWN_UNMAPPED = (
    "unknown-municipality row (fylke 99 / K9999): only settlement counts have a national column"
)
BAD_CODE = "municipality code is not 4 digits (never padded outside the raw wide layout)"
NOT_MUNICIPALITY = "code is not a municipality (9999/xx99 unknown, Svalbard, Jan Mayen, continental shelf)"
ENDED = "code had ended before the data year (validity marker in the label)"
NOT_YET = "code was not yet valid in the data year"
NOT_IN_LIST = (
    "code not in the shipped KLASS 131 list (1991-2025), so not a municipality in a data year from "
    "1991: it had ended before"
)
LABEL_MISMATCH = "code column and '0101 Name' label disagree"
NAME_ROW = "name row (enhet 'navn'): a label, not a value"
WINDOW = "cohort status more than 1 year after leaving: kommune_intro_year keeps the 1-year window"
UNMAPPED = "indicator not mapped to any model column"
EMPTY = "empty cell: neither a value nor a status symbol"
BAD_VALUE = "value is neither a number nor a status symbol"
NOT_INTEGER = "count is not a whole number"
OUT_OF_RANGE = "value outside the model's range (negative, or a share above 100 %)"
FOLDED = (
    "ended code's count added to its namesake successor's in the same file and year (one "
    "municipality booked under two codes, e.g. grants to 1729 and 1756 Inderøy in 2012; the "
    "municipal sum equals the national row only with both)"
)
CONFLICT = "files of one edition disagree on this (kommune_nr, year, column)"
PART_ABOVE_WHOLE = (
    "breaks a model rule against another column (part above whole, e.g. refugees with short "
    "residence above refugees: flyktning_botid_flytting counts persons with refugee background, a "
    "wider group than innvandringsgrunn flukt)"
)
REASONS = [
    NO_GEOGRAPHY, BYDEL, NARINGSREGION, FYLKE, NATIONAL_UNMAPPED, UNKNOWN_UNMAPPED, BAD_CODE, NOT_MUNICIPALITY, ENDED,
    NOT_YET, LABEL_MISMATCH, NAME_ROW, WINDOW, UNMAPPED, *NOT_MAPPED.values(), EMPTY, BAD_VALUE,
    NOT_INTEGER, OUT_OF_RANGE, NOT_IN_LIST, FOLDED, *restated.REASON_TEMPLATES, NOT_VALID, NO_DIMENSION,
    NO_COUNTY, CONFLICT, PART_ABOVE_WHOLE,
]
# Model rules between two columns (table, part, whole): the part's cell is rejected if above.
PART_WHOLE_RULES = [
    ("kommune_context_year", "refugees_short_residence", "refugees"),
    ("kommune_context_year", "immigrants", "population"),
    ("kommune_intro_year", "work_education_count", "work_education_base"),
    ("kommune_intro_year", "leavers_completed", "leavers"),
    ("kommune_settlement_year", "settled_unaccompanied_minors", "settled"),
]

_NUMBER = r"^-?\d+(\.\d+)?$"
_KEY = ["table", "kommune_nr", "measure_year", "target"]
_EKEY = [*_KEY, "edition"]
UNKNOWN_KOMMUNE = "_unknown_kommune"  # suffix of the national columns for unknown-municipality rows


@dataclass
class Assembled:
    """The outcome of one import: model tables, every record with its fate, and what was fixed."""

    tables: dict[str, pl.DataFrame]
    records: pl.DataFrame           # all records with reason (null = imported)
    recoded: pl.DataFrame           # stale codes recoded to their namesake successor
    conflicts: pl.DataFrame         # keys the files disagreed on
    kommune_skipped: pl.DataFrame   # (code, classification year) with no `kommune` row: records rejected
    restated: pl.DataFrame          # rows not in the data year's own classification, and their fate
    edition_values: pl.DataFrame    # every edition's value of every key, with ``chosen``
    restatements: pl.DataFrame      # differences between the chosen and the other editions
    ranks: dict[str, int]           # edition -> precedence rank (0 = preferred)

    @property
    def rejected(self) -> pl.DataFrame:
        return self.records.filter(pl.col("reason").is_not_null())


# --- codes ---------------------------------------------------------------------------------------


def _code_table(records: pl.DataFrame) -> pl.DataFrame:
    """Per distinct (layout, code, label, name): the 4-digit code, padding flag, label years."""
    combos = records.filter(pl.col("geo_level") == "kommune").select(
        "layout", "code_raw", "label", "name"
    ).unique()
    rows = []
    for layout, code_raw, label, name in combos.iter_rows():
        raw = (code_raw or "").strip()
        if layout == RAW_WIDE:
            nr, padded = codes.restore_zeros(raw)
        else:
            nr, padded = (raw, False) if len(raw) == 4 and raw.isdigit() else (None, False)
        start, end = codes.label_years(label, name)
        rows.append({
            "layout": layout, "code_raw": code_raw, "label": label, "name": name,
            "kommune_nr": nr, "padded": padded, "label_start": start, "label_end": end,
            "label_code": codes.label_code(label) if layout == RAW_WIDE else None,
            "clean_name": codes.clean_name(name),
            "is_municipality": codes.is_municipality(nr) if nr else None,
        })
    schema = {
        "layout": pl.String, "code_raw": pl.String, "label": pl.String, "name": pl.String,
        "kommune_nr": pl.String, "padded": pl.Boolean, "label_start": pl.Int32,
        "label_end": pl.Int32, "label_code": pl.String, "clean_name": pl.String,
        "is_municipality": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def _recode_stale(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """1901 Harstad used for 2013/2014 data -> 1903, when the file has no 1903 row that year."""
    present = records.filter(pl.col("kommune_nr").is_not_null()).select(
        "file", "year", "kommune_nr"
    ).unique()
    succ = pl.DataFrame(
        {
            "kommune_nr": list(codes.NAMESAKE_SUCCESSOR),
            "successor": list(codes.NAMESAKE_SUCCESSOR.values()),
            "successor_from": [
                codes.CODE_VALIDITY[s][0] for s in codes.NAMESAKE_SUCCESSOR.values()
            ],
        },
        schema={"kommune_nr": pl.String, "successor": pl.String, "successor_from": pl.Int32},
    )
    with_succ = records.join(succ, on="kommune_nr", how="left")
    successor_present = present.rename({"kommune_nr": "successor"}).with_columns(
        pl.lit(True).alias("successor_present")
    )
    with_succ = with_succ.join(successor_present, on=["file", "year", "successor"], how="left")
    stale = (
        pl.col("successor").is_not_null()
        & (pl.col("year") >= pl.col("successor_from"))
        & pl.col("label_end").is_null()
        & pl.col("successor_present").is_null()
    )
    with_succ = with_succ.with_columns(
        pl.when(stale).then(pl.col("kommune_nr")).alias("recoded_from"),
        pl.when(stale).then(pl.col("successor")).otherwise(pl.col("kommune_nr")).alias("kommune_nr"),
    ).drop("successor", "successor_from", "successor_present")
    log = (
        with_succ.filter(pl.col("recoded_from").is_not_null())
        .group_by("file", "year", "recoded_from", "kommune_nr")
        .len("records")
        .rename({"kommune_nr": "recoded_to"})
        .sort("file", "year", "recoded_from")
    )
    return with_succ, log


def _classification(records: pl.DataFrame) -> pl.DataFrame:
    """classification_year per record (``codes`` rules), narrowed to the data year's unit.

    A code valid in the data year keeps its data-year meaning only until its next change
    (``codes.stable_until``): 1103 Stavanger's 2014 value in the 2022 export is Stavanger of 2014,
    classification <= 2019, not the Stavanger that took in Finnøy in 2020. A nameless row of the
    2022 export holds a code outside its classification: KLASS places it; a code KLASS does not
    know keeps the data year (its values are as recorded then).
    """
    nameless = (pl.col("layout") == WIDE_2022) & pl.col("name").is_null()
    keys = ["kommune_nr", "default_classification", "label_end", "measure_year", "year", "_nameless"]
    records = records.with_columns(nameless.alias("_nameless"))
    combos = records.filter(pl.col("kommune_nr").is_not_null()).select(keys).unique()
    rows = []
    for k, d, e, my, y, anon in combos.iter_rows():
        known = codes.known(k)
        if d is None:
            cls = None
        elif anon and not known:
            cls = y if e is None else min(y, e)
        else:
            cls = codes.classification_year(k, d, e)
            until = codes.stable_until(k, my) if known and codes.valid_in(k, my) else None
            if until is not None:
                cls = min(cls, until)
        rows.append({"kommune_nr": k, "default_classification": d, "label_end": e, "measure_year": my,
                     "year": y, "_nameless": anon, "classification_year": cls, "code_known": known})
    rows_df = pl.DataFrame(rows, schema={
        "kommune_nr": pl.String, "default_classification": pl.Int32, "label_end": pl.Int32,
        "measure_year": pl.Int32, "year": pl.Int32, "_nameless": pl.Boolean,
        "classification_year": pl.Int32, "code_known": pl.Boolean,
    })
    out = records.join(rows_df, on=keys, how="left", nulls_equal=True).drop("_nameless")
    valid = pl.DataFrame(
        [
            {"kommune_nr": k, "classification_year": c, "code_valid": codes.valid_in(k, c)}
            for k, c in out.select("kommune_nr", "classification_year").unique().drop_nulls().iter_rows()
        ],
        schema={"kommune_nr": pl.String, "classification_year": pl.Int32, "code_valid": pl.Boolean},
    )
    return out.join(valid, on=["kommune_nr", "classification_year"], how="left")


# --- measures and values -------------------------------------------------------------------------


def _targets(records: pl.DataFrame) -> pl.DataFrame:
    """Attach table/target/kind; cohort indicators move the year to the cohort."""
    cohort_ind = list(COHORT_INDICATORS)
    is_cohort = pl.col("indicator").is_in(cohort_ind)
    kohort = pl.col("dims").str.extract(r"(?:^|;)kohort=(\d{4})", 1).cast(pl.Int32, strict=False)
    records = records.with_columns(
        pl.when(is_cohort).then(
            pl.col("dims").str.replace(r"(^|;)kohort=\d{4}", "").str.strip_chars(";")
            .str.replace(";;", ";", literal=True)
        ).otherwise(pl.col("dims")).alias("dims_mapped"),
        pl.when(is_cohort).then(kohort).otherwise(pl.col("year")).alias("measure_year"),
        pl.when(is_cohort).then(pl.col("year") - kohort).alias("window_years"),
    )
    unknown = ((pl.col("geo_level") == "fylke") & (pl.col("code_raw") == "99")) | (
        (pl.col("geo_level") == "kommune") & (pl.col("code_raw") == "9999")
    )
    records = records.with_columns(
        pl.when(unknown).then(pl.lit(UNKNOWN_GEO)).otherwise(pl.col("geo_level")).alias("geo_level"),
        pl.when(unknown).then(None).otherwise(pl.col("kommune_nr")).alias("kommune_nr"),
    )
    combos = records.select("indicator", "dims_mapped", "enhet", "geo_level").unique()
    rows = []
    for ind, dims, enhet, geo in combos.iter_rows():
        t = target_for(ind or "", dims or "", enhet or "", national=(geo == "land"))
        column = t.column if t else None
        if geo == UNKNOWN_GEO:  # the municipality measure, booked on the national row
            t = target_for(ind or "", dims or "", enhet or "")
            column = f"{t.column}{UNKNOWN_KOMMUNE}" if t and t.table == SETTLEMENT and t.kind == "count" else None
        rows.append({
            "indicator": ind, "dims_mapped": dims, "enhet": enhet, "geo_level": geo,
            "table": (NATIONAL if geo == UNKNOWN_GEO else t.table) if column else None,
            "target": column, "kind": t.kind if column and t else None,
        })
    mapping = pl.DataFrame(rows, schema={
        "indicator": pl.String, "dims_mapped": pl.String, "enhet": pl.String, "geo_level": pl.String,
        "table": pl.String, "target": pl.String, "kind": pl.String,
    })
    return records.join(
        mapping, on=["indicator", "dims_mapped", "enhet", "geo_level"], how="left", nulls_equal=True
    )


def _values(records: pl.DataFrame) -> pl.DataFrame:
    raw = pl.col("value_raw").fill_null("").str.strip_chars()
    number_text = (
        pl.when(pl.col("layout") == RAW_WIDE)
        .then(raw.str.replace_all(r"[\s\u00a0]", "").str.replace(",", ".", literal=True))
        .otherwise(raw)
    )
    is_symbol = raw.is_in(SYMBOLS)
    is_number = number_text.str.contains(_NUMBER) & ~is_symbol
    number = pl.when(is_number).then(number_text.cast(pl.Float64, strict=False))
    value = pl.when(pl.col("kind") == "share").then(number / 100).otherwise(number)
    return records.with_columns(
        value.alias("value"),
        pl.when(is_symbol).then(raw).alias("symbol"),
        (raw == "").alias("is_empty"),
        (~is_symbol & ~is_number & (raw != "")).alias("is_bad"),
    )


def _reasons(records: pl.DataFrame) -> pl.DataFrame:
    geo = pl.col("geo_level")
    kommune = geo == "kommune"
    muni_ok = pl.col("is_municipality").fill_null(True)
    year = pl.col("year")
    value = pl.col("value")
    kind = pl.col("kind")
    reason = (
        pl.when(geo == "none").then(pl.lit(NO_GEOGRAPHY))
        .when(geo == "bydel").then(pl.lit(BYDEL))
        .when(geo == "naringsregion").then(pl.lit(NARINGSREGION))
        .when(geo == "fylke").then(pl.lit(FYLKE))
        .when((geo == "land") & pl.col("target").is_null()).then(pl.lit(NATIONAL_UNMAPPED))
        .when((geo == UNKNOWN_GEO) & pl.col("target").is_null()).then(pl.lit(UNKNOWN_UNMAPPED))
        .when(kommune & pl.col("kommune_nr").is_null()).then(pl.lit(BAD_CODE))
        .when(kommune & ~muni_ok).then(pl.lit(NOT_MUNICIPALITY))
        .when(kommune & pl.col("label_end").is_not_null() & (year > pl.col("label_end"))).then(pl.lit(ENDED))
        .when(kommune & pl.col("label_start").is_not_null() & (year < pl.col("label_start"))).then(pl.lit(NOT_YET))
        .when(kommune & (pl.col("code_valid") == False)).then(pl.lit(NOT_YET))  # noqa: E712
        .when(kommune & pl.col("label_code").is_not_null() & (pl.col("label_code") != pl.col("kommune_nr"))
              & (pl.col("label_code") != pl.col("recoded_from")).fill_null(True))
        .then(pl.lit(LABEL_MISMATCH))
        .when(pl.col("enhet") == "navn").then(pl.lit(NAME_ROW))
        .when(pl.col("window_years").is_not_null() & (pl.col("window_years") != KEPT_WINDOW_YEARS)
              & pl.col("target").is_not_null()).then(pl.lit(WINDOW))
        .when(pl.col("target").is_null())
        .then(pl.col("indicator").replace_strict(NOT_MAPPED, default=pl.lit(UNMAPPED), return_dtype=pl.String))
        .when(pl.col("is_empty")).then(pl.lit(EMPTY))
        .when(pl.col("is_bad")).then(pl.lit(BAD_VALUE))
        .when((kind == "count") & value.is_not_null() & (value != value.round(0))).then(pl.lit(NOT_INTEGER))
        .when(value.is_not_null() & ((value < 0) | ((kind == "share") & (value > 1)))).then(pl.lit(OUT_OF_RANGE))
        .when(kommune & ~pl.col("code_known").fill_null(True)
              & (pl.col("measure_year") >= codes.LIST_FIRST_YEAR))
        .then(pl.lit(NOT_IN_LIST))
    )
    return records.with_columns(reason.alias("reason"))


def _fold_stale(records: pl.DataFrame) -> pl.DataFrame:
    """A count booked under an ended code in a year its namesake successor also reports is added
    to the successor's value (same file, table, column and year), and the stale record is marked.

    Without this the table holds both 1729 (classification 2011) and 1756 (2014) for 2012, two
    disjoint parts that harmonisation must refuse as possible double counting.
    """
    last = {k: codes.CODE_VALIDITY[k][1] for k in codes.NAMESAKE_SUCCESSOR}
    where = ["file", "table", "target", "measure_year"]
    ok = pl.col("reason").is_null() & pl.col("value").is_not_null()
    stale = records.filter(
        ok & pl.col("kind").is_in(["count", "nok"]) & pl.col("kommune_nr").is_in(list(last))
        & (pl.col("measure_year") > pl.col("kommune_nr").replace_strict(last, default=None, return_dtype=pl.Int32))
    ).with_columns(pl.col("kommune_nr").replace_strict(codes.NAMESAKE_SUCCESSOR).alias("successor"))
    if stale.is_empty():
        return records
    successors = records.filter(ok).select(*where, pl.col("kommune_nr").alias("successor"))
    folded = stale.join(successors, on=[*where, "successor"], how="semi")
    if folded.is_empty():
        return records
    added = folded.group_by(*where, "successor").agg(pl.col("value").sum().alias("_add"))
    marks = folded.select("file", "row_nr", "column", pl.lit(True).alias("_folded"))
    return (
        records.join(added.rename({"successor": "kommune_nr"}), on=[*where, "kommune_nr"], how="left",
                     nulls_equal=True)
        .join(marks, on=["file", "row_nr", "column"], how="left", nulls_equal=True)
        .with_columns(
            pl.when(ok & pl.col("_add").is_not_null()).then(pl.col("value") + pl.col("_add"))
            .otherwise(pl.col("value")).alias("value"),
            pl.when(pl.col("_folded").fill_null(False)).then(pl.lit(FOLDED)).otherwise(pl.col("reason"))
            .alias("reason"),
        )
        .drop("_add", "_folded")
    )


def _conflicts(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keys whose candidate records disagree (value or symbol) are rejected, all of them."""
    cand = records.filter(pl.col("reason").is_null())
    key = pl.concat_str(
        [pl.col("value").cast(pl.String).fill_null(""), pl.col("symbol").fill_null("")], separator="|"
    )
    bad = (
        cand.with_columns(key.alias("_v"))
        .group_by(_EKEY)
        .agg(
            pl.col("_v").n_unique().alias("n_values"),
            pl.concat_str([pl.col("file"), pl.lit(":"), pl.col("row_nr").cast(pl.String), pl.lit("="),
                           pl.col("value_raw")]).alias("sources"),
        )
        .filter(pl.col("n_values") > 1)
    )
    if bad.height:
        records = records.join(
            bad.select(*_EKEY, pl.lit(True).alias("_conflict")), on=_EKEY, how="left", nulls_equal=True
        ).with_columns(
            pl.when(pl.col("reason").is_null() & pl.col("_conflict").fill_null(False))
            .then(pl.lit(CONFLICT)).otherwise(pl.col("reason")).alias("reason")
        ).drop("_conflict")
    bad = bad.with_columns(pl.col("sources").list.sort().list.join("; ")).drop("n_values")
    return records, bad.sort(_EKEY, nulls_last=True)


def _part_whole(records: pl.DataFrame, merged: pl.DataFrame) -> pl.DataFrame:
    """Reject the part's cell where a merged part exceeds its whole (model rule across columns)."""
    keys = ["kommune_nr", "measure_year", "edition"]
    bad_keys = []
    for table, part, whole in PART_WHOLE_RULES:
        sub = merged.filter(pl.col("table") == table)
        a = sub.filter(pl.col("target") == part).select(*keys, pl.col("value").alias("_part"))
        b = sub.filter(pl.col("target") == whole).select(*keys, pl.col("value").alias("_whole"))
        bad = a.join(b, on=keys).filter(pl.col("_part") > pl.col("_whole"))
        if bad.height:
            bad_keys.append(bad.select(pl.lit(table).alias("table"), *keys, pl.lit(part).alias("target")))
    if not bad_keys:
        return records
    flagged = pl.concat(bad_keys).with_columns(pl.lit(True).alias("_flag"))
    return records.join(flagged, on=_EKEY, how="left").with_columns(
        pl.when(pl.col("reason").is_null() & pl.col("_flag").fill_null(False))
        .then(pl.lit(PART_ABOVE_WHOLE)).otherwise(pl.col("reason")).alias("reason")
    ).drop("_flag")


# --- tables --------------------------------------------------------------------------------------


def _merged(records: pl.DataFrame) -> pl.DataFrame:
    """One row per key and edition; classification year closest to the data year (ties: the earlier)."""
    ok = records.filter(pl.col("reason").is_null())
    return (
        ok.with_columns((pl.col("classification_year") - pl.col("measure_year")).abs().alias("_dist"))
        .sort(*_EKEY, "_dist", "classification_year", nulls_last=True)
        .group_by(_EKEY, maintain_order=True)
        .agg(
            pl.col("value").first(), pl.col("symbol").first(),
            pl.col("classification_year").first(), pl.col("window_years").first(),
            pl.col("file").unique().sort().str.join(", ").alias("files"),
            pl.col("file_sha256").unique().sort().str.join(", "),
            pl.col("publisher").first(), pl.col("edition_per").first(),
        )
    )


def _images(merged: pl.DataFrame) -> dict[tuple[str, int], frozenset[str]]:
    """(code, classification year) -> its codes at the change table's horizon (for units)."""
    ct = shipped_changes()
    pairs = merged.filter(pl.col("kommune_nr").is_not_null()).select(
        "kommune_nr", "classification_year").unique().drop_nulls()
    images: dict[tuple[str, int], frozenset[str]] = {}
    for (cls,), group in pairs.group_by(["classification_year"]):
        cls = int(cls)  # type: ignore[arg-type]
        known = sorted(c for c in group["kommune_nr"].to_list() if codes.known(c) and codes.valid_in(c, cls))
        if not known or cls < codes.LIST_FIRST_YEAR:
            continue
        m = ct.mapping(cls, max(cls, restated.HORIZON), codes=known).drop_nulls("new_code")
        for old, news in m.group_by("old_code").agg(pl.col("new_code")).iter_rows():
            images[(old, cls)] = frozenset(news)
    return images


def _fill_symbols(wide: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """A null measure with no symbol gets NOT_PUBLISHED: the chosen edition has no value for it
    (a missing measure column is added as all null first)."""
    for c in columns:
        if c not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(c))
        sym = f"{c}_symbol"
        current = pl.col(sym) if sym in wide.columns else pl.lit(None, pl.String)
        wide = wide.with_columns(
            pl.when(pl.col(c).is_null() & current.is_null()).then(pl.lit(NOT_PUBLISHED))
            .otherwise(current).alias(sym)
        )
    return wide


def _kommune_year_table(merged: pl.DataFrame, table: str) -> pl.DataFrame | None:
    part = merged.filter(pl.col("table") == table)
    if part.is_empty():
        return None
    keys = ["kommune_nr", "measure_year"]
    cls = (
        part.with_columns((pl.col("classification_year") - pl.col("measure_year")).abs().alias("_d"))
        .sort(*keys, "_d", "classification_year")
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("classification_year").first(), pl.col("window_years").drop_nulls().first(),
            editions.period_end(pl.col("measure_year"), pl.col("edition_per")).min().alias("period_end"),
        )
    )
    values = part.pivot(on="target", index=keys, values="value", aggregate_function="first")
    symbols = part.filter(pl.col("symbol").is_not_null())
    wide = cls.join(values, on=keys, how="left")
    if symbols.height:
        sym = symbols.with_columns((pl.col("target") + "_symbol").alias("target")).pivot(
            on="target", index=keys, values="symbol", aggregate_function="first"
        )
        wide = wide.join(sym, on=keys, how="left")
    wide = wide.rename({"measure_year": "year"})
    wide = _fill_symbols(wide, measure_columns(table))
    if table == SETTLEMENT:
        wide = wide.with_columns(decision_status_expr().alias("decision_status"))
    if table == INTRO:
        has_window_measure = pl.lit(False)
        for c in ("work_education_base", "work_education_share", "work_education_share_symbol"):
            if c in wide.columns:
                has_window_measure = has_window_measure | pl.col(c).is_not_null()
        wide = wide.with_columns(
            pl.when(has_window_measure).then(pl.col("window_years")).alias("window_years")
        )
    else:
        wide = wide.drop("window_years")
    for c in wide.columns:
        if wide.schema[c] == pl.Float64 and c != "imdi_grants_nok" and not c.endswith("_share"):
            wide = wide.with_columns(pl.col(c).round(0))
    return cast_to_model(wide, table).sort("kommune_nr", "year")


DERIVED = (
    "{measure}: this edition publishes no national row; the sum of its municipality rows plus its "
    "unknown-municipality row ({suppressed} suppressed cells not included)"
)


def _derived_national(chosen: pl.DataFrame, edition_values: pl.DataFrame) -> pl.DataFrame:
    """National requested/decided/settled for years whose totals edition has no national row:
    that edition's own municipal values summed, plus its unknown-municipality row."""
    totals = editions.totals_editions(edition_values)
    if totals.is_empty():
        return chosen.clear()
    have = chosen.filter(pl.col("table") == NATIONAL).select("measure_year", "target").unique()
    own = edition_values.join(totals.select("measure_year", "edition"), on=["measure_year", "edition"], how="semi")
    muni = own.filter(pl.col("kommune_nr").is_not_null() & (pl.col("table") == SETTLEMENT)
                      & pl.col("target").is_in(list(editions.TOTAL_MEASURES)))
    unknown = own.filter((pl.col("table") == NATIONAL) & pl.col("target").str.ends_with(UNKNOWN_KOMMUNE)).select(
        "measure_year", pl.col("target").str.strip_suffix(UNKNOWN_KOMMUNE), pl.col("value").alias("_unknown"))
    sums = (
        muni.group_by("measure_year", "target", "edition")
        .agg(
            pl.when(pl.col("value").is_not_null().any()).then(pl.col("value").sum()).alias("value"),
            (pl.col("symbol") == ":").sum().alias("_suppressed"),
            pl.col("files").str.split(", ").explode().unique().sort().str.join(", ").alias("files"),
            pl.col("edition_per").first(), pl.col("publisher").first(), pl.col("classification_year").max(),
        )
        .join(have, on=["measure_year", "target"], how="anti")
        .join(unknown, on=["measure_year", "target"], how="left")
        .with_columns(
            (pl.col("value") + pl.col("_unknown").fill_null(0)).alias("value"),
            pl.lit(None, pl.String).alias("symbol"),
            pl.lit(NATIONAL).alias("table"), pl.lit(None, pl.String).alias("kommune_nr"),
            pl.format(DERIVED.replace("{measure}", "{}").replace("{suppressed}", "{}"),
                      pl.col("target"), pl.col("_suppressed")).alias("_derived"),
        )
    )
    return sums


def _national_table(chosen: pl.DataFrame, edition_values: pl.DataFrame) -> pl.DataFrame | None:
    derived = _derived_national(chosen, edition_values)
    cols = ["measure_year", "target", "value", "symbol", "files", "edition", "edition_per", "_derived"]
    part = chosen.filter(pl.col("table") == NATIONAL).with_columns(
        pl.lit(None, pl.String).alias("_derived")).select(cols)
    if derived.height:
        part = pl.concat([part, derived.select(cols).cast(part.schema)], how="vertical")
    if part.is_empty():
        return None
    values = part.pivot(on="target", index="measure_year", values="value", aggregate_function="first")
    meta = part.group_by("measure_year").agg(
        pl.col("files").unique().sort().str.join(", "), pl.col("edition").first(),
        pl.col("edition_per").first(),
        pl.col("_derived").drop_nulls().sort().str.join("; ").alias("_derived"),
    )
    out = values.join(meta, on="measure_year").rename({"measure_year": "year"})
    symbols = part.filter(pl.col("symbol").is_not_null())
    if symbols.height:
        sym = symbols.with_columns((pl.col("target") + "_symbol").alias("target")).pivot(
            on="target", index="measure_year", values="symbol", aggregate_function="first"
        ).rename({"measure_year": "year"})
        out = out.join(sym, on="year", how="left")
    out = _fill_symbols(out, [f"{c}{UNKNOWN_KOMMUNE}" for c in ("settled", "requested", "decided")])
    out = out.with_columns(
        editions.period_end(pl.col("year"), pl.col("edition_per")).alias("reference_date"),
        (pl.lit("IMDi integreringsdata, edition ") + pl.col("edition") + pl.lit(": ") + pl.col("files")
         + pl.lit("; national row fylke 00 where given, unknown municipality (fylke 99 / K9999) apart; "
                   "settled during the calendar year")
         + pl.when(pl.col("_derived") != "").then(pl.lit("; ") + pl.col("_derived")).otherwise(pl.lit("")))
        .alias("source"),
    ).drop("_derived")
    return cast_to_model(out, NATIONAL).sort("year")


# --- entry point ---------------------------------------------------------------------------------


def _per_edition_restated(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``restated.resolve`` inside each edition: an edition's own restatements are its business."""
    if records.is_empty():  # a header-only export: nothing to resolve, same shapes
        out, rec, log = restated.resolve(records)
        return out, rec, log.with_columns(pl.lit(None, pl.String).alias("edition"))
    outs, recs, logs = [], [], []
    for (ed,), part in records.partition_by("edition", as_dict=True, maintain_order=True).items():
        out, rec, log = restated.resolve(part)
        outs.append(out)
        recs.append(rec)
        logs.append(log.with_columns(pl.lit(ed, pl.String).alias("edition")))
    return (pl.concat(outs, how="vertical_relaxed"), pl.concat(recs, how="vertical_relaxed"),
            pl.concat(logs, how="vertical_relaxed"))


def assemble(frames: Iterable[pl.DataFrame], prefer: list[str] | None = None) -> Assembled:
    """Records of all files -> model tables (validated by the caller) and the fate of every record.

    Records carry edition columns (``editions.tag``; untagged frames are one anonymous edition).
    ``prefer``: edition ids ranked first (``editions.PRECEDENCE_RULE``).
    """
    records = pl.concat([_tagged(f) for f in frames], how="vertical")
    code_table = _code_table(records)
    records = records.join(
        code_table, on=["layout", "code_raw", "label", "name"], how="left", nulls_equal=True
    ).with_columns(pl.col("padded").fill_null(False))
    records, recoded = _recode_stale(records)
    records = _targets(records)
    records = _classification(records)
    records = _values(records)
    records = _reasons(records)
    records = _fold_stale(records)
    records, renumbered, restatements = _per_edition_restated(records)
    recoded = pl.concat([recoded, renumbered.cast(recoded.schema)]).sort("file", "year", "recoded_from")
    kommune, skipped = kommune_dimension(records)
    records = _no_dimension(records, skipped)
    records, conflicts = _conflicts(records)
    records = _part_whole(records, _merged(records))
    rank = editions.ranks(records, prefer)
    merged_all = _merged(records)
    chosen, edition_values, restated_between = editions.choose(merged_all, rank, _images(merged_all))
    tables: dict[str, pl.DataFrame] = {}
    for table in ("kommune_settlement_year", "kommune_intro_year", "kommune_context_year"):
        frame = _kommune_year_table(chosen, table)
        if frame is not None:
            tables[table] = frame
    national = _national_table(chosen, edition_values)
    if national is not None:
        tables[NATIONAL] = national
    # The dimension covers every code used: codes it cannot hold were rejected above, so the
    # build's relation check (code valid in `kommune` for its classification year) can pass.
    if kommune is not None:
        tables["kommune"] = kommune
    if edition_values.height:
        tables[EDITION_TABLE] = _edition_table(edition_values)
    return Assembled(tables, records, recoded, conflicts, skipped, restatements, edition_values,
                     restated_between, rank)


EDITION_TABLE = "imdi_edition_value"


def _edition_table(values: pl.DataFrame) -> pl.DataFrame:
    """The companion table: every edition's value of every key (model ``ImdiEditionValue``)."""
    out = values.select(
        "table", pl.col("kommune_nr").fill_null(NATIONAL_CODE), pl.col("measure_year").alias("year"),
        pl.col("target").alias("measure"), "edition", "classification_year", "value", "symbol",
        "publisher", "edition_per", editions.period_end(pl.col("measure_year"), pl.col("edition_per"))
        .alias("period_end"), "files", "file_sha256", "chosen",
    )
    return cast_to_model(out, EDITION_TABLE).sort("table", "year", "kommune_nr", "measure", "edition")


NATIONAL_CODE = "0000"  # kommune_nr of national-row values in imdi_edition_value


def _tagged(frame: pl.DataFrame) -> pl.DataFrame:
    if "edition" in frame.columns:
        return frame
    return frame.with_columns(
        pl.lit("unnamed").alias("edition"), pl.lit(editions.PUBLISHER).alias("publisher"),
        pl.lit(None, pl.Date).alias("edition_per"), pl.lit(None, pl.Date).alias("edition_rank_date"),
        pl.lit(None, pl.String).alias("file_sha256"),
    )


def _no_dimension(records: pl.DataFrame, skipped: pl.DataFrame) -> pl.DataFrame:
    """Reject the records of (code, classification year) pairs the dimension cannot hold."""
    if skipped.is_empty():
        return records
    flagged = skipped.select(
        "kommune_nr", pl.col("classification_year").cast(records.schema["classification_year"]),
        pl.col("why").alias("_why"),
    )
    return records.join(flagged, on=["kommune_nr", "classification_year"], how="left").with_columns(
        pl.when(pl.col("reason").is_null()).then(pl.col("_why")).otherwise(pl.col("reason")).alias("reason")
    ).drop("_why")


REJECTED_COLUMNS = [
    "file", "layout", "row_nr", "column", "geo_level", "code_raw", "kommune_nr", "year", "indicator",
    "dims", "enhet", "value_raw", "reason",
]

__all__ = ["Assembled", "assemble", "REASONS", "REJECTED_COLUMNS"]
