"""read_table(): Parquet and CSV (UTF-8/Latin-1, ',' or ';'), every CSV column as text."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.validation import (
    UnreadableFileError,
    read_table,
    sniff_separator,
    validate,
)

HEADER = "kommune_nr;kommune_name;year"


def test_latin1_csv_with_semicolons_keeps_codes_and_letters(tmp_path: Path) -> None:
    file = tmp_path / "kommune.csv"
    file.write_bytes(f"{HEADER}\n0301;Oslo;2014\n1804;Bodø;2014\n5401;Tromsø;2014\n".encode("latin-1"))
    frame = read_table(file)
    assert frame.columns == ["kommune_nr", "kommune_name", "year"]
    assert frame["kommune_nr"].to_list() == ["0301", "1804", "5401"]
    assert frame["kommune_name"].to_list() == ["Oslo", "Bodø", "Tromsø"]
    assert all(dtype == pl.String for dtype in frame.dtypes)


def test_utf8_with_bom_and_commas(tmp_path: Path) -> None:
    file = tmp_path / "x.csv"
    file.write_bytes("\ufeffkommune_nr,kommune_name\n0301,Oslo\n0219,\"Bærum, Akershus\"\n".encode())
    frame = read_table(file)
    assert frame.columns == ["kommune_nr", "kommune_name"]
    assert frame.row(1) == ("0219", "Bærum, Akershus")


def test_three_digit_code_is_read_exactly(tmp_path: Path) -> None:
    file = tmp_path / "k.txt"
    file.write_text("kommune_nr;year\n301;2014\n", encoding="utf-8")
    assert read_table(file)["kommune_nr"].to_list() == ["301"]


def test_parquet_roundtrip(tmp_path: Path) -> None:
    frame = pl.DataFrame({"kommune_nr": ["0301"], "year": pl.Series([2014], dtype=pl.Int16)})
    frame.write_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet").equals(frame)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.parquet", b"PAR1 this is not really parquet", "as Parquet"),
        ("empty.csv", b"", "empty"),
        ("binary.csv", b"\x00\x01\x02PK\x03\x04" * 10, "binary"),
        ("table.xlsx", b"whatever", "unsupported file type"),
    ],
)
def test_unreadable_files_raise_a_clear_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=expected) as info:
        read_table(file)
    assert name in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_table(tmp_path / "nope.csv")


def test_separator_sniffing() -> None:
    assert sniff_separator("a;b;c") == ";"
    assert sniff_separator("a,b,c") == ","
    assert sniff_separator('"x;y",b,c') == ","
    assert sniff_separator("single") == ","


def test_csv_examples_carry_the_file_line(tmp_path: Path) -> None:
    file = tmp_path / "region_pair_coordination.csv"
    file.write_text(
        "husbanken_region;imdi_region;dimension;level;label;observed_on\n"
        "ost;ost;plan;0;no;2014-06-30\n"
        "vest;vest;plan;7;high;2014-06-30\n",
        encoding="utf-8",
    )
    result = validate(read_table(file), "region_pair_coordination", source=file)
    [problem] = result.problems
    assert problem.message == "must be at most 3"
    assert problem.examples == [
        {"row": 2, "line": 3, "husbanken_region": "vest", "imdi_region": "vest", "dimension": "plan", "level": "7"}
    ]
