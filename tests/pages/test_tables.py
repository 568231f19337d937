"""One formatting layer for every table (issue 13 item 4)."""

from __future__ import annotations

import polars as pl

from settlement_research import sdc
from settlement_research.analysis import plots
from settlement_research.pages.tables import THIN, format_value, html_table, unit_of

from .quality import defects


def test_units_and_decimals() -> None:
    assert format_value(1368, "count") == f"1{THIN}368"
    assert format_value(428.0, "count") == "428"  # not "428.000" (428 thousand to a Norwegian reader)
    assert format_value(2009, "year") == "2009" and format_value(2009.0, "year") == "2009"
    assert format_value(12.345, "percent") == "12.3" and format_value(0.4567, "rate") == "0.46"
    assert format_value(-1234.5, "number") == f"\u22121{THIN}234.50"
    assert format_value(None, "count") == "" and format_value(float("nan"), "rate") == ""
    assert unit_of("year", pl.Int16) == "year" and unit_of("year leaving", pl.Int16) == "year"
    assert unit_of("kommune_nr", pl.String) == "code" and unit_of("settled per 1000", pl.Float64) == "rate"
    assert unit_of("in work or education, %", pl.Float64) == "percent" and unit_of("settled", pl.Int64) == "count"


def test_table_has_no_dtype_row_keeps_years_and_scrolls() -> None:
    frame = pl.DataFrame({"year": [2009, 2010], "kommune_nr": ["0301", "1201"], "settled": [6758, 1368],
                          "share": [0.5, 0.25], "name": ['<b>"x"</b>', "y"]}).with_columns(pl.col("year").cast(pl.Int16))
    html = html_table(frame, caption="c", labels={"settled": "settled, persons"})._repr_html_()
    assert defects(html) == []
    assert ">2009<" in html and f">6{THIN}758<" in html and f">1{THIN}368<" in html and ">0301<" in html
    assert "overflow-x:auto" in html and "&lt;b&gt;" in html and "settled, persons" in html
    wide = html_table(pl.DataFrame({f"c{i}": [i * 1000] for i in range(25)}))._repr_html_()
    assert wide.count("<th ") == 25 and "overflow-x:auto" in wide  # all columns, in a scrolling box


def test_plots_table_and_describe_use_the_layer() -> None:
    fit = pl.DataFrame({"term": ["C(tenure)[T.owner]"], "estimate": [0.123456], "p_value": [0.0412]})
    html = plots.table(fit)._repr_html_()
    assert "tenure: owner" in html and ">0.12<" in html and ">0.041<" in html and defects(html) == []
    panel = pl.DataFrame({"year": [2009, 2010, 2011], "settled": [1000, 2000, 3000]})
    described = plots.describe(panel)._repr_html_()
    assert defects(described) == [] and described.count("<tr>") == 1 + 2  # header + one row per column


def test_suppressed_tables_use_the_same_separator_and_years_as_labels() -> None:
    frame = pl.DataFrame({"year": pl.Series([2009, 2010], dtype=pl.Int16), "population": [6758, 1368],
                          "settled": [40, None], "settled_symbol": [None, ":"]})
    html = str(sdc.to_html(frame))
    assert f">6{THIN}758<" in html and ">2009<" in html and defects(html) == []
    assert 'data-sdc="suppressed"' in html


def test_p_values_are_never_printed_as_zero_and_statistics_columns_are_labelled() -> None:
    import polars as pl

    from settlement_research.pages.tables import format_value, html_table

    assert [format_value(p, "p") for p in (0.00004, 0.0123, 0.9996)] == ["<0.001", "0.012", ">0.999"]
    html = html_table(pl.DataFrame({"estimate": [1.5], "ci_low": [1.0], "ci_high": [2.0], "p_value": [1e-9],
                                    "p_holm": [0.5]})).html
    assert ">CI low<" in html and ">CI high<" in html and ">p<" in html and ">p (Holm)<" in html
    assert "&lt;0.001" in html and "0.000" not in html and ">0.500<" in html


def test_one_column_has_one_number_of_decimals() -> None:
    import polars as pl

    from settlement_research.pages.tables import html_table

    html = html_table(pl.DataFrame({"median population": [1061.0, 2692.5]}), units={"median population": "count"}).html
    assert ">1\u202f061<" in html and ">2\u202f692<" in html and "2\u202f692.5" not in html


def test_a_value_rounding_to_zero_has_no_minus_sign() -> None:
    from settlement_research.pages.tables import format_value

    assert [format_value(v, "number") for v in (-0.001, -0.0, -0.01, -1234.5)] == ["0.00", "0.00", "\u22120.01", "\u22121\u202f234.50"]


def test_codes_are_shown_in_words() -> None:
    """Model terms, routes, tenures and agency regions reach readers as words, never as field codes;
    a column mixing codes with other text is left as it is."""
    fit = pl.DataFrame({"term": ["C(tenure_1y)[T.owner_startlan]", "age_at_settlement"], "estimate": [0.1, 0.2]})
    html = plots.table(fit)._repr_html_()
    assert "tenure one year after settlement: owner with startlån" in html and "age at settlement" in html
    routes = pl.DataFrame({"route": ["ordinary", "agreed_self"], "imdi_region": ["midt_norge", "ost"],
                           "husbanken_region": ["bodo", "ost"], "name": ["ordinary", "Grømlemo"]})
    html = plots.table(routes)._repr_html_()
    assert "agreed self-settlement" in html and "Midt-Norge (Trondheim)" in html and "Bodø" in html
    assert "agreed_self" not in html and "midt_norge" not in html and "bodo" not in html
    assert ">ordinary<" in html  # the mixed column keeps its text
