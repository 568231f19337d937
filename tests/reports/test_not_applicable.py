"""A notebook whose design needs tables its source lacks stops in one line and is not a failure.

Notebook 02 on IMDi's published statistics (no person-level register) stops this way; notebook 05
skips its cells with the same one line (``catalog.needs_note``). Both end "ok" (exit 0).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from settlement_research import catalog
from settlement_research.reports.runner import Renderer, load_template

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


def _outputs(ipynb: Path) -> list[dict]:
    nb = nbformat.read(ipynb, as_version=4)
    return [o for c in nb.cells for o in c.get("outputs", [])]


def test_needs_note_names_nothing_when_the_tables_are_there(clean_env: Path) -> None:
    assert catalog.missing_tables(["kommune", "settlement", "person"], "synthetic") == ["person"]
    assert catalog.needs_note(["kommune", "settlement"], "synthetic", "register") is None
    note = catalog.needs_note(["person"], "synthetic", "person-level register")
    assert note == "Source `synthetic` has no person-level register: this design cannot be run on it."
    assert catalog.NotApplicable(note)._render_traceback_() == [note]  # one line, no traceback


def test_missing_register_stops_in_one_line_and_is_ok(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    template = load_template(NOTEBOOKS / "needs_register.py")
    outcome = renderer.render(template, {"source": "synthetic", "needs": "settlement,person"}, tmp_path)
    assert outcome.status == "ok" and outcome.error is None
    assert outcome.results and outcome.results["not_applicable"].startswith("Source `synthetic` has no person-level")
    outputs = _outputs(tmp_path / "needs_register.ipynb")
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["traceback"] == [outcome.results["not_applicable"]]
    assert not any("the design ran" in o.get("text", "") for o in outputs)  # stopped there
    html = (tmp_path / "needs_register.html").read_text("utf-8")
    assert "has no person-level register: this design cannot be run on it." in html and "Traceback" not in html


def test_with_the_tables_the_notebook_runs_on_and_other_errors_still_fail(
    renderer: Renderer, clean_env: Path, tmp_path: Path
) -> None:
    template = load_template(NOTEBOOKS / "needs_register.py")
    ran = renderer.render(template, {"source": "synthetic", "needs": "settlement"}, tmp_path / "a")
    assert ran.status == "ok" and ran.results and ran.results["not_applicable"] is None
    assert any("the design ran" in o.get("text", "") for o in _outputs(tmp_path / "a" / "needs_register.ipynb"))
    bad = renderer.render(template, {"source": "synthetic", "needs": "no_such_table"}, tmp_path / "b")
    assert bad.status == "failed" and bad.error and "no_such_table" in bad.error  # a misspelt table is a bug
