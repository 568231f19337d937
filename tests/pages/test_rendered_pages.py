"""Rendered notebook pages and a profile on a tiny synthetic data_clean: each has the banner in
text, no dtype row, no raw frame print, no year with a thousands separator, one separator and one
number of decimals per column (issue 13, "done when")."""

from __future__ import annotations

from pathlib import Path

import pytest

from .quality import defects

PAGES = ["00_data_review", "01_national_overview", "03_municipal_factors", "municipality_profile",
         # every notebook page is reviewed the same way (about 40 s more on the tiny register)
         pytest.param("02_housing_stability_and_outcomes", marks=pytest.mark.slow),
         pytest.param("04_regional_coordination", marks=pytest.mark.slow),
         pytest.param("05_dispersal_policy", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", PAGES)
def test_page_is_fit_to_publish(tiny_clean: Path, tmp_path: Path, name: str) -> None:
    from settlement_research.reports.runner import run_notebook

    outcome = run_notebook(name, {}, tmp_path)
    assert outcome.status == "ok", outcome.error
    page = (tmp_path / outcome.html).read_text("utf-8")
    assert page.count('class="data-banner"') == 1 and "SYNTHETIC DATA" in page
    assert page.index('class="data-banner"') < page.index("<h1")
    assert defects(page) == []
    assert outcome.results is None or outcome.results.get("data", {}).get("synthetic") is True


def test_bokmal_profile_downloads_match_the_page(tiny_clean: Path, tmp_path: Path) -> None:
    import base64
    import re

    from settlement_research.reports.runner import run_notebook

    outcome = run_notebook("municipality_profile", {"kommune_nr": "0301", "lang": "nb"}, tmp_path)
    assert outcome.status == "ok", outcome.error
    page = (tmp_path / outcome.html).read_text("utf-8")
    assert "SYNTETISKE DATA" in page and "kommuneprofil" in page and 'href="index.html"' in page
    assert "ingen anmodning" in page or "vedtok" in page or "avslo" in page
    assert defects(page) == []
    first_table = re.search(r"<table class=\"sdc-table\".*?</table>", page, flags=re.S).group(0)
    shown = [[re.sub(r"<[^>]+>", "", c).replace("\u202f", "").strip() for c in re.findall(r"<td[^>]*>.*?</td>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", first_table, flags=re.S)]
    link = re.search(r'download="([^"]+)" href="data:text/csv;charset=utf-8;base64,([^"]+)"', page)
    assert link and link.group(1) == "0301-profil-settlement.csv"
    csv_rows = [line.split(";") for line in base64.b64decode(link.group(2)).decode("utf-8").lstrip("\ufeff").splitlines()]
    assert csv_rows[0][:3] == ["år", "anmodet", "vedtatt"]
    assert [r for r in shown if r] == [[c if c else "" for c in row] for row in csv_rows[1:]]
    # the legend sits right under the first table, not at the bottom
    assert page.index("Symboler") < page.index("<table", page.index(first_table) + len(first_table))
