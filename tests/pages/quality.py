"""What a published page must not show: polars dtype rows, years with a thousands separator,
mixed thousands separators (in tables and in prose), raw polars frame prints."""

from __future__ import annotations

import re

from settlement_research.pages.tables import is_year_column

DTYPE_CELL = re.compile(r"<t[hd][^>]*>\s*(str|i8|i16|i32|i64|u8|u16|u32|u64|f32|f64|bool|date|datetime\[[^<]*\]|cat|enum)\s*</t[hd]>")
YEAR_WITH_SEPARATOR = re.compile(r"(1[\u202f\u00a0 ,.]9\d\d|2[\u202f\u00a0 ,.]0\d\d)")
YEAR_HEADER = re.compile(r"^(year|år)\b|\byear$|^(from|to|valid from|valid to)$", re.I)
SEPARATORS = re.compile(r"\d([\u00a0 ,])\d{3}(?!\d)")
COMMA_GROUPS = re.compile(r"(?<![\d.,])\d{1,3}(,\d{3})+(?![\d,])")  # 40,151 in prose: the pages use 40 151
NUMBER = re.compile(r"^[\u2212-]?\d{1,3}(\u202f\d{3})*([.,](\d+))?$")
NEGATIVE_ZERO = re.compile(r"^[\u2212-]0([.,]0+)?$")
FRAME_PRINT = re.compile(r"shape: \(\d+, \d+\)|[┌╞]─|│ ---")


def page_text(html: str) -> str:
    """Visible text of table cells and paragraphs (scripts, styles and images dropped)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<img[^>]*>", " ", html)
    return html


def defects(html: str) -> list[str]:
    """Human-readable problems of a rendered page (empty when fit to publish)."""
    text = page_text(html)
    found = [f"dtype row cell {m.group(0)!r}" for m in DTYPE_CELL.finditer(text)]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    for table in re.findall(r"<table.*?</table>", text, flags=re.S):
        headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table, flags=re.S)]
        years = [i for i, h in enumerate(headers)
                 if YEAR_HEADER.search(h) or is_year_column(h) or is_year_column(h.replace(" ", "_")) or re.fullmatch(r"\d{4}", h)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
            tds = re.findall(r"<td[^>]*>([^<]*)</td>", row)
            found += [f"year with a separator {tds[i]!r}" for i in years
                      if i < len(tds) and YEAR_WITH_SEPARATOR.fullmatch(tds[i].strip())]
        columns: dict[int, dict[int, str]] = {}
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
            for i, cell in enumerate(re.findall(r"<td[^>]*>([^<]*)</td>", row)):
                m = NUMBER.match(cell.strip())
                if m and i not in years:
                    columns.setdefault(i, {}).setdefault(len(m.group(3) or ""), cell.strip())
        found += [f"negative zero {c!r}" for c in re.findall(r"<td[^>]*>([^<]*)</td>", table) if NEGATIVE_ZERO.match(c.strip())]
        found += [f"mixed decimals in column {headers[i] if i < len(headers) else i!r}: {sorted(d.values())}"
                  for i, d in columns.items() if len(d) > 1]
    found += [f"other thousands separator in {c!r}" for c in cells if SEPARATORS.search(c)]
    prose = re.sub(r"<[^>]+>", " ", re.sub(r'\s(href|src)="[^"]*"', " ", text))
    found += [f"comma thousands separator {m.group(0)!r}" for m in COMMA_GROUPS.finditer(prose)]
    found += [f"raw frame print {m.group(0)!r}" for m in FRAME_PRINT.finditer(prose)]
    return found
