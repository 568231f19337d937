"""settlement_research: typed, validated data on refugee settlement in Norwegian municipalities.

Data flows one way: sources -> build -> data_clean -> catalog -> analysis -> notebooks/reports.
In a notebook::

    import settlement_research as sr
    sr.tables()                               # every table: grain, level, rows per source
    sr.describe("kommune_settlement_year")    # its columns: Norwegian term, meaning, unit, checks
    df = sr.load("kommune_settlement_year")   # validated polars frame (source: see ``load``)
    sr.validate(my_frame, "kommune_settlement_year")   # polars or pandas; a ValidationResult
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
SCHEMA_VERSION = "1"

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from settlement_research.explore import TableDescription
    from settlement_research.problems import ValidationResult


def load(name: str, source: str | None = None) -> pl.DataFrame:
    """The validated clean table ``name`` as a polars DataFrame in the model's dtypes.

    name: a table of the data model; ``tables()`` lists them, ``describe(name)`` explains the
        columns. A near miss gets "did you mean".
    source: which folder of data_clean/ to read (``"synthetic"``, ``"imdi"``, ...). None means
        ``$SETTLEMENT_RESEARCH_SOURCE``, else ``synthetic`` if built, else the only source built.

    Raises ``CatalogError`` if the table is unknown or not built, ``DataValidationError`` if the
    file breaks its model. See also ``has`` and ``load_optional``.
    """
    from settlement_research.catalog import load as _load

    return _load(name, source)


def has(name: str, source: str | None = None) -> bool:
    """Whether table ``name`` is built in ``source`` (default as in ``load``), without loading it."""
    from settlement_research.catalog import has as _has

    return _has(name, source)


def load_optional(name: str, source: str | None = None) -> pl.DataFrame | None:
    """``load(name, source)`` if the table is built there, else None."""
    from settlement_research.catalog import load_optional as _load_optional

    return _load_optional(name, source)


def tables() -> pl.DataFrame:
    """One row per table: name, title, grain (primary key), level and rows in each built source."""
    from settlement_research.explore import tables as _tables

    return _tables()


def describe(name: str) -> TableDescription:
    """The columns of table ``name`` (Norwegian term, English description, unit, dtype, nullable,
    checks); a rendered table in Jupyter, aligned text in a terminal, ``.columns`` as polars."""
    from settlement_research.explore import describe as _describe

    return _describe(name)


def validate(
    frame: Any, table: str, *, source: str | Path | None = None, coerce: bool = True
) -> ValidationResult:
    """Check ``frame`` against the model of ``table`` and report every problem; never raises for bad data.

    frame: a polars DataFrame or LazyFrame, or a pandas DataFrame (a named pandas index becomes
        columns).
    table: the table whose model applies (see ``tables()``).
    source: where the data came from, for messages (a CSV path adds file line numbers).
    coerce: cast columns to the model's dtypes first (text '0301' stays '0301'); False checks as is.

    Returns a ``ValidationResult``: ``.valid``, ``.problems``, ``.valid_rows``, ``.failing_rows``.
    """
    from settlement_research.frames import to_polars
    from settlement_research.validation import validate as _validate

    return _validate(to_polars(frame), table, source=source, coerce=coerce)


__all__ = [
    "__version__", "SCHEMA_VERSION", "describe", "has", "load", "load_optional", "tables", "validate",
]
