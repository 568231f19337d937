"""Rendered notebooks 01 and 04: every number in their tables carries its lineage, and `trace` follows it.

The analysis notebooks render through ``plots.table`` / ``sdc.to_html`` with a ``pages.lineage``
spec: a number read from a clean table names its file and record, a sum names the rows it pools, a
model estimate says "estimated by <model> from N rows of <table>" (a count of person-level rows only
where it is the number the cell shows).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from settlement_research.cli import main
from settlement_research.pages.lineage import audit_lineage
from settlement_research.trace import trace

pytestmark = pytest.mark.slow
_TABLE = re.compile(r'<table class="(?:sdc-table|page-table)".*?</table>', re.S)
_TD = re.compile(r"<td([^>]*)>([^<]*)</td>")
_NUMBER = re.compile(r"^[<>]?[\u2212-]?[\d\u202f]+(?:[.,]\d+)?$")
NOTEBOOKS = {"01_national_overview": {}, "04_regional_coordination": {"n_permutations": "99", "n_bootstrap": "99"}}


@pytest.fixture(scope="module")
def pages(tiny_register: Path) -> Path:
    from settlement_research.reports.runner import run_notebook

    for name, parameters in NOTEBOOKS.items():
        outcome = run_notebook(name, parameters, tiny_register / "pages")
        assert outcome.status == "ok", (outcome.error, outcome.findings)
    return tiny_register / "pages"


def _numbers_on_page(page: str) -> Counter[tuple[str, str]]:
    """(status, text) of every number in a table cell that is not a label (year, name, code)."""
    out: Counter[tuple[str, str]] = Counter()
    for table in _TABLE.findall(page):
        for attrs, raw in _TD.findall(table):
            text = html_lib.unescape(raw)
            # a label: a year, name or code (a number in a text column, a p-value as "0.012", has a hover)
            label = (not attrs or 'data-sdc="label"' in attrs or "text-align:left" in attrs) and "data-lineage=" not in attrs
            if 'data-sdc="suppressed"' in attrs:
                out[("suppressed", text)] += 1
            elif _NUMBER.match(text) and not label:
                assert "data-lineage=" in attrs and "title=" in attrs, (attrs, text)
                out[("shown", text)] += 1
    return out


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_every_number_in_a_notebook_table_is_in_its_lineage_file_and_back(pages: Path, name: str) -> None:
    page = (pages / f"{name}.html").read_text("utf-8")
    doc = json.loads((pages / f"{name}.lineage.json").read_text("utf-8"))
    on_page = _numbers_on_page(page)
    in_file = Counter((e["status"], e["text"]) for e in doc["numbers"]
                      if e["status"] == "suppressed" or _NUMBER.match(e["text"]))
    assert in_file == on_page
    assert sum(on_page.values()) > 20
    for e in doc["numbers"]:
        assert f'data-lineage="{html_lib.escape(e["table"] + ":" + e["row"] + ":" + e["column"], quote=True)}"' in page \
            or e["status"] == "suppressed"
    assert audit_lineage(pages / f"{name}.lineage.json", ids=frozenset(), t=doc["threshold"]) == []


def test_sums_and_published_figures_name_their_rows(pages: Path) -> None:
    doc = json.loads((pages / "01_national_overview.lineage.json").read_text("utf-8"))
    by = {(e["table"], e["column"]): e for e in doc["numbers"] if e["row"] == "2014"}
    summed = by[("comparison", "settled_sum")]["origin"]
    assert summed["pooled"]["key_pattern"] == "kommune_nr=*;year=2014" and summed["pooled"]["clean_rows"] > 100
    published = by[("comparison", "settled_published")]["origin"]["clean"][0]
    assert published["key"] == "year=2014"
    assert published["origins"][0]["file"] == "imdi_bosetting_nasjonalt.csv" and published["origins"][0]["record"]
    text = "\n".join(trace(pages / "01_national_overview.html", "comparison:2014:settled_published"))
    assert "national_settlement_year.parquet" in text and "imdi_bosetting_nasjonalt.csv" in text and "record" in text
    status = [e for e in doc["numbers"] if e["table"] == "decision_status"]
    assert status and all(e["origin"]["pooled"]["clean_rows"] > 100 for e in status if e["status"] == "shown")


def test_model_estimates_say_model_and_sample_and_person_counts_only_where_shown(
        pages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page_path = pages / "04_regional_coordination.html"
    page = page_path.read_text("utf-8")
    doc = json.loads((pages / "04_regional_coordination.lineage.json").read_text("utf-8"))
    slope = next(e for e in doc["numbers"] if e["table"] == "slope" and e["column"] == "estimate")
    computed = slope["origin"]["computed"]
    assert computed["model"] == "pyfixest.feols" and computed["tables"][0] == "kommune_settlement_year"
    assert int(computed["rows"]) > 100 and not computed["person_level"]
    assert f"estimated by pyfixest.feols from {computed['rows']} rows of kommune_settlement_year" in page
    # person-level: the mean waiting time of a pair never states how many persons went in
    waiting = [e for e in doc["numbers"] if e["table"] == "waiting_pairs" and e["column"] == "months_waited_mean"]
    assert waiting and all(e["origin"]["computed"]["person_level"] and e["origin"]["computed"]["rows"] is None
                           for e in waiting if e["status"] == "shown")
    assert "from person-level rows of settlement (with kommune)" in page
    lines = trace(page_path, "slope:#1:estimate")
    text = "\n".join(lines)
    assert f"estimated by pyfixest.feols from {computed['rows']} rows of kommune_settlement_year" in text
    assert "kommune_settlement_year.parquet" in text and "imdi_bosetting_kommune.csv" in text
    assert "derived from person-level rows of settlement" in text
    assert main(["trace", str(page_path), "slope:#1:estimate"]) == 0
    assert "estimated by" in capsys.readouterr().out
