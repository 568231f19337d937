"""What a published page must not show: polars dtype rows, years with a thousands separator,
mixed thousands separators."""

from __future__ import annotations

import re

DTYPE_CELL = re.compile(r"<t[hd][^>]*>\s*(str|i8|i16|i32|i64|u8|u16|u32|u64|f32|f64|bool|date|datetime\[[^<]*\]|cat|enum)\s*</t[hd]>")
YEAR_WITH_SEPARATOR = re.compile(r"(1[\u202f\u00a0 ,.]9\d\d|2[\u202f\u00a0 ,.]0\d\d)")
YEAR_HEADER = re.compile(r"^(year|år)\b|\byear$|^(from|to|valid from|valid to)$", re.I)
SEPARATORS = re.compile(r"\d([\u00a0 ,])\d{3}(?!\d)")


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
        years = [i for i, h in enumerate(headers) if YEAR_HEADER.search(h) or re.fullmatch(r"\d{4}", h)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
            tds = re.findall(r"<td[^>]*>([^<]*)</td>", row)
            found += [f"year with a separator {tds[i]!r}" for i in years
                      if i < len(tds) and YEAR_WITH_SEPARATOR.fullmatch(tds[i].strip())]
    found += [f"other thousands separator in {c!r}" for c in cells if SEPARATORS.search(c)]
    return found
