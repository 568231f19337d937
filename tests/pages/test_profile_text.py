"""Profiles for municipal staff: bokmål, downloads with the page's suppression, no request vs no
decision (issue 13 item 6)."""

from __future__ import annotations

import base64
import re

import polars as pl
import pytest

from settlement_research.analysis import profile as pr
from settlement_research.analysis import profile_text as tx
from settlement_research.reports.parameters import DOMAINS, ParameterError


def test_words_exist_in_both_languages_and_other_languages_are_refused() -> None:
    assert set(tx.WORDS["en"]) == set(tx.WORDS["nb"]) and set(tx.STATUS["en"]) == set(tx.STATUS["nb"])
    with pytest.raises(ValueError, match="lang"):
        tx.words("de")
    DOMAINS["lang"]("lang", "nb", "synthetic")
    with pytest.raises(ParameterError):
        DOMAINS["lang"]("lang", "<script>", "synthetic")


def test_download_has_the_cells_of_the_page_symbols_not_numbers() -> None:
    frame = pl.DataFrame({"year": pl.Series([2009, 2010, 2011], dtype=pl.Int16), "settled": [40, None, None],
                          "settled_symbol": [None, ":", ".."], "share": [12.3456, None, 3.0]})
    assert tx.csv_text(frame, "en", 2).splitlines() == ["year,settled,share", "2009,40,12.35", "2010,:,", "2011,..,3.00"]
    assert tx.csv_text(frame, "nb").splitlines()[1] == "2009;40;12,3"
    names = pl.DataFrame({"municipality": ["=HYPERLINK(\"x\")", "Oslo"]})
    assert tx.csv_text(names, "en").splitlines()[1].startswith('"\'=HYPERLINK')
    rate = pl.DataFrame({"per 1000": [1.25, None, None], "per 1000_symbol": [None, ":", ".."]})
    assert tx.csv_text(rate, "nb").splitlines()[1:] == ["1,2", ":", ".."]
    link = tx.download_link(frame, '0301-"x".csv', "nb")
    assert 'download="0301-&quot;x&quot;.csv"' in link and "Last ned" in link
    payload = re.search(r"base64,([^\"]+)", link).group(1)
    assert base64.b64decode(payload).decode("utf-8").lstrip("\ufeff") == tx.csv_text(frame, "nb")


def test_no_request_is_not_no_decision() -> None:
    years = pl.DataFrame({
        "year": pl.Series([2009, 2010, 2011], dtype=pl.Int16), "requested": [0, 10, None],
        "decided": [None, None, None], "decision_status": ["no_decision", "no_decision", None],
        "settled": [12, 9, None], "requested_symbol": [None, None, ".."], "decided_symbol": [None, None, ".."],
        "settled_symbol": [None, None, ".."],
    })
    shown = pr.settlement_table(years)
    assert shown["decision_status"].to_list() == ["no request", "made no decision", None]
    assert pr.settlement_table(years, tx.status_words("nb"))["decision_status"].to_list()[:2] == [
        "ingen anmodning", "ikke vedtak"]
    totals = pr.settlement_totals(years.filter(pl.col("year") < 2011))
    assert totals["status"]["no_decision"] == 1  # the year without a request is not counted


def test_nav_links_back_to_the_index_and_the_other_language() -> None:
    nav = tx.nav_html("nb", "0301", "kommune_nr-0301__lang-en.html")
    assert 'href="index.html"' in nav and 'href="kommune_nr-0301__lang-en.html"' in nav and "English" in nav


def test_the_legend_names_every_symbol_the_table_shows() -> None:
    assert "`.` not applicable" not in tx.legend("en", 5, [None, ":", ".."])
    en, nb = tx.legend("en", 5, [None, ".", ":", "~", "."]), tx.legend("nb", 5, [".", "~"])
    assert "`.` not applicable" in en and "`~` not in this edition" in en and "fewer than 5" in en
    assert "`.` ikke aktuelt" in nb and "`~` ikke i denne utgaven" in nb and "{" not in nb
    assert set(tx.SYMBOL_WORDS["en"]) == set(tx.SYMBOL_WORDS["nb"])
