"""Every page says in text which data it shows (issue 13 item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from settlement_research.pages import banner
from settlement_research.reports.index import write_index


def test_synthetic_source_is_marked_with_its_edition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "synthetic"
    folder.mkdir()
    (folder / "PROVENANCE.json").write_text(json.dumps(
        {"generator": "g", "generator_version": "9.9", "seed": 7, "years": [2010, 2011, 2012]}), "utf-8")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path))
    info = banner.data_info("synthetic")
    assert info == {"synthetic": True, "source": "synthetic", "source_name": banner.SOURCE_NAMES["synthetic"],
                    "edition": "generator 9.9, seed 7", "years": "2010–2012", "generator_version": "9.9", "seed": "7"}
    html = banner.banner_html(info)
    assert "SYNTHETIC DATA" in html and "generator 9.9, seed 7" in html and 'data-synthetic="true"' in html
    nb = banner.banner_html(info, "nb")  # every word of it bokmål: the source and the edition too
    assert "SYNTETISKE DATA" in nb and "frø 7" in nb and "syntetisk register" in nb
    assert "seed" not in nb and "generated" not in nb
    assert banner.caption("Settled", info) == "SYNTHETIC DATA: Settled"


def test_real_source_gets_a_quiet_banner_and_plain_captions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path))
    info = banner.data_info("imdi")
    assert info["synthetic"] is False and info["source_name"].startswith("IMDi")
    assert "SYNTHETIC" not in banner.banner_html(info)
    assert banner.caption("Settled", info) == "Settled"


def test_banner_goes_first_in_body_once_and_escapes() -> None:
    info = {"synthetic": True, "source": "<script>x</script>", "source_name": "<b>evil</b>", "edition": None, "years": None}
    page = "<html><head></head><body class='x'><h1>T</h1></body></html>"
    once = banner.insert_banner(page, info)
    assert once.index("data-banner") < once.index("<h1>") and "<b>evil" not in once and "&lt;b&gt;evil" in once
    assert banner.insert_banner(once, info) == once


def test_stamp_page_writes_banner_and_results_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path))
    page, results = tmp_path / "r.html", tmp_path / "r.results.json"
    page.write_text("<html><body><p>x</p></body></html>", "utf-8")
    results.write_text(json.dumps({"settled": 12}), "utf-8")
    banner.stamp_page(page, results, "synthetic")
    assert "SYNTHETIC DATA" in page.read_text("utf-8")
    data = json.loads(results.read_text("utf-8"))
    assert data["data"]["synthetic"] is True and data["data"]["source"] == "synthetic" and data["settled"] == 12


def test_index_has_the_banner_when_any_report_is_synthetic() -> None:
    reports = [
        {"name": "a", "parameters": {"source": "imdi"}, "status": "ok",
         "results": {"data": {"synthetic": False, "source": "imdi", "source_name": "IMDi"}}},
        {"name": "b", "parameters": {}, "status": "ok",
         "results": {"data": {"synthetic": True, "source": "synthetic", "source_name": "gen"}}},
    ]
    html = write_index({"template": "t", "reports": reports})
    assert html.index("SYNTHETIC DATA") < html.index("<table")
    assert "SYNTHETIC" not in write_index({"template": "t", "reports": reports[:1]})


def test_validation_report_says_whether_the_file_is_synthetic(tmp_path: Path) -> None:
    from settlement_research.cli import main
    from settlement_research.testing import make_aggregates

    good_frame = make_aggregates(n_kommuner=5, seed=1)["kommune_settlement_year"]
    raw = tmp_path / "raw" / "synthetic"
    raw.mkdir(parents=True)
    (raw / "PROVENANCE.json").write_text(json.dumps(
        {"source": "synthetic", "generator": "g", "generator_version": "9.9", "seed": 7}), "utf-8")
    good_frame.write_csv(raw / "kommune_settlement_year.csv")
    loose = tmp_path / "loose"
    loose.mkdir()
    good_frame.write_csv(loose / "kommune_settlement_year.csv")
    for folder in (raw, loose):
        assert main(["validate", str(folder / "kommune_settlement_year.csv"), "--report", str(folder / "out"),
                     "--format", "md"]) == 0
    page = (raw / "out" / "kommune_settlement_year.csv.validation.html").read_text("utf-8")
    md = (raw / "out" / "kommune_settlement_year.csv.validation.md").read_text("utf-8")
    assert page.count('class="data-banner"') == 1 and page.index("data-banner") < page.index("<h1")
    assert "SYNTHETIC DATA" in page and "generator 9.9" in page and "**SYNTHETIC DATA**" in md
    other = (loose / "out" / "kommune_settlement_year.csv.validation.html").read_text("utf-8")
    assert 'data-synthetic="false"' in other and "origin is not recorded" in other and "SYNTHETIC" not in other


def test_a_bokmal_page_is_announced_titled_described_and_written_with_decimal_commas() -> None:
    page = ('<html lang="en"><head><title>municipality_profile (kommune_nr=0301, lang=nb)</title></head><body>'
            '<h1 id="x">Gr&#248;mlemo &lt;b&gt; (0301): kommuneprofil<a class="anchor-link" href="#x">&#182;</a></h1>'
            '<h2>Anmodet, vedtatt og bosatt</h2><img alt="No description has been provided for this image" src="a.png">'
            '<td data-sdc="suppressed" title="suppressed (fewer than 5)">:</td><td>45.4</td><td>2009</td>'
            '<td>Sør 1.5</td></body></html>')
    nb = banner.set_language(page, "nb")
    assert '<html lang="nb">' in nb and "<title>Grømlemo &lt;b&gt; (0301): kommuneprofil</title>" in nb
    assert 'alt="Diagram: Anmodet, vedtatt og bosatt"' in nb and 'title="skjult (færre enn 5)"' in nb
    assert "<td>45,4</td>" in nb and "<td>2009</td>" in nb and "<td>Sør 1.5</td>" in nb
    en = banner.set_language(page.replace("kommuneprofil", "municipality profile"), "en")
    assert '<html lang="en">' in en and 'alt="Chart: Anmodet' in en and "<td>45.4</td>" in en
    assert "suppressed (fewer than 5)" in en
