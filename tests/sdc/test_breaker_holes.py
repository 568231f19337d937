"""Holes a hostile template author found in the gate's context exceptions (session 4 review):
each test reproduces one with the numbers of a register (counts 1..4 per municipality)."""

from __future__ import annotations

import pytest

from settlement_research.sdc import provenance, public
from settlement_research.sdc.audit import Clean, check_html, check_results, scrub

SMALL = {"0534": 3, "0567": 3, "1279": 1, "1455": 2}  # persons settled per municipality (register)


def _rows(mark: bool = False) -> str:
    def cell(n: int) -> str:
        return f'<td {provenance.attrs("label", str(n))}>{n}</td>' if mark else f"<td>{n}</td>"
    return "".join(f"<tr><td>{k}</td>{cell(n)}</tr>" for k, n in SMALL.items())


def test_a_plainly_written_whole_number_in_a_fractional_column_is_a_count() -> None:
    """One fraction in a column does not make its '3' a ratio: a ratio column writes its whole
    values with decimals (1.00), a count written '3' is a count."""
    html = f"<table><thead><tr><th>kommune</th><th>ratio</th></tr></thead><tbody>{_rows()}" \
           "<tr><td>all</td><td>0.5</td></tr></tbody></table>"
    assert {f.kind for f in check_html(html, t=5)} == {"small_count"}
    ratios = "<table><tbody><tr><td>a</td><td>1.00</td></tr><tr><td>b</td><td>0.53</td></tr></tbody></table>"
    assert check_html(ratios, t=5) == []  # a ratio of one, written as a ratio


def test_a_label_in_a_row_naming_a_municipality_is_not_a_count_of_something_else() -> None:
    """A caption or header naming a non-people unit (or a 1, 2, 3, 4 axis) honours label marks, but
    a row that names a municipality counts something in that municipality: the caption is template
    text and the marks are signed with a key template code holds."""
    clean = Clean(public.PublicValues(5, kommuner=set(SMALL)))
    with provenance.scope():
        caption = f"<table><caption>Municipalities: rows per table</caption><thead><tr><th>kommune</th>" \
                  f"<th>rows</th></tr></thead><tbody>{_rows(mark=True)}</tbody></table>"
        assert {f.kind for f in check_html(caption, clean=clean, verify_marks=False)} == {"small_count"}
        header = caption.replace("<caption>Municipalities: rows per table</caption>", "").replace(
            "<th>rows</th>", "<th>warnings</th>")
        assert {f.kind for f in check_html(header, clean=clean, verify_marks=False)} == {"small_count"}
        axis = "".join(f'<tr><td>{k}</td><td {provenance.attrs("label", str(n))}>{n}</td></tr>'
                       for k, n in zip(SMALL, [1, 2, 3, 4], strict=True))
        assert {f.kind for f in check_html(f"<table><tbody>{axis}</tbody></table>", clean=clean,
                                           verify_marks=False)} == {"small_count"}


def test_a_results_key_starting_with_by_is_about_what_it_counts() -> None:
    """``by_kommune_level`` is a count by municipality, not a level (as ``settled_by_year`` is
    about ``settled``)."""
    assert {f.kind for f in check_results({"by_kommune_level": dict(SMALL)}, t=5)} == {"small_count"}
    assert check_results({"moves_level": 3, "first_year": 2}, t=5) == []


def test_an_error_message_loses_every_small_number_it_does_not_label() -> None:
    """A failing template's message reaches the console, manifest.json and index.html: a small
    number in it is a count unless its own label says otherwise ('cell 3', '3 years')."""
    text = scrub("RuntimeError: 0534=3,1279=1; 1455: 2 (cell 3)", frozenset(), 5, error=True)
    assert text is not None
    assert "=3" not in text and "=1" not in text and ": 2" not in text
    assert text.endswith("(cell 3)") and "0534" in text
    assert scrub("took 3 years", frozenset(), 5, error=True) == "took 3 years"


def test_a_failing_report_whose_message_carries_a_count_is_withheld() -> None:
    """The message is in the page's traceback too: the report's files go, not only the message's number."""
    from settlement_research.sdc.audit import audit_report

    assert {f.kind for f in audit_report(error="RuntimeError: 0534=3,1279=1 (cell 3)", t=5, ids=frozenset())} \
        == {"small_count"}
    assert audit_report(error="FileNotFoundError: no such file: settlement.parquet (cell 3)", t=5, ids=frozenset()) == []


def test_a_lineage_file_with_fields_the_page_lineage_never_writes_is_withheld(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A template can write its own NAME.lineage.json: the gate read only the fields it knows, so a
    register count under any other key was published unread."""
    from settlement_research.pages.lineage import audit_lineage

    path = tmp_path / "p.lineage.json"
    for doc in ({"lineage_version": 1, "numbers": [], "by_kommune": dict(SMALL)},
                {"numbers": [{"text": "x", "note": dict(SMALL)}]},
                {"numbers": [{"text": "40", "origin": {"how": "1279 settled 1 refugee", "clean": []}}]},
                {"numbers": [{"text": "40", "origin": {"clean": [{"key": "k", "origins": [{"role": "row", "n": 3}]}]}}]}):
        path.write_text(__import__("json").dumps(doc), "utf-8")
        assert audit_lineage(path, ids=frozenset(), t=5), doc
    ok = {"lineage_version": 1, "source": "s", "threshold": 5, "clean_dir_relative": "s/lineage", "numbers": [
        {"table": "t", "row": "2012", "row_nr": 1, "column": "requested", "text": "40", "status": "shown", "origin": {
            "source": "s", "table": "k", "column": "requested", "how": "", "clean": [{"key": "k", "row": 3, "origins": [
                {"role": "row", "edition": None, "file": "f.csv", "record": 3, "cell": None,
                 "value_raw": None, "clean_row": 3}]}]}}]}
    path.write_text(__import__("json").dumps(ok), "utf-8")
    assert audit_lineage(path, ids=frozenset(), t=5) == []


def test_a_section_name_or_a_fraction_key_does_not_launder_a_count() -> None:
    """``{"data": {...}}``, ``{"hypotheses": {...}}`` or ``"settled_mean": 3`` (a JSON integer under
    a key of fractions) published register counts; the run's parameters and versions stay exempt."""
    for leaky in ({"data": {"settled_0534": 3}}, {"hypotheses": {"h1": {"n": 2}}}, {"provenance": {"x": 1}},
                  {"settled_mean": 3}, {"by_year_estimate": {"2012": 4}}):
        assert {f.kind for f in check_results(leaky, t=5)} == {"small_count"}, leaky
    for fine in ({"provenance": {"seed": 2, "parameters": {"top": "3"}, "versions": {"x": 1}}},
                 {"settled_mean": 3.0, "other_mean": 2.5}, {"share": 0.25}, {"data": {"seed": "3"}}):
        assert check_results(fine, t=5) == [], fine


def test_a_register_count_that_coincides_with_a_run_of_public_years_is_not_public() -> None:
    """Held for years named in the row; below, for numbers that name their window."""
    values = public.PublicValues(5, kommuner={"1037"}, by_year={"kommune_settlement_year.requested"},
                                 specs={"kommune_settlement_year.requested"})
    for year, v in ((2012, 1), (2013, 2), (2014, 40)):
        values.add("kommune_settlement_year.requested", "1037", year, v)
    values.add("kommune_settlement_year.requested", "1037", None, 3)  # a value of no year (the run 2012-2013)
    # with the year in the row the check is exact: 3 persons settled in 2014 shown as "requested" is refused
    assert not values.allows(3.0, column="kommune_settlement_year.requested", kommuner=["1037"], year=2014)


def test_a_public_mark_without_a_year_must_be_the_windows_sum() -> None:
    """Session 4's known gap (was a strict xfail): without a year in its row or key path, a small
    number marked public was accepted when it equalled any year's value or any run of years' sum of
    the municipality. Now it must name its window and equal exactly that window's sum."""
    values = public.PublicValues(5, kommuner={"1037"}, by_year={"kommune_settlement_year.requested"},
                                 specs={"kommune_settlement_year.requested"})
    values.add("kommune_settlement_year.requested", "1037", None, 3)  # 2012-2013 of a 2012-2014 profile
    assert not values.allows(3.0, column="kommune_settlement_year.requested", kommuner=["1037"])


def _requests() -> public.PublicValues:
    spec = "kommune_settlement_year.requested"
    values = public.PublicValues(5, kommuner={"1037", "0301"}, by_year={spec}, specs={spec})
    for year, v in ((2012, 1), (2013, 2), (2014, 40), (2016, 1)):  # 2015: no value (null)
        values.add(spec, "1037", year, v)
    for year, v in ((2012, 1), (2013, 2), (2014, 40), (2016, 1)):
        values.add(spec, "", year, v + 100)
    return values


def test_a_public_number_is_allowed_for_exactly_the_window_it_names() -> None:
    values, spec = _requests(), "kommune_settlement_year.requested"
    assert values.allows(3.0, column=spec, kommuner=["1037"], window=(2012, 2013))  # right window
    assert values.allows(1.0, column=spec, kommuner=["1037"], window=(2016, 2016))
    assert values.allows(1.0, column=spec, kommuner=["1037"], window=(2015, 2016))  # the null year left out
    assert values.allows(2.0, column=spec, kommuner=["1037"], year=2013)  # a year in the row
    assert values.allows(2.0, column=spec, kommuner=["1037"], year=2013, window=(2013, 2013))


def test_a_public_number_naming_a_wrong_window_or_none_is_refused() -> None:
    values, spec = _requests(), "kommune_settlement_year.requested"
    assert not values.allows(3.0, column=spec, kommuner=["1037"], window=(2012, 2014))  # 43 in that window
    assert not values.allows(3.0, column=spec, kommuner=["1037"], window=(2013, 2013))  # a year of 2
    assert not values.allows(3.0, column=spec, kommuner=["1037"], window=(2010, 2011))  # no value at all
    assert not values.allows(1.0, column=spec, kommuner=["1037"])  # no window: any year's 1 is not enough
    assert not values.allows(2.0, column=spec, kommuner=["1037"], year=2013, window=(2012, 2013))  # row and mark disagree
    assert not values.allows(1.0, column=spec, window=(2012, 2012))  # nationally that year is 101
    assert values.allows(7.0, column=spec, kommuner=["1037"]) and values.allows(2.5, column=spec)  # not small counts


def test_the_clean_gate_reads_the_window_from_the_mark_and_from_results() -> None:
    """The window travels in the mark (``data-sdc-public-years``) and in results.json's ``_public``;
    a number with none, a wrong one or an unreadable one withholds."""
    clean = Clean(_requests(), kommune="1037")
    spec = "kommune_settlement_year.requested"

    def page(years: str | None) -> str:
        window = f' data-sdc-public-years="{years}"' if years is not None else ""
        return (f'<p>IMDi asked the municipality to settle <span data-sdc="public" data-sdc-public="{spec}"{window}>3'
                f'</span> refugees in 2012–2013</p>'
                f'<table><thead><tr><th>code</th><th>requested</th></tr></thead><tbody><tr><td>1037</td>'
                f'<td data-sdc="public" data-sdc-public="{spec}"{window}>3</td></tr></tbody></table>')

    assert check_html(page("2012-2013"), t=5, clean=clean, verify_marks=False) == []
    assert check_html(page("2012–2013"), t=5, clean=clean, verify_marks=False) == []
    for years in (None, "2012-2014", "2013", "2012-13", "2013-2012", "all"):
        found = check_html(page(years), t=5, clean=clean, verify_marks=False)
        assert {f.kind for f in found} >= {"unverified_public"}, years
        assert {f.where for f in found if f.kind == "unverified_public"} == {"html prose", "html table"}, years
    assert check_results({"requested": 3, "_public": {"requested": "2012-2013"}}, t=5, clean=clean) == []
    assert check_results({"requested": {"2012-2013": 3}, "_public": ["requested"]}, t=5, clean=clean) == []
    for leaky in ({"requested": 3, "_public": ["requested"]}, {"requested": 3, "_public": {"requested": None}},
                  {"requested": 3, "_public": {"requested": "2014"}}, {"requested": 3, "_public": "requested"}):
        assert {f.kind for f in check_results(leaky, t=5, clean=clean)} & {"unverified_public", "small_count"}, leaky


def test_the_disclosure_api_writes_the_window_into_the_mark() -> None:
    import polars as pl

    from settlement_research import sdc
    from settlement_research.sdc.rendering import to_html

    frame = pl.DataFrame({"kommune_nr": ["1037", "0301"], "requested": [3, 185], "population": [5900, 700000]})
    html = to_html(frame, public={"requested": "requested", "population": "population"},
                   public_years={"requested": (2012, 2013), "population": [2013, None]}).html
    assert html.count('data-sdc-public-years="2012\u20132013"') == 2 and html.count('data-sdc-public-years="2013"') == 1
    assert 'data-sdc-public-years="2012\u20132013">3</td>' in html
    assert 'data-sdc-public-years="2012\u20132013">' in sdc.shown(3, public="requested", years="2012-2013")
    with pytest.raises(ValueError):
        sdc.shown(3, public="requested", years="2014-2012")
    with pytest.raises(ValueError):
        to_html(frame, public={"requested": "requested"}, public_years={"kommune_nr": 2012})


def test_a_public_window_must_be_the_reports_own_span() -> None:
    """A template could otherwise choose, among all runs of years, one whose public sum equals a
    register count (1037's requests sum to 3 over 2012-2013): only the span the report was asked
    for (its year parameters) may be named; single years stay checked against their own value."""
    from settlement_research.sdc import gate

    spec = "kommune_settlement_year.requested"
    page = (f'<p>settled <span data-sdc="public" data-sdc-public="{spec}" data-sdc-public-years="2012–2013">3'
            f'</span> refugees</p>')
    knowledge = gate.Knowledge.__new__(gate.Knowledge)
    knowledge.declared = {"kommune_nr": "0301", "first_year": "2009", "last_year": "2014", "source": "synthetic"}
    assert knowledge.windows([{}]) == {(2009, 2014)}
    assert knowledge.windows([{"first_year": "2012", "last_year": "2013"}, {}]) == {(2012, 2013), (2009, 2014)}
    asked_other = Clean(_requests(), kommune="1037", windows=knowledge.windows([{}]))
    assert "unverified_public" in {f.kind for f in check_html(page, t=5, clean=asked_other, verify_marks=False)}
    asked_this = Clean(_requests(), kommune="1037", windows=knowledge.windows([{"first_year": "2012", "last_year": "2013"}]))
    assert check_html(page, t=5, clean=asked_this, verify_marks=False) == []
    single = page.replace("2012–2013", "2016").replace(">3<", ">1<")
    assert check_html(single, t=5, clean=asked_other, verify_marks=False) == []  # one year: its own value
