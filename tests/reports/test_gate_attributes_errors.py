"""More places a small count was published unread: a hover (title) or image description, the text of
a failing notebook's error (index.html, manifest.json, console), and a results.json that lists a
person count under '_public' itself instead of through save_results' check."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.reports.runner import Renderer, load_template
from settlement_research.sdc import audit

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


@pytest.mark.parametrize(("how", "kind"), [("title", "small_count"), ("alt", "small_count"),
                                           ("error", "small_count"), ("public_undeclared", "forged_mark"),
                                           ("style", "small_count"), ("script", "unreadable_cell"),
                                           ("onload", "unreadable_cell"), ("js_link", "unreadable_cell")])
def test_withheld(renderer: Renderer, clean_env: Path, tmp_path: Path, how: str, kind: str) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "leaky_misc.py"), {"how": how}, tmp_path)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or ""), outcome.error
    assert kind in {f["kind"] for f in outcome.findings}
    assert not list(tmp_path.iterdir())
    assert " 3 " not in (outcome.error or "")  # Kvinesdal's 3 never reaches the manifest or the console


def test_scrub_counts_keeps_years_and_codes() -> None:
    text = "ValueError: Kvinesdal (1037) settled only 3 refugees in 2012; 3 years"
    assert audit.scrub_counts(text, 5) == "ValueError: Kvinesdal (1037) settled only <5 refugees in 2012; 3 years"


def test_escaped_markup_is_text(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "leaky_misc.py"), {"how": "escaped_markup"}, tmp_path)
    assert outcome.status == "ok" and outcome.findings == [], outcome.findings
