"""Row-level lineage written by the build: ``data_clean/<source>/lineage/<table>.parquet``.

Why a companion table and not extra columns: analysis frames (``catalog.load``) stay as they are,
and the lineage can be as detailed as it needs to be (several origins per cell, every step) without
costing a notebook anything. Model: ``model.lineage.TableLineage``.

Where origins come from:

- a source that records lineage itself (``import-imdi`` writes ``lineage/<table>.parquet`` into its
  raw folder, keyed by the table's primary key, with edition, file, record or wide cell and every
  step; ``pipeline.lineage_imdi``) is joined to the clean rows by key;
- otherwise a row is traced to the file the source lists for the table in PROVENANCE.json (the
  synthetic extract: ``files[].table``) and the data row the build read it from;
- columns the build derives from person-level tables (``derive.py``) get "derived from N
  person-level rows" of the tables named, never a person id. Person tables are keyed by row
  position only, so this folder holds no copy of an identifier.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.model import PERSON_TABLES, primary_key
from settlement_research.model.lineage import TableLineage

ENABLED = True  # benchmarks switch it off to measure what lineage costs; data_clean always has it
LINEAGE_DIR = "lineage"
STEP_SEP = "\n"
COLUMNS = list(TableLineage.to_schema().columns)
SCHEMA = {c: col.dtype.type for c, col in TableLineage.to_schema().columns.items()}

# derived table -> column -> person-level tables its value is computed from
DERIVED_FROM: dict[str, dict[str, str]] = {
    "kommune_settlement_year": {"settled": "settlement", "settled_unaccompanied_minors": "settlement, person"},
    "kommune_housing_year": {"*": "housing_spell"},
    "kommune_intro_year": {"*": "intro_spell", "work_education_count": "intro_spell, outcome_year",
                           "work_education_base": "intro_spell, outcome_year",
                           "work_education_share": "intro_spell, outcome_year"},
}
DERIVED_HOW = {
    "kommune_settlement_year": "settlement rows of the municipality whose settlement date falls in the year "
                               "(routes ordinary and agreed self-settlement)",
    "kommune_housing_year": "housing spells in the municipality during the year",
    "kommune_intro_year": "introduction-programme spells in the municipality during the year",
}


def key_expr(table: str) -> pl.Expr:
    """The row's primary key as text, ``col=value;...`` (null for person tables: no ids here)."""
    if table in PERSON_TABLES:
        return pl.lit(None, pl.String).alias("key")
    parts = [pl.concat_str([pl.lit(f"{c}="), pl.col(c).cast(pl.String).fill_null("")]) for c in primary_key(table)]
    return pl.concat_str(parts, separator=";").alias("key")


def format_key(values: Mapping[str, Any]) -> str:
    """The same text as :func:`key_expr` for one row given as a mapping (used by pages and trace)."""
    return ";".join(f"{c}={'' if v is None else v}" for c, v in values.items())


def steps_text(*steps: str) -> str:
    return STEP_SEP.join(s.replace("\n", " ") for s in steps if s)


def split_steps(text: str | None) -> list[str]:
    return [s for s in (text or "").split(STEP_SEP) if s]


def finish(frame: pl.DataFrame, *, validate: bool = True) -> pl.DataFrame:
    """Model columns in model order and dtype, origins numbered per cell, validated (``validate=False``:
    the caller validates, e.g. every table of a build at once)."""
    present = set(frame.columns)
    out = frame.select([
        pl.col(c).cast(t) if c in present else pl.lit(None, t).alias(c) for c, t in SCHEMA.items()
    ]).with_columns(pl.col("span").fill_null(1)).sort("row", "column", "origin_nr", nulls_last=False)
    return TableLineage.validate(out, lazy=True) if validate else out


def validate_together(frames: list[pl.DataFrame]) -> None:
    """Validate several tables' lineage in one pandera call: the model's checks, with the
    uniqueness of (row, column, origin_nr) taken within each table."""
    schema = copy.deepcopy(TableLineage.to_schema())
    schema.unique = ["table", *(schema.unique or [])]
    schema.validate(pl.concat(frames), lazy=True)


def _file_of(provenance: Mapping[str, Any], table: str) -> tuple[str | None, str | None]:
    """(file name, sha256) the source's PROVENANCE.json lists for ``table`` (synthetic extract)."""
    for item in provenance.get("files") or []:
        if isinstance(item, dict) and item.get("table") == table:
            return str(item.get("name") or item.get("path")), item.get("sha256")
    return None, None


def _read_origins(folder: Path, table: str, source: str, module: str, provenance: Mapping[str, Any],
                  base: pl.DataFrame) -> pl.DataFrame:
    """Origins of the clean rows ``base`` (row, key, _input) before derivation."""
    recorded = folder / LINEAGE_DIR / f"{table}.parquet"
    validated = f"build: validated against model {table} and the cross-table relations; kept as clean row"
    if recorded.is_file():  # the source traced its own rows (import-imdi)
        lin = pl.read_parquet(recorded).drop("row", "table", strict=False)
        joined = base.join(lin, on="key", how="inner")
        return joined.with_columns(
            pl.concat_str([pl.col("steps"), pl.lit(STEP_SEP + validated)]).alias("steps")
        ).drop("_input")
    file, sha = _file_of(provenance, table)
    if file is None:  # a source without per-table files: name its folder and output row honestly
        file = f"{source} raw folder (read by {module})"
    read = base.filter(pl.col("_input").is_not_null())
    if table in PERSON_TABLES:
        read = runs(read)
    return read.select(
        "row", "key", pl.lit(None, pl.String).alias("column"), pl.lit(1).alias("origin_nr"),
        pl.lit("row").alias("role"), pl.lit(source).alias("source"), pl.lit(file).alias("file"),
        pl.lit(sha, pl.String).alias("file_sha256"), (pl.col("_input") + 1).alias("record"),
        pl.lit(f"read by {module}: the data row `record` of {file}; text parsed into model dtypes"
               f"{STEP_SEP}{validated}").alias("steps"),
        *(["span"] if "span" in read.columns else []),
    )


def runs(read: pl.DataFrame) -> pl.DataFrame:
    """Rows (``row``, ``_input``) as runs: one row per run of consecutive clean rows read from
    consecutive source rows, with its length in ``span``. A person table read in file order is a
    handful of runs instead of one lineage row per person, and ``trace`` still finds every row's
    record (row r of a run starting at row a, record b: record b + r - a)."""
    if read.is_empty():
        return read.with_columns(pl.lit(1, pl.Int64).alias("span"))
    offset = pl.col("row") - pl.col("_input")
    starts = ((offset != offset.shift()) | (pl.col("row") != pl.col("row").shift() + 1)).fill_null(True)
    return (
        read.with_columns(starts.cum_sum().alias("_run"))
        .group_by("_run", maintain_order=True)
        .agg(pl.col("row").first(), pl.col("key").first(), pl.col("_input").first(), pl.len().cast(pl.Int64).alias("span"))
        .drop("_run")
    )


def _overlap_counts(spells: pl.DataFrame) -> pl.DataFrame:
    """Spells per municipality and calendar year they touch (open spells run to the latest date)."""
    if spells.is_empty():
        return pl.DataFrame(schema={"kommune_nr": pl.String, "year": pl.Int16, "n": pl.Int64})
    as_of = spells.select(pl.max_horizontal(pl.col("start_date").max(), pl.col("end_date").max())).item()
    return (
        spells.select(
            "kommune_nr",
            pl.int_ranges(pl.col("start_date").dt.year(), pl.col("end_date").fill_null(as_of).dt.year() + 1)
            .alias("year"),
        )
        .explode("year").drop_nulls("year")
        .group_by("kommune_nr", pl.col("year").cast(pl.Int16)).agg(pl.len().cast(pl.Int64).alias("n"))
    )


def derived_counts(table: str, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame | None:
    """(kommune_nr, year, n): the person-level rows a derived municipality-year was computed from."""
    from settlement_research.derive import SETTLED_ROUTES

    if table == "kommune_settlement_year" and "settlement" in frames:
        s = frames["settlement"]
        return (s.filter(pl.col("route").is_in(list(SETTLED_ROUTES)))
                .group_by("kommune_nr", pl.col("settlement_date").dt.year().cast(pl.Int16).alias("year"))
                .agg(pl.len().cast(pl.Int64).alias("n")))
    if table == "kommune_housing_year" and "housing_spell" in frames:
        return _overlap_counts(frames["housing_spell"].select("kommune_nr", "start_date", "end_date"))
    if table == "kommune_intro_year" and "intro_spell" in frames:
        return _overlap_counts(frames["intro_spell"].select("kommune_nr", "start_date", "end_date"))
    return None


def _derived_origins(table: str, base: pl.DataFrame, frame: pl.DataFrame, columns: list[str],
                     covered: pl.DataFrame, frames: Mapping[str, pl.DataFrame], source: str) -> pl.DataFrame | None:
    counts = derived_counts(table, frames)
    if counts is None or not columns:
        return None
    rows = (
        base.with_columns(frame.get_column("kommune_nr"), frame.get_column("year").cast(pl.Int16))
        .join(covered.select("kommune_nr", pl.col("year").cast(pl.Int16)), on=["kommune_nr", "year"], how="semi")
        .join(counts, on=["kommune_nr", "year"], how="left")
        .with_columns(pl.col("n").fill_null(0))
    )
    how = DERIVED_HOW.get(table, "person-level rows of the municipality-year")
    of = DERIVED_FROM.get(table, {})
    parts = []
    for c in [*columns, None]:
        if c is None:  # a row only the person level knows: its key columns are derived too
            part = rows.filter(pl.col("_input").is_null())
        else:
            part = rows
        tables = of.get(c or "*", of.get("*", next(iter(of.values()), "person tables")))
        parts.append(part.select(
            "row", "key", pl.lit(c, pl.String).alias("column"), pl.lit(1).alias("origin_nr"),
            pl.lit("derived").alias("role"), pl.lit(source).alias("source"),
            pl.lit(tables).alias("derived_from"), pl.col("n").alias("derived_rows"),
            # the count stays in derived_rows (pages band it); steps are shown as they are
            pl.lit(f"derived by derive.py from the derived_rows {how} ({tables}); the person level is the "
                   f"authority where it covers the year{STEP_SEP}build: validated against model {table} after "
                   "the merge").alias("steps"),
        ))
    return pl.concat(parts, how="diagonal_relaxed")


def build_lineage(
    source: str, module: str, folder: Path, provenance: Mapping[str, Any], table: str, frame: pl.DataFrame,
    input_rows: pl.Series, *, derived_columns: list[str] | None = None, covered: pl.DataFrame | None = None,
    frames: Mapping[str, pl.DataFrame] | None = None, validate: bool = True,
) -> pl.DataFrame:
    """The lineage of one clean table (``frame``, in written order; ``input_rows``: each row's
    0-based row in the source's output, null for rows only the person level has)."""
    base = pl.DataFrame({
        "row": pl.int_range(1, frame.height + 1, dtype=pl.Int64, eager=True),
        "_input": input_rows.cast(pl.Int64),
    })
    key = frame.select(key_expr(table)).get_column("key") if table not in PERSON_TABLES else None
    base = base.with_columns(key if key is not None else pl.lit(None, pl.String).alias("key"))
    parts = [_read_origins(folder, table, source, module, provenance, base)]
    if derived_columns and covered is not None:
        derived = _derived_origins(table, base, frame, derived_columns, covered, frames or {}, source)
        if derived is not None:
            # a derived cell's origin replaces what the source said for it
            replaced = derived.filter(pl.col("column").is_not_null()).select("row", "column")
            parts[0] = parts[0].join(replaced, on=["row", "column"], how="anti", nulls_equal=True)
            parts.append(derived)
    out = pl.concat([p.with_columns(pl.col("origin_nr").cast(pl.Int32)) for p in parts], how="diagonal_relaxed")
    out = out.with_columns(pl.lit(table).alias("table"), pl.lit(source).alias("source"))
    return finish(out, validate=validate)


def write_lineage(
    source: str, module: str, folder: Path, staging: Path, frames: Mapping[str, pl.DataFrame],
    input_rows: Mapping[str, pl.Series], *, derived: Mapping[str, list[str]] | None = None,
    covered: Mapping[str, pl.DataFrame] | None = None,
) -> list[Path]:
    """Write ``staging/lineage/<table>.parquet`` for every staged table; returns the paths."""
    if not ENABLED:
        return []
    provenance = _provenance(folder)
    target = staging / LINEAGE_DIR
    target.mkdir(exist_ok=True)
    tables = {
        table: build_lineage(source, module, folder, provenance, table, frame, input_rows[table],
                             derived_columns=(derived or {}).get(table), covered=(covered or {}).get(table),
                             frames=frames, validate=False)
        for table, frame in frames.items()
    }
    # one validation of every table's lineage: pandera's cost is mostly per call, not per row (13
    # calls were 0.8 s of a 3 s build at scale 1, once person tables were stored as runs)
    if tables:
        validate_together(list(tables.values()))
    written = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lineage-write") as writer:
        pending = []
        for table, lin in tables.items():
            path = target / f"{table}.parquet"
            pending.append(writer.submit(lin.write_parquet, path))
            written.append(path)
        for future in pending:
            future.result()  # a failed write raises here, failing the build
    return written


def _provenance(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "PROVENANCE.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


SPLIT_WORDS = {"split_population": "split by population share", "split_table_weight": "split by the change table's weight",
               "split_equal": "split in equal parts"}


def harmonised_lineage(before: pl.DataFrame, after: pl.DataFrame, table: str, source: str, to_year: int,
                       before_lineage: pl.DataFrame | None = None) -> pl.DataFrame:
    """The lineage of a harmonised table: for each row of ``after`` (``harmonize``'s output with
    its ``harmonized_from`` column, in written order), one origin per part it was made from, with
    the part's source key (``from_key``, the row of ``before`` in its own codes) and its weight
    (1 = the whole row: a renumbering, a merge, a split along an older border; below 1 the share a
    split gives this code). With ``before_lineage`` (the lineage of ``before``) every part keeps
    its own origins (file, record, edition, steps) and gains the harmonisation step; without it a
    part is a ``harmonised`` origin naming its source key."""
    from settlement_research.harmonize import FLAG_COL, FROM_COL

    keys = [k for k in primary_key(table) if k != "kommune_nr"]
    parts = (
        after.with_row_index("row", offset=1)
        .select(pl.col("row").cast(pl.Int64), key_expr(table), pl.col("kommune_nr").alias("_new"), *keys,
                pl.col(FROM_COL).str.split("+").alias("_part"), pl.col(FLAG_COL).fill_null("").alias("_flag"))
        .explode("_part")
        .with_columns(pl.col("_part").str.split_exact("*", 1).alias("_p"))
        .unnest("_p")
        .rename({"field_0": "_old", "field_1": "_w"})
        .with_columns(pl.col("_w").cast(pl.Float64).fill_null(1.0).alias("weight"), pl.len().over("row").alias("_n"))
    )
    parts = parts.with_columns(
        parts.with_columns(pl.col("_old").alias("kommune_nr")).select(key_expr(table).alias("from_key")),
    ).join(before.select(pl.col("kommune_nr").alias("_old"), *keys,
                         pl.col("classification_year" if "classification_year" in before.columns else "year")
                         .alias("_from_cy")).unique(["_old", *keys]),
           on=["_old", *keys], how="left")
    method = pl.col("_flag").str.extract(r"(split_[a-z_]+)").replace_strict(SPLIT_WORDS, default=pl.lit("split"))
    how = (pl.when(pl.col("weight") < 1).then(method)
           .when(pl.col("_n") > 1).then(pl.lit("merge: all of it, summed with the other parts"))
           .when(pl.col("_old") == pl.col("_new")).then(pl.lit("same code"))
           .otherwise(pl.lit("the whole unit under a new code: a renumbering, or a split along its older border")))
    step = pl.concat_str([
        pl.lit(f"harmonised by harmonize.py to the municipality codes of {to_year}: "), pl.col("_old"),
        pl.lit(" (codes of "), pl.col("_from_cy").cast(pl.String).fill_null("?"), pl.lit(") -> "), pl.col("_new"),
        pl.lit(", weight "), pl.col("weight").round(4).cast(pl.String), pl.lit(" ("), how, pl.lit(")"),
    ]).alias("_step")
    parts = parts.with_columns(step)
    if before_lineage is not None and before_lineage.height:
        src = before_lineage.drop("row", "table", "key", "from_key", "weight", strict=False)
        joined = parts.join(before_lineage.select("key").unique().rename({"key": "from_key"}), on="from_key", how="semi")
        out = joined.join(src.with_columns(before_lineage.get_column("key").alias("from_key")), on="from_key", how="inner")
        out = out.with_columns(pl.concat_str([pl.col("steps"), pl.lit(STEP_SEP), pl.col("_step")]).alias("steps"))
        missing = parts.join(out.select("row", "from_key").unique(), on=["row", "from_key"], how="anti")
    else:
        out, missing = None, parts
    plain = missing.select("row", "key", "from_key", "weight", pl.lit("harmonised").alias("role"),
                           pl.col("_step").alias("steps"))
    frame = plain if out is None else pl.concat([out, plain], how="diagonal_relaxed")
    frame = frame.with_columns(
        pl.int_range(1, pl.len() + 1).over("row", "column", order_by=["from_key"]).cast(pl.Int32).alias("origin_nr")
        if "column" in frame.columns else pl.int_range(1, pl.len() + 1).over("row", order_by=["from_key"])
        .cast(pl.Int32).alias("origin_nr"),
        pl.lit(table).alias("table"), pl.lit(source).alias("source"),
    )
    return finish(frame.select([c for c in frame.columns if c in SCHEMA]))


def lineage_path(clean_dir: Path, source: str, table: str) -> Path:
    return clean_dir / source / LINEAGE_DIR / f"{table}.parquet"


__all__ = ["ENABLED", "LINEAGE_DIR", "build_lineage", "derived_counts", "format_key", "harmonised_lineage", "key_expr",
           "lineage_path", "split_steps", "steps_text", "write_lineage"]
