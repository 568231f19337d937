"""An attacker passes parameters: keys that run code, paths as source, absurd grids, misspellings.

Each attempt must be refused before anything runs or is written (exit 2 on the command line,
``ParameterError`` through the Python API), and no file the attack would create may exist. The
controls show that the same attacks do run code when the guards are taken away, so these tests
can fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import polars as pl
import pytest

from settlement_research import cli
from settlement_research.reports import parameters as params
from settlement_research.reports.batch import MAX_REPORTS, count_values, parse_grid, run_batch
from settlement_research.reports.parameters import ParameterError, UnknownMunicipality
from settlement_research.reports.runner import KERNEL_NAME, Renderer, load_template, run_notebook

NOTEBOOKS = Path(__file__).parent / "notebooks"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def attacker(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from an empty folder (where ``touch`` would land), with the project's notebooks."""
    monkeypatch.setenv("SETTLEMENT_RESEARCH_HOME", str(REPO))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _pwned(work: Path, *names: str) -> list[Path]:
    """Files the attacks would create: in the working folder, next to the notebooks, at the root."""
    places = [work, REPO / "notebooks", NOTEBOOKS, REPO]
    return [p / n for p in places for n in names if (p / n).exists()]


KEY_ATTACKS = [
    "__import__('os').system('touch pwned');x=1",
    "!touch pwned2 #=1",
    "%system touch pwned3 #=1",
    "x=1\nimport os;os.system('touch pwned4');y=1",
    "class=1",  # a keyword: would be a syntax error in the injected cell
    "kommune nr=0301",
]


@pytest.mark.parametrize("pair", KEY_ATTACKS)
def test_key_injection_exits_2_and_creates_nothing(attacker: Path, pair: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = attacker / "out"
    assert cli.main(["run-notebook", "01_national_overview", "-p", pair, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a plain Python identifier" in err or "unknown parameter" in err
    assert "Valid parameters: first_year, last_year, source" in err
    assert not out.exists()
    assert _pwned(attacker, "pwned", "pwned2", "pwned3", "pwned4") == []


def test_grid_key_injection_and_misspelled_grid_key_exit_2(attacker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = attacker / "out"
    assert cli.main(["report", "municipality_profile", "--grid", "kommune=0301,1007", "--out", str(out),
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'kommune' (did you mean 'kommune_nr'?)" in err
    assert "Valid parameters: first_year, kommune_nr, lang, last_year, source" in err
    assert cli.main(["report", "municipality_profile", "--grid", "__import__('os').system('touch pwned');x=0301",
                     "--out", str(out), "--no-progress"]) == 2
    assert cli.main(["report", "municipality_profile", "--grid", "kommune_nr=0301", "-p",
                     "!touch pwned2 #=1", "--out", str(out), "--no-progress"]) == 2
    assert not out.exists() and _pwned(attacker, "pwned", "pwned2") == []


def test_misspelled_parameter_names_the_valid_ones(attacker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run-notebook", "municipality_profile", "-p", "komune_nr=1007", "--out", str(attacker / "o")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'kommune_nr'?" in err and "first_year, kommune_nr, lang, last_year, source" in err
    assert not (attacker / "o").exists()


@pytest.mark.parametrize("source", ["../..", "/tmp", "synthetic/../..", "./synthetic", "Synthetic", "", "imdi"])
def test_source_must_be_a_registered_name(attacker: Path, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = attacker / "out"
    assert cli.main(["run-notebook", "01_national_overview", "-p", f"source={source}", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "available sources: synthetic" in err or "registered sources: synthetic" in err
    assert not out.exists()


def test_the_python_api_refuses_what_the_cli_refuses(attacker: Path) -> None:
    out = attacker / "out"
    bad = [{"__import__('os').system('touch pwned');x": "1"}, {"source": "../.."}, {"kommune": "0301"},
           {"kommune_nr": "9999"}, {"kommune_nr": "301"}]
    for parameters in bad:
        with pytest.raises(ParameterError):
            run_notebook("municipality_profile", parameters, out)
        with pytest.raises(ParameterError):
            Renderer("inprocess").render(load_template("municipality_profile"), parameters, out)
        if parameters != {"kommune_nr": "9999"}:  # in a batch, that fails only its own report
            with pytest.raises(ParameterError):
                run_batch("municipality_profile", [{"kommune_nr": "0301"}, parameters], out, progress=False)
    assert not out.exists() and _pwned(attacker, "pwned") == []


def _tiny_notebook(tmp_path: Path) -> nbformat.NotebookNode:
    parameters = nbformat.v4.new_code_cell('x = "1"')
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell("y = x")])
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def test_the_inprocess_engine_refuses_keys_injected_by_papermill_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No path into the engine bypasses the check: papermill's own API, with its own injection."""
    Renderer("inprocess")  # registers the engine
    target = tmp_path / "pwned"
    attacks = {f"__import__('os').system('touch {target}');x": "1", f"!touch {target} #": "1"}
    for key, value in attacks.items():
        with pytest.raises(ParameterError):
            pm.execute_notebook(_tiny_notebook(tmp_path), str(tmp_path / "out.ipynb"), parameters={key: value},
                                engine_name="inprocess", kernel_name=KERNEL_NAME, progress_bar=False)
        assert not target.exists()
    # a declared name with a string value passes the same engine
    nb = pm.execute_notebook(_tiny_notebook(tmp_path), str(tmp_path / "ok.ipynb"), parameters={"x": "2"},
                             engine_name="inprocess", kernel_name=KERNEL_NAME, progress_bar=False)
    assert nb.cells[1].source.strip().endswith('x = "2"')
    # control: without the engine's check, papermill's injection runs the key as code
    from settlement_research.reports import engine

    monkeypatch.setattr(engine, "verify_injected", lambda nb, transform=None: None)
    key = f"__import__('os').system('touch {target}');x"
    pm.execute_notebook(_tiny_notebook(tmp_path), str(tmp_path / "control.ipynb"), parameters={key: "1"},
                        engine_name="inprocess", kernel_name=KERNEL_NAME, progress_bar=False)
    assert target.exists()


def test_the_worker_pool_refuses_a_hostile_job(clean_env: Path, tmp_path: Path) -> None:
    from settlement_research.reports.pool import Job, WorkerPool, WorkerSettings

    target = tmp_path / "pwned"
    jobs = [Job(0, str(NOTEBOOKS / "fails.py"), {f"__import__('os').system('touch {target}');x": "1"}, str(tmp_path), "bad"),
            Job(1, str(NOTEBOOKS / "fails.py"), {"kommune_nr": "0501"}, str(tmp_path), "good")]
    done: dict[str, dict] = {}
    WorkerPool(1, WorkerSettings()).run(jobs, lambda job, outcome: done.__setitem__(job.stem, outcome))
    assert done["bad"]["status"] == "failed" and "ParameterError" in done["bad"]["error"]
    assert done["good"]["status"] == "ok"
    assert not target.exists() and not list(tmp_path.glob("bad*"))


def test_values_stay_strings_whatever_they_hold(clean_env: Path, tmp_path: Path) -> None:
    hostile = "'; __import__('os').system('touch pwned'); x = '\\\" {pm} {label} $x <b>"
    out = tmp_path / "{label}"  # papermill would format the output path with the parameters
    outcome = run_notebook(NOTEBOOKS / "echo.py", {"label": hostile}, out)
    assert outcome.status == "ok", outcome.error
    assert json.loads((out / "echo.results.json").read_text("utf-8"))["label"] == hostile
    assert not (tmp_path / "pwned").exists() and not (NOTEBOOKS / "pwned").exists()
    for value in ("two\nlines", "bell\x07", "esc\x1b[31m", "x" * (params.MAX_VALUE_LENGTH + 1)):
        with pytest.raises(ParameterError):
            run_notebook(NOTEBOOKS / "echo.py", {"label": value}, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()


def test_declared_parameters_are_read_never_run(tmp_path: Path) -> None:
    assert load_template(NOTEBOOKS / "fails.py").declared == {
        "kommune_nr": "0301", "fail_on": "", "crash_on": "", "sleep_s": "0"}
    target = tmp_path / "ran"
    bad = tmp_path / "bad.py"
    bad.write_text(f'# %% tags=["parameters"]\nx = __import__("os").system("touch {target}")\n\n# %%\nx\n', "utf-8")
    with pytest.raises(ParameterError, match="string literal"):
        load_template(bad)
    bad.write_text('# %% tags=["parameters"]\nx = "1"\nprint(x)\n', "utf-8")
    with pytest.raises(ParameterError, match="line 2"):
        load_template(bad)
    assert not target.exists()


def test_grid_size_is_computed_before_anything_is_built(clean_env: Path) -> None:
    declared = {"first_year": "2009", "last_year": "2014", "kommune_nr": "0301"}
    assert count_values("last_year", "1..200000000") == 200_000_000
    with pytest.raises(ParameterError, match="200,000,000"):
        parse_grid(["last_year=1..200000000"], declared=declared)
    with pytest.raises(ParameterError, match="more than the limit"):  # 1e18 values: only counted
        parse_grid(["first_year=1..999999999", "last_year=1..999999999"], declared=declared)
    with pytest.raises(ParameterError, match=f"more than the limit of {MAX_REPORTS:,}"):  # 4 x 3000
        parse_grid(["kommune_nr=all", "last_year=1..3000"], declared=declared)
    assert len(parse_grid(["kommune_nr=all", "last_year=2012..2014"], declared=declared)["kommune_nr"]) == 4
    with pytest.raises(ParameterError, match="unknown parameter 'year'"):
        parse_grid(["year=2012..2014"], declared=declared)


@pytest.fixture()
def with_years(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny data_clean plus a municipality-year table covering 2010-2013."""
    import shutil

    clean = tmp_path / "clean"
    shutil.copytree(clean_env, clean)
    pl.DataFrame({"kommune_nr": ["0301"] * 4, "year": pl.Series([2010, 2011, 2012, 2013], dtype=pl.Int16)}).write_parquet(
        clean / "synthetic" / "kommune_settlement_year.parquet")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(clean))
    return clean


def test_years_are_bounded_by_the_data(with_years: Path) -> None:
    declared = {"source": "synthetic", "first_year": "2009", "last_year": "2014", "kommune_nr": "0301"}
    assert params.check({"first_year": "2010", "last_year": "2013"}, declared, "t") == {
        "first_year": "2010", "last_year": "2013"}
    for bad in ({"first_year": "2009"}, {"last_year": "2014"}, {"first_year": "0"}, {"first_year": "20100"},
                {"first_year": "2012", "last_year": "2011"}, {"first_year": " 2010"}):
        with pytest.raises(ParameterError):
            params.check(bad, declared, "t")


def test_an_unknown_municipality_is_its_own_error(clean_env: Path) -> None:
    declared = {"source": "synthetic", "kommune_nr": "0301"}
    assert params.check({"kommune_nr": "1037"}, declared, "t") == {"kommune_nr": "1037"}
    with pytest.raises(UnknownMunicipality, match="'9999'"):
        params.check({"kommune_nr": "9999"}, declared, "t")
    with pytest.raises(ParameterError) as shape:
        params.check({"kommune_nr": "301"}, declared, "t")
    assert not isinstance(shape.value, UnknownMunicipality)  # malformed: the whole batch is refused


def test_unknown_code_in_a_grid_fails_that_report_only(clean_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rc = cli.main(["report", str(NOTEBOOKS / "fails.py"), "--grid", "kommune_nr=0301,9999,0501", "--out", str(out),
                   "--workers", "1", "--no-progress"])
    assert rc == 1
    reports = {r["parameters"]["kommune_nr"]: r for r in json.loads((out / "manifest.json").read_text())["reports"]}
    assert reports["0301"]["status"] == "ok" and reports["0501"]["status"] == "ok"
    assert reports["9999"]["status"] == "failed"
    assert "unknown municipality kommune_nr='9999'" in reports["9999"]["error"]
    assert not list(out.glob("kommune_nr-9999*"))
    assert "unknown municipality" in (out / "index.html").read_text()



@pytest.mark.parametrize("digits", ["０３０１", "٠٣٠١", "०३०१"])
def test_non_ascii_digits_are_malformed_not_unknown(clean_env: Path, digits: str) -> None:
    """Full-width and other Unicode digits look like a code and int() accepts them; they are refused
    as malformed (the whole batch), never looked up or passed on as a year."""
    declared = {"source": "synthetic", "kommune_nr": "0301", "first_year": "2009", "last_year": "2014"}
    with pytest.raises(ParameterError, match="4 digits") as shape:
        params.check({"kommune_nr": digits}, declared, "t")
    assert not isinstance(shape.value, UnknownMunicipality)
    year = "２０１２"
    with pytest.raises(ParameterError, match="4 digits"):
        params.check({"first_year": year}, declared, "t")
    assert count_values("first_year", "２０１０..２０１２") == 1  # not a range: one (malformed) value
