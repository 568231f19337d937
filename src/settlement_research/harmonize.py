"""Municipality codes across the 2018, 2020 and 2024 reforms: map any year's codes to a later year.

A municipality code means nothing without the classification year it belongs to: codes were
renumbered (1601 Trondheim -> 5001 in 2018; 0104 Moss -> 3002 -> 3103), merged (0104 Moss + 0136
Rygge -> 3002 in 2020), split (1507 Ålesund -> 1508 + 1580 Haram in 2024) and reused. Everything
here is therefore keyed by (code, year), never by code alone. A change effective 1 January of year
Y means data classified in Y-1 still uses the old code.

``geo.changes.load_changes`` reads a change table (the one shipped in ``settlement_research/geo/data``,
a KLASS changes frame, JSON or fetch cache, a plain CSV or FHI's csdata workbook) into a
``ChangeTable``; ``ChangeTable.mapping`` composes it into (old code at from_year) -> [(code at
to_year, weight)], exact where a split follows an older border (1534 Haram -> 1580);
``harmonize`` moves a municipality-year table onto one classification year:

* counts (model unit persons, NOK, dwellings, loans, spells, dwelling-years) are summed over
  merges and apportioned over splits that follow no older border. Integer counts are split by largest remainder, so they stay
  whole and every total is preserved exactly; split weights are population shares of the new
  municipalities when a population frame is given, else the change table's weight, else an equal
  split; every row that received part of a split is flagged with the method used;
* shares and rates are never averaged: a merged row's share is recomputed from its harmonised
  numerator and denominator (``DEFAULT_SHARE_DEFS`` or ``share_defs``); without a declared
  numerator and denominator it becomes null and is flagged. A row fed by one source keeps it;
* status symbols: a merged count with a missing part (':' suppressed, '..' missing, ...) is, by
  default (``partial="sum"``), the sum of the parts that are known and flagged ``partial:<col>``,
  so national totals of every count are kept exactly and the undercount is never silent; with
  ``partial="null"`` it is null with the most serious symbol of its parts instead. '-' (nil) is a
  true zero and sums as 0;
* other columns (window_years, names, ...) survive a merge only when all parts agree, else they
  become null and are flagged ``conflict:<col>``; decision_status is recomputed.

The output has the input's columns (kommune_nr and classification_year now of ``to_year``) plus
``harmonization_flag`` (';'-separated tokens, null when nothing was estimated or lost) and
``harmonized_from`` (source codes, '*weight' for a part of a split). Drop ``FLAG_COLUMNS`` before
validating against the model, which is strict.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

# The change table lives in geo.changes; its names stay importable from here.
from settlement_research.geo.changes import (
    CHANGE_SCHEMA,
    CODES_SCHEMA,
    SHIPPED_CHANGES,
    SHIPPED_CODES,
    SHIPPED_COVERAGE,
    SPLIT_EQUAL,
    SPLIT_POPULATION,
    SPLIT_TABLE_WEIGHT,
    UNKNOWN_CODE,
    ChangeTable,
    HarmonizeError,
    code_mapping,
    load_changes,
    read_fhi,
    read_klass_changes,
    shipped_changes,
    shipped_code_list,
)

__all__ = [
    "CHANGE_SCHEMA", "CLI_HELP", "CODES_SCHEMA", "COUNT_UNITS", "DEFAULT_SHARE_DEFS", "FLAG_COL", "FLAG_COLUMNS",
    "FROM_COL", "SHIPPED_CHANGES", "SHIPPED_CODES", "SHIPPED_COVERAGE", "SPLIT_EQUAL", "SPLIT_POPULATION",
    "SPLIT_TABLE_WEIGHT", "SYMBOL_PRECEDENCE", "UNKNOWN_CODE", "ChangeTable", "HarmonizeError", "cli_add_arguments",
    "cli_run", "code_mapping", "detect_table", "harmonize", "load_changes", "read_fhi", "read_klass_changes",
    "shipped_changes", "shipped_code_list",
]

FLAG_COL = "harmonization_flag"
FROM_COL = "harmonized_from"
FLAG_COLUMNS = [FLAG_COL, FROM_COL]

# Model units that are additive over municipalities.
COUNT_UNITS = frozenset({"persons", "NOK", "dwellings", "loans", "spells", "dwelling-years", "households"})
# share_col -> (numerator, denominator[, scale]); recomputed after a merge instead of averaged.
DEFAULT_SHARE_DEFS: dict[str, tuple[Any, ...]] = {
    "work_education_share": ("work_education_count", "work_education_base"),
    "throughput": ("municipal_exits", "municipal_dwelling_years"),
}
# Most serious first: the symbol a merged cell takes when parts of it are missing for reasons.
SYMBOL_PRECEDENCE = [":", "..", "...", ".", "Inf", "~"]  # "~": not in this edition (model.base.NOT_PUBLISHED)



# --------------------------------------------------------------------------------------------
# harmonising a table
# --------------------------------------------------------------------------------------------

@dataclass
class _Roles:
    keys: list[str]
    counts: list[str]
    ratios: dict[str, tuple[str, str, float] | None]  # None: no numerator/denominator declared
    attributes: list[str]
    symbols: dict[str, str]  # measure -> its symbol column


def detect_table(columns: Sequence[str]) -> str | None:
    """The aggregate model table whose columns contain all of ``columns`` and most of its measures."""
    from settlement_research.model import AGGREGATE_TABLES
    from settlement_research.model import columns as model_columns

    cols = {c for c in columns if c not in FLAG_COLUMNS}
    best: tuple[int, str] | None = None
    for name in AGGREGATE_TABLES:
        known = set(model_columns(name))
        if "kommune_nr" not in known or not cols <= known:
            continue
        overlap = len(cols & known - {"kommune_nr", "year", "classification_year"})
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, name)
    return best[1] if best else None


def _roles(
    df: pl.DataFrame, table: str | None, count_cols: Sequence[str] | None,
    share_defs: Mapping[str, Sequence[Any]] | None, by: Sequence[str] | None,
) -> _Roles:
    units: dict[str, str] = {}
    if table is not None:
        from settlement_research.model import get_model, primary_key

        for name, column in get_model(table).to_schema().columns.items():
            units[name] = (column.metadata or {}).get("unit", "")
        if by is None:
            by = [k for k in primary_key(table) if k != "kommune_nr"]
    if by is None:
        by = ["year"] if "year" in df.columns else []
    keys = ["kommune_nr", "classification_year", *by]
    symbols = {c.removesuffix("_symbol"): c for c in df.columns
               if c.endswith("_symbol") and c.removesuffix("_symbol") in df.columns}
    derived = {"decision_status"} if {"requested", "decided"} <= set(df.columns) else set()
    measures = [c for c in df.columns if c not in keys and c not in FLAG_COLUMNS
                and c not in symbols.values() and c not in derived]
    defs: dict[str, tuple[str, str, float]] = {}
    for name, spec in {**DEFAULT_SHARE_DEFS, **(share_defs or {})}.items():
        num, den, *scale = spec
        if name in df.columns and num in df.columns and den in df.columns:
            defs[name] = (num, den, float(scale[0]) if scale else 1.0)
        elif share_defs and name in share_defs:
            raise HarmonizeError(f"share_defs[{name!r}]: columns {name}, {num}, {den} must all be in the frame")

    def is_ratio(c: str) -> bool:
        unit = units.get(c, "")
        if c in defs or unit.startswith("share") or " per " in unit:
            return True
        return not units and c.endswith(("_share", "_pct", "_rate", "_per_1000"))

    if count_cols is not None:
        counts = [c for c in count_cols if c in df.columns]
        unknown = sorted(set(count_cols) - set(df.columns))
        if unknown:
            raise HarmonizeError(f"count_cols not in the frame: {unknown}")
    else:
        counts = [c for c in measures if units.get(c) in COUNT_UNITS]
        if not units:
            unclear = [c for c in measures if df.schema[c].is_numeric() and not is_ratio(c)]
            if unclear:
                raise HarmonizeError(
                    f"cannot tell whether {unclear} are counts (summed) or not: pass table= or count_cols="
                )
    for name, (num, den, _) in list(defs.items()):
        if num not in counts or den not in counts:
            if share_defs and name in share_defs:
                raise HarmonizeError(f"share {name!r}: numerator {num!r} and denominator {den!r} must be counts")
            del defs[name]
    ratios = {c: defs.get(c) for c in measures if c not in counts and is_ratio(c)}
    attributes = [c for c in measures if c not in counts and c not in ratios]
    attributes += [symbols.pop(a) for a in list(attributes) if a in symbols]
    return _Roles(keys, counts, ratios, attributes, symbols)


def harmonize(
    frame: pl.DataFrame | pl.LazyFrame,
    to_year: int,
    *,
    changes: Any = None,
    weights: pl.DataFrame | pl.LazyFrame | None = None,
    count_cols: Sequence[str] | None = None,
    share_defs: Mapping[str, Sequence[Any]] | None = None,
    table: str | None = None,
    by: Sequence[str] | None = None,
    unknown: Literal["raise", "keep", "drop"] = "raise",
    partial: Literal["sum", "null"] = "sum",
) -> pl.DataFrame:
    """Map a municipality-year table from its codes' classification year(s) to ``to_year``.

    ``frame`` has kommune_nr, classification_year (``year`` is used if it is missing) and measures;
    ``table`` names its model (detected from the columns when None) so counts and shares are known
    from the model units, else pass ``count_cols``. ``share_defs`` maps share -> (numerator,
    denominator[, scale]). ``weights`` is a population frame (kommune_context_year) for splits.
    ``by``: key columns besides kommune_nr (default: the model's primary key, or year). Codes not
    valid in their classification year raise (``unknown='keep'`` passes them through flagged,
    ``'drop'`` drops them). ``partial``: a merged count with a missing part is the sum of the known
    parts (``"sum"``, flagged; keeps national totals) or null with the parts' symbol (``"null"``).
    """
    if partial not in ("sum", "null"):
        raise HarmonizeError(f"partial must be 'sum' or 'null', not {partial!r}")
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    # A frame harmonised before keeps its flags (a split stays an estimate); provenance restarts.
    previous = df[FLAG_COL].cast(pl.String) if FLAG_COL in df.columns else pl.Series(FLAG_COL, [None] * df.height, pl.String)
    df = df.drop([c for c in FLAG_COLUMNS if c in df.columns])
    if "kommune_nr" not in df.columns:
        raise HarmonizeError("the frame needs a kommune_nr column")
    if "classification_year" not in df.columns:
        if "year" not in df.columns:
            raise HarmonizeError("the frame needs classification_year (or year)")
        df = df.with_columns(pl.col("year").alias("classification_year"))
    if df.schema["kommune_nr"] != pl.String:
        raise HarmonizeError("kommune_nr must be a 4-character string ('0301'), not a number")
    missing_year = df.with_row_index("row", offset=1).filter(pl.col("classification_year").is_null())
    if missing_year.height:
        rows = missing_year.select("row", "kommune_nr").head(5).rows()
        raise HarmonizeError(
            f"{missing_year.height} row(s) have no classification year, so their codes cannot be "
            f"placed in the code history (row, kommune_nr): {rows}",
            column="classification_year",
            hint="fill classification_year (the year whose municipality codes the row uses)",
        )
    table = table if table is not None else detect_table(df.columns)
    roles = _roles(df, table, count_cols, share_defs, by)
    dup = df.filter(df.select(roles.keys).is_duplicated())
    if dup.height:
        raise HarmonizeError(f"duplicate rows for {roles.keys}: {dup.select(roles.keys).head(5).rows()}")
    ct = load_changes(changes)
    mapping = _mapping_for(df, ct, to_year, weights)
    unknown_rows = mapping.filter(pl.col("split_method") == UNKNOWN_CODE)
    if unknown_rows.height and unknown == "raise":
        raise HarmonizeError(
            f"codes not valid in their classification year (by {ct.source}): "
            f"{unknown_rows.select('old_code', '_from').head(10).rows()}; "
            "pass unknown='keep' or 'drop', or changes= with a code list that knows them"
        )
    if unknown == "keep":
        mapping = mapping.with_columns(
            pl.when(pl.col("split_method") == UNKNOWN_CODE).then(pl.col("old_code"))
            .otherwise(pl.col("new_code")).alias("new_code")
        )
    mapping = mapping.filter(pl.col("new_code").is_not_null())
    cy_dtype = df.schema["classification_year"]
    contrib = (
        df.with_columns(previous.alias("_previous")).with_row_index("_row")
        .join(
            mapping.with_columns(pl.col("_from").cast(cy_dtype)),
            left_on=["kommune_nr", "classification_year"], right_on=["old_code", "_from"], how="inner",
        )
        .sort("_row", "new_code")
        .with_row_index("_pos")
    )
    contrib = _apportion(contrib, roles.counts)
    out = _aggregate(contrib, roles, df.schema, partial)
    out = out.with_columns(pl.lit(to_year).cast(cy_dtype).alias("classification_year"))
    if {"requested", "decided", "decision_status"} <= set(df.columns):
        from settlement_research.model.settlement import decision_status_expr

        out = out.with_columns(decision_status_expr().alias("decision_status"))
    return out.select(*df.columns, *FLAG_COLUMNS).sort([k for k in roles.keys if k != "classification_year"])


def _mapping_for(
    df: pl.DataFrame, ct: ChangeTable, to_year: int, weights: pl.DataFrame | pl.LazyFrame | None
) -> pl.DataFrame:
    w = weights.collect() if isinstance(weights, pl.LazyFrame) else weights
    parts = []
    for (from_year,), group in df.group_by(["classification_year"]):
        codes = group["kommune_nr"].unique().to_list()
        parts.append(ct.mapping(int(from_year), to_year, codes=codes, weights=w)  # type: ignore[arg-type]
                     .with_columns(pl.lit(int(from_year)).alias("_from")))  # type: ignore[arg-type]
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"old_code": pl.String, "new_code": pl.String, "weight": pl.Float64,
                "split_method": pl.String, "_from": pl.Int64}
    )


def _apportion(contrib: pl.DataFrame, counts: Sequence[str]) -> pl.DataFrame:
    """Each count's share of a split: float x weight, integers by Webster's divisor method.

    Integers stay whole and the parts add up exactly; the method is house-monotone, so a part of
    a smaller count never exceeds the same part of a larger one (minors <= settled survives).
    """
    partial = contrib.filter(pl.col("weight") < 1.0)
    if partial.is_empty() or not counts:
        return contrib
    ints = [c for c in counts if contrib.schema[c].is_integer()]
    floats = [c for c in counts if c not in ints]
    contrib = contrib.with_columns(
        pl.when(pl.col("weight") < 1.0).then(pl.col(c) * pl.col("weight")).otherwise(pl.col(c)).alias(c)
        for c in floats
    )
    if not ints:
        return contrib
    new_values: dict[str, list[int | None]] = {c: [] for c in ints}
    positions: list[int] = []
    for _, rows in partial.group_by("_row", maintain_order=True):
        weights = rows["weight"].to_list()
        positions.extend(rows["_pos"].to_list())
        for c in ints:
            v = rows[c][0]
            new_values[c].extend([None] * len(weights) if v is None else _webster(int(v), weights))
    patch = pl.DataFrame({"_pos": positions, **{c: pl.Series(c, new_values[c], dtype=contrib.schema[c]) for c in ints}},
                         schema_overrides={"_pos": contrib.schema["_pos"]})
    return contrib.update(patch, on="_pos", include_nulls=True)


def _webster(total: int, weights: Sequence[float]) -> list[int]:
    """Apportion ``total`` units by ``weights`` (Webster/Sainte-Laguë; ties to the earlier part)."""
    if total <= 0:
        return [total if i == 0 else 0 for i in range(len(weights))]
    alloc = [max(0, math.floor(total * w + 0.5)) for w in weights]
    while sum(alloc) < total:
        i = max(range(len(weights)), key=lambda j: (weights[j] / (alloc[j] + 0.5), -j))
        alloc[i] += 1
    while sum(alloc) > total:
        i = min((j for j in range(len(weights)) if alloc[j] > 0),
                key=lambda j: (weights[j] / (alloc[j] - 0.5), -j))
        alloc[i] -= 1
    return alloc


_RANK = {s: i for i, s in enumerate(SYMBOL_PRECEDENCE)}


def _sym(df_cols: set[str], roles: _Roles, col: str) -> pl.Expr:
    s = roles.symbols.get(col)
    return pl.col(s) if s and s in df_cols else pl.lit(None, pl.String)


def _aggregate(
    contrib: pl.DataFrame, roles: _Roles, schema: Mapping[str, pl.DataType], partial: str = "sum"
) -> pl.DataFrame:
    cols = set(contrib.columns)
    group = [k for k in roles.keys if k not in ("kommune_nr", "classification_year")] + ["new_code"]
    source = pl.when(pl.col("weight") < 1.0).then(
        pl.concat_str(pl.col("kommune_nr"), pl.lit("*"), pl.col("weight").round(4).cast(pl.String))
    ).otherwise(pl.col("kommune_nr"))
    aggs: list[pl.Expr] = [
        pl.len().alias("_n"),
        pl.col("classification_year").n_unique().alias("_n_from"),
        source.unique().sort().str.join("+").alias(FROM_COL),
        pl.concat_str("split_method", "_previous", separator=";", ignore_nulls=True).replace("", None)
        .drop_nulls().str.split(";").explode().unique().sort().alias("_methods"),
    ]
    for c in [*roles.counts, *roles.ratios]:
        val, sym = pl.col(c), _sym(cols, roles, c)
        dash = val.is_null() & (sym == "-").fill_null(False)
        missing = val.is_null() & ~dash
        aggs += [
            val.sum().alias(f"_{c}_sum"), val.first().alias(f"_{c}_first"), sym.first().alias(f"_{c}_sfirst"),
            val.is_not_null().sum().alias(f"_{c}_nval"), dash.sum().alias(f"_{c}_ndash"),
            missing.sum().alias(f"_{c}_nmiss"),
            sym.replace_strict(_RANK, default=len(_RANK), return_dtype=pl.Int32).filter(missing).min().alias(f"_{c}_best"),
            sym.filter(missing).n_unique().alias(f"_{c}_nsym"),
        ]
    for a in roles.attributes:
        aggs += [pl.col(a).first().alias(f"_{a}_first"), pl.col(a).n_unique().alias(f"_{a}_nuniq")]
    out = contrib.group_by(group).agg(aggs)
    clash = out.filter(pl.col("_n_from") > 1)
    if clash.height:
        raise HarmonizeError(
            "rows from different classification years fall on the same municipality and key "
            f"(double counting): {clash.select(group).head(5).rows()}"
        )

    def best_symbol(c: str) -> pl.Expr:
        return pl.col(f"_{c}_best").replace_strict(
            {i: s for s, i in _RANK.items()}, default=None, return_dtype=pl.String)

    flags: list[pl.Expr] = [pl.col("_methods").list.join(";")]
    counts: list[pl.Expr] = [pl.col("new_code").alias("kommune_nr")]
    for c in roles.counts:
        nval, ndash, nmiss = pl.col(f"_{c}_nval"), pl.col(f"_{c}_ndash"), pl.col(f"_{c}_nmiss")
        known = (nval > 0) if partial == "sum" else ((nmiss == 0) & (nval > 0))
        counts.append(pl.when(known).then(pl.col(f"_{c}_sum")).cast(schema[c]).alias(c))
        if c in roles.symbols:
            counts.append(
                pl.when(known).then(pl.lit(None, pl.String))
                .when(nmiss > 0).then(best_symbol(c))
                .when((nval == 0) & (ndash > 0)).then(pl.lit("-"))
                .otherwise(pl.lit(None, pl.String)).alias(roles.symbols[c])
            )
        flags.append(pl.when((nmiss > 0) & (nval + ndash > 0)).then(pl.lit(f"partial:{c}")))
        flags.append(pl.when((nmiss > 1) & (nval + ndash == 0) & (pl.col(f"_{c}_nsym") > 1))
                     .then(pl.lit(f"mixed_symbols:{c}")))
    # Ratios read the final counts, so they are computed in a second pass.
    rest: list[pl.Expr] = []
    single = pl.col("_n") == 1
    for c, spec in roles.ratios.items():
        nval = pl.col(f"_{c}_nval")
        if spec is None:
            value = pl.when(single).then(pl.col(f"_{c}_first"))
            symbol = pl.when(single).then(pl.col(f"_{c}_sfirst")).when(nval == 0).then(best_symbol(c))
            flags.append(pl.when(~single & (nval > 0)).then(pl.lit(f"share_not_recomputable:{c}")))
        else:
            num, den, scale = spec
            n, d = pl.col(num), pl.col(den)
            value = pl.when(single).then(pl.col(f"_{c}_first")).when(d > 0).then(n / d * scale)
            parts = [pl.col(roles.symbols[x]) for x in (num, den) if x in roles.symbols]
            worst = (
                pl.min_horizontal([p.replace_strict(_RANK, default=None, return_dtype=pl.Int32) for p in parts])
                .replace_strict({i: s for s, i in _RANK.items()}, default=None, return_dtype=pl.String)
                if parts else pl.lit(None, pl.String)
            )
            symbol = (pl.when(single).then(pl.col(f"_{c}_sfirst"))
                      .when(n.is_null() | d.is_null()).then(worst)
                      .when(d == 0).then(pl.lit(".")))
            flags.append(pl.when(~single & (n.is_null() | d.is_null())).then(pl.lit(f"share_partial:{c}")))
        rest.append(value.cast(schema[c]).alias(c))
        if c in roles.symbols:
            rest.append(symbol.cast(pl.String).alias(roles.symbols[c]))
    for a in roles.attributes:
        rest.append(pl.when(pl.col(f"_{a}_nuniq") == 1).then(pl.col(f"_{a}_first")).cast(schema[a]).alias(a))
        flags.append(pl.when(pl.col(f"_{a}_nuniq") > 1).then(pl.lit(f"conflict:{a}")))
    joined = pl.concat_str(flags, separator=";", ignore_nulls=True).str.replace_all(";+", ";").str.strip_chars(";")
    flag = pl.when(joined == "").then(pl.lit(None, pl.String)).otherwise(joined)
    return out.with_columns(counts).with_columns(rest).with_columns(flag.alias(FLAG_COL))


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------

CLI_HELP = "map a municipality-year table to one classification year (merges, splits, renumbering)"


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="table file (.parquet or .csv)")
    parser.add_argument("--to-year", type=int, required=True, help="target classification year")
    parser.add_argument("--out", type=Path, help="write the result here (.parquet or .csv)")
    parser.add_argument("--changes", type=Path,
                        help="change table (.csv, KLASS .json, FHI .xlsx, or a folder of cached KLASS "
                             "responses such as data_raw/klass); default: the shipped table")
    parser.add_argument("--table", help="model table of the file (detected from its columns if omitted)")
    parser.add_argument("--weights", type=Path, help="population table (kommune_context_year) for split weights")
    parser.add_argument("--count-cols", help="comma-separated count columns (when the table has no model)")
    parser.add_argument("--share", action="append", default=[], metavar="SHARE=NUM/DEN",
                        help="recompute SHARE from NUM/DEN after merging (repeatable)")
    parser.add_argument("--unknown", choices=["raise", "keep", "drop"], default="raise",
                        help="codes not valid in their classification year")
    parser.add_argument("--partial", choices=["sum", "null"], default="sum",
                        help="a merged count with a missing part: sum of the known parts (flagged) or null")


def _read_input(
    path: Path, table: str | None, count_cols: Sequence[str] | None, ratio_cols: Sequence[str] = ()
) -> tuple[pl.DataFrame, str | None]:
    """The table file: conformed to its model when it has one, else counts and ratios made numeric."""
    from settlement_research.validation import conform, read_table

    df = read_table(path)
    table = table or detect_table(df.columns)
    if table is not None:
        return conform(df, table), table
    text = [c for c in df.columns if df.schema[c] == pl.String]
    casts: dict[str, Any] = {c: pl.Float64 for c in [*(count_cols or []), *ratio_cols] if c in text}
    for c in count_cols or []:
        if c in text and df[c].drop_nulls().str.contains(r"^-?\d+$").all():
            casts[c] = pl.Int64
    casts |= {c: pl.Int16 for c in ("year", "classification_year") if c in text}
    return df.with_columns(pl.col(c).cast(t) for c, t in casts.items()), None


def _read_weights(path: Path) -> pl.DataFrame:
    """A population file: kommune_nr, year and/or classification_year, population (or weight)."""
    from settlement_research.validation import read_table

    df = read_table(path)
    numeric = {"year": pl.Int16, "classification_year": pl.Int16, "population": pl.Float64, "weight": pl.Float64}
    return df.with_columns(pl.col(c).cast(t) for c, t in numeric.items() if c in df.columns)


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.io import write_csv_atomic, write_parquet_atomic

    count_cols = [c.strip() for c in args.count_cols.split(",")] if args.count_cols else None
    share_defs: dict[str, tuple[str, str]] = {}
    for spec in args.share:
        name, _, ratio = spec.partition("=")
        num, _, den = ratio.partition("/")
        if not (name and num and den):
            print(f"harmonize: --share must look like SHARE=NUM/DEN, got {spec!r}")
            return 2
        share_defs[name] = (num, den)
    try:
        df, table = _read_input(args.path, args.table, count_cols, list(share_defs))
        weights = _read_weights(args.weights) if args.weights else None
        changes = load_changes(args.changes) if args.changes else None
        out = harmonize(df, args.to_year, changes=changes, weights=weights, count_cols=count_cols,
                        share_defs=share_defs or None, table=table, unknown=args.unknown,
                        partial=args.partial)
    except (HarmonizeError, ValueError, OSError) as exc:
        print(f"harmonize: {exc}")
        return 1
    flagged = out.filter(pl.col(FLAG_COL).is_not_null())
    print(f"{args.path}: {df.height} rows, {df['kommune_nr'].n_unique()} codes -> "
          f"{out.height} rows, {out['kommune_nr'].n_unique()} codes of {args.to_year}; "
          f"{flagged.height} rows flagged")
    for token, n in (flagged[FLAG_COL].str.split(";").explode().value_counts(sort=True).rows()
                     if flagged.height else []):
        print(f"  {token}: {n}")
    if args.out:
        writer = write_csv_atomic if args.out.suffix.lower() == ".csv" else write_parquet_atomic
        writer(out, args.out)
        print(f"wrote {args.out}")
        lineage = _write_lineage(args.path, args.out, df, out, table, args.to_year)
        if lineage is not None:
            print(f"wrote {lineage}")
    return 0


def _write_lineage(path: Path, target: Path, before: pl.DataFrame, after: pl.DataFrame, table: str | None,
                   to_year: int) -> Path | None:
    """``lineage/<out>.parquet`` beside the output: each harmonised row's source keys and weights,
    with the input's own lineage (``lineage/<input>.parquet`` beside it, as data_clean keeps it)
    carried through. Only for a model table keyed by municipality (its rows have keys)."""
    from settlement_research.io import write_parquet_atomic
    from settlement_research.model import primary_key
    from settlement_research.pipeline.lineage import LINEAGE_DIR, harmonised_lineage

    if table is None or "kommune_nr" not in primary_key(table):
        return None
    companion = path.parent / LINEAGE_DIR / f"{path.stem}.parquet"
    before_lineage = pl.read_parquet(companion) if companion.is_file() else None
    lineage = harmonised_lineage(before, after, table, path.parent.name or "file", to_year, before_lineage)
    written = target.parent / LINEAGE_DIR / f"{target.stem}.parquet"
    written.parent.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(lineage, written)
    return written
