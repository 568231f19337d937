"""settlement_research: typed, validated data on refugee settlement in Norwegian municipalities.

Data flows one way: sources -> build -> data_clean -> catalog -> analysis -> notebooks/reports.
Notebooks load tables by name: ``settlement_research.load("kommune_settlement_year")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
SCHEMA_VERSION = "1"

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def load(name: str, **kwargs: Any) -> pl.DataFrame:
    """Load a validated table from the catalog by name (see ``settlement_research.catalog``)."""
    from settlement_research.catalog import load as _load

    return _load(name, **kwargs)


def validate(frame: Any, table: str, **kwargs: Any) -> Any:
    """Validate a frame against the named table's model (see ``settlement_research.validation``)."""
    from settlement_research.validation import validate as _validate

    return _validate(frame, table, **kwargs)


__all__ = ["__version__", "SCHEMA_VERSION", "load", "validate"]
