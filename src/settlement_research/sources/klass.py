"""SSB KLASS: municipality (131) and county (104) codes valid at a date, and code changes.

Endpoints (``BASE_URL`` = https://data.ssb.no/api/klass/v1, ``Accept: application/json``):
``/classifications/{id}/codesAt?date=YYYY-MM-DD`` and
``/classifications/{id}/changes?from=YYYY-MM-DD&to=YYYY-MM-DD``. Responses are cached in
``data_raw/klass`` like the SSB responses (see ``sources.http``).

Frame formats (the ``harmonize`` module consumes the change table):

``parse_codes`` / ``codes_at`` -> one row per code:
    code (String, as published: 4 characters for 131, 2 for 104; never padded), name, short_name,
    presentation_name, level, parent_code (String, null when empty), valid_from, valid_to
    (Date, null when open or not given), valid_from_in_range, valid_to_in_range (Date; only from
    the range endpoint ``codes?from=&to=``: validity clipped to the requested range), notes.

``parse_changes`` / ``changes`` / ``read_changes`` -> one row per code change, sorted by
change_date, old_code, new_code:
    old_code   String  code before the change (null if the code is new, e.g. a split's new part)
    old_name   String
    new_code   String  code after the change (null if the code was discontinued)
    new_name   String
    change_date Date   the day the change took effect (changeOccurred), usually 1 January
A merge appears as several rows with the same new_code (0104 Moss, 0136 Rygge -> 3002 Moss); a
split as several rows with the same old_code (1507 Ålesund -> 1508 Ålesund, 1580 Haram); a pure
renumbering as one row. Chains over several reforms (0104 -> 3002 -> 3103) are separate rows with
their own dates: follow them in date order. Codes are reused (0716), so always pair a code with
a date or classification year.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.sources import shapes
from settlement_research.sources.http import CachedHttpClient, cached_responses

SOURCE_NAME = "klass"
BASE_URL = "https://data.ssb.no/api/klass/v1"
MUNICIPALITIES = 131
COUNTIES = 104
CODE_PATTERNS = {MUNICIPALITIES: r"^\d{4}$", COUNTIES: r"^\d{2}$"}
ACCEPT = "application/json"

CODES_SCHEMA = {
    "code": pl.String, "name": pl.String, "short_name": pl.String, "presentation_name": pl.String,
    "level": pl.String, "parent_code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
    "valid_from_in_range": pl.Date, "valid_to_in_range": pl.Date, "notes": pl.String,
}
CHANGES_SCHEMA = {
    "old_code": pl.String, "old_name": pl.String, "new_code": pl.String, "new_name": pl.String,
    "change_date": pl.Date,
}


def _load(payload: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    return json.loads(payload) if isinstance(payload, bytes | str) else payload


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value)


def _date(value: Any) -> date | None:
    text = _text(value)
    return date.fromisoformat(text[:10]) if text else None


def _check_codes(codes: pl.Series, classification: int | None, what: str) -> None:
    """Codes must already have their leading zeros: a 3-digit municipality code is an error."""
    pattern = CODE_PATTERNS.get(classification or 0)
    if pattern is None:
        return
    bad = codes.drop_nulls().filter(~codes.drop_nulls().str.contains(pattern) & (codes.drop_nulls() != "9999"))
    if len(bad):
        raise ValueError(f"KLASS {classification}: {what} not matching {pattern}: {bad.head(5).to_list()}")


def parse_codes(payload: bytes | str | Mapping[str, Any], classification: int | None = None) -> pl.DataFrame:
    """A KLASS ``codes`` / ``codesAt`` response as a frame (see the module docstring)."""
    rows = []
    for item in _load(payload).get("codes", []):
        rows.append({
            "code": str(item["code"]), "name": _text(item.get("name")),
            "short_name": _text(item.get("shortName")),
            "presentation_name": _text(item.get("presentationName")),
            "level": _text(item.get("level")), "parent_code": _text(item.get("parentCode")),
            "valid_from": _date(item.get("validFrom")), "valid_to": _date(item.get("validTo")),
            "valid_from_in_range": _date(item.get("validFromInRequestedRange")),
            "valid_to_in_range": _date(item.get("validToInRequestedRange")),
            "notes": _text(item.get("notes")),
        })
    frame = pl.DataFrame(rows, schema=CODES_SCHEMA)
    _check_codes(frame["code"], classification, "codes")
    return frame


def parse_changes(payload: bytes | str | Mapping[str, Any], classification: int | None = None) -> pl.DataFrame:
    """A KLASS ``changes`` response as the change table (see the module docstring)."""
    rows = [
        {
            "old_code": _text(item.get("oldCode")), "old_name": _text(item.get("oldName")),
            "new_code": _text(item.get("newCode")), "new_name": _text(item.get("newName")),
            "change_date": _date(item.get("changeOccurred")),
        }
        for item in _load(payload).get("codeChanges", [])
    ]
    frame = pl.DataFrame(rows, schema=CHANGES_SCHEMA)
    _check_codes(frame["old_code"], classification, "old codes")
    _check_codes(frame["new_code"], classification, "new codes")
    return frame.sort("change_date", "old_code", "new_code", nulls_last=True)


@dataclass
class KlassClient:
    """KLASS through the cached HTTP client (cache folder ``data_raw/klass``)."""

    http: CachedHttpClient
    base_url: str = BASE_URL

    def codes_at(self, classification: int, at: date | str) -> pl.DataFrame:
        day = str(at)
        resp = self.http.get(
            f"{self.base_url}/classifications/{classification}/codesAt", [("date", day)],
            name=f"klass{classification}_codesAt_{day}", accept=ACCEPT,
            extra={"classification": classification, "kind": "codesAt", "date": day},
            validate=shapes.klass_codes,
        )
        return parse_codes(resp.body, classification).with_columns(pl.lit(date.fromisoformat(day)).alias("valid_at"))

    def changes(self, classification: int, from_date: date | str, to_date: date | str) -> pl.DataFrame:
        resp = self.http.get(
            f"{self.base_url}/classifications/{classification}/changes",
            [("from", str(from_date)), ("to", str(to_date))],
            name=f"klass{classification}_changes_{from_date}_{to_date}", accept=ACCEPT,
            extra={"classification": classification, "kind": "changes",
                   "from": str(from_date), "to": str(to_date)},
            validate=shapes.klass_changes,
        )
        return parse_changes(resp.body, classification)


def _klass_dir(raw_dir: Path) -> Path:
    raw_dir = Path(raw_dir)
    return raw_dir / SOURCE_NAME if (raw_dir / SOURCE_NAME).is_dir() else raw_dir


def read_changes(raw_dir: Path, classification: int = MUNICIPALITIES) -> pl.DataFrame:
    """Every cached change response of a classification, as one de-duplicated change table."""
    frames = [
        parse_changes(path.read_bytes(), classification)
        for path, prov in cached_responses(_klass_dir(raw_dir))
        if prov.get("kind") == "changes" and int(prov.get("classification", -1)) == classification
    ]
    if not frames:
        return pl.DataFrame(schema=CHANGES_SCHEMA)
    return pl.concat(frames).unique().sort("change_date", "old_code", "new_code", nulls_last=True)


def read_codes(raw_dir: Path, classification: int = MUNICIPALITIES) -> pl.DataFrame:
    """Every cached codesAt response of a classification, with its ``valid_at`` date."""
    frames = [
        parse_codes(path.read_bytes(), classification).with_columns(
            pl.lit(date.fromisoformat(str(prov["date"]))).alias("valid_at")
        )
        for path, prov in cached_responses(_klass_dir(raw_dir))
        if prov.get("kind") == "codesAt" and int(prov.get("classification", -1)) == classification
    ]
    if not frames:
        return pl.DataFrame(schema={**CODES_SCHEMA, "valid_at": pl.Date})
    return pl.concat(frames).unique(["valid_at", "code"], keep="last").sort("valid_at", "code")

