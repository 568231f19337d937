"""Read the three IMDi export layouts into one long record shape (encoding and layout detected).

Layouts (see ../shared/real_data/SOURCES.md):
  * ``flat_long``  - 2015 flat exports: ',' separated, all quoted, one value per row in
    ``tabellvariabel``; columns differ in order and name (kommune_nr / kommune_id ...), unused
    geography columns hold the text "NULL"; '.' decimals.
  * ``raw_wide_2015`` - 2015 raw wide exports: ';' separated, several header rows of
    'dimension.value' cells (one header cell holds a line break), codes WITHOUT leading zeros,
    decimal commas, sometimes space as thousands separator; the year is in the file name.
  * ``wide_2022`` - the newer wide export: Latin-1, ';', 3 header rows (measure, 'Enhet: ...',
    'År: YYYY'), regions 'K'+4 digits, labels marked '(t.o.m. 2019)' / '(f.o.m. 2020)'.

A record is one value: a row of the flat layout, one (data row, value column) cell of the wide
layouts. ``row_nr`` is the 1-based CSV record number in the file (header records counted, so it is
what a spreadsheet shows); ``column`` names the wide column (null for flat rows).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from settlement_research.errors import InputError
from settlement_research.sources.imdi.measures import WIDE_2022_MEASURES
from settlement_research.textio import TextTable, decode_text, read_text_table, sniff_separator

FLAT = "flat_long"
RAW_WIDE = "raw_wide_2015"
WIDE_2022 = "wide_2022"
LAYOUTS = (FLAT, RAW_WIDE, WIDE_2022)

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "layout": pl.String(),
    "row_nr": pl.Int64(),
    "column": pl.String(),
    "geo_level": pl.String(),   # kommune, fylke, land, bydel, naringsregion, none
    "code_raw": pl.String(),    # the code as written (kommune, fylke, bydel or region)
    "label": pl.String(),       # wide layouts: '0101 Halden' label cell
    "name": pl.String(),        # wide layouts: municipality name cell
    "indicator": pl.String(),
    "dims": pl.String(),
    "enhet": pl.String(),
    "year": pl.Int32(),
    "value_raw": pl.String(),
    "default_classification": pl.Int32(),
}

_GEO_COLUMNS = ("kommune_nr", "fylke_nr", "bydel_nr", "naringsregion_nr")
_META_COLUMNS = {"aar", "enhet", "tabellvariabel", "tabell_navn", *_GEO_COLUMNS}
_NAME_COLUMNS = {"bydel", "fylke", "kommune", "naringsregion"}


class LayoutError(InputError, ValueError):
    """The file is not one of the known IMDi layouts."""


@dataclass
class ReadResult:
    """Records of one file plus what the reader saw (for the summary and provenance)."""

    records: pl.DataFrame
    layout: str
    encoding: str
    header_records: int
    padding_columns: int = 0
    blank_records: int = 0
    notes: list[str] = field(default_factory=list)
    text: str | None = field(default=None, repr=False)  # the decoded text, for the truncation check


def decode(data: bytes, name: str = "IMDi export") -> tuple[str, str]:
    """Text and encoding name under the package's one rule (``settlement_research.textio``).

    Strict UTF-8 (BOM noted); Latin-1 only for a file that is not UTF-8 anywhere; a file mixing
    the two, UTF-16/32 or binary data is refused naming the line.
    """
    return decode_text(data, name)


def detect_layout(text: str | list[list[str]]) -> str:
    """Which layout the text (or its first records) is in."""
    if isinstance(text, str):
        first_line = text.split("\n", 1)[0]
        head = _head_records(text, sniff_separator(first_line), 6)
    else:
        head = text[:6]
    if not head:
        raise LayoutError("empty file")
    cells = [c.strip() for row in head for c in row]
    if "tabellvariabel" in head[0] and "tabell_navn" in head[0]:
        return FLAT
    if head[0] and head[0][0].strip() == "Region" and any(c.startswith("År:") for c in cells):
        return WIDE_2022
    if "kommune_nr" in cells:
        return RAW_WIDE
    raise LayoutError(
        "not a known IMDi layout (expected a flat export with tabellvariabel/tabell_navn, a raw wide "
        "export with a kommune_nr header cell, or a wide export starting 'Region;Navn')",
        hint="import-imdi reads IMDi integreringsdata exports only; check that this is one",
    )


def _head_records(text: str, sep: str, n: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    out = []
    for row in reader:
        out.append(row)
        if len(out) >= n:
            break
    return out


def _header_rows(layout: str, records: list[list[str]]) -> int:
    """How many records at the top of a file of ``layout`` are header records."""
    if layout == FLAT:
        return 1
    if layout == RAW_WIDE:
        code_col = next(
            (j for row in records[:6] for j, c in enumerate(row) if c.strip() == "kommune_nr"), None
        )
        if code_col is None:
            raise LayoutError("raw wide export without a 'kommune_nr' header cell")
        return next(
            (i for i, row in enumerate(records) if len(row) > code_col and _is_ascii_number(row[code_col])),
            len(records),
        )
    return next(
        (i for i, row in enumerate(records) if row and re.match(r"^[A-Z][0-9]{2,4}$|^[0-9]", row[0].strip())),
        len(records),
    )


def _is_ascii_number(cell: str) -> bool:
    return re.fullmatch(r"[0-9]+", cell.strip()) is not None


def read_file(path: str | Path) -> ReadResult:
    """Read one IMDi export (any of the three layouts) into long records.

    The file is read by ``textio.read_text_table``: one encoding, complete records, no header
    repeated inside; anything else is refused naming the file and line.
    """
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)


def read_bytes(data: bytes, name: str) -> ReadResult:
    """Parse the bytes of one export (already read, so they can be hashed and checked first)."""
    found: dict[str, str] = {}

    def header_rows(head: list[list[str]]) -> int:
        found["layout"] = detect_layout(head)
        return _header_rows(found["layout"], head)

    table = read_text_table(data, name=name, header=header_rows)
    layout = found["layout"]
    reader = {FLAT: _read_flat, RAW_WIDE: _read_raw_wide, WIDE_2022: _read_wide_2022}[layout]
    result = reader(table, name)
    result.encoding = table.encoding
    result.text = table.body
    return result


# --- flat long -----------------------------------------------------------------------------------


def _read_flat(table: TextTable, name: str) -> ReadResult:
    df = table.frame(empty_as_null=False).with_columns(
        pl.Series("row_nr", table.record_nrs[table.header_rows:], dtype=pl.Int64)
    )
    df = df.rename({c: c[:-3] + "_nr" for c in df.columns if c.endswith("_id")})
    for needed in ("aar", "enhet", "tabellvariabel", "tabell_navn"):
        if needed not in df.columns:
            raise LayoutError(f"flat export without column {needed!r}")
    for geo in _GEO_COLUMNS:
        if geo not in df.columns:
            df = df.with_columns(pl.lit("NULL").alias(geo))
    dim_cols = sorted(
        c for c in df.columns
        if c not in _META_COLUMNS and c != "row_nr" and c.lower() not in _NAME_COLUMNS
    )

    def given(c: str) -> pl.Expr:
        return pl.col(c).is_not_null() & (pl.col(c) != "NULL") & (pl.col(c) != "")

    geo_level = (
        pl.when(given("kommune_nr")).then(pl.lit("kommune"))
        .when(given("bydel_nr")).then(pl.lit("bydel"))
        .when(given("naringsregion_nr")).then(pl.lit("naringsregion"))
        .when(given("fylke_nr") & (pl.col("fylke_nr") == "00")).then(pl.lit("land"))
        .when(given("fylke_nr")).then(pl.lit("fylke"))
        .otherwise(pl.lit("none"))
    )
    code = (
        pl.when(given("kommune_nr")).then(pl.col("kommune_nr"))
        .when(given("bydel_nr")).then(pl.col("bydel_nr"))
        .when(given("naringsregion_nr")).then(pl.col("naringsregion_nr"))
        .when(given("fylke_nr")).then(pl.col("fylke_nr"))
    )
    dims = (
        pl.concat_str(
            [pl.when(given(c)).then(pl.lit(f"{c}=") + pl.col(c)) for c in dim_cols],
            separator=";", ignore_nulls=True,
        )
        if dim_cols else pl.lit("")
    )
    year = pl.col("aar").str.strip_chars().cast(pl.Int32, strict=False)
    default_cls = df.select(year.max()).item()
    records = df.select(
        pl.lit(name).alias("file"),
        pl.lit(FLAT).alias("layout"),
        pl.col("row_nr").cast(pl.Int64),
        pl.lit(None, pl.String).alias("column"),
        geo_level.alias("geo_level"),
        code.alias("code_raw"),
        pl.lit(None, pl.String).alias("label"),
        pl.lit(None, pl.String).alias("name"),
        pl.col("tabell_navn").alias("indicator"),
        dims.fill_null("").alias("dims"),
        pl.col("enhet").alias("enhet"),
        year.alias("year"),
        pl.col("tabellvariabel").alias("value_raw"),
        pl.lit(default_cls, pl.Int32).alias("default_classification"),
    )
    return ReadResult(records.cast(RECORD_SCHEMA), FLAT, "", header_records=1)


# --- raw wide (2015) -----------------------------------------------------------------------------

_FILE_YEAR = re.compile(r"(\d{4})(?!.*\d{4})")
_NUMBERED_PREFIX = re.compile(r"^\d+(?:_\d+)?-")
_GEO_SUFFIX = re.compile(r"-(?:kommune|fylke|bydel|naringsregion)?-?\d{4}$")


def raw_wide_indicator_and_year(name: str) -> tuple[str, int]:
    """'09_1-bosatt_anmodede-kommune-2014.csv' -> ('bosatt_anmodede', 2014)."""
    stem = Path(name).stem
    m = _FILE_YEAR.search(stem)
    if not m:
        raise LayoutError(f"raw wide export {name!r}: no year in the file name (expected '...-YYYY.csv')")
    indicator = _GEO_SUFFIX.sub("", _NUMBERED_PREFIX.sub("", stem))
    return indicator, int(m.group(1))


def _read_raw_wide(table: TextTable, name: str) -> ReadResult:
    indicator, year = raw_wide_indicator_and_year(name)
    rows = table.records
    code_col = next(
        (j for row in rows[:6] for j, c in enumerate(row) if c.strip() == "kommune_nr"), None
    )
    if code_col is None:
        raise LayoutError("raw wide export without a 'kommune_nr' header cell")
    header = rows[: table.header_rows]
    width = max((len(r) for r in rows), default=0)
    name_col = code_col + 1
    value_cols = range(name_col + 1, width)
    blank = table.blank_records
    data_rows = list(zip(table.record_nrs[table.header_rows:], table.data, strict=True))

    def cell(row: list[str], j: int) -> str:
        return row[j] if j < len(row) else ""

    columns: list[tuple[int, str, str, str]] = []  # (index, label, dims, enhet)
    padding = 0
    for j in value_cols:
        tokens = [cell(h, j).strip() for h in header if cell(h, j).strip()]
        if not tokens and not any(cell(r, j).strip() for _, r in data_rows):
            padding += 1
            continue
        dims: dict[str, str] = {}
        enhet = ""
        for tok in tokens:
            key, sep, val = tok.partition(".")
            if not sep:
                continue
            if key == "enhet":
                enhet = val
            else:
                dims[key] = val
        dims_key = ";".join(f"{k}={dims[k]}" for k in sorted(dims))
        columns.append((j, " | ".join(tokens) or f"column {j + 1}", dims_key, enhet))

    out: dict[str, list] = {k: [] for k in RECORD_SCHEMA}
    for row_nr, row in data_rows:
        code_raw = cell(row, code_col).strip()
        label = cell(row, 0).strip() if code_col > 0 else None
        muni_name = cell(row, name_col).strip()
        for j, col_label, dims_key, enhet in columns:
            out["file"].append(name)
            out["layout"].append(RAW_WIDE)
            out["row_nr"].append(row_nr)
            out["column"].append(col_label)
            out["geo_level"].append("kommune" if code_raw else "none")
            out["code_raw"].append(code_raw or None)
            out["label"].append(label or None)
            out["name"].append(muni_name or None)
            out["indicator"].append(indicator)
            out["dims"].append(dims_key)
            out["enhet"].append(enhet)
            out["year"].append(year)
            out["value_raw"].append(cell(row, j).strip())
            out["default_classification"].append(year)
    records = pl.DataFrame(out, schema=RECORD_SCHEMA)
    return ReadResult(records, RAW_WIDE, "", header_records=len(header), padding_columns=padding,
                      blank_records=blank)


# --- newer wide (2022) ---------------------------------------------------------------------------

_K_CODE = re.compile(r"^K(\d{4})$")
_F_CODE = re.compile(r"^F(\d{2})$")


def _read_wide_2022(table: TextTable, name: str) -> ReadResult:
    rows = table.records
    header, data = rows[: table.header_rows], table.data
    record_nrs = table.record_nrs[table.header_rows:]
    if len(header) < 3:
        raise LayoutError("wide export with fewer than 3 header rows (measure, Enhet, År)")
    width = max(len(r) for r in rows)

    def cell(row: list[str], j: int) -> str:
        return row[j].strip() if j < len(row) else ""

    # header rows: one or more breakdowns ('Botid i Norge: 0-4 år', 'Sekundærflytting: Alle'),
    # then 'Enhet: ...', then 'År: YYYY' (3 rows in the settlement export, 4 in the residence one)
    year_row = header[-1]
    unit_row = next((h for h in header if any(c.strip().startswith("Enhet:") for c in h)), header[-2])
    measure_rows = [h for h in header[:-1] if h is not unit_row]

    columns = []
    padding = 0
    years = []
    for j in range(2, width):
        measure = " | ".join(c for c in (cell(h, j) for h in measure_rows) if c)
        unit, yr = cell(unit_row, j), cell(year_row, j)
        m = re.search(r"(\d{4})", yr)
        if not measure and not m:
            padding += 1
            continue
        year = int(m.group(1)) if m else None
        if year is not None:
            years.append(year)
        indicator, dims = WIDE_2022_MEASURES.get(measure, (measure, ""))
        enhet = unit.split(":", 1)[-1].strip().lower()
        columns.append((j, f"{measure} | {unit} | {yr}", indicator, dims, enhet, year))
    default_cls = max(years) if years else None
    blank = table.blank_records
    out: dict[str, list] = {k: [] for k in RECORD_SCHEMA}
    for i, row in enumerate(data):
        region = cell(row, 0)
        if m := _K_CODE.match(region):
            geo, code = "kommune", m.group(1)
        elif m := _F_CODE.match(region):
            geo, code = "fylke", m.group(1)
        else:
            geo, code = "none", region or None
        for j, col_label, indicator, dims, enhet, year in columns:
            out["file"].append(name)
            out["layout"].append(WIDE_2022)
            out["row_nr"].append(record_nrs[i])
            out["column"].append(col_label)
            out["geo_level"].append(geo)
            out["code_raw"].append(code)
            out["label"].append(region or None)
            out["name"].append(cell(row, 1) or None)
            out["indicator"].append(indicator)
            out["dims"].append(dims)
            out["enhet"].append(enhet)
            out["year"].append(year)
            out["value_raw"].append(cell(row, j))
            # the export's classification; a row without a name is a code outside it, whose
            # classification assemble derives from KLASS (or the data year, if KLASS lacks it)
            out["default_classification"].append(default_cls)
    records = pl.DataFrame(out, schema=RECORD_SCHEMA)
    return ReadResult(records, WIDE_2022, "", header_records=len(header), padding_columns=padding,
                      blank_records=blank)
