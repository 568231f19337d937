"""``settlement-research diff OLD NEW``: added, removed and changed keys between editions/builds/files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.cli import main
from settlement_research.diff import diff, render_html
from settlement_research.sources.imdi import import_files, write_outputs

FLAT = (
    '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr","naringsregion_nr","bydel_nr"\n'
    '"2014","NULL","anmodning","personer","20","bosatt_anmodede","0211","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","12","bosatt_anmodede","0211","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer","0","bosatt_anmodede","0427","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","28","bosatt_anmodede","0427","NULL","NULL"\n'
)
# A newer export (per 2022-09) restating 2014 under the 2020 codes; --years 2014 compares that year.
WIDE = (
    "Region;Navn;Bosetting: Anmodning om bosetting;Bosetting: Faktisk bosetting;Bosetting: Vedtak om bosetting;"
    "Bosetting: Faktisk bosetting\n"
    ";;Enhet: Personer;Enhet: Personer;Enhet: Personer;Enhet: Personer\n"
    ";;År: 2014;År: 2014;År: 2014;År: 2022\n"
    "K3019;Vestby;15;12;10;4\n"
    "K3420;Elverum;;28;.;6\n"
)


@pytest.fixture
def pair(write_file) -> tuple[Path, Path]:
    return (write_file("bosatt_anmodede.csv", FLAT),
            write_file("bosatt_anmodede_wide_per_2022-09.csv", WIDE, "latin-1"))


def _keys(content: dict) -> dict[tuple, tuple]:
    return {(k["kommune_nr"], k["year"], k["measure"]): (k["change"], k["old_value"], k["old_symbol"],
                                                         k["new_value"], k["new_symbol"])
            for k in content["keys"]}


def test_two_editions_harmonised_first_and_listed_per_key(pair: tuple[Path, Path]) -> None:
    content = diff(*pair, years=(2014, 2014))
    assert not content["identical"] and content["verdict"] == "DIFFERENT"
    t = content["tables"]["kommune_settlement_year"]
    assert t["harmonised_to"] == 2022 and t["classification_years"] == {"old": [2014], "new": [2022]}
    keys = _keys(content)
    assert keys[("3019", 2014, "requested")] == ("changed", 20.0, None, 15.0, None)
    assert keys[("3019", 2014, "decided")] == ("added", None, "~", 10.0, None)  # "~": not in that edition
    assert keys[("3420", 2014, "decided")] == ("changed", 0.0, None, None, ".")
    # Elverum's request: no record in either file -> '~' on both sides, not a change
    assert ("3420", 2014, "settled") not in keys and ("3420", 2014, "requested") not in keys
    per = {(r["kommune_nr"], r["year"]): r for r in content["per_kommune_year"]}
    assert (per[("3019", 2014)]["added"], per[("3019", 2014)]["changed"]) == (1, 1)


def test_identical_inputs_exit_zero_and_different_exit_one(pair: tuple[Path, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    built = write_outputs(import_files([pair[0]]), tmp_path / "a")
    again = write_outputs(import_files([pair[0]]), tmp_path / "b")
    assert main(["diff", str(built), str(again), "--report", str(tmp_path / "r0")]) == 0
    assert "IDENTICAL" in capsys.readouterr().out
    assert main(["diff", str(pair[0]), str(pair[1]), "--years", "2014", "--report", str(tmp_path / "r1")]) == 1
    data = json.loads((tmp_path / "r1" / "diff.json").read_text())
    assert data["n_keys"]["changed"] == 2
    assert (tmp_path / "r1" / "diff.html").read_text().startswith("<!DOCTYPE html>")
    assert main(["diff", str(tmp_path / "missing"), str(pair[1]), "--report", str(tmp_path / "r2")]) == 2


def test_two_files_of_one_table(pair: tuple[Path, Path], tmp_path: Path) -> None:
    table = import_files([pair[0]]).tables["kommune_settlement_year"]
    old = tmp_path / "kommune_settlement_year.parquet"
    table.write_parquet(old)
    changed = tmp_path / "new" / "kommune_settlement_year.parquet"
    changed.parent.mkdir()
    table.with_columns(pl.when(pl.col("kommune_nr") == "0211").then(13).otherwise(pl.col("settled"))
                       .cast(pl.Int32).alias("settled")).write_parquet(changed)
    content = diff(old, changed)
    assert _keys(content) == {("0211", 2014, "settled"): ("changed", 12.0, None, 13.0, None)}
    assert content["tables"]["kommune_settlement_year"]["harmonised_to"] is None


def test_every_data_string_is_escaped(pair: tuple[Path, Path]) -> None:
    content = diff(*pair, years=(2014, 2014))
    content["old"]["what"] = "<script>alert(1)</script>"
    content["keys"][0]["measure"] = "<b>x</b>"
    page = render_html(content)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>x</b>" not in page


@pytest.mark.real_data
def test_real_2015_edition_against_the_2022_export(real_data: Path, tmp_path: Path) -> None:
    old = real_data / "imdi_2015_flat" / "bosatt_anmodede.csv"
    new = real_data / "misc" / "imdi_bosatt_anmodede_wide_per_2022-09.csv"
    rc = main(["diff", str(old), str(new), "--years", "2012-2014", "--report", str(tmp_path)])
    assert rc == 1
    content = json.loads((tmp_path / "diff.json").read_text())
    assert content["tables"]["kommune_settlement_year"]["harmonised_to"] == 2022
    keys = _keys(content)
    assert keys[("3019", 2012, "requested")] == ("changed", 20.0, None, 15.0, None)   # Vestby
    assert keys[("3420", 2013, "decided")] == ("changed", 35.0, None, 47.0, None)     # Elverum
    assert keys[("4218", 2013, "decided")] == ("changed", 10.0, None, 5.0, None)      # Iveland
    # Harstad 2012: the 2015 edition's request 0 under 1903 against the export's 70 under 1901
    assert keys[("5402", 2012, "requested")] == ("changed", 0.0, None, 70.0, None)
    # settled 58 is the same in both: the export's '.' under 1901 no longer hides its 58 under 5402
    assert ("5402", 2012, "settled") not in keys
    page = (tmp_path / "diff.html").read_text()
    assert "harmonised both sides to the 2022 classification" in page
