"""`settlement-research validate`: exit codes, the HTML/JSON report and the quarantine file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import polars as pl
import pytest

from settlement_research import cli
from settlement_research.problems import Problem
from settlement_research.validation_report import infer_table

VENV_SCRIPT = Path(sys.executable).parent / "settlement-research"


def problem_blocks(html: str) -> list[str]:
    """Each problem's block, up to its closing tag (the rules table further down repeats messages)."""
    return [b.split("</div>", 1)[0] for b in html.split('<div class="problem')[1:]]


def block_for(html: str, text: str) -> str:
    found = [b for b in problem_blocks(html) if text in b]
    assert len(found) == 1, f"{text!r} not found once in the report"
    return found[0]


def failing_rows_in(block: str) -> list[int]:
    match = re.search(r"failing row\(s\): row ([\d, ]+)", block)
    assert match, block
    return [int(x) for x in match.group(1).split(", ")]


def write_done_when(frame: pl.DataFrame, folder: Path) -> Path:
    file = folder / "kommune_settlement_year_2014.csv"
    frame.write_csv(file, separator=";")
    return file


def test_done_when_report_names_all_four_problems_with_rows(tmp_path: Path, done_when_frame, capsys) -> None:
    file = write_done_when(done_when_frame, tmp_path)
    assert cli.main(["validate", str(file)]) == 1
    html = (tmp_path / "kommune_settlement_year_2014.csv.validation.html").read_text("utf-8")
    assert "INVALID" in html.split("<h2")[0]

    zero = block_for(html, "must be a 4-digit municipality code like 0301")
    assert "a leading zero was probably lost (0301?)" in zero
    assert failing_rows_in(zero) == [2]
    assert "<td>301</td>" in zero

    dup = block_for(html, "duplicate key (kommune_nr, year): 2 rows share it")
    assert failing_rows_in(dup) == [3, 4]

    negative = block_for(html, "must be at least 0")
    assert "<code>settled</code>" in negative and failing_rows_in(negative) == [5]

    status = block_for(html, "decision_status disagrees with requested/decided")
    assert failing_rows_in(status) == [6]

    report = json.loads((tmp_path / "kommune_settlement_year_2014.csv.validation.json").read_text("utf-8"))
    assert report["verdict"] == "INVALID" and report["rows_checked"] == 7
    rules = {p["rule"]: p["row_numbers"] for p in report["tables"][0]["problems"]}
    assert len(rules) == 4 == report["n_errors"]
    assert rules["str_matches"] == [2] and rules["unique_key"] == [3, 4]
    assert rules["greater_than_or_equal_to"] == [5] and rules["decision_status_agrees"] == [6]

    out = capsys.readouterr().out
    assert "INVALID" in out and "a leading zero was probably lost" in out


def test_done_when_via_the_installed_console_script(tmp_path: Path, done_when_frame) -> None:
    if not VENV_SCRIPT.exists():
        pytest.skip("console script not installed in this environment")
    file = write_done_when(done_when_frame, tmp_path)
    run = subprocess.run(
        [str(VENV_SCRIPT), "validate", str(file), "--report", str(tmp_path / "rep")],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1, run.stderr
    html = (tmp_path / "rep" / "kommune_settlement_year_2014.csv.validation.html").read_text("utf-8")
    for text, rows in [
        ("must be a 4-digit municipality code", [2]), ("duplicate key", [3, 4]),
        ("must be at least 0", [5]), ("decision_status disagrees", [6]),
    ]:
        assert failing_rows_in(block_for(html, text)) == rows
    assert "INVALID" in run.stdout


def test_valid_file_exits_zero(tmp_path: Path, good_frame) -> None:
    file = tmp_path / "kommune_settlement_year.parquet"
    good_frame.write_parquet(file)
    assert cli.main(["validate", str(file), "--report", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "kommune_settlement_year.parquet.validation.json").read_text("utf-8"))
    assert report["verdict"] == "VALID" and report["n_errors"] == 0
    assert "VALID" in (tmp_path / "r" / "kommune_settlement_year.parquet.validation.html").read_text("utf-8")


def test_unreadable_file_exits_two(tmp_path: Path, capsys) -> None:
    file = tmp_path / "kommune_settlement_year.parquet"
    file.write_bytes(b"not parquet at all")
    assert cli.main(["validate", str(file)]) == 2
    assert str(file) in capsys.readouterr().err


@pytest.mark.parametrize("argv_tail", [["--table", "no_such_table"], []])
def test_unknown_table_exits_two_and_lists_known_tables(tmp_path: Path, good_frame, capsys, argv_tail) -> None:
    file = tmp_path / "mystery.csv"
    good_frame.write_csv(file)
    assert cli.main(["validate", str(file), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert "kommune_settlement_year" in err and "household_member" in err


def test_table_option_overrides_the_file_name(tmp_path: Path, good_frame) -> None:
    file = tmp_path / "mystery.csv"
    good_frame.write_csv(file)
    assert cli.main(["validate", str(file), "--table", "kommune_settlement_year"]) == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_quarantine_holds_exactly_the_failing_rows(tmp_path: Path, done_when_frame, suffix: str) -> None:
    file = write_done_when(done_when_frame, tmp_path)
    quarantine = tmp_path / f"quarantine{suffix}"
    assert cli.main(["validate", str(file), "--quarantine", str(quarantine)]) == 1
    failing = pl.read_csv(quarantine, infer_schema=False) if suffix == ".csv" else pl.read_parquet(quarantine)
    # 1-based, the same numbers as the HTML, JSON and console (rows 2-6 of the file's data)
    assert [int(r) for r in failing["row_nr"]] == [2, 3, 4, 5, 6]
    if suffix == ".csv":  # a CSV input also gets each row's file line (header = line 1)
        assert [int(r) for r in failing["line"]] == [3, 4, 5, 6, 7]
    report = json.loads((tmp_path / f"{file.name}.validation.json").read_text("utf-8"))
    numbered = {n for p in report["tables"][0]["problems"] for n in p["row_numbers"]}
    assert numbered == {int(r) for r in failing["row_nr"]}
    assert failing["reason"].null_count() == 0
    assert failing["kommune_nr"][0] == "301"
    assert "duplicate key" in failing["reason"][1] and "must be at least 0" in failing["reason"][3]

    from settlement_research.validation import read_table, validate

    result = validate(read_table(file), "kommune_settlement_year", source=file)
    assert result.valid_rows.height + result.failing_rows.height == done_when_frame.height
    assert result.valid_rows["kommune_nr"].to_list() == ["0301", "1804"]


def test_infer_table_takes_the_longest_match() -> None:
    assert infer_table("kommune_settlement_year_2014.csv") == "kommune_settlement_year"
    assert infer_table("x/kommune_settlement_year.parquet") == "kommune_settlement_year"
    assert infer_table("kommune.v2.csv") == "kommune"
    assert infer_table("kommune_nord.csv") == "kommune"
    assert infer_table("kommunes.csv") is None
    assert infer_table("household_member.csv") == "household_member"


@pytest.fixture
def fake_relations(monkeypatch):
    """A stand-in settlement_research.relations whose one rule flags row 2 of kommune_settlement_year."""
    module = types.ModuleType("settlement_research.relations")
    seen: dict = {}

    def check_relations(tables, *, national_tolerance=0.05):
        seen.update(tables)
        return [
            Problem(rule="kommune_known", table="kommune_settlement_year", column="kommune_nr",
                    message="kommune_nr is not in the kommune table", n_rows=1, rows=[1]),
            Problem(rule="national_sum", table="national_settlement_year", severity="warning",
                    message="municipality sums differ from the national row by 7 %"),
        ]

    module.check_relations = check_relations
    monkeypatch.setitem(sys.modules, "settlement_research.relations", module)
    return seen


def test_folder_validates_every_table_and_adds_relations(tmp_path: Path, good_frame, fake_relations) -> None:
    folder = tmp_path / "synthetic"
    folder.mkdir()
    good_frame.write_parquet(folder / "kommune_settlement_year.parquet")
    pl.DataFrame({"husbanken_region": ["ost"], "imdi_region": ["ost"], "dimension": ["plan"],
                  "level": ["9"], "label": ["no"], "observed_on": ["2014-06-30"]}).write_csv(
        folder / "region_pair_coordination.csv")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    quarantine = tmp_path / "q"
    assert cli.main(["validate", str(folder), "--quarantine", str(quarantine)]) == 1
    assert set(fake_relations) == {"kommune_settlement_year", "region_pair_coordination"}
    report = json.loads((tmp_path / "synthetic.validation.json").read_text("utf-8"))
    tables = {t["table"]: t for t in report["tables"]}
    assert set(tables) == {"kommune_settlement_year", "region_pair_coordination", "national_settlement_year"}
    assert [p["rule"] for p in tables["kommune_settlement_year"]["problems"]] == ["kommune_known"]
    assert tables["national_settlement_year"]["n_warnings"] == 1
    html = (tmp_path / "synthetic.validation.html").read_text("utf-8")
    assert "kommune_nr is not in the kommune table" in html and "must be at most 3" in html
    assert pl.read_parquet(quarantine / "kommune_settlement_year.parquet")["row_nr"].to_list() == [2]
    assert pl.read_csv(quarantine / "region_pair_coordination.csv")["row_nr"].to_list() == [1]


def test_empty_folder_exits_two(tmp_path: Path, capsys) -> None:
    assert cli.main(["validate", str(tmp_path)]) == 2
    assert "no table files" in capsys.readouterr().err


def test_folder_of_consistent_tables_with_the_real_relations(tmp_path: Path, capsys) -> None:
    testing = pytest.importorskip("settlement_research.testing")
    pytest.importorskip("settlement_research.relations")
    folder = tmp_path / "synthetic"
    folder.mkdir()
    tables = testing.make_aggregates(n_kommuner=8) | testing.make_register(60)
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
    assert cli.main(["validate", str(folder)]) == 0, capsys.readouterr().out
    report = json.loads((tmp_path / "synthetic.validation.json").read_text("utf-8"))
    assert report["n_tables"] == len(tables) and report["verdict"] == "VALID"

    # a settlement in a municipality code that does not exist: only the relations can see it
    bad = tables["settlement"].with_columns(
        kommune_nr=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("0999")).otherwise("kommune_nr")
    )
    bad.write_parquet(folder / "settlement.parquet")
    assert cli.main(["validate", str(folder), "--quarantine", str(tmp_path / "q")]) == 1
    report = json.loads((tmp_path / "synthetic.validation.json").read_text("utf-8"))
    [settlement] = [t for t in report["tables"] if t["table"] == "settlement"]
    assert settlement["verdict"] == "INVALID"
    assert any(2 in [r - 1 for r in p["row_numbers"]] for p in settlement["problems"])
    assert 3 in pl.read_parquet(tmp_path / "q" / "settlement.parquet")["row_nr"].to_list()


def test_report_never_shows_person_ids(tmp_path: Path) -> None:
    from settlement_research.problems import ValidationResult
    from settlement_research.validation_report import write_report

    problem = Problem(rule="r", message="spells overlap", table="housing_spell", n_rows=1, rows=[0],
                      examples=[{"row": 1, "person_id": "P1234567", "spell_no": 2}])
    content = write_report(ValidationResult(table="housing_spell", n_rows=3, problems=[problem]),
                           tmp_path / "r.html", tmp_path / "r.json")
    assert content["tables"][0]["problems"][0]["examples"][0]["person_id"] == "(hidden)"
    assert "P1234567" not in (tmp_path / "r.html").read_text("utf-8")
    assert "P1234567" not in (tmp_path / "r.json").read_text("utf-8")


def test_reports_on_data_raw_or_data_clean_files_never_land_in_those_folders(tmp_path: Path, monkeypatch) -> None:
    from settlement_research.validation_report import default_report_dir

    monkeypatch.setenv("SETTLEMENT_RESEARCH_HOME", str(tmp_path))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_RAW", raising=False)
    monkeypatch.delenv("SETTLEMENT_RESEARCH_CLEAN", raising=False)
    inside = tmp_path / "data_clean" / "synthetic" / "kommune.parquet"
    raw = tmp_path / "data_raw" / "imdi" / "bosatt.csv"
    elsewhere = tmp_path / "mine" / "kommune.csv"
    assert default_report_dir(inside) == tmp_path / "reports" / "validation"
    assert default_report_dir(raw) == tmp_path / "reports" / "validation"
    assert default_report_dir(tmp_path / "data_clean") == tmp_path / "reports" / "validation"
    assert default_report_dir(elsewhere) == tmp_path / "mine"
