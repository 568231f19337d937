"""Source protocol for the synthetic register: raw extract files -> model tables.

Parses what ``writer`` wrote the way a real extract is parsed: every column read as text (so
'0301' stays '0301'), codes mapped to the model's categories (an unknown code is an error, except
countries, which fall into 'other'), dates from YYYYMMDD, decimal commas, percent -> share,
1000 NOK -> NOK, and status symbols -> null plus ``<col>_symbol``. Output tables carry every model
column in model order and dtype (columns this source has no data for are typed nulls), so they
validate as they are.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from settlement_research.model import cast_to_model
from settlement_research.model import dtypes as model_dtypes
from settlement_research.model.base import SYMBOLS
from settlement_research.model.settlement import decision_status_expr
from settlement_research.sources.synthetic import calibration as cal
from settlement_research.sources.synthetic import layout as lay

SOURCE_NAME = "synthetic"

_CODES: dict[tuple[str, str], dict[str, str]] = {
    ("person", "sex"): lay.SEX_CODES,
    ("household", "household_type"): lay.HOUSEHOLD_CODES,
    ("household_member", "role"): lay.ROLE_CODES,
    ("settlement", "route"): lay.ROUTE_CODES,
    ("housing_spell", "tenure"): lay.TENURE_CODES,
    ("intro_spell", "end_reason"): lay.INTRO_END_CODES,
    ("outcome_year", "status"): lay.STATUS_CODES,
}


_EXACT = 2**53  # integers below this survive the parse as a float unchanged


def _number(raw: str, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_float():
        out = _general_number(pl.col(raw)).cast(pl.Float64)
        if raw in lay.PERCENT_COLUMNS:
            out = out / 100
        if raw in lay.THOUSAND_NOK_COLUMNS:
            out = out * 1000
        return out
    # whole numbers: plain digit strings (nearly every cell of the large person-level files) parse
    # straight to an integer; only the other cells (spaces, symbols, decimal commas, bad values)
    # take the general path, whose result and errors are the same as before for them
    plain = pl.col(raw).cast(pl.Int64, strict=False)
    plain = pl.when(plain.is_between(1 - _EXACT, _EXACT - 1)).then(plain)
    rest = pl.when(plain.is_null()).then(pl.col(raw))
    return pl.coalesce(plain, _general_number(rest).cast(pl.Float64).cast(pl.Int64))


def _general_number(column: pl.Expr) -> pl.Expr:
    """Text -> number text: trimmed, status symbols as null, decimal comma as point."""
    text = column.str.strip_chars()
    return pl.when(text.is_in(SYMBOLS)).then(None).otherwise(text).str.replace(",", ".", literal=True)


def _parse(name: str, raw_dir: Path) -> pl.LazyFrame:
    table, cols = lay.FILES[name]
    dtypes = model_dtypes(table)
    lf = pl.scan_csv(raw_dir / name, separator=lay.SEPARATOR, infer_schema=False, encoding="utf8")
    exprs: list[pl.Expr] = []
    for raw, model_col in cols.items():
        dtype = dtypes[model_col]
        c = pl.col(raw)
        if (table, model_col) in _CODES:
            expr = c.replace_strict(_CODES[(table, model_col)], return_dtype=pl.String)
        elif model_col == "country_group":
            expr = c.replace_strict(lay.COUNTRY_CODES, default="other", return_dtype=pl.String)
        elif model_col == "education":
            expr = c.str.slice(0, 1).replace_strict(lay.NUS_LEVELS, return_dtype=pl.String)
        elif dtype == pl.Date:
            expr = c.str.to_date(lay.DATE_FORMAT)
        elif dtype == pl.Boolean:
            expr = c.replace_strict(lay.YES_NO, return_dtype=pl.Boolean)
        elif dtype == pl.String:
            expr = c
        else:
            expr = _number(raw, dtype)
        exprs.append(expr.alias(model_col))
        if f"{model_col}_symbol" in dtypes:
            sym = c.str.strip_chars()
            exprs.append(pl.when(sym.is_in(SYMBOLS)).then(sym).otherwise(None).alias(f"{model_col}_symbol"))
    return lf.select(exprs)


def read(raw_dir: str | Path) -> dict[str, pl.LazyFrame]:
    """The model tables of a synthetic extract folder (as written by ``settlement-research synth``)."""
    raw_dir = Path(raw_dir)
    missing = [name for name in lay.FILES if not (raw_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{raw_dir} is not a complete synthetic extract; missing {', '.join(missing)} "
            "(create it with `settlement-research synth`)"
        )
    out: dict[str, pl.LazyFrame] = {}
    classification = pl.lit(cal.CLASSIFICATION_YEAR, pl.Int16).alias("classification_year")
    for name, (table, _cols) in lay.FILES.items():
        lf = _parse(name, raw_dir)
        if "classification_year" in model_dtypes(table):
            lf = lf.with_columns(classification)
        if table == "kommune_settlement_year":
            lf = lf.with_columns(decision_status_expr().alias("decision_status"))
        out[table] = cast_to_model(lf, table)
    return out
