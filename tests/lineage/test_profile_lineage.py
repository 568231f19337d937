"""Rendered profiles: every number on the page is in NAME.lineage.json, and `trace` follows it."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from settlement_research.cli import main
from settlement_research.trace import trace

pytestmark = pytest.mark.slow
_TD = re.compile(r"<td([^>]*)>([^<]*)</td>")
_NUMBER = re.compile(r"^[\u2212-]?[\d\u202f]+(?:[.,]\d+)?$")
_YEAR = re.compile(r"^(19|20)\d\d$")  # a year label (the row's key), not a number with an origin


@pytest.fixture(scope="module")
def pages(tiny_register: Path) -> Path:
    from settlement_research.reports.runner import run_notebook

    for kommune_nr in ("0301", "1037"):
        outcome = run_notebook("municipality_profile", {"kommune_nr": kommune_nr}, tiny_register / "pages" / kommune_nr)
        assert outcome.status == "ok", outcome.error
    return tiny_register / "pages"


@pytest.mark.parametrize("kommune_nr", ["0301", "1037"])
def test_every_number_on_the_page_is_in_its_lineage_file(pages: Path, kommune_nr: str) -> None:
    page = (pages / kommune_nr / "municipality_profile.html").read_text("utf-8")
    doc = json.loads((pages / kommune_nr / "municipality_profile.lineage.json").read_text("utf-8"))
    tables = re.findall(r'<table class="sdc-table".*?</table>', page, re.S)
    on_page = Counter()
    for table in tables:
        for attrs, text in _TD.findall(table):
            text = html_lib.unescape(text)
            if 'data-sdc="suppressed"' in attrs:
                on_page[("suppressed", text)] += 1
            elif _NUMBER.match(text) and not ('data-sdc="label"' in attrs or (not attrs and _YEAR.match(text))):
                assert "data-lineage=" in attrs and "title=" in attrs, (attrs, text)
                on_page[("shown", text)] += 1
    in_file = Counter((e["status"], e["text"]) for e in doc["numbers"] if _NUMBER.match(e["text"])
                      or e["status"] == "suppressed")
    assert in_file == on_page
    assert sum(v for (s, _t), v in on_page.items() if s == "shown") > 20
    for e in doc["numbers"]:
        if e["status"] == "suppressed":
            assert "origin" not in e and e["reason"]


def test_trace_names_the_derivation_and_the_raw_row(pages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = pages / "0301" / "municipality_profile.html"
    doc = json.loads(page.with_name("municipality_profile.lineage.json").read_text("utf-8"))
    settled = next(e for e in doc["numbers"] if e["table"] == "settlement" and e["column"] == "settled"
                   and e["status"] == "shown")
    lines = trace(page, f"settlement:{settled['row']}:settled")
    text = "\n".join(lines)
    assert f"row {settled['row']}" in text and "kommune_settlement_year.parquet" in text
    assert "derived from" in text and "person-level rows of settlement" in text
    requested = next(e for e in doc["numbers"] if e["table"] == "settlement" and e["column"] == "requested")
    text = "\n".join(trace(page, f"settlement:{requested['row']}:requested"))
    assert "imdi_bosetting_kommune.csv" in text and "record" in text
    assert main(["trace", str(page), f"settlement:{settled['row']}:settled"]) == 0
    assert "derived from" in capsys.readouterr().out


def test_trace_refuses_what_is_not_on_the_page_or_ambiguous(pages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = pages / "0301" / "municipality_profile.html"
    doc = json.loads(page.with_name("municipality_profile.lineage.json").read_text("utf-8"))
    texts = Counter(e["text"] for e in doc["numbers"])
    twice = next(t for t, n in texts.items() if n > 1)
    assert main(["trace", str(page), twice]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and err.count(" shows ") == texts[twice]
    assert main(["trace", str(page), "987654321"]) == 2
    assert "not a number or cell" in capsys.readouterr().err
    assert main(["trace", str(pages / "nothing.html"), "1"]) == 2
    assert "no lineage file" in capsys.readouterr().err
