"""Inside one edition a value beats a '.'; between editions a renumbered code is the same
municipality; an edition without a national row gets its own total; files are decoded once.

Small self-made wide exports shaped like the export per 2022-09 (Latin-1, ';', three header rows,
'K' + 4 digits): Kristiansund's 2008 request is given under the ended code 1503 while its own
code 1505 says '.'; 1160 Vindafjord and the ended 1154 both give a number for 2007.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research import textio
from settlement_research.relations import check_relations
from settlement_research.sources.imdi import import_files, layouts
from settlement_research.sources.imdi import restated as rs

HEAD = (
    "Region;Navn;Bosetting: Anmodning om bosetting;Bosetting: Anmodning om bosetting;"
    "Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting\n"
    ";;Enhet: Personer;Enhet: Personer;Enhet: Personer;Enhet: Personer\n"
    ";;År: 2007;År: 2008;År: 2007;År: 2008\n"
)
WIDE = HEAD + (
    "K1503;;25;30;.;.\n"                   # Kristiansund (ended 2007): 2008 request 30
    "K1556;;.;.;.;.\n"                     # Frei (ended 2007)
    "K1505;Kristiansund;.;.;.;12\n"        # Kristiansund (from 2008): request '.', settled 12
    "K1154;;10;.;.;.\n"                    # Vindafjord (ended 2005): 2007 request 10 ...
    "K1160;Vindafjord;10;15;4;:\n"         # ... which Vindafjord's own code gives too
    "K9999;Uoppgitt kommune;;;3;1\n"
)


@pytest.fixture
def wide(write_file) -> Path:  # noqa: ANN001
    return write_file("bosatt_anmodede_wide_per_2022-09.csv", WIDE, "latin-1")


def _cell(frame: pl.DataFrame, code: str, year: int, column: str):  # noqa: ANN202
    return frame.filter((pl.col("kommune_nr") == code) & (pl.col("year") == year))[column].to_list()


def test_a_number_under_an_ended_code_fills_the_dot_of_the_years_code(wide: Path) -> None:
    result = import_files([wide], )
    s = result.tables["kommune_settlement_year"]
    assert _cell(s, "1505", 2008, "requested") == [30]           # 1503's 30 beats 1505's '.'
    assert _cell(s, "1505", 2008, "requested_symbol") == [None]
    assert _cell(s, "1505", 2008, "settled") == [12]
    assert "1503" not in set(s.filter(pl.col("year") == 2008)["kommune_nr"])
    rec = result.assembled.records
    dot = rec.filter((pl.col("kommune_nr") == "1505") & (pl.col("measure_year") == 2008)
                     & (pl.col("target") == "requested") & pl.col("recoded_from").is_null())
    assert dot.select("value", "symbol", "reason").rows() == [(None, ".", rs.DOT_REPLACED)]
    moved = rec.filter(pl.col("recoded_from") == "1503")
    assert moved.select("kommune_nr", "measure_year", "target", "value").rows() == [("1505", 2008, "requested", 30.0)]


def test_two_numbers_for_one_municipality_and_year_are_not_added(wide: Path) -> None:
    s = import_files([wide]).tables["kommune_settlement_year"]
    # 1154's 10 restates 1160's own 10 (Vindafjord 2007): counted once
    assert _cell(s, "1160", 2007, "requested") == [10]
    vindafjord = s.filter((pl.col("year") == 2007) & pl.col("kommune_nr").is_in(["1154", "1160"]))
    assert int(vindafjord["requested"].sum()) == 10
    assert _cell(s, "1503", 2007, "requested") == [25]  # 1503 is Kristiansund's own code in 2007


def test_an_edition_without_a_national_row_gets_its_own_total(wide: Path) -> None:
    result = import_files([wide])
    nat = {r["year"]: r for r in result.tables["national_settlement_year"].iter_rows(named=True)}
    assert (nat[2008]["requested"], nat[2008]["settled"], nat[2008]["settled_unknown_kommune"]) == (30 + 15, 12 + 1, 1)
    assert "1 suppressed cells not included" in nat[2008]["source"]  # 1160's ':' of 2008
    assert (nat[2007]["requested"], nat[2007]["settled"]) == (25 + 10, 4 + 3)
    tables = {k: result.tables[k] for k in ("kommune_settlement_year", "national_settlement_year")}
    assert [p for p in check_relations(tables) if p.rule == "national_sum_reconciles"] == []
    years = {t["year"]: t for t in result.summary["national_totals"]["years"]}
    assert years[2008]["national_row"] == "derived" and years[2008]["edition"] == "imdi-per-2022-09-30"


CONTEXT_2015 = (  # the 2015 edition: Horten under 0701 with its population of 2015
    "kommune;kommune_nr;kommune_navn;innvkat_5.alle;innvkat_5.innvandrere\r\n"
    "Nedbrytninger;;;kjonn.alle;kjonn.alle\r\n"
    ";;;enhet.personer;enhet.personer\r\n"
    "0701 Horten;701;Horten;26920;3080\r\n"
)
RESIDENCE = (  # the newer residence export restates 2015 under 3801 (Horten renumbered in 2020)
    "Region;Navn;Botid i Norge: 0-4 år;Botid i Norge: 0-4 år\n"
    ";;Sekundærflytting: Alle;Sekundærflytting: Alle\n"
    ";;Enhet: Personer;Enhet: Personer\n"
    ";;År: 2015;År: 2021\n"
    "K3801;Horten;181;246\n"
)


def test_a_renumbered_code_joins_the_municipality_of_the_other_edition(write_file) -> None:  # noqa: ANN001
    files = [write_file("01-befolkning_hovedgruppe-kommune-2015.csv", CONTEXT_2015, "latin-1"),
             write_file("imdi_flyktning_botid_flytting_wide.csv", RESIDENCE, "latin-1")]
    for prefer in (None, ["imdi-2015"]):
        c = import_files(files, prefer=prefer).tables["kommune_context_year"]
        horten = c.filter(pl.col("year") == 2015)
        assert horten["kommune_nr"].to_list() == ["0701"], prefer  # one row, one code set
        assert horten.select("population", "refugees_short_residence").row(0) == (26920, 181), prefer
        assert _cell(c, "3801", 2021, "refugees_short_residence") == [246]


def test_each_file_is_decoded_once(wide: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = textio.decode_text

    def counting(data: bytes, name: str) -> tuple[str, str]:
        calls.append(name)
        return real(data, name)

    monkeypatch.setattr(textio, "decode_text", counting)
    monkeypatch.setattr(layouts, "decode_text", counting)
    import_files([wide])
    assert calls == [wide.name]
