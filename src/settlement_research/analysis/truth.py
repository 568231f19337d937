"""Read the injected effects of the synthetic register (ground_truth.json) by name.

Notebooks compare their estimates with these numbers; keeping the paths into the JSON here means a
change to the generator's truth format breaks one tested module, not every notebook.

An estimate is compared only with the truth of the same estimand: the truth depends on the moves
window (it changes the exposure and, through the landmark, the sample), so every accessor takes
the window, and returns None when the truth file has no entry for it (say so, do not compare).
Two truths are kept apart: ``causal`` (the generator's structural effect, null where the window
makes it timing-dependent) and the pseudo-true value the notebook's adjusted model converges to on
that sample (``adjusted_logit_ame``), which is what its interval should cover.
"""

from __future__ import annotations

from typing import Any


def _window(truth: dict[str, Any], effect: str, window: int) -> dict[str, Any] | None:
    entry = truth.get("effects", {}).get(effect, {}).get("by_window", {}).get(str(window))
    return entry if entry and entry.get("n") else None


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def moves_truth(truth: dict[str, Any], window: int = 24) -> dict[str, Any] | None:
    """The whole truth entry of the moves effect for ``window`` months (None if not recorded)."""
    return _window(truth, "moves_on_work_or_education", window)


def moves_effect(truth: dict[str, Any], window: int = 24) -> float | None:
    """What the adjusted logit's AME of one more move estimates on the window's landmark sample."""
    entry = moves_truth(truth, window)
    return _num(entry.get("adjusted_logit_ame")) if entry else None


def moves_causal(truth: dict[str, Any], window: int = 24) -> float | None:
    """The structural (causal) AME of one more move in the first ``window`` months, or None."""
    entry = moves_truth(truth, window)
    return _num(entry.get("causal_ame")) if entry else None


def moves_naive(truth: dict[str, Any], window: int = 24) -> float | None:
    """The unadjusted OLS slope of the outcome on moves, which confounding biases."""
    entry = moves_truth(truth, window)
    return _num(entry.get("naive_ols_slope")) if entry else None


def sample_size(truth: dict[str, Any], window: int = 24) -> int | None:
    """Persons in the truth's landmark sample for ``window`` (a notebook's n must equal it)."""
    entry = moves_truth(truth, window)
    return int(entry["n"]) if entry else None


def tenure_effect(truth: dict[str, Any], tenure: str = "owner_startlan", window: int = 24,
                  kind: str = "adjusted_logit_ame") -> float | None:
    """Contrast of ``tenure`` vs municipal rental one year after settlement (``kind``: adjusted_logit_ame,
    causal_ame, adjusted_lpm or naive_difference)."""
    entry = _window(truth, "tenure_1y_on_work_or_education", window)
    contrast = entry.get("contrasts", {}).get(tenure) if entry else None
    return _num(contrast.get(kind)) if contrast else None


def dwellings_effect(truth: dict[str, Any]) -> float:
    """Effect of one more municipal dwelling per 1000 inhabitants on decided/requested."""
    return float(truth["effects"]["municipal_dwellings_on_decided_requested"]["ame_plus_one"])
