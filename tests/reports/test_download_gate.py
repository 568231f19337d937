"""Embedded downloads are published: the gate decodes every data: URI (CSV, Excel, SVG, JSON, text)
and judges it by the rules of a table. A template that hides a person id or an unsuppressed small
count in a download is withheld; the profile's way (suppressed frame, its CSV and workbook) passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.reports.runner import Renderer, load_template

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


def render(renderer: Renderer, tmp_path: Path, how: str):  # noqa: ANN201
    return renderer.render(load_template(NOTEBOOKS / "leaky_download.py"), {"how": how}, tmp_path)


@pytest.mark.parametrize(("how", "kind"), [
    ("csv_id", "identifier"), ("csv_count", "small_count"), ("csv_count_nb", "small_count"),
    ("xlsx_id", "identifier"), ("xlsx_count", "small_count"), ("xlsx_caption", "small_count"),
    ("xlsx_properties", "identifier"),
    ("svg_id", "identifier"), ("json_count", "small_count"), ("png_lie", "unreadable_cell"),
])
def test_a_leaky_download_is_withheld(renderer: Renderer, clean_env: Path, tmp_path: Path, how: str, kind: str) -> None:
    outcome = render(renderer, tmp_path, how)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or ""), outcome.error
    assert kind in {f["kind"] for f in outcome.findings}
    assert any("download" in f["where"] for f in outcome.findings)
    assert not list(tmp_path.iterdir())


def test_the_suppressed_table_and_its_downloads_pass(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = render(renderer, tmp_path, "clean")
    assert outcome.status == "ok" and outcome.findings == [], outcome.findings
    assert "data:text/csv" in (tmp_path / "leaky_download.html").read_text("utf-8")


def test_xlsx_sheets_reads_shared_strings_and_numbers() -> None:
    import polars as pl

    from settlement_research.analysis import profile_text as tx
    from settlement_research.sdc import downloads

    frame = pl.DataFrame({"name": ["Oslo", "Bergen"], "persons": [40, 3]})
    sheets = downloads.xlsx_sheets(tx.xlsx_bytes({"t": (frame, 0)}, "en", {"t": "A caption"}))
    rows = [r for r in sheets[0] if any(r)]
    assert rows == [["A caption"], ["name", "persons"], ["Oslo", "40"], ["Bergen", "3"]]
    found = downloads.table_findings(sheets[0], downloads.Allowed(), 5, "x")
    assert [k for k, _ in found] == ["small_count"]
    assert downloads.table_findings(sheets[0], downloads.Allowed(columns={"persons"}), 5, "x") == []
