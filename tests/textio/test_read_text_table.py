"""textio.read_text_table: one encoding rule, line numbers, and files that end where they should."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.errors import (
    DataError,
    InputError,
    SettlementResearchError,
    TextFormatError,
    UnreadableFileError,
    UnsupportedEncodingError,
)
from settlement_research.textio import decode_text, read_csv_frame, read_text_table

UTF8_NAMES = "kommune_nr;navn\n0301;Oslo\n1103;Stavanger\n5001;Trondheim\n1820;Alstahaug\n3015;Drøssesund\n"


def write(tmp_path: Path, data: bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_latin1_and_bom_are_read() -> None:
    assert decode_text(UTF8_NAMES.encode("utf-8")) == (UTF8_NAMES, "utf-8")
    assert decode_text(UTF8_NAMES.encode("latin-1")) == (UTF8_NAMES, "latin-1")
    assert decode_text(b"\xef\xbb\xbf" + UTF8_NAMES.encode("utf-8")) == (UTF8_NAMES, "utf-8-sig")
    assert decode_text(b"a;b\n1;2\n") == ("a;b\n1;2\n", "ascii")


def test_ascii_file_with_one_latin1_byte_is_latin1() -> None:
    # no UTF-8 multibyte sequence anywhere: the file is Latin-1, and that byte is an 'ø'
    text, encoding = decode_text(b"kommune_nr;navn\n0301;Oslo\n3015;Dr\xf8ssesund\n")
    assert encoding == "latin-1" and "Drøssesund" in text


def test_utf8_file_with_one_latin1_byte_names_the_line(tmp_path: Path) -> None:
    # the case: UTF-8 everywhere, one Latin-1 'ø' on line 6; Latin-1 for the whole file
    # would garble every UTF-8 name ('DrÃ¸ssesund'), so it is refused
    data = UTF8_NAMES.encode("utf-8").replace("Drøssesund".encode(), b"Dr\xf8ssesund")
    data = data.replace(b"Oslo", "Oslø".encode())
    with pytest.raises(TextFormatError) as err:
        read_text_table(write(tmp_path, data))
    assert err.value.line == 6 and "line 6 is not valid UTF-8" in str(err.value)
    assert err.value.file.endswith("t.csv") and isinstance(err.value, DataError)


def test_bom_declares_utf8_so_a_latin1_byte_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TextFormatError, match="line 2"):
        read_text_table(write(tmp_path, b"\xef\xbb\xbfa;b\n1;\xf8\n"))


@pytest.mark.parametrize(("encoding", "label"), [
    ("utf-16", "UTF-16"), ("utf-32", "UTF-32"), ("utf-16-be", "NUL bytes"), ("utf-16-le", "NUL bytes"),
])
def test_utf16_and_utf32_are_named_as_unsupported(tmp_path: Path, encoding: str, label: str) -> None:
    with pytest.raises(UnsupportedEncodingError, match=label) as err:
        read_text_table(write(tmp_path, UTF8_NAMES.encode(encoding)))
    assert isinstance(err.value, InputError) and err.value.exit_code == 2


def test_random_bytes_are_not_text(tmp_path: Path) -> None:
    import random

    rng = random.Random(1)
    data = bytes(rng.randrange(256) for _ in range(4000))
    with pytest.raises(UnsupportedEncodingError):
        read_text_table(write(tmp_path, data))
    no_nul = data.replace(b"\x00", b"x")
    with pytest.raises(UnsupportedEncodingError, match="control byte"):
        read_text_table(write(tmp_path, no_nul))


def test_empty_and_blank_files(tmp_path: Path) -> None:
    for data in (b"", b"\n\n  \r\n", b"\xef\xbb\xbf"):
        with pytest.raises(UnreadableFileError, match="empty"):
            read_text_table(write(tmp_path, data))


def test_line_numbers_are_right_after_quoted_newlines(tmp_path: Path) -> None:
    data = b'a,b,c\n1,"two\nlines",x\n2,"three\nline\ncell",y\n\n3,plain,z\n'
    table = read_text_table(write(tmp_path, data))
    assert table.data == [["1", "two\nlines", "x"], ["2", "three\nline\ncell", "y"], ["3", "plain", "z"]]
    assert table.data_lines == [2, 4, 8]
    assert table.record_nrs == [1, 2, 3, 5]  # what a spreadsheet shows (the blank record counts)
    frame = table.frame(line_column="line")
    assert frame["line"].to_list() == [2, 4, 8] and frame["c"].to_list() == ["x", "y", "z"]


def test_separator_is_sniffed_outside_quotes(tmp_path: Path) -> None:
    table = read_text_table(write(tmp_path, b'"a,1";"b,2";c\n1;2;3\n'))
    assert table.separator == ";" and table.header == ["a,1", "b,2", "c"]


def test_no_final_newline_alone_is_accepted_and_noted(tmp_path: Path) -> None:
    table = read_text_table(write(tmp_path, b'"a","b"\n"1","2"'))
    assert table.data == [["1", "2"]] and not table.final_newline
    assert table.notes == ["the file has no final newline"]


def test_a_cut_last_record_is_refused(tmp_path: Path) -> None:
    # the case: '...;Ulvik;10;...' cut to '...;Ulvik;1'
    data = b"kommune_nr;navn;anmodet;vedtatt\n1201;Bergen;250;250\n1233;Ulvik;1"
    with pytest.raises(TextFormatError, match="cut short") as err:
        read_text_table(write(tmp_path, data))
    assert err.value.line == 3 and "2 of 4 fields" not in str(err.value) and "3 of 4 fields" in str(err.value)


def test_a_cut_inside_a_quoted_field_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TextFormatError, match="ends inside a quoted field that starts on line 3"):
        read_text_table(write(tmp_path, b'"a","b"\n"1","2"\n"3","fo'))


def test_a_record_with_fewer_or_more_fields_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(TextFormatError, match="line 3 has 2 fields, fewer than the header's 3"):
        read_text_table(write(tmp_path, b"a;b;c\n1;2;3\n4;5\n6;7;8\n"))
    with pytest.raises(TextFormatError, match="line 2 has 4 fields, more"):
        read_text_table(write(tmp_path, b"a;b;c\n1;2;3;4\n"))
    ragged = read_text_table(write(tmp_path, b"a;b;c\n1;2\n"), ragged=True)
    assert ragged.data == [["1", "2"]]


def test_two_files_joined_with_cat_are_refused(tmp_path: Path) -> None:
    one = b'"aar","kommune_nr","tabellvariabel"\n"2014","0301","5"\n'
    two = b'"aar","kommune_nr","tabellvariabel"\n"2014","1201","7"\n'
    with pytest.raises(TextFormatError, match="line 3 repeats the header of line 1"):
        read_text_table(write(tmp_path, one + two))
    # the first export without a final newline: its last record and the next header share a line
    with pytest.raises(TextFormatError, match="line 2 has 5 fields, more"):
        read_text_table(write(tmp_path, one.rstrip(b"\n") + two))


def test_statbank_title_preamble_and_comments(tmp_path: Path) -> None:
    data = '"11616: Sysselsatte, etter region"\n\n"region";"2021"\n"3801 Horten";"13000"\n'.encode("latin-1")
    table = read_text_table(data, name="statbank.csv", title_preamble=True)
    assert table.preamble == ['"11616: Sysselsatte, etter region"']
    assert table.header == ["region", "2021"] and table.data_lines == [4]
    frame = read_csv_frame(write(tmp_path, b"# a comment\nold;new\n# another\n0101;3101\n"), comment_prefix="#")
    assert frame.to_dicts() == [{"old": "0101", "new": "3101"}]


def test_frame_keeps_codes_as_text_and_refuses_duplicate_names(tmp_path: Path) -> None:
    frame = read_csv_frame(write(tmp_path, b"kommune_nr,n\n0301,\n301,4\n"))
    assert frame["kommune_nr"].to_list() == ["0301", "301"] and frame["n"].to_list() == [None, "4"]
    with pytest.raises(TextFormatError, match="repeated"):
        read_csv_frame(write(tmp_path, b"a,a\n1,2\n"))


def test_every_error_carries_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"a;b\n1;2\n3\n")
    with pytest.raises(SettlementResearchError) as err:
        read_text_table(path)
    assert err.value.file == str(path) and err.value.line == 3
    assert str(path) in err.value.paragraph() and "hint:" in err.value.paragraph()


def test_every_real_text_file_is_read_completely(real_data: Path) -> None:
    files = sorted(real_data.glob("*/*.csv"))
    assert files
    for path in files:
        table = read_text_table(path, title_preamble=path.name.startswith("ssb_"))
        assert table.data, path
        assert len({len(r) for r in table.data}) == 1, path
