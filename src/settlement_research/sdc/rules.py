"""Disclosure rules: the threshold, what counts as disclosive, and how precisely a share may be shown.

Policy, written down once (every other module of ``sdc`` follows it):

- **Threshold** ``t``: ``SETTLEMENT_RESEARCH_SDC_THRESHOLD`` (default 5, common practice on register
  data; SSB's own tables use 3). A count ``n`` is disclosive when ``0 < n < t``.
- **Zero is shown.** A zero identifies nobody. Because zeros are always shown, an attacker may assume
  every hidden cell is at least 1, so secondary suppression never hides a zero (that would make the
  attacker's assumption, and our audit of it, wrong).
- **Suppressed** cells are null with ``':'`` (SSB's symbol for confidential) in ``<col>_symbol``;
  ``'..'`` means no data. Neither is ever 0.
- **Shares and means** derived from counts are shown at a precision that cannot give a count back:
  :func:`share_step` picks the rounding step so that the interval of counts a rounded share allows
  is at least ``2 t`` wide.
"""

from __future__ import annotations

import math
import os

SUPPRESSED = ":"
NOT_AVAILABLE = ".."
DEFAULT_THRESHOLD = 5
THRESHOLD_ENV = "SETTLEMENT_RESEARCH_SDC_THRESHOLD"
SHARE_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5)


def threshold() -> int:
    """The current threshold (env ``SETTLEMENT_RESEARCH_SDC_THRESHOLD``, default 5)."""
    raw = os.environ.get(THRESHOLD_ENV, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    value = int(raw)
    if value < 1:
        raise ValueError(f"{THRESHOLD_ENV} must be a positive integer, got {raw!r}")
    return value


def is_disclosive(value: float | None, t: int | None = None) -> bool:
    """True for a count strictly between 0 and the threshold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    t = threshold() if t is None else t
    return 0 < value < t


def safe_count(value: float | None, t: int | None = None) -> float | None:
    """A single count as it may be shown: ``None`` (shown as ':') when disclosive."""
    return None if is_disclosive(value, t) else value


def share_step(base: float | None, t: int | None = None) -> float | None:
    """The rounding step for a share of ``base`` persons: the finest of :data:`SHARE_STEPS` whose
    rounding interval covers at least ``2 t`` persons (so neither the count behind the share nor its
    complement can be narrowed to fewer than ``2 t`` values); ``None`` when even 50 % is too fine
    (the share must be hidden)."""
    if base is None or (isinstance(base, float) and math.isnan(base)) or base <= 0:
        return None
    t = threshold() if t is None else t
    for step in SHARE_STEPS:
        if step * base >= 2 * t:
            return step
    return None


def safe_share(count: float | None, base: float | None, t: int | None = None) -> float | None:
    """``count / base`` rounded to :func:`share_step` (``None`` when it cannot be shown safely or
    either number is unknown). The stored float is the rounded one, so results.json holds no more
    than the page shows."""
    if count is None or base is None:
        return None
    step = share_step(base, t)
    if step is None:
        return None
    return round_to(count / base, step)


def round_to(value: float | None, step: float) -> float | None:
    """``value`` rounded to a multiple of ``step``, as a short float (0.55, not 0.5500000001)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return round(round(value / step) * step, digits)


__all__ = [
    "DEFAULT_THRESHOLD", "NOT_AVAILABLE", "SHARE_STEPS", "SUPPRESSED", "THRESHOLD_ENV", "is_disclosive", "round_to",
    "safe_count", "safe_share", "share_step", "threshold",
]
