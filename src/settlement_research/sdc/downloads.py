"""Embedded downloads read like the tables they copy: every ``data:`` URI of a page is decoded.

Why: a profile embeds its tables as CSV and Excel downloads (``data:`` URIs in ``href``), and a
template can embed anything the same way (JSON, plain text, SVG, HTML). The page scanner skips
attribute values that start with ``data:`` (base64 is not text), so without this module a person id
or an unsuppressed count in a download would be published unread. Each URI is decoded and judged
with the rules of :mod:`.audit`:

- CSV and Excel (``xlsx``: a zip of XML; the shared strings and every sheet are read with
  ``zipfile``) become rows: identifiers in any cell; small counts by column as in an HTML table
  (:func:`.context.small_count_cells`), except in the columns the page itself shows as a declared
  public statistic or a label (the disclosure API signed them there, under the same header); a
  header that reads as a count must be a header the API signed on the page; text above the header
  row (a sheet's caption) is judged as prose;
- SVG and HTML are pages of their own (:func:`.audit.check_html`, no signed marks possible; an SVG's
  texts read like a chart's, :func:`.charts.check_svg`);
- JSON is judged like results.json (:func:`.audit.check_results`), and all other text as
  printed text (:func:`.audit.check_text`);
- a raster image is withheld: its text cannot be read here (charts are SVG, :mod:`.charts`), and
  so is anything else that cannot be read (default deny).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import urllib.parse
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from settlement_research.sdc.context import prose_counts, read_cell, small_count_cells

DATA_URI = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+(?:=[\w.+\-\"]+)?)*?)"
                      r"(?P<b64>;base64)?,(?P<payload>[^\"'<>\s)]*)", re.IGNORECASE)
RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp")
XLSX_MIMES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
_MAX_BYTES = 50_000_000  # a download larger than this is not read (and so withheld)


@dataclass
class Allowed:
    """What the page's disclosure API signed: headers, and the headers of columns it showed as a
    declared public statistic or a label (their small numbers are not person counts)."""

    headers: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    values: dict[str, set[float]] | None = None  # clean gate: a column may repeat only the page's numbers


@dataclass
class Download:
    mime: str
    data: bytes


def embedded(text: str) -> list[Download]:
    """Every ``data:`` URI in ``text`` (attribute values, CSS, raw text), decoded; a payload that
    does not decode is returned as None data (the caller withholds)."""
    out = []
    for match in DATA_URI.finditer(text):
        mime = (match.group("mime") or "text/plain").lower()
        payload = match.group("payload")
        try:
            data = (base64.b64decode(urllib.parse.unquote(payload) + "=" * (-len(payload) % 4))
                    if match.group("b64") else urllib.parse.unquote_to_bytes(payload))
        except (binascii.Error, ValueError):
            data = b"\x00undecodable"
        out.append(Download(mime, data))
    return out


def _column_letters(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]*", ref).group():  # type: ignore[union-attr]
        n = n * 26 + ord(ch) - 64
    return n - 1


def xlsx_sheets(data: bytes) -> list[list[list[str]]]:
    """Every sheet of a workbook as rows of cell texts (shared and inline strings resolved, numbers
    as written). Raises ``zipfile.BadZipFile``/``KeyError``/``ParseError`` on a file it cannot read."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = book.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{_NS}t")) for si in root.iter(f"{_NS}si")]
        sheets = []
        for name in sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)):
            root = ElementTree.fromstring(book.read(name))
            rows: list[list[str]] = []
            for row in root.iter(f"{_NS}row"):
                cells: dict[int, str] = {}
                for i, cell in enumerate(row.iter(f"{_NS}c")):
                    j = _column_letters(cell.get("r", "")) if cell.get("r") else i
                    kind = cell.get("t")
                    if kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
                    else:
                        v = cell.find(f"{_NS}v")
                        text = "" if v is None or v.text is None else v.text
                        if kind == "s" and text:
                            text = shared[int(text)]
                    cells[j] = text
                width = max(cells, default=-1) + 1
                rows.append([cells.get(j, "") for j in range(width)])
            sheets.append(rows)
        # everything else in the zip is published too (anyone can unzip the file): strings no sheet
        # uses, sheet names, document properties, comments; a part that is not XML cannot be read
        rest: list[list[str]] = [[s] for s in shared]
        for name in names:
            if name.endswith("/"):
                continue
            if not name.endswith((".xml", ".rels", ".vml")):
                raise ValueError(f"a workbook part that is not XML: {name}")
            for element in ElementTree.fromstring(book.read(name)).iter():
                rest += [[v] for v in element.attrib.values()] + ([[element.text]] if element.text else [])
        sheets.append(rest)
        return sheets


def csv_rows(text: str) -> list[list[str]]:
    """A CSV download as rows (',' or ';' separated, a BOM dropped)."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _header_index(rows: list[list[str]]) -> int:
    """The header row: the first row as wide as the widest (a caption above it is one cell)."""
    width = max((sum(1 for c in r if c.strip()) for r in rows), default=0)
    return next((i for i, r in enumerate(rows) if sum(1 for c in r if c.strip()) == width), 0)


def table_findings(rows: list[list[str]], allowed: Allowed, t: int, where: str, *,
                   typed: bool = False) -> list[tuple[str, str]]:
    """Small counts in a downloaded table, by the rules of an HTML table (see module doc);
    ``typed``: a workbook, whose cells hold numbers, not how they were written (see
    :func:`.context.small_count_cells`)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    found: list[tuple[str, str]] = []
    h = _header_index(rows)
    for line in rows[:h]:  # a caption above the table
        if any(prose_counts(c, t) for c in line):
            found.append(("small_count", f"{where} caption: a number below {t} written as a count of people"))
    header = [c.strip() for c in rows[h]]
    for cell in header:
        number = read_cell(cell)
        if cell not in allowed.headers and ((number is not None and number.is_integer() and 0 < number < t)
                                            or prose_counts(cell, t)):
            found.append(("small_count", f"{where} header: a number below {t} in a header the disclosure API did not write"))
    body = rows[h + 1:]
    width = max((len(r) for r in body), default=0)
    body = [[c.strip() for c in r] + [""] * (width - len(r)) for r in body]
    skip = {(i, j) for i in range(len(body)) for j in range(width)
            if j < len(header) and header[j] in allowed.columns
            and (allowed.values is None or read_cell(body[i][j]) in allowed.values.get(header[j], set()))}
    cells = small_count_cells(body, t, skip=skip, typed=typed, headers=header)
    if cells:
        found.append(("small_count", f"{where}: {len(cells)} cell(s) below {t} in a column that is neither "
                      "suppressed nor shown on the page as a declared public statistic"))
    return found


def check(text: str, *, ids: frozenset[str], t: int, allowed: Allowed, where: str) -> list[Any]:
    """Findings (:class:`.audit.Finding`) for every ``data:`` URI embedded in ``text``."""
    from settlement_research.sdc.audit import (
        Finding,
        check_html,
        check_results,
        check_text,
        count_identifiers,
    )

    findings: list[Finding] = []
    for k, item in enumerate(embedded(text)):
        place = f"{where} download {k + 1} ({item.mime})"
        if item.mime in RASTER or (item.mime.startswith("image/") and item.mime != "image/svg+xml"):
            if item.data.startswith(_MAGIC) or item.mime not in RASTER:
                findings.append(Finding("unreadable_image", place, "a raster image: its text cannot be read here"))
            else:
                findings.append(Finding("unreadable_cell", place, "an embedded file that says it is an image and is not one"))
            continue
        if len(item.data) > _MAX_BYTES:
            findings.append(Finding("unreadable_cell", place, "an embedded file too large to read"))
            continue
        texts: list[str]
        tables: Iterable[list[list[str]]] = ()
        typed = item.mime in XLSX_MIMES or item.data[:2] == b"PK"  # a workbook's numbers carry no written form
        if typed:
            try:
                sheets = xlsx_sheets(item.data)
            except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError, IndexError):
                findings.append(Finding("unreadable_cell", place, "an embedded workbook that cannot be read"))
                continue
            tables = sheets[:-1]
            # each cell on its own: cells joined by spaces read as one "grouped" id (2012 | 123 | 456)
            texts = [c for sheet in sheets for row in sheet for c in row]
        else:
            try:
                decoded = item.data.decode("utf-8")
            except UnicodeDecodeError:
                findings.append(Finding("unreadable_cell", place, "an embedded file that is not text (unreadable)"))
                continue
            texts = [decoded]
            if item.mime in ("text/csv", "text/tab-separated-values", "application/csv"):
                tables = [csv_rows(decoded)]
            elif item.mime in ("image/svg+xml", "text/html", "application/xhtml+xml"):
                findings += [Finding(f.kind, place, f.message) for f in check_html(decoded, ids=ids, t=t, key=b"")]
                continue
            else:
                try:  # JSON is judged like results.json: a small number under a key that may count people
                    parsed = json.loads(decoded)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict | list):
                    findings += [Finding(f.kind, place, f.message) for f in check_results({"download": parsed}, t=t)]
                findings += [Finding(f.kind, place, f.message) for f in check_text(decoded, ids=ids, t=t)]
                continue
        hits = sum(count_identifiers(x, ids) for x in texts)
        if hits:
            findings.append(Finding("identifier", place, f"{hits} identifier value(s) from the person-level data"))
        for table in tables:
            findings += [Finding(kind, place, message) for kind, message in table_findings(table, allowed, t, place, typed=typed)]
    return findings


__all__ = ["Allowed", "DATA_URI", "Download", "check", "csv_rows", "embedded", "table_findings", "xlsx_sheets"]
