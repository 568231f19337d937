"""The attacker in the test suite: templates that leak, and the gate that withholds them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from settlement_research import sdc
from settlement_research.reports.index import write_index
from settlement_research.reports.runner import Renderer, load_template

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


def test_identifiers_are_the_values_in_the_declared_columns(clean_env: Path) -> None:
    ids = sdc.audit.identifier_values()
    assert "P000001" in ids and len(ids) == 80  # every settled person of the fixture
    assert "0301" not in ids and "Oslo" not in ids


def test_person_rows_on_the_page_and_an_id_in_results_are_withheld(
    renderer: Renderer, clean_env: Path, tmp_path: Path
) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "leaky_rows.py"), {"kommune_nr": "0301"}, tmp_path)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or "")
    assert {f["where"] for f in outcome.findings if f["kind"] == "identifier"} >= {"html", "results.json", "notebook"}
    assert not list(tmp_path.iterdir())  # page, notebook and results withheld
    assert "P0000" not in json.dumps(outcome.to_dict())  # not even in the findings


def test_a_plain_table_of_small_counts_is_withheld(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "plain_counts.py"), {}, tmp_path)
    assert outcome.status == "failed"
    assert {f["kind"] for f in outcome.findings} == {"small_count"}  # Kvinesdal's 3, in a plain cell
    assert not list(tmp_path.iterdir())


def test_an_error_message_with_an_id_is_scrubbed_everywhere(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "fails_with_id.py"), {}, tmp_path)
    assert outcome.status == "failed"
    assert "P000001" not in (outcome.error or "") and "[id]" in (outcome.error or "")
    assert not (tmp_path / "fails_with_id.html").exists()  # the traceback on the page named the person
    manifest = {"template": "t", "reports": [{"name": "x", "parameters": {}, "status": "failed",
                                              "error": "KeyError: 'P000002' and H10000001"}]}
    sdc.audit.scrub_manifest(manifest)
    assert manifest["reports"][0]["error"] == "KeyError: '[id]' and [id]"
    assert "P000002" not in write_index(manifest)


def test_to_html_refuses_unmarked_small_numbers_and_undeclared_public_columns() -> None:
    import polars as pl

    frame = pl.DataFrame({"kommune_nr": ["0301", "1037"], "persons": [40, 3]})
    with pytest.raises(ValueError, match="neither suppressed nor declared public"):
        sdc.to_html(frame)
    with pytest.raises(ValueError, match="not a column the models declare public"):
        sdc.to_html(frame, public=["persons"])
    page = sdc.to_html(frame.rename({"persons": "requested"}), public=["requested"]).html
    assert re.search(r'<td data-sdc="public" data-sdc-sig="[0-9a-f]+" data-sdc-public="kommune_settlement_year.requested">3</td>', page) and sdc.check_html(page) == []
