"""Statistics Norway (SSB) PxWebApi v2: table metadata, data, parsing, and the ``ssb`` source.

Endpoints (``BASE_URL`` = https://data.ssb.no/api/pxwebapi/v2):
``/tables/{id}/metadata?lang=no`` (json-stat2 without values) and
``/tables/{id}/data?lang=no&valueCodes[Dim]=a,b&outputFormat=json-stat2`` (also ``csv``, ``parquet``).

Parsed frames are tidy: per dimension ``<dim>_code`` and ``<dim>_label`` (text), then ``value``
(Float64, null where missing) and ``symbol`` (SSB's status: ``.`` not applicable, ``..`` missing,
``...`` not yet available, ``:`` confidential, ``-`` nil). A symbol is never turned into 0.

SSB refuses requests above 800 000 cells, so ``split_selection`` cuts a selection along its largest
dimension (typically Tid or Region) into pieces under the limit that cover it exactly once.

``REGISTRY`` declares the tables the package uses and which model table/columns each one feeds;
``read(raw_dir)`` is the source protocol: it turns the cached responses in ``data_raw/ssb`` (written
by ``settlement-research fetch``) into ``kommune_context_year`` and ``kommune_housing_year``.
Only municipalities are kept (4-digit codes; the country ``0``, counties, KOSTRA groups like ``EAK``
are aggregates), and a code is kept only in the years its label allows (``Moss (-2019)``): the
data's ``classification_year`` is the data year, because SSB publishes each year on the regional
division valid in that year.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.geo import codes as geo_codes
from settlement_research.sources import shapes
from settlement_research.sources.http import CachedHttpClient, cached_responses
from settlement_research.textio import read_text_table

SOURCE_NAME = "ssb"
BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
CELL_LIMIT = 800_000
OUTPUT_FORMATS = {"json-stat2": "json", "csv": "csv", "parquet": "parquet"}
SYMBOLS = (".", "..", "...", ":", "-")
ELIMINATE = "eliminate"  # selection marker: leave the dimension out, SSB returns its total
ALL = "*"

# ---------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Measure:
    """One ContentsCode of a table and the model column it becomes (``scale`` converts units)."""

    contents_code: str
    column: str
    scale: float = 1.0
    integer: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A table the package uses: what to request and which model table/columns it feeds.

    ``selection`` maps dimensions to value codes, ``"*"`` (all) or ``"eliminate"`` (omit: SSB
    returns the total). Dimensions not named are eliminated when the table allows it, else all.
    """

    table_id: str
    title: str
    region_dim: str
    model_table: str
    measures: tuple[Measure, ...]
    selection: Mapping[str, Sequence[str] | str] = field(default_factory=dict)
    time_dim: str = "Tid"

    @property
    def contents_codes(self) -> list[str]:
        return [m.contents_code for m in self.measures]


REGISTRY: dict[str, TableSpec] = {
    spec.table_id: spec
    for spec in [
        TableSpec(
            "07459", "Befolkning, etter region, kjønn, alder (1. januar)", "Region",
            "kommune_context_year",
            (Measure("Personer1", "population", integer=True),),
            {"Region": ALL, "Kjonn": ELIMINATE, "Alder": ELIMINATE},
        ),
        TableSpec(
            "09817", "Innvandrere og norskfødte med innvandrerforeldre, etter region og innvandringskategori",
            "Region", "kommune_context_year",
            (Measure("Personer1", "immigrants", integer=True),),
            {"Region": ALL, "InnvandrKat": ["B"], "Landbakgrunn": ELIMINATE},
        ),
        TableSpec(
            "12008", "KOSTRA: kommunalt disponerte boliger, søknader og startlån", "KOKkommuneregion0000",
            "kommune_housing_year",
            (
                Measure("KOSboligSper10000000", "municipal_dwellings_per_1000"),
                Measure("KOSandelnyavslag0000", "refused_share", scale=0.01),  # percent -> share
                Measure("KOSfainansstartp0000", "startlan_per_1000"),
            ),
            {"KOKkommuneregion0000": ALL},
        ),
    ]
}

# ---------------------------------------------------------------------------------- parsing


def _category_codes(dim: Mapping[str, Any]) -> list[str]:
    index = dim["category"].get("index")
    if index is None:  # a single-category dimension may omit index
        return list(dim["category"]["label"])
    if isinstance(index, list):
        return [str(c) for c in index]
    return [c for c, _ in sorted(index.items(), key=lambda kv: kv[1])]


def _as_list(obj: Any, n: int) -> list[Any]:
    """json-stat ``value``/``status`` may be a list, a dict of index -> item, or one string for all."""
    if obj is None:
        return [None] * n
    if isinstance(obj, list):
        return obj if len(obj) == n else obj + [None] * (n - len(obj))
    if isinstance(obj, dict):
        out: list[Any] = [None] * n
        for k, v in obj.items():
            out[int(k)] = v
        return out
    return [obj] * n


def parse_jsonstat2(payload: bytes | str | Mapping[str, Any]) -> pl.DataFrame:
    """A json-stat2 dataset as a tidy frame (row-major: the last dimension varies fastest)."""
    data = json.loads(payload) if isinstance(payload, bytes | str) else payload
    ids: list[str] = list(data["id"])
    sizes: list[int] = [int(s) for s in data["size"]]
    n = math.prod(sizes)
    columns: dict[str, pl.Series] = {}
    stride = n
    for dim_id, size in zip(ids, sizes, strict=True):
        dim = data["dimension"][dim_id]
        codes = _category_codes(dim)
        if len(codes) != size:
            raise ValueError(f"json-stat2 dimension {dim_id}: {len(codes)} categories but size {size}")
        labels = dim["category"].get("label", {})
        stride //= size
        idx = (pl.int_range(0, n, eager=True) // stride) % size
        codes_s = pl.Series(codes, dtype=pl.String)
        columns[f"{dim_id}_code"] = codes_s.gather(idx).alias(f"{dim_id}_code")
        columns[f"{dim_id}_label"] = (
            pl.Series([str(labels.get(c, c)) for c in codes], dtype=pl.String)
            .gather(idx).alias(f"{dim_id}_label")
        )
    values = _as_list(data.get("value"), n)
    status = _as_list(data.get("status"), n)
    frame = pl.DataFrame(columns) if columns else pl.DataFrame()
    return frame.with_columns(
        pl.Series("value", [None if v is None else float(v) for v in values], dtype=pl.Float64),
        pl.Series("symbol", [None if s is None else str(s) for s in status], dtype=pl.String),
    )


_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_CODE_LABEL = re.compile(r"^(?P<code>[0-9A-Za-z][0-9A-Za-z._-]*) (?P<label>.+)$")
_TRAILING_TIME = re.compile(r"^(?P<label>.*\S)\s+(?P<time>\d{4}(?:[KMHU]\d{1,2})?)$")


def parse_statbank_csv(data: bytes | str, name: str = "Statbank CSV") -> pl.DataFrame:
    """A Statbank/PxWeb CSV export (title line, blank line, header; ``;`` or ``,``) as a tidy frame.

    Dimension columns (text like ``3801 Horten``) become ``<col>_code``/``<col>_label``; value
    columns are stacked into ``variable_label`` (the header, minus a trailing period that becomes
    ``Tid_code``), ``value`` and ``symbol``. Read by ``textio.read_text_table``: Latin-1 or UTF-8
    (with or without BOM), never a mix; a cut or ragged file is refused naming the line.
    """
    raw_bytes = data.encode("utf-8") if isinstance(data, str) else data
    raw = read_text_table(raw_bytes, name=name, title_preamble=True).frame()
    is_value = {
        c: raw[c].drop_nulls().str.strip_chars().map_elements(
            lambda s: bool(_NUMBER.match(s)) or s in SYMBOLS, return_dtype=pl.Boolean
        ).all()
        for c in raw.columns
    }
    dims = [c for c in raw.columns if not is_value[c]]
    vals = [c for c in raw.columns if is_value[c]]
    if not vals:
        raise ValueError("no value columns found in the CSV")
    long = raw.unpivot(index=dims, on=vals, variable_name="variable_label", value_name="_raw")
    text_val = pl.col("_raw").str.strip_chars()
    out = long.with_columns(
        pl.when(text_val.is_in(SYMBOLS)).then(None).otherwise(text_val.str.replace(",", ".", literal=True))
        .cast(pl.Float64).alias("value"),
        pl.when(text_val.is_in(SYMBOLS)).then(text_val).otherwise(None).alias("symbol"),
    ).drop("_raw")
    exprs: list[pl.Expr] = []
    for d in dims:
        column = out[d].drop_nulls()
        if len(column) and column.str.contains(_CODE_LABEL.pattern).all() and column.str.contains(r"^\S*\d").all():
            exprs += [
                pl.col(d).str.extract(_CODE_LABEL.pattern, 1).alias(f"{d}_code"),
                pl.col(d).str.extract(_CODE_LABEL.pattern, 2).alias(f"{d}_label"),
            ]
        else:
            exprs += [pl.col(d).alias(f"{d}_code"), pl.col(d).alias(f"{d}_label")]
    labels = pl.Series(vals)
    if labels.str.contains(_TRAILING_TIME.pattern).all():
        exprs += [
            pl.col("variable_label").str.extract(_TRAILING_TIME.pattern, 2).alias("Tid_code"),
            pl.col("variable_label").str.extract(_TRAILING_TIME.pattern, 1).alias("variable_label"),
        ]
    else:
        exprs.append(pl.col("variable_label"))
    return out.select(*exprs, "value", "symbol")


def parse_response(body: bytes, output_format: str) -> pl.DataFrame:
    """Dispatch on ``outputFormat``: json-stat2, csv or parquet (parquet is returned as stored)."""
    if output_format == "json-stat2":
        return parse_jsonstat2(body)
    if output_format == "csv":
        return parse_statbank_csv(body)
    if output_format == "parquet":
        return pl.read_parquet(io.BytesIO(body))
    raise ValueError(f"unknown outputFormat {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}")


# ---------------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    elimination: bool


@dataclass(frozen=True)
class TableMetadata:
    table_id: str
    label: str
    dimensions: tuple[Dimension, ...]

    def dimension(self, dim_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dim_id:
                return d
        raise KeyError(f"table {self.table_id} has no dimension {dim_id!r}; it has {[d.id for d in self.dimensions]}")


def parse_metadata(payload: bytes | str | Mapping[str, Any], table_id: str = "") -> TableMetadata:
    """PxWebApi v2 metadata (json-stat2 without values) as dimensions with codes and labels."""
    data = json.loads(payload) if isinstance(payload, bytes | str) else payload
    dims = []
    for dim_id in data["id"]:
        dim = data["dimension"][dim_id]
        codes = _category_codes(dim)
        labels = dim["category"].get("label", {})
        dims.append(Dimension(
            dim_id, str(dim.get("label", dim_id)), tuple(codes), tuple(str(labels.get(c, c)) for c in codes),
            bool((dim.get("extension") or {}).get("elimination", False)),
        ))
    tid = table_id or str(((data.get("extension") or {}).get("px") or {}).get("tableid", ""))
    return TableMetadata(tid, str(data.get("label", "")), tuple(dims))


def _year_codes(codes: Sequence[str], from_year: int | None, to_year: int | None) -> list[str]:
    def keep(code: str) -> bool:
        m = re.match(r"^(\d{4})", code)
        if not m:
            return True
        year = int(m.group(1))
        return (from_year is None or year >= from_year) and (to_year is None or year <= to_year)

    return [c for c in codes if keep(c)]


def resolve_selection(
    meta: TableMetadata,
    selection: Mapping[str, Sequence[str] | str],
    *,
    time_dim: str = "Tid",
    from_year: int | None = None,
    to_year: int | None = None,
) -> dict[str, list[str]]:
    """Explicit value codes per requested dimension (eliminated dimensions are left out)."""
    out: dict[str, list[str]] = {}
    for dim in meta.dimensions:
        wanted = selection.get(dim.id)
        if wanted is None:
            wanted = ELIMINATE if dim.elimination and dim.id != time_dim else ALL
        if wanted == ELIMINATE:
            if not dim.elimination:
                raise ValueError(f"table {meta.table_id}: dimension {dim.id} cannot be eliminated")
            continue
        codes = list(dim.codes) if wanted == ALL else [str(c) for c in wanted]
        unknown = sorted(set(codes) - set(dim.codes))
        if unknown:
            raise ValueError(f"table {meta.table_id}: unknown codes for {dim.id}: {unknown[:10]}")
        if dim.id == time_dim:
            codes = _year_codes(codes, from_year, to_year)
        if not codes:
            raise ValueError(f"table {meta.table_id}: empty selection for {dim.id}")
        out[dim.id] = codes
    return out


# ---------------------------------------------------------------------------------- splitting


def cell_count(selection: Mapping[str, Sequence[str]]) -> int:
    return math.prod(len(v) for v in selection.values()) if selection else 1


def split_selection(
    selection: Mapping[str, Sequence[str]], limit: int = CELL_LIMIT
) -> list[dict[str, list[str]]]:
    """Pieces of ``selection`` with at most ``limit`` cells each, covering it exactly once.

    Cuts the dimension with the most codes into chunks as large as the limit allows, and recurses
    when even one code of it times the rest is too large.
    """
    sel = {k: list(v) for k, v in selection.items()}
    cells = cell_count(sel)
    if cells <= limit:
        return [sel]
    dim = max((d for d in sel if len(sel[d]) > 1), key=lambda d: len(sel[d]), default=None)
    if dim is None:  # pragma: no cover - one cell always fits
        raise ValueError("selection cannot be split")
    rest = cells // len(sel[dim])
    chunk = max(1, limit // rest)
    pieces: list[dict[str, list[str]]] = []
    for i in range(0, len(sel[dim]), chunk):
        pieces.extend(split_selection({**sel, dim: sel[dim][i:i + chunk]}, limit))
    return pieces


def selection_params(
    selection: Mapping[str, Sequence[str]], meta: TableMetadata | None, output_format: str, lang: str
) -> list[tuple[str, str]]:
    """Query parameters; a dimension with all its codes is sent as ``*`` to keep URLs short."""
    params = [("lang", lang)]
    for dim, codes in selection.items():
        full = meta is not None and tuple(codes) == meta.dimension(dim).codes and len(codes) > 1
        params.append((f"valueCodes[{dim}]", ALL if full else ",".join(codes)))
    params.append(("outputFormat", output_format))
    return params


# ---------------------------------------------------------------------------------- client


@dataclass
class SsbClient:
    """PxWebApi v2 through the cached HTTP client (cache folder ``data_raw/ssb``)."""

    http: CachedHttpClient
    base_url: str = BASE_URL
    lang: str = "no"
    cell_limit: int = CELL_LIMIT

    def metadata(self, table_id: str) -> TableMetadata:
        resp = self.http.get(
            f"{self.base_url}/tables/{table_id}/metadata", [("lang", self.lang)],
            name=f"{table_id}_metadata", extra={"table_id": table_id, "kind": "metadata"},
            validate=shapes.jsonstat2_metadata,
        )
        return parse_metadata(resp.body, table_id)

    def data(
        self,
        table_id: str,
        selection: Mapping[str, Sequence[str]],
        *,
        output_format: str = "json-stat2",
        meta: TableMetadata | None = None,
    ) -> pl.DataFrame:
        """All cells of ``selection`` (explicit codes), fetched in pieces under the cell limit."""
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f"unknown outputFormat {output_format!r}")
        frames = []
        for piece in split_selection(selection, self.cell_limit):
            params = selection_params(piece, meta, output_format, self.lang)
            resp = self.http.get(
                f"{self.base_url}/tables/{table_id}/data", params,
                name=f"{table_id}_data", ext=OUTPUT_FORMATS[output_format],
                expect_json=output_format == "json-stat2",
                extra={"table_id": table_id, "kind": "data", "output_format": output_format,
                       "selection": piece, "cells": cell_count(piece)},
                validate=shapes.for_output(output_format),
            )
            frames.append(parse_response(resp.body, output_format))
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def fetch_table(
        self, spec: TableSpec, from_year: int | None = None, to_year: int | None = None,
        output_format: str = "json-stat2",
    ) -> pl.DataFrame:
        meta = self.metadata(spec.table_id)
        selection = resolve_selection(
            meta, {**spec.selection, "ContentsCode": spec.contents_codes},
            time_dim=spec.time_dim, from_year=from_year, to_year=to_year,
        )
        return self.data(spec.table_id, selection, output_format=output_format, meta=meta)


# ---------------------------------------------------------------------------------- source

_VALIDITY = re.compile(r"\((?P<from>\d{4})?\s*-\s*(?P<to>\d{4})?\)\s*$")


# Which region codes are municipalities: the package's one definition (xx00, xx99, 9999, 21xx-23xx are not).
is_municipality = geo_codes.is_municipality


def region_validity(label: str) -> tuple[int | None, int | None]:
    """The years a region label declares: ``Moss (-2019)`` -> (None, 2019); none -> (None, None)."""
    m = _VALIDITY.search(label)
    if not m:
        return None, None
    return (int(m["from"]) if m["from"] else None, int(m["to"]) if m["to"] else None)


def _ssb_dir(raw_dir: Path) -> Path:
    raw_dir = Path(raw_dir)
    return raw_dir / SOURCE_NAME if (raw_dir / SOURCE_NAME).is_dir() else raw_dir


def load_cached_table(raw_dir: Path, table_id: str) -> pl.DataFrame | None:
    """All cached json-stat2 data responses of one table, concatenated; later retrievals win."""
    frames = []
    for i, (path, prov) in enumerate(cached_responses(_ssb_dir(raw_dir))):
        if prov.get("table_id") == table_id and prov.get("kind") == "data":
            frame = parse_response(path.read_bytes(), prov.get("output_format", "json-stat2"))
            frames.append(frame.with_columns(pl.lit(i).alias("_order")))
    if not frames:
        return None
    frame = pl.concat(frames, how="diagonal_relaxed")
    keys = [c for c in frame.columns if c.endswith("_code")]
    return frame.sort("_order").unique(subset=keys, keep="last", maintain_order=True).drop("_order")


def municipality_measures(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """One row per municipality and year with the spec's measures (and ``<col>_symbol``)."""
    region, time = f"{spec.region_dim}_code", f"{spec.time_dim}_code"
    extra = [
        c[: -len("_code")] for c in frame.columns
        if c.endswith("_code") and c not in (region, time, "ContentsCode_code")
        and frame[c].n_unique() > 1
    ]
    if extra:
        raise ValueError(
            f"table {spec.table_id}: dimensions {extra} have several codes; summing them could double "
            "count, so select one code or eliminate them in the registry"
        )
    label = pl.col(f"{spec.region_dim}_label")
    df = frame.filter(pl.col(region).map_elements(is_municipality, return_dtype=pl.Boolean))
    validity = label.str.extract(_VALIDITY.pattern, 1).cast(pl.Int32), label.str.extract(_VALIDITY.pattern, 2).cast(pl.Int32)
    year = pl.col(time).str.slice(0, 4).cast(pl.Int32)
    df = df.with_columns(year.alias("year")).filter(
        (validity[0].is_null() | (pl.col("year") >= validity[0]))
        & (validity[1].is_null() | (pl.col("year") <= validity[1]))
    )
    out = df.select(pl.col(region).alias("kommune_nr"), "year").unique().sort("kommune_nr", "year")
    for m in spec.measures:
        part = df.filter(pl.col("ContentsCode_code") == m.contents_code).select(
            pl.col(region).alias("kommune_nr"), "year",
            (pl.col("value") * m.scale).alias(m.column),
            pl.when(pl.col("value").is_null()).then(pl.col("symbol")).alias(f"{m.column}_symbol"),
        )
        if m.integer:
            part = part.with_columns(pl.col(m.column).round(0).cast(pl.Int32))
        out = out.join(part, on=["kommune_nr", "year"], how="left")
    measure_cols = [m.column for m in spec.measures]
    symbol_cols = [f"{c}_symbol" for c in measure_cols]
    # A code-year where every measure is 'not applicable' is a code that did not exist then.
    not_applicable = pl.all_horizontal([pl.col(c).is_null() for c in measure_cols]) & pl.all_horizontal(
        [pl.col(s) == "." for s in symbol_cols]
    ).fill_null(False)
    return out.filter(~not_applicable)


def _model_frame(frames: list[pl.DataFrame]) -> pl.LazyFrame:
    merged = frames[0]
    for other in frames[1:]:
        merged = merged.join(other, on=["kommune_nr", "year"], how="full", coalesce=True)
    return merged.sort("kommune_nr", "year").with_columns(
        pl.col("year").cast(pl.Int16), pl.col("year").cast(pl.Int16).alias("classification_year")
    ).lazy()


def read(raw_dir: Path) -> dict[str, pl.LazyFrame]:
    """Source protocol: cached SSB responses -> model tables (only those with cached data)."""
    by_table: dict[str, list[pl.DataFrame]] = {}
    for spec in REGISTRY.values():
        frame = load_cached_table(raw_dir, spec.table_id)
        if frame is not None:
            by_table.setdefault(spec.model_table, []).append(municipality_measures(frame, spec))
    return {table: _model_frame(frames) for table, frames in by_table.items()}
