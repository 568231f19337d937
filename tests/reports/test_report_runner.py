"""One notebook at a time: string parameters, outputs, results.json, disclosure, isolation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from settlement_research import cli
from settlement_research.reports import engine
from settlement_research.reports.runner import Renderer, load_template, parse_parameters

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


def _sdc_cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-sdc="(\w+)"[^>]*>([^<]*)<', html)


def test_profile_writes_notebook_html_and_results_with_string_parameters(
    renderer: Renderer, clean_env: Path, tmp_path: Path
) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "profile.py"), {"kommune_nr": "0301"}, tmp_path)
    assert outcome.status == "ok", outcome.error
    assert outcome.results is not None
    assert outcome.results["kommune_nr"] == "0301"  # never 301
    assert outcome.results["settled"] == 40
    assert json.loads((tmp_path / "profile.results.json").read_text())["kommune_nr"] == "0301"
    nb = nbformat.read(tmp_path / "profile.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "kommune_nr = '0301'" in injected[0].source  # the repr of a str
    assert nb.metadata["papermill"]["parameters"] == {"kommune_nr": "0301"}
    html = (tmp_path / "profile.html").read_text()
    assert "Profile of 0301" in html
    assert "import polars" not in html and "save_results(" not in html  # no code cells
    assert "<svg" in html and "<text" in html and "data:image/png" not in html  # charts: SVG, text as text
    assert "cdnjs" not in html and "<script src=" not in html  # opens offline
    assert ("count", "14") in _sdc_cells(html)


def test_small_municipality_shows_colon_not_three(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "profile.py"), {"kommune_nr": "1037"}, tmp_path)
    assert outcome.status == "ok", outcome.error
    assert outcome.results and outcome.results["settled"] is None
    cells = _sdc_cells((tmp_path / "profile.html").read_text())
    assert cells and all(value == ":" for kind, value in cells if kind == "suppressed")
    assert not [v for k, v in cells if k == "count" and v.strip() not in ("0", "")]
    assert outcome.findings == []


def test_leaky_template_is_failed_and_withheld(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "leaky.py"), {"kommune_nr": "1037"}, tmp_path)
    assert outcome.status == "failed"
    assert {f["kind"] for f in outcome.findings} == {"identifier", "small_count", "forged_mark"}  # a hand-made mark
    assert "results.settled" in {f["where"] for f in outcome.findings}  # results.json is checked too
    assert "disclosure check failed" in (outcome.error or "")
    assert not list(tmp_path.iterdir())  # html, ipynb and results all withheld
    # the same template with a large municipality still leaks person ids
    outcome = renderer.render(load_template(NOTEBOOKS / "leaky.py"), {"kommune_nr": "0301"}, tmp_path)
    assert {f["kind"] for f in outcome.findings} == {"identifier", "forged_mark"}, outcome


def test_failing_notebook_is_reported_not_raised(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    template = load_template(NOTEBOOKS / "fails.py")
    outcome = renderer.render(template, {"kommune_nr": "0301", "fail_on": "0301"}, tmp_path)
    assert outcome.status == "failed"
    assert outcome.error and outcome.error.startswith("RuntimeError: deliberate failure for 0301")
    assert "deliberate failure" in (tmp_path / "fails.html").read_text()  # the error is in the page
    ok = renderer.render(template, {"kommune_nr": "0301"}, tmp_path)
    assert ok.status == "ok" and {k: v for k, v in (ok.results or {}).items() if k not in ("provenance", "data")} == {
        "kommune_nr": "0301", "length": 4}


def test_every_output_carries_provenance(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    import platform

    ok = renderer.render(load_template(NOTEBOOKS / "fails.py"), {"kommune_nr": "0301"}, tmp_path)
    block = (ok.results or {})["provenance"]
    assert block["parameters"] == {"kommune_nr": "0301"}
    assert block["versions"]["python"] == platform.python_version()
    assert {"polars", "pandera", "statsmodels", "pyfixest"} <= {k for k, v in block["versions"].items() if v}
    assert set(block) >= {"git_commit", "git_dirty", "data_manifest_sha256", "seed"}
    page = (tmp_path / "fails.html").read_text("utf-8")
    assert '<footer class="provenance"' in page and "kommune_nr=0301" in page
    assert page.index('<footer class="provenance"') < page.index("</body>")


def test_parameters_must_be_strings(renderer: Renderer, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="strings"):
        renderer.render(load_template(NOTEBOOKS / "fails.py"), {"kommune_nr": 301}, tmp_path)  # type: ignore[dict-item]
    assert parse_parameters(["kommune_nr=0301", "label=a=b"]) == {"kommune_nr": "0301", "label": "a=b"}


def test_state_does_not_leak_between_reports(renderer: Renderer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_state, check_state = load_template(NOTEBOOKS / "set_state.py"), load_template(NOTEBOOKS / "check_state.py")
    assert renderer.render(set_state, {}, tmp_path / "a").status == "ok"
    outcome = renderer.render(check_state, {}, tmp_path / "b")
    assert outcome.status == "ok", outcome.error
    # control: without the reset the check template does see the leaks
    baseline = engine.snapshot()
    monkeypatch.setattr(engine, "reset_state", lambda _baseline: None)
    renderer.render(set_state, {}, tmp_path / "c")
    leaked = renderer.render(check_state, {}, tmp_path / "d")
    monkeypatch.undo()
    engine.reset_state(baseline)
    assert leaked.status == "failed" and "global" in (leaked.error or "") and "rcParams" in (leaked.error or "")


def test_cli_run_notebook(clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["run-notebook", str(NOTEBOOKS / "profile.py"), "-p", "kommune_nr=0501", "--out", str(tmp_path)])
    assert rc == 0, capsys.readouterr().out
    assert json.loads((tmp_path / "profile.results.json").read_text())["kommune_nr"] == "0501"
    assert cli.main(["run-notebook", "no_such_notebook"]) == 2
    assert cli.main(["run-notebook", str(NOTEBOOKS / "fails.py"), "-p", "fail_on=0301", "--out", str(tmp_path)]) == 1


@pytest.mark.slow
def test_kernel_engine_gives_the_same_results(clean_env: Path, tmp_path: Path) -> None:
    outcome = Renderer("kernel").render(load_template(NOTEBOOKS / "profile.py"), {"kommune_nr": "0301"}, tmp_path)
    assert outcome.status == "ok", outcome.error
    assert outcome.results and outcome.results["kommune_nr"] == "0301" and outcome.results["settled"] == 40
    assert "<svg" in (tmp_path / "profile.html").read_text()  # the kernel draws SVG too
