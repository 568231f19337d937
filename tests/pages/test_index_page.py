"""The index: labelled columns, banner, export button, every data string escaped (item 7)."""

from __future__ import annotations

from settlement_research.reports.index import write_index


def test_index_labels_formats_and_escapes() -> None:
    reports = [{"name": "kommune_nr-0301", "html": "kommune_nr-0301.html", "status": "ok",
                "parameters": {"kommune_nr": "0301", "lang": "nb"},
                "results": {"kommune_name": "<img src=x onerror=alert(1)>", "settled": 1368, "requested": 6758,
                            "work_education_share": 0.4321, "first_year": "2009", "_sdc": ["settled"],
                            "data": {"synthetic": True, "source": "synthetic", "source_name": "gen"}}}]
    html = write_index({"template": "municipality_profile", "reports": reports})
    assert ">municipality code</th>" in html and ">settled (persons)</th>" in html and ">language</th>" in html
    assert ">in work or education (%)</th>" in html and ">43.2<" in html
    assert ">1\u202f368<" in html and ">6\u202f758<" in html and ">2009<" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert 'id="export"' in html and "SYNTHETIC DATA" in html


def test_index_says_what_it_is_in_words_and_exports_plain_numbers() -> None:
    reports = [{"name": "kommune_nr-0301__lang-nb", "html": "kommune_nr-0301__lang-nb.html", "status": "ok",
                "duration_s": 1.5, "parameters": {"kommune_nr": "0301", "lang": "nb"},
                "results": {"settled": 1368, "work_education_share": 0.4321, "first_year": "2009", "_sdc": ["settled"]}}]
    html = write_index({"template": "municipality_profile", "reports": reports, "git_commit": "abc",
                        "data_manifest_hash": "f00", "sdc_threshold": 5})
    assert "<h1>Municipality profiles" in html and "<title>Municipality profiles" in html
    assert "commit: abc" in html and "data manifest (sha256): f00" in html and "disclosure threshold: 5" in html
    assert "git_commit" not in html and "data_manifest_hash" not in html and "sdc_threshold" not in html
    # the export writes what a spreadsheet reads as numbers: no thousands separator
    assert 'data-csv="1368"' in html and 'data-csv="43.2"' in html and 'data-csv="1.50"' in html
    assert write_index({"template": "03_municipal_factors", "reports": []}).count("<h1>03 municipal factors</h1>") == 1


def test_a_batch_links_each_page_to_its_page_in_the_other_language(tmp_path) -> None:
    from settlement_research.analysis.profile_text import nav_html
    from settlement_research.reports.index import link_languages

    def page(lang: str) -> str:
        return f"<html><body>{nav_html(lang, '0104', None)}<h1>x</h1></body></html>"

    for name, lang in (("lang-en.html", "en"), ("lang-nb.html", "nb"), ("kommune_nr-0301.html", "nb")):
        (tmp_path / name).write_text(page(lang), "utf-8")
    reports = [{"parameters": {"kommune_nr": "0104", "lang": "en"}, "html": "lang-en.html", "status": "ok"},
               {"parameters": {"kommune_nr": "0104", "lang": "nb"}, "html": "lang-nb.html", "status": "ok"},
               {"parameters": {"kommune_nr": "0301", "lang": "nb"}, "html": "kommune_nr-0301.html", "status": "ok"}]
    assert link_languages(tmp_path, reports) == 2
    en, nb = (tmp_path / "lang-en.html").read_text("utf-8"), (tmp_path / "lang-nb.html").read_text("utf-8")
    assert '<a href="lang-nb.html" hreflang="nb">Norsk (bokmål)</a>' in en and 'href="index.html"' in en
    assert '<a href="lang-en.html" hreflang="en">English</a>' in nb
    assert "hreflang" not in (tmp_path / "kommune_nr-0301.html").read_text("utf-8")  # no sibling, no dead link
    assert link_languages(tmp_path, reports) == 0  # idempotent
    assert (tmp_path / "lang-en.html").read_text("utf-8").count("hreflang") == 1
