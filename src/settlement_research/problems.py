"""The shapes every check reports in: one ``Problem`` per rule, collected in a ``ValidationResult``.

Model validation (validation.py) and cross-table checks (relations.py) both speak this language, so
reviewers read one kind of report and the build quarantines rows the same way for both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import polars as pl

Severity = Literal["error", "warning"]


@dataclass
class Problem:
    """One rule that some rows (or the table as a whole) break.

    ``rows`` holds every failing 0-based row index of ``table`` (empty for table-level problems);
    ``examples`` at most 20 of them with their values, for the report.
    """

    rule: str
    message: str
    table: str
    severity: Severity = "error"
    column: str | None = None
    n_rows: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    hint: str | None = None

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not with_rows:
            out.pop("rows")
        return out


@dataclass
class ValidationResult:
    """The verdict on one table: its problems, and the rows split into valid and failing.

    ``failing_rows`` carries ``row_nr`` (0-based position in the input) and ``reason``
    (every broken rule, joined by '; '); nothing is ever dropped without appearing there. Every
    output shown to a person (console, HTML, JSON, quarantine files) numbers rows from 1.
    """

    table: str
    n_rows: int
    problems: list[Problem]
    frame: pl.DataFrame | None = None
    valid_rows: pl.DataFrame | None = None
    failing_rows: pl.DataFrame | None = None
    source: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors
