"""Environment settings the package reads, checked once before a command runs.

A malformed value (``SETTLEMENT_RESEARCH_SDC_THRESHOLD=abc``) is refused here with a message
naming the variable, instead of surfacing as a traceback wherever it is first read.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable

from settlement_research.errors import SettingError


def _positive_int(raw: str) -> str | None:
    try:
        value = int(raw)
    except ValueError:
        return "is not a whole number"
    return None if value >= 1 else "must be at least 1"


def _seconds(raw: str) -> str | None:
    try:
        value = float(raw)
    except ValueError:
        return "is not a number of seconds"
    return None if math.isfinite(value) and value >= 0 else "must be a finite number of seconds, at least 0"


def _regex(raw: str) -> str | None:
    try:
        re.compile(raw)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return None


def _path(raw: str) -> str | None:
    return "contains a NUL byte" if "\x00" in raw else None


# variable -> (check returning a complaint or None, what a good value looks like)
ENV_SETTINGS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "SETTLEMENT_RESEARCH_SDC_THRESHOLD": (_positive_int, "a whole number of at least 1 (default 5)"),
    "SETTLEMENT_RESEARCH_PERSON_ID_PATTERN": (_regex, "a regular expression matching a person id"),
    "SETTLEMENT_RESEARCH_BUILD_PAUSE_AFTER_FIRST_TABLE": (_seconds, "seconds (tests only)"),
    "SETTLEMENT_RESEARCH_HOME": (_path, "a folder"),
    "SETTLEMENT_RESEARCH_RAW": (_path, "a folder"),
    "SETTLEMENT_RESEARCH_CLEAN": (_path, "a folder"),
    "SETTLEMENT_RESEARCH_REAL_DATA": (_path, "a folder"),
    "SETTLEMENT_RESEARCH_RESULTS": (_path, "a file path"),
}


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Raise ``SettingError`` for the first malformed setting (empty values mean 'default')."""
    env = os.environ if environ is None else environ
    for name, (check, expected) in ENV_SETTINGS.items():
        raw = env.get(name)
        if raw is None or not raw.strip():
            continue
        complaint = check(raw.strip())
        if complaint:
            raise SettingError(
                f"environment setting {name}={raw!r} {complaint}",
                key=name, hint=f"set {name} to {expected}, or unset it to use the default",
            )


__all__ = ["ENV_SETTINGS", "check_environment"]
