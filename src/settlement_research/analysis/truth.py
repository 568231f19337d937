"""Read the injected effects of the synthetic register (ground_truth.json) by name.

Notebooks compare their estimates with these numbers; keeping the paths into the JSON here means a
change to the generator's truth format breaks one tested module, not every notebook.
"""

from __future__ import annotations

from typing import Any


def moves_effect(truth: dict[str, Any]) -> float:
    """AME of one more move in the first 24 months on work/education (probability points)."""
    return float(truth["effects"]["moves_24m_on_work_or_education"]["ame_derivative"])


def moves_naive(truth: dict[str, Any]) -> float:
    """The unadjusted OLS slope of the outcome on moves, which confounding biases."""
    return float(truth["effects"]["moves_24m_on_work_or_education"]["naive_ols_slope"])


def tenure_effect(truth: dict[str, Any], tenure: str = "owner_startlan") -> float:
    """AME of holding ``tenure`` instead of municipal rental one year after settlement."""
    return float(truth["effects"]["tenure_1y_on_work_or_education"]["contrasts"][tenure]["ame"])


def dwellings_effect(truth: dict[str, Any]) -> float:
    """Effect of one more municipal dwelling per 1000 inhabitants on decided/requested."""
    return float(truth["effects"]["municipal_dwellings_on_decided_requested"]["ame_plus_one"])
