"""Is a downloaded body what the API promised? Checked before it is cached.

Why: a 200 reply with valid JSON of the wrong shape (an error object, a login page turned JSON, a
different endpoint) used to crash the parser *after* it was cached, so every later run replayed it.
Each check raises ``ShapeError`` saying what was expected and what came; the HTTP client then
refuses to cache the body.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from settlement_research.errors import InputError


class ShapeError(InputError, ValueError):
    """A response body that is not the expected document."""


Check = Callable[[bytes], None]


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ShapeError(f"expected {what}, got text that is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ShapeError(f"expected {what} (a JSON object), got a JSON {type(data).__name__}")
    return data


def _keys(data: dict[str, Any]) -> str:
    keys = sorted(map(str, data))
    return ", ".join(keys[:8]) + (" ..." if len(keys) > 8 else "") if keys else "no keys"


def jsonstat2(body: bytes, *, values: bool = True) -> None:
    """A json-stat2 dataset (``values=False``: PxWebApi metadata, a dataset without values)."""
    what = "a json-stat2 dataset" if values else "json-stat2 table metadata"
    data = _json_object(body, what)
    if data.get("class") != "dataset" or not isinstance(data.get("id"), list):
        raise ShapeError(f"expected {what} (class 'dataset' with 'id', 'size', 'dimension'), got keys: {_keys(data)}")
    ids, sizes, dims = data["id"], data.get("size"), data.get("dimension")
    if not isinstance(sizes, list) or len(sizes) != len(ids) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise ShapeError(f"{what}: 'size' must list one count per dimension in 'id' ({ids})")
    if not isinstance(dims, dict):
        raise ShapeError(f"{what}: 'dimension' is missing or not an object")
    for dim_id, size in zip(ids, sizes, strict=True):
        dim = dims.get(dim_id)
        category = dim.get("category") if isinstance(dim, dict) else None
        if not isinstance(category, dict):
            raise ShapeError(f"{what}: dimension {dim_id!r} has no 'category'")
        listed = category.get("index", category.get("label"))
        if not isinstance(listed, list | dict) or len(listed) != size:
            raise ShapeError(f"{what}: dimension {dim_id!r} lists {len(listed or [])} categories, size says {size}")
    if not values:
        return
    value = data.get("value")
    n = math.prod(sizes)
    if isinstance(value, list):
        if len(value) != n:
            raise ShapeError(f"{what}: {len(value)} values for {n} cells")
        cells = value
    elif isinstance(value, dict):
        cells = list(value.values())
    else:
        raise ShapeError(f"{what}: 'value' is missing")
    bad = [v for v in cells if v is not None and not (isinstance(v, int | float) and not isinstance(v, bool))]
    if bad:
        raise ShapeError(f"{what}: values must be numbers or null, found {bad[:3]}")


def jsonstat2_metadata(body: bytes) -> None:
    jsonstat2(body, values=False)


def klass_codes(body: bytes) -> None:
    """A KLASS ``codes``/``codesAt`` response: an object with a list 'codes' of items with 'code'."""
    data = _json_object(body, "a KLASS codes response")
    codes = data.get("codes")
    if not isinstance(codes, list) or not all(isinstance(c, dict) and c.get("code") for c in codes):
        raise ShapeError(f"expected a KLASS codes response (a 'codes' list of items with 'code'), got keys: {_keys(data)}")


def klass_changes(body: bytes) -> None:
    """A KLASS ``changes`` response: an object with a list 'codeChanges'."""
    data = _json_object(body, "a KLASS changes response")
    changes = data.get("codeChanges")
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise ShapeError(f"expected a KLASS changes response (a 'codeChanges' list), got keys: {_keys(data)}")


def parquet(body: bytes) -> None:
    if not (body.startswith(b"PAR1") and body.endswith(b"PAR1")):
        raise ShapeError("expected a Parquet file (PAR1 magic bytes at both ends)")


def for_output(output_format: str) -> Check | None:
    """The check for an SSB ``outputFormat`` (CSV is checked by its parser)."""
    return {"json-stat2": jsonstat2, "parquet": parquet}.get(output_format)


__all__ = [
    "Check", "ShapeError", "for_output", "jsonstat2", "jsonstat2_metadata", "klass_changes", "klass_codes", "parquet",
]
