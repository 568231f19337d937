"""One reader for every delimited text table the package takes in (CSV, Statbank, IMDi exports).

``read_text_table`` does, once and the same way for every source:

* **encoding**: strict UTF-8 (a UTF-8 BOM is noted and removed); Latin-1 only when the file is not
  valid UTF-8 anywhere *and* holds no UTF-8 multibyte sequence. A file mixing the two (a UTF-8
  export with one Latin-1 byte) is refused naming the first bad line, never decoded as Latin-1 as
  a whole (which garbles every later name: ``DrÃ¸ssesund``). UTF-16/32 (BOM) and NUL bytes are
  named as an unsupported encoding; other control bytes as a binary file;
* **separator** sniffing (``,`` ``;`` or tab, outside quotes, on the header line) and an optional
  title preamble (Statbank: one quoted title line, a blank line, then the header);
* **header detection**: a number of header records or a function of the first records;
* **line numbers**: each record's first physical line (1-based, right after quoted newlines), so
  every message and every output can name the line a spreadsheet or editor shows;
* **completeness**: a file that does not end where its format says it ends is refused with its
  file and line: the end inside a quoted field, a record with fewer (or more) fields than the
  header (a short last record is a cut file), the header repeated inside (two exports joined
  with ``cat``). A missing final newline alone is accepted (real exports lack it) and noted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from settlement_research.errors import (
    TextFormatError,
    UnreadableFileError,
    UnsupportedEncodingError,
)

SEPARATORS = (",", ";", "\t")

_BOMS: list[tuple[bytes, str]] = [  # longest first: the UTF-32 LE BOM starts like UTF-16 LE's
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
]
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")

HeaderSpec = int | Callable[[list[list[str]]], int]


@dataclass
class TextTable:
    """A delimited text file as records of text cells, with where each record starts.

    ``records`` holds the header record(s) first (``header_rows`` of them), then the data records
    in file order, blank records removed; ``lines[i]`` is the 1-based physical line where
    ``records[i]`` starts (what an editor shows) and ``record_nrs[i]`` its 1-based record number
    counting blank records (the row a spreadsheet shows).
    """

    name: str
    encoding: str
    separator: str
    records: list[list[str]]
    lines: list[int]
    header_rows: int
    record_nrs: list[int] = field(default_factory=list)
    body: str | None = field(default=None, repr=False)  # the text from the header line on
    preamble: list[str] = field(default_factory=list)
    blank_records: int = 0
    final_newline: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        """The last header record (the column names of a one-header table)."""
        return self.records[self.header_rows - 1] if self.header_rows else []

    @property
    def data(self) -> list[list[str]]:
        return self.records[self.header_rows:]

    @property
    def data_lines(self) -> list[int]:
        """1-based line of each data record (what ``validate`` and the importers report)."""
        return self.lines[self.header_rows:]

    def frame(self, *, line_column: str | None = None, empty_as_null: bool = True) -> pl.DataFrame:
        """The data records as a frame of text columns named by ``header``.

        Empty cells are null unless ``empty_as_null=False``; ``line_column`` adds each record's
        1-based file line as an Int64 column.
        """
        names = [c.strip() for c in self.header]
        seen: set[str] = set()
        for j, name in enumerate(names):
            if not name or name in seen:
                what = "an empty" if not name else f"a repeated ({name!r})"
                raise TextFormatError(
                    f"{self.name}: the header has {what} column name in position {j + 1}",
                    file=self.name, line=self.lines[self.header_rows - 1] if self.header_rows else 1,
                    hint="every column needs its own name",
                )
            seen.add(name)
        frame = self._polars_frame(names)
        if frame is None:
            data = self.data
            columns = list(zip(*data, strict=True)) if data else [() for _ in names]
            frame = pl.DataFrame(
                {n: pl.Series(n, list(col), dtype=pl.String) for n, col in zip(names, columns, strict=True)}
            )
        if empty_as_null and frame.width:
            frame = frame.with_columns(pl.all().replace("", None))
        if line_column is not None:
            frame = frame.with_columns(pl.Series(line_column, self.data_lines, dtype=pl.Int64))
        return frame


    def _polars_frame(self, names: list[str]) -> pl.DataFrame | None:
        """The same cells parsed by polars (fast), used only for a one-header table whose records
        were all checked; None when polars would not see exactly those records."""
        if self.body is None or self.header_rows != 1 or self.blank_records or not self.data:
            return None
        try:
            frame = pl.read_csv(
                io.StringIO(self.body), separator=self.separator, infer_schema=False,
                new_columns=names, empty_string_is_null=False, truncate_ragged_lines=False,
            )
        except Exception:  # noqa: BLE001 - fall back to the checked records
            return None
        if frame.height != len(self.data) or frame.width != len(names):
            return None
        first, last = self.data[0], self.data[-1]
        if list(frame.row(0)) != first or list(frame.row(-1)) != last:
            return None
        return frame


def decode_text(raw: bytes, name: str = "<text>") -> tuple[str, str]:
    """(text, encoding) under the package's one rule; raises naming file and line otherwise.

    Encoding names: ``ascii``, ``utf-8``, ``utf-8-sig`` (BOM removed) or ``latin-1``.
    """
    for bom, label in _BOMS:
        if raw.startswith(bom):
            raise UnsupportedEncodingError(
                f"{name} is {label} text (it starts with a byte-order mark); this encoding is not supported",
                file=name, line=1, hint="save the file as UTF-8 (or Latin-1) and try again",
            )
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise UnsupportedEncodingError(
            f"{name} contains NUL bytes (first on line {line}): UTF-16/32 text without a byte-order "
            "mark or a binary file; this encoding is not supported",
            file=name, line=line, hint="save the file as UTF-8 (or Latin-1) text and try again",
        )
    control = _BINARY_CONTROLS.search(raw)  # these bytes are in no text encoding read here
    if control:
        line = raw.count(b"\n", 0, control.start()) + 1
        raise UnsupportedEncodingError(
            f"{name} holds control byte {control.group()!r} on line {line}: a binary file, not "
            "delimited text",
            file=name, line=line, hint="give a CSV text file (UTF-8 or Latin-1)",
        )
    has_bom = raw.startswith(_UTF8_BOM)
    body = raw[len(_UTF8_BOM):] if has_bom else raw
    try:
        text = body.decode("utf-8")
        encoding = "utf-8-sig" if has_bom else ("ascii" if text.isascii() else "utf-8")
    except UnicodeDecodeError as err:
        if has_bom or _UTF8_MULTIBYTE.search(body):
            line = body[: err.start].count(b"\n") + 1
            bad = body[err.start: err.end + 1][:4]
            why = "it starts with a UTF-8 byte-order mark" if has_bom else "other lines are UTF-8"
            raise TextFormatError(
                f"{name}: line {line} is not valid UTF-8 (bytes {bad.hex(' ')}) although {why}: "
                "the file mixes encodings, and reading it as Latin-1 would garble every UTF-8 name",
                file=name, line=line,
                hint="re-save the whole file in one encoding (UTF-8), or fix the bytes on that line",
            ) from None
        text, encoding = body.decode("latin-1"), "latin-1"
    return text, encoding


def sniff_separator(header: str, candidates: Sequence[str] = SEPARATORS) -> str:
    """The candidate that occurs most often outside quotes in the header line (',' if none)."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {sep: unquoted.count(sep) for sep in candidates}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_text_table(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    separator: str | None = None,
    header: HeaderSpec = 1,
    comment_prefix: str | None = None,
    title_preamble: bool = False,
    ragged: bool = False,
) -> TextTable:
    """Read a delimited text table completely, or raise naming the file and line.

    ``source``: a path or the file's bytes (``name`` then labels it in messages).
    ``header``: how many records at the top are header records, or a function of the first
    records (up to 20) returning that number. ``title_preamble``: skip a Statbank-style title
    (one-cell lines followed by a blank line) before the header. ``ragged=True`` allows records of
    different widths (only for layouts that need it); otherwise every data record must have as
    many fields as the widest header record.
    """
    if isinstance(source, bytes | bytearray):
        raw, label = bytes(source), name or "<text>"
    else:
        path = Path(source)
        label = name or str(path)
        if not path.is_file():
            raise UnreadableFileError(f"cannot read {label}: no such file", file=label)
        raw = path.read_bytes()
    if not raw.strip(b" \t\r\n" + _UTF8_BOM):
        raise UnreadableFileError(f"cannot read {label}: the file is empty", file=label,
                                  hint="give the complete export; an empty file has no header and no rows")
    text, encoding = decode_text(raw, label)
    final_newline = text.endswith(("\n", "\r"))

    # physical lines as csv and editors count them (\n, \r\n or \r), split in C
    all_lines = list(io.StringIO(text, newline=""))
    if comment_prefix:  # a comment counts as a line but holds no record
        all_lines = ["\n" if ln.startswith(comment_prefix) else ln for ln in all_lines]
    skip, preamble = _preamble(all_lines, title_preamble)
    sep = separator or sniff_separator(all_lines[skip] if skip < len(all_lines) else "")

    records: list[list[str]] = []
    lines: list[int] = []
    record_nrs: list[int] = []
    blank = 0
    reader = csv.reader(iter(all_lines[skip:]), delimiter=sep, strict=True)
    consumed = 0  # lines the reader has taken so far (after the preamble)
    try:
        for row in reader:
            if not "".join(row).strip():
                blank += 1
            else:
                records.append(row)
                lines.append(skip + consumed + 1)
                record_nrs.append(len(records) + blank)
            consumed = reader.line_num
    except csv.Error as exc:
        start = skip + consumed + 1
        if "unexpected end of data" in str(exc) or "newline inside string" in str(exc):
            raise TextFormatError(
                f"{label}: the file ends inside a quoted field that starts on line {start}; "
                "the file is cut short",
                file=label, line=start, hint="download or export the file again, completely",
            ) from None
        raise TextFormatError(f"{label}: line {start} is not valid delimited text ({exc})",
                              file=label, line=start) from None
    if not records:
        raise UnreadableFileError(f"cannot read {label}: the file has no records", file=label)

    n_header = header(records[:20]) if callable(header) else header
    n_header = max(0, min(n_header, len(records)))
    table = TextTable(
        name=label, encoding=encoding, separator=sep, records=records, lines=lines,
        header_rows=n_header, record_nrs=record_nrs,
        body=None if comment_prefix else "".join(all_lines[skip:]), preamble=preamble, blank_records=blank, final_newline=final_newline,
    )
    if not final_newline:
        table.notes.append("the file has no final newline")
    _check_complete(table, ragged=ragged)
    return table


def _preamble(all_lines: list[str], title_preamble: bool) -> tuple[int, list[str]]:
    """(index of the header line, title lines skipped): leading blank lines, and with
    ``title_preamble`` a Statbank title (one cell on a line) closed by a blank line."""
    skip = 0
    preamble: list[str] = []
    while skip < len(all_lines) and not all_lines[skip].strip():
        skip += 1
    if (title_preamble and skip + 1 < len(all_lines) and not all_lines[skip + 1].strip()
            and re.fullmatch(r'"[^"]*"\s*|[^,;\t"]*', all_lines[skip].strip())):
        preamble.append(all_lines[skip].strip())
        skip += 1
        while skip < len(all_lines) and not all_lines[skip].strip():
            skip += 1
    return skip, preamble


def _check_complete(table: TextTable, *, ragged: bool) -> None:
    """Refuse a table that is cut short, ragged or holds its header again inside."""
    label = table.name
    if table.header_rows and not ragged:
        width = max(len(r) for r in table.records[: table.header_rows])
        last = len(table.records) - 1
        widths = list(map(len, table.records))
        for i in [i for i in range(table.header_rows, len(widths)) if widths[i] != width][:1]:
            n = widths[i]
            line = table.lines[i]
            if n < width and i == last and not table.final_newline:
                raise TextFormatError(
                    f"{label}: the last record (line {line}) has {n} of {width} fields and the file "
                    "has no final newline: the file is cut short",
                    file=label, line=line, hint="download or export the file again, completely",
                )
            few = "fewer" if n < width else "more"
            raise TextFormatError(
                f"{label}: line {line} has {n} fields, {few} than the header's {width}",
                file=label, line=line,
                hint="a record with missing fields means a cut or damaged file; export it again",
            )
    if table.header_rows:
        first_header = [c.strip() for c in table.records[0]]
        if any(first_header):
            lead = first_header[0]
            for i in range(table.header_rows, len(table.records)):
                row = table.records[i]
                if row and row[0].strip() == lead and [c.strip() for c in row] == first_header:
                    raise TextFormatError(
                        f"{label}: line {table.lines[i]} repeats the header of line {table.lines[0]}: "
                        "two files joined into one?",
                        file=label, line=table.lines[i],
                        hint="give each export as its own file",
                    )


def read_csv_frame(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    separator: str | None = None,
    comment_prefix: str | None = None,
    line_column: str | None = None,
) -> pl.DataFrame:
    """A one-header CSV as a frame of text columns (codes keep their zeros), fully checked."""
    table = read_text_table(source, name=name, separator=separator, comment_prefix=comment_prefix)
    return table.frame(line_column=line_column)


__all__ = ["SEPARATORS", "TextTable", "decode_text", "read_csv_frame", "read_text_table", "sniff_separator"]
