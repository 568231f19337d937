"""Complete or refuse: truncated files, partial exports, imports with less data, atomic replacement.

Each reproduced case of issue #10 with its exact input: a raw wide export cut inside a number
(``…;Ulvik;10;…`` -> ``…;Ulvik;1``, no final newline), an export cut in half, a header-only import
into a folder holding a good import.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.build import build
from settlement_research.cli import main
from settlement_research.io import sha256_file
from settlement_research.sources import imdi
from settlement_research.sources.imdi import importer
from settlement_research.sources.imdi.coverage import expected_municipalities, truncation
from settlement_research.sources.imdi.layouts import FLAT, RAW_WIDE, WIDE_2022

NAME = "09_1-bosatt_anmodede-kommune-2014.csv"
HEADER = (
    "kommune;kommune_nr;kommune_navn;bosetting.anmodning;bosetting.anmodning;bosetting.bosatt;"
    "bosetting.vedtak;;\r\nNedbrytninger;;;enhet.personer;enhet.prosent;enhet.personer;enhet.personer;;\r\n"
)


def raw_wide_2014(codes: list[str] | None = None) -> str:
    """A complete raw wide export for 2014 (every municipality, codes without leading zeros), Ulvik last."""
    everyone = expected_municipalities(2014)
    chosen = sorted(codes if codes is not None else everyone, key=lambda c: (c == "1233", c))
    rows = [f"{c} {everyone[c]};{int(c)};{everyone[c]};10;100;12;10;;\r\n" for c in chosen]
    return HEADER + "".join(rows)


def tree(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_complete_export_imports_without_flags(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(raw_wide_2014(), "utf-8")
    assert main(["import-imdi", str(path), "--out", str(tmp_path / "imdi")]) == 0
    summary = json.loads((tmp_path / "imdi" / "import_summary.json").read_text())
    assert summary["coverage"]["complete"] and summary["coverage"]["files"][0]["present"] == 428
    assert "partial" not in summary


def test_ulvik_cut_inside_a_number_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = raw_wide_2014()
    assert text.endswith("1233 Ulvik;1233;Ulvik;10;100;12;10;;\r\n")
    cut = tmp_path / NAME
    cut.write_text(text[: text.rindex("Ulvik;1") + len("Ulvik;1")], "utf-8")  # …;Ulvik;1 at EOF
    out = tmp_path / "imdi"
    assert main(["import-imdi", str(cut), "--out", str(out), "--allow-partial"]) == 2
    err = capsys.readouterr().err
    assert str(cut) in err and "truncated" in err and "'1233 Ulvik;1233;Ulvik;1'" in err
    assert "has 4 of the header's 9 fields" in err and "Traceback" not in err
    assert not out.exists()


def test_real_export_cut_inside_ulviks_number_is_refused(real_data: Path, tmp_path: Path) -> None:
    data = (real_data / "imdi_2015_raw" / NAME).read_bytes()
    at = data.index(b";Ulvik;10;") + len(b";Ulvik;1")
    cut = tmp_path / NAME
    cut.write_bytes(data[:at])
    with pytest.raises(imdi.ImportRefused, match=r"(?s)truncated.*Ulvik;1'.*does not end with a newline"):
        imdi.import_files([cut])


def test_an_export_cut_in_half_is_refused_unless_allow_partial(tmp_path: Path, capsys) -> None:
    full = raw_wide_2014()
    lines = full.splitlines(keepends=True)
    half = tmp_path / NAME
    half.write_text("".join(lines[: 2 + 210]), "utf-8")  # 2 header rows + 210 municipalities
    out = tmp_path / "imdi"
    assert main(["import-imdi", str(half), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "incomplete export" in err and "210 of 428 municipalities of classification 2014" in err
    assert "--allow-partial" in err and not out.exists()

    assert main(["import-imdi", str(half), "--out", str(out), "--allow-partial"]) == 0
    assert "PARTIAL export" in capsys.readouterr().out
    summary = json.loads((out / "import_summary.json").read_text())
    missing = summary["partial"]["files"][0]["missing"]
    assert len(missing) == 218 and {"kommune_nr": "1233", "name": "Ulvik"} in missing
    provenance = json.loads((out / "PROVENANCE.json").read_text())
    assert provenance["partial"] == summary["partial"] and provenance["coverage_complete"] is False
    # ... and the build's manifest carries it to data_clean
    build(tmp_path, tmp_path / "clean", log=lambda m: None)
    manifest = json.loads((tmp_path / "clean" / "MANIFEST.json").read_text())
    assert manifest["sources"]["imdi"]["partial"] == summary["partial"]


def test_a_header_only_import_leaves_a_good_import_intact(tmp_path: Path, capsys) -> None:
    good = tmp_path / NAME
    good.write_text(raw_wide_2014(), "utf-8")
    out = tmp_path / "imdi"
    assert main(["import-imdi", str(good), "--out", str(out)]) == 0
    before = tree(out)
    empty = tmp_path / "header" / NAME
    empty.parent.mkdir()
    empty.write_text(HEADER, "utf-8")
    for flags in ([], ["--allow-partial"], ["--allow-partial", "--replace"]):
        assert main(["import-imdi", str(empty), "--out", str(out), *flags]) == 2
        assert "nothing to import" in capsys.readouterr().err or flags == []
        assert tree(out) == before


def test_less_data_is_refused_without_replace(tmp_path: Path, capsys) -> None:
    good = tmp_path / NAME
    good.write_text(raw_wide_2014(), "utf-8")
    out = tmp_path / "imdi"
    assert main(["import-imdi", str(good), "--out", str(out)]) == 0
    before = tree(out)
    smaller = tmp_path / "part" / NAME
    smaller.parent.mkdir()
    smaller.write_text(raw_wide_2014(sorted(expected_municipalities(2014))[:100]), "utf-8")
    assert main(["import-imdi", str(smaller), "--out", str(out), "--allow-partial"]) == 2
    err = capsys.readouterr().err
    assert "holds an earlier import with more data" in err and "kommune_settlement_year: 428 row(s), this import 100" in err
    assert tree(out) == before
    assert main(["import-imdi", str(smaller), "--out", str(out), "--allow-partial", "--replace"]) == 0
    assert pl.read_parquet(out / "kommune_settlement_year.parquet").height == 100


def test_replacement_is_atomic_and_keeps_files_the_import_does_not_own(tmp_path: Path, monkeypatch) -> None:
    good = tmp_path / NAME
    good.write_text(raw_wide_2014(), "utf-8")
    out = tmp_path / "imdi"
    imdi.run_import([good], out)
    (out / "notes.txt").write_text("kept", "utf-8")
    before = tree(out)
    result = imdi.import_files([good])

    def boom(obj, path):  # the disk fills up half way through writing the new import
        raise OSError("No space left on device")

    monkeypatch.setattr(importer, "write_json_atomic", boom)
    with pytest.raises(OSError, match="No space"):
        imdi.write_outputs(result, out, replace=True)
    assert tree(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    monkeypatch.undo()
    imdi.write_outputs(result, out, replace=True)
    assert (out / "notes.txt").read_text("utf-8") == "kept"


@pytest.mark.parametrize(
    ("layout", "text", "why"),
    [
        (RAW_WIDE, HEADER + "0101 Halden;101;Halden;10;100;12;10;;", "does not end with a newline"),
        (RAW_WIDE, HEADER + "0101 Halden;101;Halden;10;100;12;10;;\r\n0104 Moss;104;Mo", "3 of the header's 9"),
        (FLAT, '"aar","kommune_nr","tabellvariabel"\n"2014","0101","35"\n"2014","0301","5', "inside a quoted value"),
        (FLAT, '"aar","kommune_nr","tabellvariabel"\n"2014","0101","35"\n"2014","0301"', "2 of the header's 3"),
        (WIDE_2022, "Region;Navn;A;B\n;;Enhet: Personer;Enhet: Personer\n;;År: 2020;År: 2021\nK3001;Halden;1", "3 of the header's 4"),
        (RAW_WIDE, "", "empty"),
    ],
)
def test_files_that_do_not_end_where_their_format_ends(layout: str, text: str, why: str) -> None:
    assert why in (truncation(text, layout) or "")


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        # IMDi's real flat 2015 and wide 2022 exports end without a final newline: complete
        (FLAT, '"aar","kommune_nr","tabellvariabel"\n"2014","0101","35"\n"2014","0301","50"'),
        (WIDE_2022, "Region;Navn;A;B\n;;Enhet: Personer;Enhet: Personer\n;;År: 2020;År: 2021\nK3001;Halden;1;2"),
        (RAW_WIDE, HEADER + "0101 Halden;101;Halden;10;100;12;10;;\r\n"),
    ],
)
def test_complete_files_are_not_taken_for_truncated(layout: str, text: str) -> None:
    assert truncation(text, layout) is None


def test_every_real_export_ends_properly(real_data: Path) -> None:
    from settlement_research.sources.imdi.layouts import decode, detect_layout

    paths = [*real_data.glob("imdi_2015_*/*.csv"), *real_data.glob("misc/imdi_*.csv")]
    assert len(paths) == 30
    for path in paths:
        text = decode(path.read_bytes())[0]
        assert truncation(text, detect_layout(text)) is None, path.name
