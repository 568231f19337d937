"""The attacker of issue #9's remaining gaps, against the rendered gate: forged and replayed marks,
small counts outside table cells, counts in results.json outside ``_sdc``, identifiers split across
tags or drawn in a chart, and a count of one written as ``1.00``. Each must be withheld."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.reports.runner import Renderer, load_template

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("inprocess", sdc_threshold=5)


def withheld(renderer: Renderer, name: str, tmp_path: Path, **parameters: str) -> set[str]:
    outcome = renderer.render(load_template(NOTEBOOKS / f"{name}.py"), parameters, tmp_path)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or ""), outcome.error
    assert not list(tmp_path.iterdir())  # page, notebook and results withheld
    return {f["kind"] for f in outcome.findings}


def test_a_hand_written_mark_is_forged(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    assert withheld(renderer, "forged_marks", tmp_path) >= {"forged_mark", "small_count"}


def test_a_mark_from_another_render_does_not_verify(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    assert "forged_mark" in withheld(renderer, "replayed_mark", tmp_path)


@pytest.mark.parametrize("how", ["markdown", "print", "pandas", "header", "caption", "results", "decimals"])
def test_a_small_count_outside_a_table_cell_is_withheld(renderer: Renderer, clean_env: Path, tmp_path: Path,
                                                         how: str) -> None:
    assert withheld(renderer, "leaky_prose", tmp_path, how=how) == {"small_count"}


@pytest.mark.parametrize(("how", "kind"), [("title", "identifier"), ("annotation", "small_count"),
                                           ("legend", "small_count"), ("mathtext", "small_count"),
                                           ("raster", "unreadable_image"), ("glyphs", "unreadable_image"),
                                           ("ticks", "small_count"), ("pieces", "identifier")])
def test_what_a_chart_draws_is_read(renderer: Renderer, clean_env: Path, tmp_path: Path, how: str, kind: str) -> None:
    assert kind in withheld(renderer, "leaky_chart", tmp_path, how=how)


def test_ordinary_numbers_and_charts_pass(renderer: Renderer, clean_env: Path, tmp_path: Path) -> None:
    outcome = renderer.render(load_template(NOTEBOOKS / "clean_chart.py"), {}, tmp_path)
    assert outcome.status == "ok" and outcome.findings == [], outcome.error
