"""Frames from outside the package: polars as is, pandas converted once at the boundary.

Researchers often hold a pandas frame (read_excel, statsmodels output); validation speaks polars.
A pandas index that carries data (named, or not the default 0..n-1) becomes ordinary columns, so
``kommune_nr`` set as the index is still checked.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def to_polars(frame: Any) -> pl.DataFrame | pl.LazyFrame:
    """``frame`` as a polars DataFrame/LazyFrame; pandas DataFrames are converted, others refused."""
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return frame
    module = type(frame).__module__.split(".", 1)[0]
    if module == "pandas" and hasattr(frame, "reset_index"):
        index = frame.index
        has_names = any(n is not None for n in getattr(index, "names", [None]))
        default_range = type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1
        if has_names or not default_range:
            frame = frame.reset_index()
        if not all(isinstance(c, str) for c in frame.columns):
            raise TypeError("column names must be text; got " + ", ".join(
                repr(c) for c in frame.columns if not isinstance(c, str)))
        return pl.from_pandas(frame)
    raise TypeError(
        f"expected a polars or pandas DataFrame, got {type(frame).__module__}.{type(frame).__name__}"
    )


__all__ = ["to_polars"]
