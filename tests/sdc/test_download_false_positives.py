"""False withholdings that `make demo` found (24 of 428 profiles): each check still bites on the
real leak beside the look-alike it must let through."""

from __future__ import annotations

import io
import json
from pathlib import Path

import xlsxwriter

from settlement_research.pages import lineage as page_lineage
from settlement_research.sdc import audit, downloads

ID = "123456789"


def _workbook(rows: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("t")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write_string(i, j, value)
    book.close()
    return buf.getvalue()


def _page(data: bytes, mime: str) -> str:
    import base64

    return f'<a href="data:{mime};base64,{base64.b64encode(data).decode()}">download</a>'


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_neighbouring_workbook_cells_are_not_one_grouped_id() -> None:
    ids = frozenset({ID})
    apart = _page(_workbook([["year", "a", "b", "c"], ["2012", "123", "456", "789"]]), XLSX)
    assert [f for f in downloads.check(apart, ids=ids, t=5, allowed=downloads.Allowed(headers={"year", "a", "b", "c"},
            columns={"year", "a", "b", "c"}), where="p") if f.kind == "identifier"] == []
    whole = _page(_workbook([["year", "a"], ["2012", ID]]), XLSX)
    assert "identifier" in {f.kind for f in downloads.check(whole, ids=ids, t=5, allowed=downloads.Allowed(), where="p")}


def test_a_signed_value_column_may_hold_a_whole_share_but_a_count_column_may_not() -> None:
    tables = [[[audit._Cell("th", "header", "year", False), audit._Cell("th", "header", "share, %", False),
                audit._Cell("th", "header", "settled", False)],
               [audit._Cell("td", "label", "2012", True), audit._Cell("td", "value", "4.0", True),
                audit._Cell("td", "count", "12", True)]]]
    allowed = audit.signed_columns(tables)
    assert "share, %" in allowed.columns and "settled" not in allowed.columns
    csv = b"year,\"share, %\",settled\n2012,4.0,12\n"
    assert downloads.check(_page(csv, "text/csv"), ids=frozenset(), t=5, allowed=allowed, where="p") == []
    leaky = b"year,\"share, %\",settled\n2012,4.0,3\n"
    assert {f.kind for f in downloads.check(_page(leaky, "text/csv"), ids=frozenset(), t=5, allowed=allowed,
                                             where="p")} == {"small_count"}


def test_a_lineage_count_equal_to_a_decimal_cell_is_that_cell(tmp_path: Path) -> None:
    def doc(text: str, n: str) -> Path:
        out = tmp_path / "p.lineage.json"
        out.write_text(json.dumps({"numbers": [{"text": text, "origin": {"clean": [
            {"origins": [{"role": "derived", "person_level_rows": n}]}]}}]}), "utf-8")
        return out

    assert page_lineage.audit_lineage(doc("12.0", "12"), ids=frozenset(), t=5) == []
    assert page_lineage.audit_lineage(doc("12,0", "12"), ids=frozenset(), t=5) == []
    assert [f.kind for f in page_lineage.audit_lineage(doc("12.0", "13"), ids=frozenset(), t=5)] == ["small_count"]


def test_signatures_and_base64_in_a_notebook_are_not_read_for_ids() -> None:
    """A random signature or a base64 payload can hold a digit run equal to an id by chance (one demo
    profile in 428 was withheld so); the id in shown text is still found."""
    html = (f'<td data-sdc="count" data-sdc-sig="{ID}abcdef012345678">12</td>'
            f'<a href="data:text/csv;base64,QUJD{ID}QUJD">csv</a>')
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [{"data": {"text/html": html}}]}]}
    assert [f for f in audit.check_notebook(nb, ids=frozenset({ID}), t=5) if f.kind == "identifier"] == []
    shown = {"cells": [{"cell_type": "code", "source": "", "outputs": [{"text": f"person {ID}"}]}]}
    assert "identifier" in {f.kind for f in audit.check_notebook(shown, ids=frozenset({ID}), t=5)}


def test_a_rate_column_of_whole_values_is_not_counts_but_a_count_column_with_decimals_is() -> None:
    """make demo, session 4: 3 of 428 profiles were withheld for '1.0' exits per dwelling-year (every
    value of the column whole, so no fractional value marked it as rates). The header names rates."""
    assert downloads.check(_page(b"year,exits per dwelling-year\n2009,0.0\n2010,1.0\n", "text/csv"),
                           ids=frozenset(), t=5, allowed=downloads.Allowed(), where="p") == []
    assert downloads.check(_page(b"year,utflyttinger per boligar,\"share, %\"\n2010,1.0,3.0\n", "text/csv"),
                           ids=frozenset(), t=5, allowed=downloads.Allowed(), where="p") == []
    # a plainly written 3 under a rate header is still a count (one header does not launder a column)
    assert {f.kind for f in downloads.check(_page(b"year,exits per dwelling-year\n2010,3\n", "text/csv"),
                                             ids=frozenset(), t=5, allowed=downloads.Allowed(), where="p")} == {"small_count"}
    counts = _page(b"year,exits from municipal rental\n2009,0.0\n2010,1.0\n", "text/csv")
    assert {f.kind for f in downloads.check(counts, ids=frozenset(), t=5, allowed=downloads.Allowed(),
                                             where="p")} == {"small_count"}
    page = ("<table><thead><tr><th>year</th><th>exits per dwelling-year</th><th>exits</th></tr></thead>"
            "<tbody><tr><td>2010</td><td>1.0</td><td>{}</td></tr></tbody></table>")
    assert audit.check_html(page.format("12"), t=5, key=b"") == []
    assert {f.kind for f in audit.check_html(page.format("3"), t=5, key=b"")} == {"small_count"}
