"""The bokmål profile is bokmål throughout, and its downloads (CSV per table, one Excel workbook)
hold exactly the numbers and symbols the page shows (issue 13 item 6)."""

from __future__ import annotations

import base64
import html as html_lib
import re
from pathlib import Path

import polars as pl
import pytest

from settlement_research.analysis import plots
from settlement_research.analysis import profile_text as tx

# Words spelled the same in both languages, and names no translation changes. Everything else the
# English page says is English and must not appear on the bokmål page.
SHARED = {
    "for", "to", "en", "last", "per", "data", "status", "region", "register", "generator",  # also bokmål words
    "imdi", "husbanken", "kostra", "fafo", "ssb", "csv", "excel", "commit", "sha", "lang", "nr",  # names, terms
    "settlement", "research", "kommune",  # settlement_research (the package), kommune_nr (a parameter name)
    "python", "polars", "pandera", "statsmodels", "pyfixest",
}


def visible_text(page: str) -> str:
    """What a reader sees or hears: text, hover titles and image descriptions (no scripts, styles,
    data URIs or commit hashes)."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(m.group(2) for m in re.finditer(r'\s(title|alt|aria-label)="([^"]*)"', page))
    text = re.sub(r"<[^>]+>", " ", page) + " " + attributes
    return re.sub(r"\b[0-9a-f]{7,64}\b", " ", html_lib.unescape(text))


def tokens(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def english_on(nb_page: str, en_page: str, names: set[str]) -> set[str]:
    """Words of the English page (minus names and shared words) that the bokmål page shows."""
    english = tokens(visible_text(en_page)) - SHARED - names
    return tokens(visible_text(nb_page)) & english


@pytest.fixture(scope="module")
def pages(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from settlement_research.reports.runner import run_notebook

    out = tmp_path_factory.mktemp("profiles")
    found = {}
    for lang in ("en", "nb"):
        outcome = run_notebook("municipality_profile", {"kommune_nr": "0301", "lang": lang}, out / lang)
        assert outcome.status == "ok", outcome.error
        found[lang] = (out / lang / outcome.html).read_text("utf-8")
    return found


def _names(tiny_clean: Path) -> set[str]:
    from settlement_research.catalog import load
    from settlement_research.regions import HUSBANKEN_OFFICES, IMDI_OFFICES

    kommune = load("kommune", source="synthetic")
    names = " ".join(kommune["kommune_name"].to_list() + kommune["fylke_name"].to_list()
                     + list(IMDI_OFFICES.values()) + list(HUSBANKEN_OFFICES.values()))
    return tokens(names)


def test_the_bokmal_profile_shows_no_english_word(pages: dict[str, str], tiny_clean: Path) -> None:
    en, nb = pages["en"], pages["nb"]
    vocabulary = tokens(visible_text(en)) - SHARED - _names(tiny_clean)
    assert len(vocabulary) > 150 and {"housing", "settled", "leavers", "source", "provenance"} <= vocabulary
    assert english_on(nb, en, _names(tiny_clean)) == set()
    assert '<html lang="nb">' in nb and '<html lang="en">' in en
    assert "<title>Grømlemo (0301): kommuneprofil" in nb or re.search(r"<title>[^<]*kommuneprofil", nb)
    # the check bites: one English table header on the bokmål page is found
    leaked = nb.replace("<th>deltakere</th>", "<th>participants</th>", 1)
    assert leaked != nb and english_on(leaked, en, _names(tiny_clean)) == {"participants"}


def test_every_word_of_the_table_is_translated() -> None:
    same = {k for k in tx.WORDS["en"] if tx.WORDS["en"][k] == tx.WORDS["nb"][k]}
    assert same <= {"axis_percent"}, same  # '%' is '%'
    assert set(tx.SENTENCES["en"]) == set(tx.SENTENCES["nb"])
    for key, text in tx.SENTENCES["en"].items():  # the same facts in both: the same placeholders
        assert re.findall(r"{(\w+)}", text) == re.findall(r"{(\w+)}", tx.SENTENCES["nb"][key]), key


def test_one_summary_for_both_languages() -> None:
    facts = {"kommune_name": "A_b*", "kommune_nr": "0301", "fylke_name": "Oslo", "centrality": 1,
             "imdi_office": "Øst", "husbanken_office": "Øst", "coordination_index": 0.456,
             "coordination_rank": 3, "coordination_pairs": 9}
    totals = {"requested": 1368, "requested_years": 6, "years": 6, "decided": 900, "decided_known_years": 5,
              "settled": None, "settled_known_years": 6,
              "status": {"as_requested": 2, "fewer": 3, "declined": 0, "no_decision": 1}}
    pooled = {"kommune": 0.49, "county": None, "norway": 0.5}
    en = tx.summary(facts, totals, pooled, 2009, 2014, "en")
    nb = tx.summary(facts, totals, pooled, 2009, 2014, "nb")
    assert "A\\_b\\*" in en and "A\\_b\\*" in nb  # names escaped in both
    assert "1\u202f368" in en and "1\u202f368" in nb and "(':')" in en and "(':')" in nb
    assert "0.46" in en and "0,46" in nb and "49%" in en and "49\u202f%" in nb
    assert "not available" in en and "ikke tilgjengelig" in nb
    assert "decided as requested in 2 years" in en and "vedtok som anmodet i 2 år" in nb
    assert "made no decision in 1 year" in en and "ikke vedtak i 1 år" in nb
    with pytest.raises(ValueError, match="lang"):
        tx.summary(facts, totals, pooled, 2009, 2014, "de")


def _figure() -> tuple[object, object]:
    """A figure outside pyplot: no backend switch, so notebooks rendered later in this process
    (in-process engine) still show their charts inline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def test_chart_words_follow_the_page_language() -> None:
    fig, ax = _figure()
    plots.finish(ax, title="t", xlabel="x", ylabel="y", source="synthetic", note="n", lang="nb")
    texts = " ".join(t.get_text() for t in fig.texts + ax.texts)
    assert "Kilde: Syntetisk register" in texts and "SYNTETISKE DATA" in texts
    assert "Source" not in texts and "SYNTHETIC" not in texts


# ----------------------------------------------------------------------------- downloads


def _cell(text: str) -> str | float | None:
    """A shown value, normalised: numbers as floats (separators and decimal comma undone),
    symbols and labels as text, empty as None."""
    text = text.replace("\u202f", "").replace("\u2212", "-").strip()
    if text == "":
        return None
    if re.fullmatch(r"-?\d+([.,]\d+)?", text) and not re.fullmatch(r"\d{4}", text) and not text.startswith("0") \
            or re.fullmatch(r"0([.,]\d+)?", text):
        return float(text.replace(",", "."))
    return text


def _page_tables(page: str) -> list[list[list[str | float | None]]]:
    tables = re.findall(r'<table class="sdc-table".*?</table>', page, flags=re.S)
    out = []
    for table in tables:
        head = [html_lib.unescape(h) for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table)]  # headers are signed
        rows = [[_cell(html_lib.unescape(re.sub(r"<[^>]+>", "", c))) for c in re.findall(r"<td[^>]*>.*?</td>", row)]
                for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)]
        out.append([head, *[r for r in rows if r]])
    return out


def _csv_tables(page: str, lang: str) -> list[list[list[str | float | None]]]:
    import csv
    import io

    out = []
    for payload in re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page):
        text = base64.b64decode(payload).decode("utf-8").lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=";" if lang == "nb" else ","))
        body = [[_cell(re.sub(r"^'(?=[=+\-@])", "", c)) for c in row] for row in rows[1:]]
        out.append([rows[0], *body])
    return out


def _xlsx_tables(page: str) -> tuple[list[list[list[str | float | None]]], list[str]]:
    import fastexcel

    links = re.findall(r'download="([^"]+)" href="data:application/vnd.openxmlformats-officedocument'
                       r'.spreadsheetml.sheet;base64,([^"]+)"', page)
    assert len(links) == 1, "one workbook per profile"
    book = fastexcel.read_excel(base64.b64decode(links[0][1]))
    out = []
    for i in range(len(book.sheet_names)):
        raw = book.load_sheet(i, header_row=None, dtypes="string").to_polars()
        rows = [[None if v is None else v for v in r] for r in raw.iter_rows()]
        assert rows[0][0] and rows[1] == [None] * len(rows[1])  # the caption, then a blank row
        head = [str(v) for v in rows[2]]
        body = [[None if v is None else _cell(v) for v in r] for r in rows[3:]]
        out.append([head, *body])
    return out, [name for name, _ in links]


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_excel_and_csv_downloads_hold_every_number_of_the_page(pages: dict[str, str], lang: str) -> None:
    page = pages[lang]
    shown, csvs = _page_tables(page), _csv_tables(page, lang)
    books, names = _xlsx_tables(page)
    assert names == [f"0301-{'profil' if lang == 'nb' else 'profile'}.xlsx"]
    assert len(shown) == len(csvs) == len(books) >= 5
    numbers = symbols = 0
    for table, csv_table, sheet in zip(shown, csvs, books, strict=True):
        assert table[0] == csv_table[0] == sheet[0]  # the same headers, in the page's language
        assert table[1:] == csv_table[1:] == sheet[1:], table[0]
        flat = [v for row in table[1:] for v in row]
        numbers += sum(isinstance(v, float) for v in flat)
        symbols += sum(v in (":", "..") for v in flat)
    assert numbers > 50 and symbols > 0  # the comparison covered numbers and suppressed cells


def test_workbook_cells_are_typed_and_never_formulas() -> None:
    import fastexcel

    frame = pl.DataFrame({"år": ["2009", "2010"], "bosatt": [1368, None], "bosatt_symbol": [None, ":"],
                          "andel, %": [45.4444, None], "kommune": ["=HYPERLINK(\"x\")", "Ås"]})
    book = fastexcel.read_excel(tx.xlsx_bytes({"a/b:c[d]" * 5: (frame, 1)}, "nb"))
    assert len(book.sheet_names[0]) <= 31 and not set("[]:*?/\\") & set(book.sheet_names[0])
    sheet = book.load_sheet(0, dtypes="string").to_polars()
    assert sheet.columns == ["år", "bosatt", "andel, %", "kommune"]
    assert sheet["bosatt"].to_list() == ["1368", ":"] and sheet["andel, %"].to_list() == ["45.4", None]
    assert sheet["kommune"].to_list() == ["=HYPERLINK(\"x\")", "Ås"]  # text, not a formula
    assert sheet["år"].to_list() == ["2009", "2010"]  # years are labels
    assert tx.xlsx_bytes({"t": (frame, 1)}, "en") == tx.xlsx_bytes({"t": (frame, 1)}, "en")  # byte-stable


def test_a_share_of_nobody_is_empty_in_the_csv_as_on_the_page() -> None:
    frame = pl.DataFrame({"year": ["2009"], "share": [float("nan")]})
    assert tx.csv_text(frame, "en").splitlines() == ["year,share", "2009,"]
    assert tx.csv_text(frame, "nb").splitlines() == ["year;share", "2009;"]


def test_chart_counts_are_grouped_like_the_tables_and_years_are_not() -> None:
    fig, ax = _figure()
    ax.plot([2009, 2010, 2011], [5600, 6200, 6800])
    plots.finish(ax, title="t", xlabel="Year", ylabel="Persons", source="synthetic", tight=False)
    fig.canvas.draw()
    ys = [t.get_text() for t in ax.get_yticklabels()]
    xs = [t.get_text() for t in ax.get_xticklabels()]
    assert "6\u202f000" in ys and not any("\u202f" in x or " " in x for x in xs)
    fig, ax = _figure()
    ax.set_yticks([0, 1], ["naive", "adjusted"])  # category labels stay
    plots.finish(ax, title="t", xlabel="x", ylabel="", source="synthetic", tight=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["naive", "adjusted"]


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_every_symbol_in_a_table_is_in_the_legend(pages: dict[str, str], lang: str) -> None:
    cells = {html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>.*?</td>", pages[lang], flags=re.S)}
    symbols = cells & {":", "..", ".", "...", "~", "-"}
    assert ":" in symbols or ".." in symbols
    for symbol in symbols:
        assert f"<code>{html_lib.escape(symbol)}</code>" in pages[lang], symbol
