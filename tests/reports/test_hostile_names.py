"""A hostile municipality name travels from an IMDi export to every page and stays text.

import-imdi -> build -> municipality_profile (batch) -> index.html, with names holding an ``<img
onerror>``, a ``<script>``, a ``javascript:`` Markdown link and mathtext. Every page is parsed
with html.parser: no element may carry an event handler, no ``javascript:`` link or source, no
script with the payload, and the name must be there as text. Also the validation report and the
index with a hostile manifest.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from settlement_research import cli
from settlement_research.reports.index import write_index
from settlement_research.validation_report import render_html

REPO = Path(__file__).resolve().parents[2]
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
LINK = "[x](javascript:alert(3)) ![i](javascript:alert(4)) $\\notacommand{$"
NAMES = {"0101": IMG, "0301": SCRIPT, "0104": LINK}

# IMDi's raw wide settlement layout (Latin-1, ';', codes without leading zeros), names in kommune_navn.
RAW_SETTLEMENT = (
    "kommune;kommune_nr;kommune_navn;bosetting.anmodning;bosetting.anmodning;bosetting.bosatt;bosetting.vedtak;;\r\n"
    "Nedbrytninger;;;enhet.personer;enhet.prosent;enhet.personer;enhet.personer;;\r\n"
    f"0101 Halden;101;{IMG};35;100;22;30;;\r\n"
    f"0301 Oslo;301;{SCRIPT};500;100;:;0;;\r\n"
    f"0104 Moss;104;{LINK};20;100;13;10;;\r\n"
)


class Page(HTMLParser):
    """Elements and text of a page, as a browser would build them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def assert_no_live_markup(html: str) -> Page:
    page = Page(html)
    for tag, attrs in page.elements:
        handlers = [k for k in attrs if k.startswith("on")]
        assert not handlers, (tag, attrs)
        for key in ("href", "src", "action", "formaction", "xlink:href"):
            value = attrs.get(key, "").strip().lower()
            if tag == "a" and "download" in attrs and value.startswith("data:text/csv;"):
                continue  # a CSV download (the profile's tables) is data, never rendered as a page
            assert not value.startswith(("javascript:", "data:text")), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x"), attrs
    assert not any("alert(" in script for script in page.scripts)
    return page


@pytest.fixture(scope="module")
def hostile_profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    export = root / "09_1-bosatt_anmodede-kommune-2014.csv"
    export.write_bytes(RAW_SETTLEMENT.encode("latin-1"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_HOME", str(REPO))
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        mp.delenv("SETTLEMENT_RESEARCH_SOURCE", raising=False)
        assert cli.main(["import-imdi", str(export), "--allow-partial", "--out", str(root / "raw" / "imdi")]) == 0
        assert cli.main(["build", "--raw", str(root / "raw"), "--out", str(root / "clean")]) == 0
        out = root / "profiles"
        rc = cli.main(["report", "municipality_profile", "--grid", f"kommune_nr={','.join(NAMES)}", "--source", "imdi",
                       "-p", "first_year=2014", "-p", "last_year=2014", "--out", str(out), "--workers", "1",
                       "--no-progress"])
        assert rc == 0, (out / "manifest.json").read_text() if (out / "manifest.json").is_file() else rc
    return out


def test_the_imported_names_are_the_hostile_ones(hostile_profiles: Path) -> None:
    import polars as pl

    kommune = pl.read_parquet(hostile_profiles.parent / "clean" / "imdi" / "kommune.parquet")
    names = dict(kommune.filter(pl.col("kommune_nr").is_in(list(NAMES))).select("kommune_nr", "kommune_name").iter_rows())
    assert names == NAMES  # the payload really reached the clean data


@pytest.mark.parametrize("code", list(NAMES))
def test_profile_shows_the_name_as_text(hostile_profiles: Path, code: str) -> None:
    html = (hostile_profiles / f"kommune_nr-{code}.html").read_text("utf-8")
    page = assert_no_live_markup(html)
    text = " ".join(page.text)
    assert text.count(NAMES[code]) >= 3  # heading, summary, coordination sentence, tables
    assert "municipality profile" in text


def test_index_and_manifest_keep_the_names_as_data(hostile_profiles: Path) -> None:
    page = assert_no_live_markup((hostile_profiles / "index.html").read_text("utf-8"))
    text = " ".join(page.text)
    assert all(name in text for name in NAMES.values())
    manifest = json.loads((hostile_profiles / "manifest.json").read_text("utf-8"))
    assert {r["results"]["kommune_name"] for r in manifest["reports"]} == set(NAMES.values())  # data, as it is


def test_index_of_a_hostile_manifest_has_no_live_markup() -> None:
    manifest = {
        "template": SCRIPT, "created": IMG, "git_commit": '"><script>alert(9)</script>',
        "reports": [{
            "name": IMG, "html": "javascript:alert(1)", "status": '" onmouseover="alert(1)',
            "parameters": {"kommune_nr": SCRIPT}, "error": IMG, "duration_s": '"><img src=x onerror=alert(1)>',
            "results": {"kommune_name": IMG, "note": LINK, "settled": 12, "_sdc": ["settled"]},
        }, {"name": "ok", "html": "../../etc/passwd", "status": "ok", "parameters": {}, "results": {}}],
    }
    page = assert_no_live_markup(write_index(manifest))
    assert not [a for t, a in page.elements if t == "a"]  # neither file name is a plain relative name
    assert IMG in " ".join(page.text)


def test_validation_report_of_hostile_values_has_no_live_markup() -> None:
    problem = {"rule": SCRIPT, "table": "kommune", "column": IMG, "severity": "error", "message": f"bad name {IMG}",
               "hint": LINK, "n_rows": 1, "row_numbers": [3], "examples": [{"kommune_name": IMG, IMG: SCRIPT}]}
    content = {"verdict": "INVALID", "valid": False, "path": SCRIPT, "checked_at": IMG, "n_tables": 2, "n_errors": 1,
               "n_warnings": 0, "rows_checked": 3,
               "tables": [{"table": IMG, "file": SCRIPT, "verdict": "INVALID", "valid": False, "rows_checked": 3,
                           "failing_rows": 1, "valid_rows": 2, "n_errors": 1, "n_warnings": 0, "problems": [problem]}] * 2}
    page = assert_no_live_markup(render_html(content))
    assert f"bad name {IMG}" in " ".join(page.text)
