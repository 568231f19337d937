"""The error boundary of the console script: every hostile input of issue #10 gives one short
paragraph on stderr and exit 1 (invalid data) or 2 (unusable input), never a traceback."""

from __future__ import annotations

import builtins
import errno
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import settlement_research
from settlement_research import cli
from settlement_research.cli import COMMANDS, main
from settlement_research.errors import DataError, InputError, SettlementResearchError

FLAT_HEADER = '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr","naringsregion_nr","bydel_nr"\n'
FLAT_ROWS = (
    '"2014","NULL","anmodning","personer","35","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","22","bosatt_anmodede","0101","NULL","NULL"\n'
)
RAW_WIDE = (  # '...;Ulvik;10;...' is the row; cut it to '...;Ulvik;1' below
    '"Kommune nr & navn";"kommune_nr";"Kommune navn";"bosetting.anmodning";"bosetting.vedtak"\r\n'
    '"";"";"";"enhet.personer";"enhet.personer"\r\n'
    '"1201 Bergen";"1201";"Bergen";"250";"250"\r\n'
    '"1233 Ulvik";"1233";"Ulvik";"10";"10"\r\n'
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(err: str, code: int, expected: int) -> None:
    assert "Traceback" not in err, err
    assert code == expected, err
    assert "error:" in err or "usage:" in err, err


# --- the boundary itself -----------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"settlement-research {settlement_research.__version__}"


def test_the_entry_point_is_still_cli_main() -> None:
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8")
    assert 'settlement-research = "settlement_research.cli:main"' in text
    assert cli.main is main


def test_python_dash_m_runs_the_package(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "settlement_research.cli", "--version"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("settlement-research ")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_with_a_bad_argument_gives_usage_and_exit_2(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, _, err = run(capsys, command, "--no-such-option")
    assert_clean(err, code, 2)
    assert f"settlement-research {command}" in err


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("variable", "value"), [
    ("SETTLEMENT_RESEARCH_SDC_THRESHOLD", "abc"),
    ("SETTLEMENT_RESEARCH_SDC_THRESHOLD", "0"),
    ("SETTLEMENT_RESEARCH_PERSON_ID_PATTERN", "(unclosed"),
    ("SETTLEMENT_RESEARCH_BUILD_PAUSE_AFTER_FIRST_TABLE", "inf"),
])
def test_a_malformed_environment_setting_is_named_before_any_command_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = run(capsys, command)
    assert_clean(err, code, 2)
    assert variable in err and repr(value) in err and out == ""


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "nosuch")
    assert_clean(err, code, 2)
    assert "unknown command 'nosuch'" in err


class _Boom:
    CLI_HELP = "raise what the test asks for"
    exc: BaseException = RuntimeError("boom")

    @staticmethod
    def cli_add_arguments(parser: object) -> None:
        return None

    @classmethod
    def cli_run(cls, args: object) -> int:
        raise cls.exc


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> type[_Boom]:
    monkeypatch.setitem(sys.modules, "settlement_research_test_boom", _Boom)  # type: ignore[arg-type]
    monkeypatch.setitem(COMMANDS, "boom", ("settlement_research_test_boom", _Boom.CLI_HELP))
    return _Boom


@pytest.mark.parametrize(("exc", "expected"), [
    (DataError("a rule is broken", file="t.csv", line=4, column="settled", hint="fix row 3"), 1),
    (InputError("no such table", key="nosuch"), 2),
])
def test_domain_errors_are_one_paragraph(capsys: pytest.CaptureFixture[str], boom: type[_Boom],
                                         exc: SettlementResearchError, expected: int) -> None:
    boom.exc = exc
    code, out, err = run(capsys, "boom")
    assert_clean(err, code, expected)
    assert err.startswith("settlement-research boom: error: ") and out == ""
    assert len(err.strip().splitlines()) <= 3
    if expected == 1:
        assert "t.csv, line 4, column settled: a rule is broken" in err and "hint: fix row 3" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], boom: type[_Boom]) -> None:
    boom.exc = DataError("a rule is broken")
    code, _, err = run(capsys, "--debug", "boom")
    assert code == 1 and "Traceback" in err and "a rule is broken" in err
    code, _, err = run(capsys, "boom", "--debug")
    assert code == 1 and "Traceback" in err


def test_an_unexpected_exception_is_a_bug_with_its_traceback(capsys: pytest.CaptureFixture[str],
                                                             boom: type[_Boom]) -> None:
    boom.exc = ZeroDivisionError("division by zero")
    code, _, err = run(capsys, "boom")
    assert code == 70 and "Traceback" in err and "ZeroDivisionError" in err
    assert "This is a bug in settlement-research" in err and "please report it" in err


def test_memory_error_is_a_message(capsys: pytest.CaptureFixture[str], boom: type[_Boom]) -> None:
    boom.exc = MemoryError()
    code, _, err = run(capsys, "boom")
    assert_clean(err, code, 2)
    assert "more memory than this machine has" in err


def test_an_oversized_report_grid_never_surfaces_a_memory_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from settlement_research.reports import batch

    def too_big(*args: object, **kwargs: object) -> list[dict[str, str]]:
        raise MemoryError

    monkeypatch.setattr(batch, "expand_grid", too_big)
    code, _, err = run(capsys, "report", "municipality_profile", "--grid", "year=1..99999",
                       "--grid", "x=1..99999", "--no-progress")
    assert_clean(err, code, 2)


# --- the exception classes ---------------------------------------------------------------------


def test_every_domain_error_shares_the_base_and_keeps_its_builtin_base() -> None:
    from settlement_research.build import BuildError
    from settlement_research.catalog import CatalogError
    from settlement_research.harmonize import HarmonizeError
    from settlement_research.sources.http import HttpError
    from settlement_research.sources.imdi.layouts import LayoutError
    from settlement_research.validation import DataValidationError, UnreadableFileError

    builtin = {
        HarmonizeError: ValueError, HttpError: RuntimeError, LayoutError: ValueError,
        BuildError: RuntimeError, CatalogError: KeyError, DataValidationError: ValueError,
        UnreadableFileError: OSError,
    }
    for cls, base in builtin.items():
        assert issubclass(cls, SettlementResearchError) and issubclass(cls, base), cls
        err = cls("plain message")
        assert str(err) == "plain message" and err.exit_code in (1, 2)
    assert DataValidationError("x").exit_code == 1 and UnreadableFileError("x").exit_code == 2


def test_notebook_01_catches_a_missing_national_table_as_key_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from settlement_research import catalog
    from settlement_research.testing import valid_frame

    folder = tmp_path / "clean" / "imdi"
    folder.mkdir(parents=True)
    valid_frame("kommune_settlement_year", n=3).write_parquet(folder / "kommune_settlement_year.parquet")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "clean"))
    try:  # exactly the notebook's cell
        national = catalog.load("national_settlement_year", source="imdi")
    except (FileNotFoundError, KeyError) as exc:
        national = None
        assert "national_settlement_year" in str(exc) and not str(exc).startswith("'")
    assert national is None


# --- import-imdi -------------------------------------------------------------------------------


@pytest.fixture
def imdi_out(tmp_path: Path) -> Path:
    """An import folder holding an earlier good import (a stand-in file): it must survive."""
    out = tmp_path / "imdi"
    out.mkdir()
    (out / "kommune_settlement_year.parquet").write_bytes(b"earlier import")
    return out


def _import(capsys: pytest.CaptureFixture[str], out: Path, *files: Path) -> tuple[int, str]:
    code, _, err = run(capsys, "import-imdi", *files, "--out", out)
    assert (out / "kommune_settlement_year.parquet").read_bytes() == b"earlier import"
    return code, err


def test_import_unknown_layout(capsys: pytest.CaptureFixture[str], tmp_path: Path, imdi_out: Path) -> None:
    file = tmp_path / "other.csv"
    file.write_text("a;b;c\n1;2;3\n", "utf-8")
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)
    assert "not a known IMDi layout" in err


def test_import_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, imdi_out: Path) -> None:
    file = tmp_path / "bosatt_anmodede.csv"
    file.write_bytes(b"")
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)
    assert "bosatt_anmodede.csv: the file is empty" in err


def test_import_random_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path, imdi_out: Path) -> None:
    rng = random.Random(10)
    file = tmp_path / "bosatt_anmodede.csv"
    file.write_bytes(bytes(rng.randrange(256) for _ in range(5000)))
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)
    assert "not supported" in err or "binary" in err


def test_import_utf16(capsys: pytest.CaptureFixture[str], tmp_path: Path, imdi_out: Path) -> None:
    file = tmp_path / "09_1-bosatt_anmodede-kommune-2014.csv"
    file.write_bytes(RAW_WIDE.encode("utf-16"))
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)
    assert "UTF-16" in err and "not supported" in err


def test_import_two_files_of_the_same_name(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          imdi_out: Path) -> None:
    files = []
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        files.append(tmp_path / sub / "bosatt_anmodede.csv")
        files[-1].write_text(FLAT_HEADER + FLAT_ROWS, "utf-8")
    code, err = _import(capsys, imdi_out, *files)
    assert_clean(err, code, 2)
    assert "two input files share the name bosatt_anmodede.csv" in err


def test_import_two_exports_joined_with_cat(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           imdi_out: Path) -> None:
    file = tmp_path / "bosatt_anmodede.csv"
    file.write_text(FLAT_HEADER + FLAT_ROWS + FLAT_HEADER + FLAT_ROWS, "utf-8")
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)  # refused whole: import-imdi exits 2 for every damaged file
    assert "line 4 repeats the header of line 1" in err


def test_import_an_export_cut_inside_a_number(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             imdi_out: Path) -> None:
    file = tmp_path / "09_1-bosatt_anmodede-kommune-2014.csv"
    cut = RAW_WIDE[: RAW_WIDE.index('"Ulvik";"10"') + len('"Ulvik";"1')]
    file.write_bytes(cut.encode("latin-1"))
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)  # refused: an unusable (cut) file, nothing imported
    assert "line 4" in err and "cut short" in err


def test_import_a_real_export_cut_in_ulvik(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           imdi_out: Path, real_data: Path) -> None:
    raw = (real_data / "imdi_2015_raw" / "09_1-bosatt_anmodede-kommune-2014.csv").read_bytes()
    at = raw.index(b"Ulvik")
    row_end = raw.index(b"\n", at)
    cut = raw[:at] + raw[at:row_end].rsplit(b";", 3)[0][:-1]  # inside the Ulvik record
    file = tmp_path / "09_1-bosatt_anmodede-kommune-2014.csv"
    file.write_bytes(cut)
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)  # refused: an unusable (cut) file, nothing imported
    assert "cut short" in err or "fields" in err


def test_import_utf8_export_with_one_latin1_byte(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                imdi_out: Path) -> None:
    rows = FLAT_ROWS.replace("bosatt_anmodede", "bosatt_anmodede_ø", 1).replace("personer", "personer_\udcf8", 1)
    data = (FLAT_HEADER + rows).encode("utf-8", errors="surrogateescape")
    file = tmp_path / "bosatt_anmodede.csv"
    file.write_bytes(data)
    code, err = _import(capsys, imdi_out, file)
    assert_clean(err, code, 2)  # refused whole: import-imdi exits 2 for every damaged file
    assert "line 2 is not valid UTF-8" in err


# --- build ---------------------------------------------------------------------------------------


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` refuse writes as a read-only folder does (root ignores chmod)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    real_open = builtins.open
    real_os_open = os.open

    def inside(path: object) -> bool:
        try:
            return Path(os.fspath(path)).resolve().is_relative_to(folder.resolve())  # type: ignore[arg-type]
        except TypeError:
            return False

    def refuse(path: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]

    def fake_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if inside(file) and any(m in mode for m in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    def fake_os_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def guard(real: object) -> object:
        def fake(path: object, *args: object, **kwargs: object) -> object:
            if inside(path):
                refuse(path)
            return real(path, *args, **kwargs)  # type: ignore[operator]
        return fake

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    for name in ("mkdir", "rename", "replace", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))


def test_build_into_a_read_only_data_clean(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    clean.mkdir()
    _read_only(monkeypatch, clean)
    code, _, err = run(capsys, "build", "--raw", raw, "--out", clean)
    monkeypatch.undo()
    assert_clean(err, code, 2)
    assert str(clean) in err and ("permission denied" in err or "read-only" in err)


def test_build_into_a_data_clean_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    clean.write_text("not a folder")
    code, _, err = run(capsys, "build", "--raw", raw, "--out", clean)
    assert_clean(err, code, 2)
    assert str(clean) in err


# --- report --------------------------------------------------------------------------------------


def test_report_for_an_unknown_source(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clean" / "synthetic").mkdir(parents=True)
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "clean"))
    code, _, err = run(capsys, "report", "municipality_profile", "--source", "nosuch",
                       "--grid", "kommune_nr=all", "--out", tmp_path / "out", "--no-progress")
    assert_clean(err, code, 2)
    assert "nosuch" in err and "synthetic" in err


# --- validate ------------------------------------------------------------------------------------


@pytest.fixture
def table_csv(tmp_path: Path) -> Path:
    from settlement_research.testing import valid_frame

    file = tmp_path / "kommune_settlement_year.csv"
    valid_frame("kommune_settlement_year", n=4).write_csv(file)
    return file


def test_validate_quarantine_pointing_at_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  table_csv: Path) -> None:
    (tmp_path / "q").mkdir()
    code, _, err = run(capsys, "validate", table_csv, "--quarantine", tmp_path / "q")
    assert_clean(err, code, 2)
    assert "is a folder" in err
    assert not list(tmp_path.glob("*.validation.*"))  # refused before any work


@pytest.mark.parametrize("where", ["file/sub", "/proc/no/such/place"])
def test_validate_report_at_an_impossible_path(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               table_csv: Path, where: str) -> None:
    (tmp_path / "file").write_text("x")
    target = tmp_path / where if not where.startswith("/") else Path(where)
    code, _, err = run(capsys, "validate", table_csv, "--report", target)
    assert_clean(err, code, 2)
    assert "--report" in err and "cannot create" in err


def test_validate_a_utf8_file_with_one_latin1_byte(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  table_csv: Path) -> None:
    lines = table_csv.read_bytes().split(b"\n")
    lines[1] = lines[1] + "ø".encode()  # UTF-8 on line 2 ...
    lines[3] = lines[3] + b"\xf8"  # ... Latin-1 on line 4
    table_csv.write_bytes(b"\n".join(lines))
    code, _, err = run(capsys, "validate", table_csv, "--report", tmp_path / "r")
    assert code == 1 and "Traceback" not in err
    report = json.loads((tmp_path / "r" / f"{table_csv.name}.validation.json").read_text("utf-8"))
    [problem] = report["tables"][0]["problems"]
    assert problem["rule"] == "text_format" and "line 4 is not valid UTF-8" in problem["message"]


def test_validate_line_numbers_after_a_quoted_newline(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    from settlement_research.testing import valid_frame

    frame = valid_frame("kommune", n=4).with_columns(
        kommune_name=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("Two\nlines")).otherwise(pl.col("kommune_name")),
        kommune_nr=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("٠٣٠١")).otherwise(pl.col("kommune_nr")),
    )
    file = tmp_path / "kommune.csv"
    frame.write_csv(file)
    code, _, _ = run(capsys, "validate", file, "--report", tmp_path, "--quarantine", tmp_path / "q.csv")
    assert code == 1
    report = json.loads((tmp_path / "kommune.csv.validation.json").read_text("utf-8"))
    problem = next(p for p in report["tables"][0]["problems"] if p["column"] == "kommune_nr")
    # data row 3 starts on file line 5: the header, row 1 (two lines), row 2, then row 3
    assert problem["row_numbers"] == [3] and problem["examples"][0]["row"] == 3
    assert problem["examples"][0]["line"] == 5
    q = pl.read_csv(tmp_path / "q.csv", infer_schema=False)
    assert q["row_nr"].to_list() == ["3"] and q["line"].to_list() == ["5"]
