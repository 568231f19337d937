"""Is an IMDi export complete? File endings and municipality coverage, checked before import.

Why: an export cut inside a number (``…;Ulvik;10;…`` -> ``…;Ulvik;1``) or cut in half imported
with exit 0 and "zero unexplained rows", because every record that *was* there was explained.
Two checks catch what is not there:

* the file ends where its format says it ends: not inside a quoted value, the last record as wide
  as the header, and a final newline where the layout's real exports have one (the raw wide
  2015 exports end with CRLF; IMDi's flat 2015 and wide 2022 exports end without a newline, so
  there the last record's width and closed quotes are the evidence);
* every municipality of the export's classification year appears, for every data year, among the
  file's municipality rows (a code that did not exist yet in a data year is not expected then).

The code list is the shipped KLASS 131 list (``expected_municipalities`` is the one place that
asks it; the geo package will own it).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from typing import Any

import polars as pl

from settlement_research.sources.imdi.layouts import FLAT, RAW_WIDE, WIDE_2022

# Layouts whose real exports may end without a final newline (checked on ../shared/real_data).
NO_FINAL_NEWLINE_OK = frozenset({FLAT, WIDE_2022})
MAX_LISTED = 12


def truncation(text: str, layout: str) -> str | None:
    """Why ``text`` (a decoded export in ``layout``) looks cut short, or None if it ends properly."""
    if not text.strip():
        return "the file is empty"
    first = text.split("\n", 1)[0]
    sep = ";" if layout in (RAW_WIDE, WIDE_2022) else ("," if first.count(",") >= first.count(";") else ";")
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    header: list[str] | None = None
    last: list[str] | None = None
    last_line = 0
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = row
            last, last_line = row, reader.line_num
    except csv.Error:
        return f"the file ends inside a quoted value (line {reader.line_num})"
    assert header is not None and last is not None
    ends_with_newline = text.endswith(("\n", "\r"))
    if last is not header and len(last) < len(header):
        shown = sep.join(last)
        shown = shown if len(shown) <= 60 else "…" + shown[-60:]
        newline = "" if ends_with_newline else " and the file does not end with a newline"
        return (f"the last record (line {last_line}: {shown!r}) has {len(last)} of the header's "
                f"{len(header)} fields{newline}")
    if not ends_with_newline and layout not in NO_FINAL_NEWLINE_OK:
        return f"the file does not end with a newline (last record: line {last_line}); {layout} exports end with one"
    return None


@lru_cache(maxsize=1)
def _code_list() -> pl.DataFrame:
    from settlement_research.geo import codes

    listed = codes.code_list().select("code", "name", "valid_from", "valid_to")
    return listed.filter(pl.col("code").map_elements(codes.is_municipality, return_dtype=pl.Boolean))


def expected_municipalities(classification_year: int, data_year: int | None = None) -> dict[str, str]:
    """Municipality code -> name, valid in ``classification_year`` and existing in ``data_year``."""
    first_year = data_year if data_year is not None else classification_year
    frame = _code_list().filter(
        (pl.col("valid_from") <= classification_year)
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= classification_year))
        & (pl.col("valid_from") <= first_year)
    )
    return dict(frame.select("code", "name").iter_rows())


def file_coverage(records: pl.DataFrame, file: str) -> dict[str, Any]:
    """Coverage of one file's municipality rows against its classification year's code list."""
    mine = records.filter(pl.col("file") == file)
    classification = mine.get_column("default_classification").max() if mine.height else None
    kommune = mine.filter(
        (pl.col("geo_level") == "kommune") & pl.col("kommune_nr").is_not_null() & pl.col("year").is_not_null()
    )
    out: dict[str, Any] = {"file": file, "classification_year": classification, "complete": False}
    if classification is None or kommune.height == 0:
        out.update(expected=None, present=0, missing=[], missing_by_year={},
                   problem="no municipality rows in the file")
        return out
    years = sorted(int(y) for y in kommune.get_column("year").unique())
    everyone = expected_municipalities(int(classification))
    present_all = set(kommune.get_column("kommune_nr").unique())
    # a wide export restates every year under its one classification (3801 Horten carries 2014):
    # each of its years is expected to hold every municipality of that classification
    restating = bool(mine.height) and mine.get_column("layout").first() == WIDE_2022
    missing_by_year: dict[str, list[str]] = {}
    for year in years:
        present = set(kommune.filter(pl.col("year") == year).get_column("kommune_nr").unique())
        expected = everyone if restating else expected_municipalities(int(classification), year)
        gone = sorted(set(expected) - present)
        if gone:
            missing_by_year[str(year)] = gone
    missing = sorted({c for codes in missing_by_year.values() for c in codes})
    out.update(
        expected=len(everyone), present=len(present_all & set(everyone)), years=years,
        missing=[{"kommune_nr": c, "name": everyone.get(c)} for c in missing],
        missing_by_year=missing_by_year, complete=not missing,
    )
    return out


def coverage(records: pl.DataFrame, files: list[str]) -> dict[str, Any]:
    """Coverage of every file of an import (``complete`` only if every file is), and for each
    partial file what the data say about why (``why_partial``)."""
    per_file = [file_coverage(records, f) for f in files]
    for f in per_file:
        if not f["complete"] and f.get("missing"):
            f["why_partial"] = why_partial(records, f)
    return {"complete": all(f["complete"] for f in per_file), "files": per_file}


SIZE_MEASURE = "refugees"  # kommune_context_year: immigrants with refugee as reason (innvandringsgrunn flukt)


def why_partial(records: pl.DataFrame, cov: dict[str, Any]) -> str:
    """What the import's own data say about the municipalities a file lacks, in one sentence:
    a regional extract, codes other files of the same edition publish, or small municipalities."""
    missing = {m["kommune_nr"] for m in cov["missing"]}
    mine = records.filter(pl.col("file") == cov["file"])
    present = set(mine.filter(pl.col("geo_level") == "kommune").get_column("kommune_nr").drop_nulls().unique())
    counties = {c[:2] for c in present & set(expected_municipalities(int(cov["classification_year"])))}
    if counties and not {c[:2] for c in missing} & counties:
        return (f"a regional extract: it covers every municipality of county {', '.join(sorted(counties))} "
                f"(classification {cov['classification_year']}) and none elsewhere, so the rest of the "
                "country is not in this file, not zero")
    years = cov.get("years") or []
    size = records.filter(
        (pl.col("target") == SIZE_MEASURE) & pl.col("value").is_not_null() & pl.col("year").is_in(years)
        & (pl.col("classification_year") == pl.col("measure_year")) & pl.col("kommune_nr").is_not_null()
    ).group_by("kommune_nr").agg(pl.col("value").max())
    if size.height:
        lost = size.filter(pl.col("kommune_nr").is_in(list(missing)))["value"]
        kept = size.filter(pl.col("kommune_nr").is_in(list(present)))["value"]
        if lost.len() == len(missing) and kept.len() and lost.max() < kept.quantile(0.25):  # type: ignore[operator]
            return (f"small municipalities left out: the {len(missing)} missing have {lost.min():.0f}-{lost.max():.0f} "
                    f"refugees (innvandringsgrunn flukt, same import), the present ones {kept.min():.0f} or more "
                    f"(median {kept.median():.0f}); the publisher omits rows this small, so their values are unknown, not zero")
    edition = mine.get_column("edition").first() if "edition" in mine.columns and mine.height else None
    tables = list(set(mine.get_column("table").drop_nulls().unique())) if "table" in mine.columns else []
    others = records.filter(
        (pl.col("file") != cov["file"]) & (pl.col("geo_level") == "kommune") & pl.col("kommune_nr").is_in(list(missing))
        & pl.col("year").is_in(years) & pl.col("table").is_in(tables)
        & ((pl.col("edition") == edition) if edition is not None else pl.lit(True))
    )
    if set(others.get_column("kommune_nr").unique()) == missing:
        files = ", ".join(sorted(set(others.get_column("file").unique()))[:3])
        return (f"other files of the same edition and table publish the missing "
                f"municipalit{'y' if len(missing) == 1 else 'ies'} for the same years ({files}): this export "
                "lacks rows it should have")
    return "no explanation in the data of this import: check the export's selection"


def format_why(cov: dict[str, Any]) -> str:
    """One line per partial file with its diagnosis."""
    return "\n".join(f"  {f['file']}: {f['why_partial']}" for f in cov["files"] if f.get("why_partial"))


def describe_missing(cov: dict[str, Any]) -> str:
    """One line per incomplete file: how many municipalities are missing, and the first of them."""
    lines = []
    for f in cov["files"]:
        if f["complete"]:
            continue
        if f.get("problem"):
            lines.append(f"  {f['file']}: {f['problem']}")
            continue
        names = ", ".join(f"{m['kommune_nr']} {m['name'] or ''}".strip() for m in f["missing"][:MAX_LISTED])
        more = f" and {len(f['missing']) - MAX_LISTED} more" if len(f["missing"]) > MAX_LISTED else ""
        years = ", ".join(f"{y}: {len(c)}" for y, c in f["missing_by_year"].items())
        lines.append(
            f"  {f['file']}: {f['present']} of {f['expected']} municipalities of classification "
            f"{f['classification_year']}; missing by data year {years}: {names}{more}"
        )
    return "\n".join(lines)


__all__ = [
    "coverage", "describe_missing", "expected_municipalities", "file_coverage", "format_why", "truncation",
    "why_partial",
]
