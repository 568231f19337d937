"""The pre-specified analysis plan: readable, checked, adjusted correctly, and its page is fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.analysis import plan


def test_plan_loads_and_every_notebook_family_has_a_confirmatory_hypothesis() -> None:
    p = plan.load_plan()
    assert {h.notebook for h in p.hypotheses} >= {"02_housing_stability_and_outcomes", "03_municipal_factors",
                                                  "04_regional_coordination"}
    for fam in p.families:
        assert any(h.confirmatory for h in p.hypotheses if h.family == fam), fam
    assert p.get("H14").exposure_window.startswith("tenure at the landmark")


def test_hypotheses_page_is_generated_from_the_plan() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "hypotheses.md"
    assert page.read_text("utf-8") == plan.render_markdown(), (
        "docs/hypotheses.md is stale: run `settlement-research hypotheses`")


def test_holm_and_bh_match_hand_computed_values() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    # Holm: sorted 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> 0.09 (monotone), 0.20*1 -> 0.20
    assert plan.holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # BH: 0.20*4/4=0.20, 0.04*4/3=0.0533, 0.03*4/2=0.06 -> min with later 0.0533, 0.01*4/1=0.04
    assert plan.benjamini_hochberg(p) == pytest.approx([0.04, 0.05333333, 0.05333333, 0.20])


def test_adjust_family_is_one_sided_and_counts_missing_results_as_p_one() -> None:
    out = plan.adjust_family("02_housing_stability_and_outcomes", {
        "H1-moves": {"estimate": -0.05, "p_value": 0.002},
        "H1-temporary": {"estimate": 0.01, "p_value": 0.002},  # wrong direction: one-sided p = 0.999
        "H2": None,
        "H14": {"estimate": -0.03, "p_value": 0.02},
        "H1-tenure": {"estimate": 0.05, "p_value": 0.01},
    })["hypotheses"]
    assert out["H1-moves"]["p_one_sided"] == pytest.approx(0.001)
    assert out["H1-temporary"]["p_one_sided"] == pytest.approx(0.999)
    assert out["H2"]["p_one_sided"] == 1.0 and out["H2"]["estimated"] is False
    assert out["H1-moves"]["p_holm"] == pytest.approx(0.004)
    assert out["H14"]["p_holm"] == pytest.approx(0.03)
    assert out["H1-tenure"]["status"] == "exploratory" and "p_holm" not in out["H1-tenure"]


def test_a_broken_plan_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "plan.toml"
    bad.write_text('[families.f]\ntitle = "x"\n[[hypotheses]]\nid = "H"\n', "utf-8")
    with pytest.raises(ValueError, match="lacks"):
        plan.load_plan(bad)


def test_p_values_in_tables_are_text_never_a_bare_one() -> None:
    from settlement_research.analysis.plan import format_p

    assert [format_p(p) for p in (0.0004, 0.0123, 0.9996, 1.0, None)] == ["<0.001", "0.012", ">0.999", ">0.999", None]
