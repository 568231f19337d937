"""Validate a table against its pandera model and explain every failure in plain language.

The reviewer reads the output, so each broken rule becomes one ``Problem`` with a sentence ("must be
at least 0"), all failing row indices and a few examples with their row (and CSV line) numbers.
Nothing is padded, guessed or silently nulled: a value that cannot be cast to the model's dtype is a
row-level problem, and every failing row is kept (with its original values) in ``failing_rows``.

Steps, all vectorised: collect -> column set check -> coercion to the model's dtypes -> pandera
``validate(lazy=True)`` on the collected frame (pandera on a LazyFrame only checks names/dtypes) ->
problems -> split into valid and failing rows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from settlement_research.errors import DataError, UnreadableFileError
from settlement_research.frames import to_polars
from settlement_research.model import PERSON_TABLES, get_model, primary_key
from settlement_research.model import dtypes as model_dtypes
from settlement_research.model.base import (
    FINITE_CHECK,
    FULL_YEAR_CHECK,
    MIN_DATE_YEAR,
    SYMBOLS,
    date_columns,
    float_columns,
)
from settlement_research.problems import Problem, ValidationResult
from settlement_research.textio import read_text_table, sniff_separator

MAX_EXAMPLES = 20
CSV_SUFFIXES = {".csv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
HIDDEN = "(hidden)"

_INT_TYPES = {pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64}
_FLOAT_TYPES = {pl.Float32, pl.Float64}
_TRUE_FALSE = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
               "ja": True, "nei": False, "t": True, "f": False}


class DataValidationError(DataError, ValueError):
    """A table broke its model; the message names the file, the rows and the rules."""

    def __init__(self, message: str, result: ValidationResult | None = None, **where: Any) -> None:
        if result is not None and result.source and "file" not in where:
            where["file"] = result.source
        super().__init__(message, **where)
        self.result = result


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------

def read_table(path: str | Path) -> pl.DataFrame:
    """Read Parquet or CSV; CSV columns all as text so '0301' stays '0301' and '301' stays '301'.

    CSV goes through ``textio.read_text_table`` (one encoding rule, separator sniffed, complete
    records); use ``read_table_lines`` to also get each row's file line.
    """
    return read_table_lines(path)[0]


def read_table_lines(path: str | Path) -> tuple[pl.DataFrame, list[int] | None]:
    """The table and, for CSV, the 1-based file line of each row (right after quoted newlines)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnreadableFileError(f"cannot read {path}: no such file", file=path)
    if suffix in PARQUET_SUFFIXES:
        try:
            return pl.read_parquet(path), None
        except Exception as exc:  # polars raises several kinds for corrupt files
            raise UnreadableFileError(f"cannot read {path} as Parquet: {_first_line(exc)}", file=path) from exc
    if suffix in CSV_SUFFIXES:
        table = read_text_table(path)
        return table.frame(), table.data_lines
    raise UnreadableFileError(
        f"cannot read {path}: unsupported file type {suffix or '(none)'}; use .parquet, .pq, .csv or .txt",
        file=path,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# coercion
# --------------------------------------------------------------------------------------------

def _type_message(dtype: pl.DataType) -> str:
    if dtype in _INT_TYPES:
        return "must be a whole number"
    if dtype in _FLOAT_TYPES:
        return "must be a number"
    if dtype == pl.Date:
        return "must be a complete date like 2014-06-30 (4-digit year)"
    if dtype == pl.Boolean:
        return "must be true or false"
    return f"must be of type {dtype}"


def _cast(name: str, src: pl.DataType, dst: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(value cast to ``dst``, mask of rows whose non-empty value could not be cast)."""
    c = pl.col(name)
    if src == dst:
        return c, pl.lit(False).alias(name)
    if dst == pl.String:
        return c.cast(pl.String), pl.lit(False).alias(name)
    present = c.is_not_null()
    if src == pl.String:
        s = c.str.strip_chars()
        present = s.is_not_null() & (s != "")
        if dst in _INT_TYPES:
            as_float = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
            value = pl.coalesce(
                s.cast(dst, strict=False),
                pl.when(as_float == as_float.floor()).then(as_float).cast(dst, strict=False),
            )
        elif dst in _FLOAT_TYPES:
            as_float = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
            value = pl.when(as_float.is_finite()).then(as_float).cast(dst)
        elif dst == pl.Date:
            value = pl.coalesce(
                _iso_date(s), pl.when(s.str.contains(_DOTTED_DATE)).then(s.str.to_date("%d.%m.%Y", strict=False))
            )
        elif dst == pl.Boolean:
            value = s.str.to_lowercase().replace_strict(_TRUE_FALSE, default=None, return_dtype=pl.Boolean)
        else:
            value = s.cast(dst, strict=False)
    elif dst in _INT_TYPES and src in _FLOAT_TYPES:
        value = pl.when(c == c.floor()).then(c).cast(dst, strict=False)
    elif dst == pl.Boolean and src in _INT_TYPES:
        value = pl.when(c.is_in([0, 1])).then(c).cast(pl.Boolean)
    elif dst == pl.Date and isinstance(src, pl.Datetime):
        value = c.dt.date()
    else:
        value = c.cast(dst, strict=False)
    return value.alias(name), (present & value.is_null()).alias(name)


_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DOTTED_DATE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"


def _iso_date(text: pl.Expr) -> pl.Expr:
    """YYYY-MM-DD with a 4-digit year only: polars' %Y alone reads '13-01-20' as the year 13."""
    return pl.when(text.str.contains(_ISO_DATE)).then(text.str.to_date("%Y-%m-%d", strict=False))


def _fast_cast(name: str, src: pl.DataType, dst: pl.DataType) -> pl.Expr:
    """The plain cast, right for clean data; rows it turns into null are looked at again."""
    c = pl.col(name)
    if src == dst:
        return c
    if dst == pl.String:
        return c.cast(pl.String)
    if src == pl.String:
        if dst == pl.Date:
            return _iso_date(c)
        if dst == pl.Boolean:
            return _cast(name, src, dst)[0]
        if dst in _FLOAT_TYPES:
            value = c.cast(dst, strict=False)
            return pl.when(value.is_finite()).then(value)
        return c.cast(dst, strict=False)
    return _cast(name, src, dst)[0]


def _coerce(
    frame: pl.DataFrame, dtypes: dict[str, pl.DataType]
) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Cast model columns present in ``frame``; return the cast frame and per-column failure masks.

    A plain cast first (one pass); only columns where it left non-empty values null get the
    lenient parse (whitespace, decimal comma, 3.0 as 3, other date layouts) and the failure mask.
    """
    names = [n for n in dtypes if n in frame.columns]
    cast = frame.select([_fast_cast(n, frame.schema[n], dtypes[n]).alias(n) for n in names])
    lost = pl.concat(
        [frame.select([pl.col(n).is_not_null().alias(n) for n in names]),
         cast.select([pl.col(n).is_null().alias(f"__null_{n}") for n in names])],
        how="horizontal",
    ).select([(pl.col(n) & pl.col(f"__null_{n}")).any().alias(n) for n in names]) if names else None
    suspects = [n for n in names if lost is not None and lost[n].item()]
    failed: dict[str, pl.Series] = {}
    if suspects:
        slow = frame.select(
            [e for n in suspects for e in _named(_cast(n, frame.schema[n], dtypes[n]), n)]
        )
        cast = cast.with_columns([slow[n] for n in suspects])
        failed = {n: slow[f"__bad_{n}"] for n in suspects if slow[f"__bad_{n}"].any()}
    return cast, failed


def _named(pair: tuple[pl.Expr, pl.Expr], name: str) -> tuple[pl.Expr, pl.Expr]:
    return pair[0].alias(name), pair[1].alias(f"__bad_{name}")


def conform(frame: pl.DataFrame | pl.LazyFrame, table: str) -> pl.DataFrame:
    """Model columns in model order, cast to model dtypes, missing nullable columns as typed nulls.

    Raises ``DataValidationError`` on a missing non-nullable column or on values that cannot be cast;
    columns the model does not know are kept at the end so ``validate`` can report them.
    """
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    schema = get_model(table).to_schema()
    dtypes = model_dtypes(table)
    missing = [n for n in dtypes if n not in df.columns]
    required = [n for n in missing if not schema.columns[n].nullable]
    if required:
        raise DataValidationError(
            f"{table}: missing required column(s) {', '.join(required)}; "
            f"the model needs: {', '.join(dtypes)}"
        )
    cast, failed = _coerce(df, dtypes)
    if failed:
        parts = []
        for name, mask in failed.items():
            idx = mask.arg_true().to_list()
            parts.append(f"{name} {_type_message(dtypes[name])} (rows {_row_list(idx)})")
        raise DataValidationError(f"{table}: values that cannot be cast: " + "; ".join(parts))
    extra = [c for c in df.columns if c not in dtypes]
    return pl.concat(
        [cast, df.select(extra)], how="horizontal"
    ).select(
        [pl.col(n) if n in df.columns else pl.lit(None, dtype=t).alias(n) for n, t in dtypes.items()]
        + [pl.col(c) for c in extra]
    )


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

def validate(
    frame: pl.DataFrame | pl.LazyFrame,
    table: str,
    *,
    source: str | Path | None = None,
    coerce: bool = True,
    lines: Sequence[int] | None = None,
) -> ValidationResult:
    """Check ``frame`` against the model of ``table``; never raises for bad data, only reports.

    ``source`` names where the data came from (a file path or a source name); for a CSV path the
    examples also carry the file line (header = line 1): ``lines`` gives each row's line as
    ``read_table_lines`` returns it, else they are read from the file (right after quoted
    newlines). Rows are numbered from 1 in every message and example.
    """
    model = get_model(table)
    frame = to_polars(frame)  # a pandas frame is converted once, here
    original = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    ctx = _Context(table, original, source, lines)
    schema = model.to_schema()
    dtypes = model_dtypes(table)
    problems: list[Problem] = []

    # 1. column set
    missing = [n for n in dtypes if n not in original.columns]
    missing_required = [n for n in missing if not schema.columns[n].nullable]
    missing_nullable = [n for n in missing if schema.columns[n].nullable]
    unexpected = [c for c in original.columns if c not in dtypes]
    for name in missing_required:
        problems.append(Problem(
            rule="missing_column", table=table, column=name, n_rows=ctx.n_rows,
            message=f"required column {name!r} is missing",
            hint=_close_names(name, unexpected),
        ))
    for name in missing_nullable:
        problems.append(Problem(
            rule="missing_column", table=table, column=name, severity="warning",
            message=f"optional column {name!r} is missing; it is treated as empty",
        ))
    for name in unexpected:
        problems.append(Problem(
            rule="unexpected_column", table=table, column=name, n_rows=ctx.n_rows,
            message=f"column {name!r} is not part of the {table} model",
            hint=_close_names(name, missing) or f"the model's columns are: {', '.join(dtypes)}",
        ))

    # 2. coercion
    if coerce:
        cast, failed = _coerce(original, dtypes)
    else:
        cast, failed = original.select([c for c in dtypes if c in original.columns]), {}
    bad_cells: dict[str, pl.Series] = {}
    for name, mask in failed.items():
        idx = mask.arg_true()
        bad_cells[name] = idx
        problems.append(ctx.row_problem(
            rule="type", column=name, rows=idx, message=_type_message(dtypes[name]),
            hint=_symbol_hint(name, ctx.values(name, idx), dtypes),
        ))
    working = cast.select(
        [pl.col(n) if n in cast.columns else pl.lit(None, dtype=t).alias(n)
         for n, t in dtypes.items() if n not in missing_required]
    )

    # 2b. rules every model has (model.base.Model), reported per column here
    problems.extend(_finite_and_dated(working, ctx))

    # 3. pandera on the collected frame
    run_schema = copy.copy(schema)
    run_schema.checks = [c for c in schema.checks if c.name not in (FINITE_CHECK, FULL_YEAR_CHECK)]
    if missing_required:
        run_schema = copy.deepcopy(schema.remove_columns(missing_required))
        run_schema.checks = []  # frame rules may need the missing column; the table fails anyway
        if run_schema.unique and set(run_schema.unique) & set(missing_required):
            run_schema.unique = None
    problems.extend(_pandera_problems(run_schema, working, ctx, bad_cells))

    valid_rows, failing_rows = _split(original, working, problems, ctx.n_rows)
    return ValidationResult(
        table=table, n_rows=ctx.n_rows, problems=problems, frame=working,
        valid_rows=valid_rows, failing_rows=failing_rows,
        source=str(source) if source is not None else None,
    )


def _finite_and_dated(working: pl.DataFrame, ctx: _Context) -> list[Problem]:
    """NaN/±inf in any float column and dates without a 4-digit year, one problem per column."""
    problems: list[Problem] = []
    floats, dates = float_columns(working.schema), date_columns(working.schema)
    if not floats and not dates:
        return problems
    masks = working.select(
        [(pl.col(c).is_not_null() & ~pl.col(c).is_finite()).alias(c) for c in floats]
        + [(pl.col(c).dt.year() < MIN_DATE_YEAR).fill_null(False).alias(c) for c in dates]
    )
    for name in floats:
        rows = masks.get_column(name).arg_true()
        if rows.len():
            problems.append(ctx.row_problem(
                rule="finite", column=name, rows=rows,
                message="must be a finite number (NaN and ±inf are not values)",
                hint="a missing value is an empty cell (null); NaN or inf means a computation upstream failed",
            ))
    for name in dates:
        rows = masks.get_column(name).arg_true()
        if rows.len():
            problems.append(ctx.row_problem(
                rule="four_digit_year", column=name, rows=rows, message="must have a 4-digit year",
                hint="a year before 1000 is an incomplete date such as '13-01-20'; write 2013-01-20",
            ))
    return problems


def validate_or_raise(
    frame: pl.DataFrame | pl.LazyFrame, table: str, source: str | Path | None = None
) -> pl.DataFrame:
    """The validated frame in model dtypes, or ``DataValidationError`` naming file, rows and rules."""
    result = validate(frame, table, source=source)
    if not result.valid:
        raise DataValidationError(describe(result), result)
    assert result.frame is not None
    return result.frame


def describe(result: ValidationResult, max_problems: int = 10) -> str:
    """A plain-text account of a result's errors (used in exceptions and the CLI summary)."""
    where = f" ({result.source})" if result.source else ""
    errors = result.errors
    lines = [
        f"{result.table}{where}: {'valid' if result.valid else 'INVALID'}, "
        f"{len(errors)} error(s), {len(result.warnings)} warning(s), {result.n_rows} row(s) checked"
    ]
    for p in errors[:max_problems]:
        lines.append("  - " + problem_line(p))
    if len(errors) > max_problems:
        lines.append(f"  ... and {len(errors) - max_problems} more error(s)")
    return "\n".join(lines)


def problem_line(p: Problem) -> str:
    col = f"{p.column}: " if p.column and p.column not in p.message else ""
    rows = f" (row {_row_list(p.rows)})" if p.rows else (" (whole table)" if p.severity == "error" else "")
    hint = f" — {p.hint}" if p.hint else ""
    return f"[{p.severity}] {col}{p.message}{rows}{hint}"


def _row_list(rows: Sequence[int], limit: int = 5) -> str:
    """0-based indices shown as 1-based row numbers, shortened."""
    shown = ", ".join(str(r + 1) for r in list(rows[:limit]))
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def with_problems(
    result: ValidationResult, extra: Iterable[Problem], original: pl.DataFrame | None = None
) -> ValidationResult:
    """The result with more problems (e.g. cross-table relations) and the rows split again.

    ``original`` is the input as read (for failing rows with original values); without it the
    model-typed ``result.frame`` is used.
    """
    problems = list(result.problems) + list(extra)
    assert result.frame is not None
    base = original if original is not None else result.frame
    valid_rows, failing_rows = _split(base, result.frame, problems, result.n_rows)
    return ValidationResult(
        table=result.table, n_rows=result.n_rows, problems=problems, frame=result.frame,
        valid_rows=valid_rows, failing_rows=failing_rows, source=result.source,
    )


# --------------------------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------------------------

class _Context:
    """What examples need: the input as given, its key columns and whether lines are CSV lines."""

    def __init__(
        self, table: str, original: pl.DataFrame, source: str | Path | None,
        lines: Sequence[int] | None = None,
    ) -> None:
        self.table = table
        self.original = original
        self.n_rows = original.height
        self.keys = [k for k in primary_key(table) if k in original.columns]
        self.source = source
        self.csv = source is not None and Path(str(source)).suffix.lower() in CSV_SUFFIXES
        self._lines = list(lines) if lines is not None and len(lines) == self.n_rows else None
        self._looked = self._lines is not None
        self.hidden = (
            {c for c in original.columns if c.endswith("_id")} if table in PERSON_TABLES else set()
        )

    def lines(self) -> list[int] | None:
        """Each row's file line: as given, else read once from the CSV file (if it still matches)."""
        if not self._looked and self.csv and self.source is not None and Path(str(self.source)).is_file():
            self._looked = True
            try:
                found = read_text_table(Path(str(self.source))).data_lines
            except Exception:  # the caller read it; if it cannot be read again, lines stay row + 1
                found = []
            self._lines = found if len(found) == self.n_rows else None
        return self._lines

    def values(self, column: str, rows: pl.Series) -> pl.Series:
        return self.original.get_column(column).gather(rows.head(MAX_EXAMPLES * 5))

    def examples(self, rows: pl.Series, columns: list[str] | None) -> list[dict[str, Any]]:
        """Up to 20 examples: 1-based row, CSV line, key values and the offending column(s)."""
        first = rows.head(MAX_EXAMPLES)
        cols = self.original.columns if columns is None else list(dict.fromkeys(self.keys + columns))
        cols = [c for c in cols if c in self.original.columns]
        head = pl.DataFrame({"row": first.cast(pl.Int64) + 1})
        if self.csv:
            lines = self.lines()
            head = head.with_columns(
                line=pl.Series([lines[i] for i in first.to_list()], dtype=pl.Int64) if lines is not None
                else pl.col("row") + 1
            )
        picked = self.original.select(cols).select(pl.all().gather(first))
        if self.hidden:
            picked = picked.with_columns(
                [pl.lit(HIDDEN).alias(c) for c in cols if c in self.hidden]
            )
        return pl.concat([head, picked], how="horizontal").to_dicts()

    def row_problem(
        self, *, rule: str, column: str | None, rows: pl.Series, message: str,
        hint: str | None = None, whole_row: bool = False,
    ) -> Problem:
        rows = rows.cast(pl.Int64).sort()
        return Problem(
            rule=rule, message=message, table=self.table, column=column, n_rows=rows.len(),
            rows=rows.to_list(),
            examples=self.examples(rows, None if whole_row or column is None else [column]),
            hint=hint,
        )


def _pandera_problems(
    schema: pa.DataFrameSchema, working: pl.DataFrame, ctx: _Context, bad_cells: dict[str, pl.Series]
) -> list[Problem]:
    """Column checks, nullability and the key through pandera; frame rules through their Checks.

    The model's frame-level checks run through pandera's own ``Check`` objects (same function,
    same boolean output) and the key through the same ``is_duplicated`` test pandera uses, but
    outside ``validate``: pandera builds their failure cases with a Python loop over every failing
    row, which takes many seconds when a rule fails a large table.
    """
    column_schema = copy.copy(schema)
    column_schema.checks = []
    column_schema.unique = None
    problems = _frame_check_problems(schema, working, ctx)
    if schema.unique and not _strictly_increasing(working, list(schema.unique)):
        # the same test pandera runs (DataFrame.is_duplicated on the key columns); keys that
        # strictly increase row by row (sorted extracts) cannot repeat, so that test is skipped
        keys = list(schema.unique)
        duplicated = working.select(keys).is_duplicated().arg_true()
        if duplicated.len():
            problems.append(_duplicate_problem(keys, duplicated, ctx))
    if _columns_pass(column_schema, working):
        return _sorted(problems, schema)
    try:
        column_schema.validate(working, lazy=True)
        return _sorted(problems, schema)
    except SchemaErrors as err:
        cases = pl.DataFrame(err.failure_cases)
    cases = cases.with_columns(pl.col("index").cast(pl.Int64))
    # a value that failed the cast is already reported; its null is not a second problem
    for name, idx in bad_cells.items():
        cases = cases.filter(
            ~((pl.col("column") == name) & (pl.col("check") == "not_nullable")
              & pl.col("index").is_in(idx.cast(pl.Int64).implode()))
        )
    groups = (
        cases.group_by(["schema_context", "column", "check", "check_number"], maintain_order=True)
        .agg(pl.col("index").drop_nulls().unique().sort(), pl.col("failure_case").first())
    )
    for g in groups.iter_rows(named=True):
        rows = pl.Series("index", g["index"], dtype=pl.Int64)
        problems.append(_problem_for(g, rows, schema, ctx))
    return _sorted(problems, schema)


def _strictly_increasing(frame: pl.DataFrame, keys: list[str]) -> bool:
    """True if the key columns strictly increase from row to row (so no key repeats).

    One vectorised comparison with the previous row instead of hashing every key; nulls or any
    tie make it False, and the caller then runs the full duplicate test.
    """
    if frame.height < 2 or not keys:
        return frame.height < 2
    greater = pl.lit(False)
    equal = pl.lit(True)
    for k in keys:
        c, prev = pl.col(k), pl.col(k).shift(1)
        greater = greater | (equal & (c > prev))
        equal = equal & (c == prev)
    return bool(frame.select(greater.slice(1).fill_null(False).all()).item())


def _columns_pass(schema: pa.DataFrameSchema, working: pl.DataFrame) -> bool:
    """True if pandera's column validation of ``working`` would pass: dtypes, nulls and checks.

    Pandera collects every check on its own (two passes each); here the same check functions
    run in one polars query. Only a clean pass is trusted: anything else (a failing rule, a
    schema feature not mirrored here) returns False and pandera runs as before, so problems
    and their failure cases are exactly pandera's.
    """
    if schema.unique or schema.checks or list(schema.columns) != working.columns:
        return False
    lazy = working.lazy()
    parts: list[pl.LazyFrame] = []
    exprs: list[pl.Expr] = []
    try:
        for name, column in schema.columns.items():
            if column.regex or column.unique or column.coerce or column.dtype is None:
                return False
            if working.schema[name] != column.dtype.type:
                return False
            if not column.nullable:
                present = pl.col(name).is_not_null()
                if working.schema[name].is_float():
                    present = present & pl.col(name).is_not_nan()
                exprs.append(present.all().alias(f"__null_{name}"))
            for i, chk in enumerate(column.checks):
                if chk.element_wise or chk.groupby is not None:
                    return False
                backend = chk.get_backend(lazy)  # registers pandera's polars built-in checks
                builtin = getattr(chk._check_fn, "__name__", None)
                if builtin is not None and chk.is_builtin_check(builtin):  # as Check.__call__ does
                    chk._check_fn = chk.get_builtin_check_fn(builtin)
                out = backend(chk).apply(pa.PolarsData(lazy, name))
                if not isinstance(out, pl.LazyFrame) or len(out.collect_schema()) != 1:
                    return False
                ok = pl.first()
                ok = (ok | ok.is_null()) if chk.ignore_na else ok.fill_null(False)
                parts.append(out.select(ok.all().alias(f"__check_{name}_{i}")))
        if exprs:
            parts.append(lazy.select(exprs))
        if not parts:
            return True
        passed = pl.concat(parts, how="horizontal").collect()
    except Exception:  # let pandera run (and report) whatever could not be evaluated here
        return False
    return passed.height == 1 and all(v is True for v in passed.row(0))


def _sorted(problems: list[Problem], schema: pa.DataFrameSchema) -> list[Problem]:
    """Column problems in model column order, then key and frame rules (stable otherwise)."""
    order = {c: i for i, c in enumerate(schema.columns)}
    return sorted(problems, key=lambda p: (p.column not in order, order.get(p.column or "", 0)))


def _frame_check_problems(
    schema: pa.DataFrameSchema, working: pl.DataFrame, ctx: _Context
) -> list[Problem]:
    problems: list[Problem] = []
    lazy = working.lazy()
    for chk in schema.checks:
        message = chk.error or chk.name or "rule failed"
        try:
            output = chk(lazy).check_output
            ok = (output.collect() if isinstance(output, pl.LazyFrame) else pl.DataFrame(output)).to_series(-1)
        except Exception as exc:  # a rule that cannot run is reported, never skipped
            problems.append(Problem(
                rule=chk.name or "frame_check", table=ctx.table, n_rows=ctx.n_rows,
                message=f"{message} (the rule could not be evaluated: {_first_line(exc)})",
            ))
            continue
        if ok.len() == ctx.n_rows:
            rows = ok.eq(False).arg_true()
            if rows.len():
                problems.append(ctx.row_problem(
                    rule=chk.name, column=None, rows=rows, message=message, whole_row=True,
                ))
        elif ok.eq(False).any():  # a rule about the table as a whole
            problems.append(Problem(rule=chk.name, table=ctx.table, n_rows=ctx.n_rows, message=message))
    return problems


def _problem_for(
    g: dict[str, Any], rows: pl.Series, schema: pa.DataFrameSchema, ctx: _Context
) -> Problem:
    column, check, number = g["column"], g["check"], g["check_number"]
    table_level = rows.len() == 0
    if g["schema_context"] == "Column" and column in schema.columns:
        if check == "not_nullable":
            return ctx.row_problem(rule="not_nullable", column=column, rows=rows, message="must not be empty")
        if check.startswith("dtype("):
            return Problem(
                rule="type", table=ctx.table, column=column, n_rows=ctx.n_rows,
                message=f"must have type {schema.columns[column].dtype} (found {g['failure_case']})",
            )
        if check in ("field_uniqueness", "unique"):
            return _duplicate_problem([column], rows, ctx)
        col_checks = schema.columns[column].checks
        chk = col_checks[number] if number is not None and number < len(col_checks) else None
        message, hint = _column_message(chk, check, ctx.values(column, rows))
        if table_level:
            return Problem(rule=chk.name if chk else check, table=ctx.table, column=column,
                           n_rows=ctx.n_rows, message=message, hint=hint)
        return ctx.row_problem(rule=chk.name if chk else check, column=column, rows=rows,
                               message=message, hint=hint)
    # data-frame level
    if check == "multiple_fields_uniqueness":
        return _duplicate_problem(list(schema.unique or []), rows, ctx)
    frame_checks = schema.checks
    chk = frame_checks[number] if number is not None and number < len(frame_checks) else None
    message = (chk.error if chk is not None and chk.error else check) or "rule failed"
    rule = chk.name if chk is not None else check
    if table_level:
        return Problem(rule=rule, table=ctx.table, n_rows=ctx.n_rows, message=message)
    return ctx.row_problem(rule=rule, column=None, rows=rows, message=message, whole_row=True)


def _duplicate_problem(keys: list[str], rows: pl.Series, ctx: _Context) -> Problem:
    n_keys = ctx.original.select(keys).select(pl.all().gather(rows)).n_unique()
    label = ", ".join(keys)
    message = (
        f"duplicate key ({label}): {rows.len()} rows share it" if n_keys == 1
        else f"duplicate key ({label}): {rows.len()} rows share {n_keys} keys"
    )
    problem = ctx.row_problem(rule="unique_key", column=None, rows=rows, message=message)
    problem.examples = ctx.examples(rows, keys)
    problem.column = keys[0] if len(keys) == 1 else None
    return problem


_DIGITS = re.compile(r"^\^(?:\\d|\[0-9\])\{(\d+)\}\$$")
_PATTERN_WORDS = {4: "a 4-digit municipality code like 0301", 2: "a 2-digit county code like 03"}


def _column_message(chk: Any, check: str, values: pl.Series) -> tuple[str, str | None]:
    name = chk.name if chk is not None else check
    stats = dict(chk.statistics) if chk is not None and chk.statistics else {}
    if name == "greater_than_or_equal_to":
        return f"must be at least {stats['min_value']}", None
    if name == "greater_than":
        return f"must be more than {stats['min_value']}", None
    if name == "less_than_or_equal_to":
        return f"must be at most {stats['max_value']}", None
    if name == "less_than":
        return f"must be less than {stats['max_value']}", None
    if name == "in_range":
        return f"must be between {stats['min_value']} and {stats['max_value']}", None
    if name == "isin":
        return "must be one of: " + ", ".join(map(str, stats["allowed_values"])), None
    if name == "notin":
        return "must not be one of: " + ", ".join(map(str, stats["forbidden_values"])), None
    if name == "equal_to":
        return f"must equal {stats['value']}", None
    if name == "str_length":
        lo, hi = stats.get("min_value"), stats.get("max_value")
        if hi is None:
            return f"must have at least {lo} character(s)", None
        if lo is None:
            return f"must have at most {hi} character(s)", None
        return f"must have {lo} to {hi} characters", None
    if name == "str_matches":
        pattern = str(stats.get("pattern", ""))
        digits = _DIGITS.match(pattern)
        if digits:
            n = int(digits.group(1))
            text = _PATTERN_WORDS.get(n, f"a {n}-digit code")
            return f"must be {text}", _lost_zero_hint(values, n)
        return f"must match the pattern {pattern}", None
    if chk is not None and chk.error and not chk.error.startswith(f"{name}("):
        return chk.error, None
    return f"breaks the rule {check}", None


def _lost_zero_hint(values: pl.Series, n: int) -> str | None:
    s = values.cast(pl.String).str.strip_chars()
    short = s.filter(s.str.contains(rf"^[0-9]{{{n - 1}}}$")).unique(maintain_order=True)
    if short.len() == 0:
        return None
    guesses = " ".join(f"{'0' + v}?" for v in short.head(5).to_list())
    return f"a leading zero was probably lost ({guesses})"


def _symbol_hint(column: str, values: pl.Series, dtypes: dict[str, pl.DataType]) -> str | None:
    s = values.cast(pl.String).str.strip_chars()
    symbols = s.filter(s.is_in(SYMBOLS)).unique(maintain_order=True).to_list()
    if not symbols:
        return None
    companion = f"{column}_symbol"
    if companion in dtypes:
        return (f"status symbols ({', '.join(symbols)}) belong in {companion}, "
                f"with {column} left empty (a symbol is never 0)")
    return f"status symbols ({', '.join(symbols)}) are not values; leave the cell empty"


def _close_names(name: str, candidates: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else None


def _split(
    original: pl.DataFrame, working: pl.DataFrame, problems: list[Problem], n_rows: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Valid rows (model dtypes) and failing rows (original values + row_nr + reason)."""
    errors = [p for p in problems if p.severity == "error"]
    clash = {c: f"{c}_input" for c in ("row_nr", "reason") if c in original.columns}  # e.g. a quarantine file
    if not errors:  # every row is valid: no row numbering, joins or sorts over the whole table
        none_failing = (
            original.head(0).rename(clash).with_row_index("row_nr")
            .with_columns(pl.col("row_nr").cast(pl.Int64), pl.lit(None, pl.String).alias("reason"))
        )
        return working, none_failing
    table_level = [_reason(p) for p in errors if not p.rows]
    parts = [
        pl.DataFrame({"row_nr": p.rows, "reason": [_reason(p)] * len(p.rows)},
                     schema={"row_nr": pl.Int64, "reason": pl.String})
        for p in errors if p.rows
    ]
    reasons = (
        pl.concat(parts).group_by("row_nr", maintain_order=True)
        .agg(pl.col("reason").unique(maintain_order=True).str.join("; "))
        if parts else pl.DataFrame(schema={"row_nr": pl.Int64, "reason": pl.String})
    )
    numbered = (
        original.rename(clash).with_row_index("row_nr").with_columns(pl.col("row_nr").cast(pl.Int64))
    )
    if table_level:
        prefix = "; ".join(table_level)
        failing = numbered.join(reasons, on="row_nr", how="left").with_columns(
            reason=pl.when(pl.col("reason").is_null()).then(pl.lit(prefix))
            .otherwise(pl.lit(prefix + "; ") + pl.col("reason"))
        )
        return working.head(0), failing
    failing = numbered.join(reasons, on="row_nr", how="inner").sort("row_nr")
    valid = (
        working.with_row_index("row_nr").with_columns(pl.col("row_nr").cast(pl.Int64))
        .join(reasons, on="row_nr", how="anti").sort("row_nr").drop("row_nr")
    )
    return valid, failing


def _reason(p: Problem) -> str:
    return f"{p.column}: {p.message}" if p.column and p.column not in p.message else p.message


__all__ = [
    "DataValidationError", "UnreadableFileError", "conform", "describe", "problem_line",
    "read_table", "read_table_lines", "sniff_separator", "validate", "validate_or_raise", "with_problems",
]
