"""Cell-level lineage on pages: hovers, NAME.lineage.json, suppressed cells, small counts, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from settlement_research import sdc
from settlement_research.pages import lineage as page_lineage
from settlement_research.pages.tables import html_table
from settlement_research.pipeline.lineage import finish


def _clean(tmp_path: Path) -> Path:
    """A data_clean with one lineage file: a read row (hostile file name) and derived cells."""
    rows = []
    for row, (year, n) in enumerate([(2012, 40), (2013, 3), (2014, 57)], start=1):
        key = f"kommune_nr=0301;year={year}"
        rows.append({"row": row, "key": key, "column": None, "origin_nr": 1, "role": "row",
                     "file": 'imdi<script>alert("x")</script>.csv', "file_sha256": "ab" * 32, "record": row + 1,
                     "steps": "read\nbuild: validated"})
        rows.append({"row": row, "key": key, "column": "settled", "origin_nr": 1, "role": "derived",
                     "derived_from": "settlement", "derived_rows": n, "steps": "derived by derive.py"})
    lin = finish(pl.DataFrame(rows).with_columns(pl.lit("kommune_settlement_year").alias("table"),
                                                  pl.lit("synthetic").alias("source")))
    folder = tmp_path / "synthetic" / "lineage"
    folder.mkdir(parents=True)
    lin.write_parquet(folder / "kommune_settlement_year.parquet")
    return tmp_path


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"year": pl.Series([2012, 2013, 2014], dtype=pl.Int16), "requested": [50, 10, 60],
                         "settled": [40, 3, 57]})


CELLS = page_lineage.rows("kommune_settlement_year", {"requested": "requested", "settled": "settled"},
                          fixed={"kommune_nr": "0301"}, by={"year": "year"})


def test_numbers_get_an_escaped_hover_and_suppressed_cells_their_reason(tmp_path: Path) -> None:
    page = page_lineage.PageLineage("synthetic", clean_dir=_clean(tmp_path), t=5)
    shown = sdc.suppress(_frame(), ["settled"], secondary=False)
    html = str(page.table(sdc.to_html(shown, public=["requested"], t=5), shown, "settlement", CELLS))
    cells = re.findall(r"<td([^>]*)>([^<]*)</td>", html)
    by_text = {text: attrs for attrs, text in cells}
    assert 'data-lineage="settlement:2012:settled"' in by_text["40"]
    assert "derived from 40 person-level rows (settlement)" in by_text["40"]
    assert "<script>" not in html and "&lt;script&gt;" in html  # file names are data: escaped
    assert "record 2" in by_text["50"]
    hidden = by_text[sdc.SUPPRESSED]
    assert "data-lineage" not in hidden and "suppressed" in hidden
    entries = {(e["row"], e["column"]): e for e in page.entries}
    assert entries[("2013", "settled")]["status"] == "suppressed" and "origin" not in entries[("2013", "settled")]
    assert entries[("2012", "settled")]["origin"]["clean"][0]["row"] == 1
    assert len(page.entries) == 6


def test_a_small_person_level_count_is_never_written(tmp_path: Path) -> None:
    page = page_lineage.PageLineage("synthetic", clean_dir=_clean(tmp_path), t=5)
    # a page showing the requested numbers of the row whose settled count is 3: the origin of the
    # settled cell is asked for directly (as a pooled or share cell would be)
    origin = page.origin(CELLS["settled"], {"year": 2013}, None)
    assert origin["clean"][0]["origins"][0]["person_level_rows"] is None
    # only the number the cell shows: no range, no bound, no zero of a part (they pinned hidden cells)
    assert page_lineage.rows_text(57, None, 5) is None
    assert page_lineage.rows_text(57, 57, 5) == "57"
    assert page_lineage.rows_text(7, 2.5, 5) is None
    assert page_lineage.rows_text(0, None, 5) is None
    assert page_lineage.rows_text(0, 0, 5) == "0"
    assert page_lineage.rows_text(3, 3, 5) is None
    out = tmp_path / "p.lineage.json"
    page.entries.append({"table": "t", "row": "r", "row_nr": 1, "column": "c", "text": "x", "status": "shown",
                         "origin": origin})
    page.save(out)
    assert page_lineage.audit_lineage(out, ids=frozenset(), t=5) == []
    doc = json.loads(out.read_text("utf-8"))
    doc["numbers"][0]["origin"]["clean"][0]["origins"][0]["person_level_rows"] = "3"
    out.write_text(json.dumps(doc), "utf-8")
    assert [f.kind for f in page_lineage.audit_lineage(out, ids=frozenset(), t=5)] == ["small_count"]
    out.write_text(json.dumps({"numbers": [], "source": "P000123456"}), "utf-8")
    assert [f.kind for f in page_lineage.audit_lineage(out, ids=frozenset({"P000123456"}), t=5)] == ["identifier"]


def test_the_table_layer_takes_an_optional_lineage(tmp_path: Path) -> None:
    page = page_lineage.PageLineage("synthetic", clean_dir=_clean(tmp_path), t=5)
    plain = str(html_table(_frame()))
    traced = str(html_table(_frame(), lineage=(page, "settlement", CELLS)))
    assert "data-lineage" not in plain
    assert traced.count("data-lineage=") == 6
    assert re.sub(r' title="[^"]*" data-lineage="[^"]*"', "", traced) == plain  # nothing else changes


def test_lineage_file_names_follow_the_page() -> None:
    assert page_lineage.lineage_file_for(Path("out/x.html")) == Path("out/x.lineage.json")
    assert page_lineage.lineage_file_for(Path("out/x.results.json")) == Path("out/x.lineage.json")


def test_a_table_without_lineage_says_so(tmp_path: Path) -> None:
    page = page_lineage.PageLineage("synthetic", clean_dir=tmp_path, t=5)
    html = str(page.table(sdc.to_html(_frame(), public=["requested"], controlled=["settled"], counts=[], t=5),
                          _frame(), "settlement", CELLS))
    assert "no recorded origin" in html


def test_the_parts_of_a_shown_total_publish_no_row_counts(tmp_path: Path) -> None:
    """A window total's lineage listed each year's person-level rows as '0', '<5' or '5-9': with the
    shown total that pinned hidden years (total 7, three years '0', one '5-9': the others are 1 and 1)."""
    page = page_lineage.PageLineage("synthetic", clean_dir=_clean(tmp_path), t=5)
    for year in (2012, 2013):
        origin = page.origin(CELLS["settled"], {"year": year}, 999)  # the cell shows a total, not this row
        assert all(o["person_level_rows"] is None for item in origin["clean"] for o in item["origins"])
    out = tmp_path / "p.lineage.json"
    origin = page.origin(CELLS["settled"], {"year": 2012}, 40)
    page.entries.append({"table": "t", "row": "r", "row_nr": 1, "column": "c", "text": "47", "status": "shown",
                         "origin": origin})
    page.save(out)
    assert [f.kind for f in page_lineage.audit_lineage(out, ids=frozenset(), t=5)] == ["small_count"]


class _Fit:
    model, formula, n_obs = "pyfixest.feols", "y ~ x | year", 812


def test_a_model_estimate_names_model_tables_and_rows_and_a_person_count_only_where_shown(tmp_path: Path) -> None:
    page = page_lineage.PageLineage("synthetic", clean_dir=tmp_path, t=5)
    frame = pl.DataFrame({"term": ["x", "z"], "estimate": [0.25, -1.5], "n": [812, 812]})
    aggregate = page_lineage.estimated(["estimate", "n"], _Fit(), ["kommune_settlement_year", "kommune"])
    html = str(html_table(frame, lineage=(page, "fit", aggregate)))
    assert html.count("estimated by pyfixest.feols from 812 rows of kommune_settlement_year (with kommune)") == 4
    person = page_lineage.estimated(["estimate", "n"], _Fit(), ["person", "outcome_year"])
    html = str(html_table(frame, lineage=(page, "person_fit", person)))
    assert html.count("estimated by pyfixest.feols from 812 person-level rows of person") == 2  # the n cells
    assert html.count("estimated by pyfixest.feols from person-level rows of person") == 2  # the estimates
    per_row = page_lineage.estimated_rows(["estimate"], {("x", 812): _Fit()}, ["term", "n"], ["person"])
    origin = page.origin(per_row["estimate"], {"term": "x", "n": 812, "estimate": 0.25}, 0.25)
    assert origin["computed"]["model"] == "pyfixest.feols" and origin["computed"]["rows"] is None
    out = tmp_path / "p.lineage.json"
    page.save(out)
    assert page_lineage.audit_lineage(out, ids=frozenset(), t=5) == []
    doc = json.loads(out.read_text("utf-8"))
    forged = next(e for e in doc["numbers"] if e["table"] == "person_fit" and e["column"] == "estimate")
    forged["origin"]["computed"] |= {"rows": "812", "person_level": False}  # the flag is not taken on trust
    out.write_text(json.dumps(doc), "utf-8")
    assert [f.kind for f in page_lineage.audit_lineage(out, ids=frozenset(), t=5)] == ["small_count"]
