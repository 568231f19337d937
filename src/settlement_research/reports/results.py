"""How a notebook hands its key numbers to the report machinery: ``save_results``.

Convention: a notebook ends with ``save_results({...})``. The runner sets the environment variable
``SETTLEMENT_RESEARCH_RESULTS`` to ``<out>/<name>.results.json`` before it executes the notebook,
and ``save_results`` writes there (an explicit ``path=`` wins). Run interactively (no variable,
no path) it only returns the cleaned dict, so a notebook in Jupyter Lab leaves no stray files.

Scalar values (numbers, strings, booleans, null) become columns in the batch index. Keys listed in
``sdc_keys`` hold numbers derived from person-level data: they are stored under ``"_sdc"`` and the
disclosure check fails the report if any of them is a count below the threshold (pass them through
``sdc.safe_count``, shares through ``sdc.safe_share`` first).

``memo(key, compute)`` keeps a heavy aggregate for the life of a batch worker process (keyed by the
data manifest hash too), so 428 profiles compute the national comparison once per worker, not 428
times. The value must be treated as read-only (polars frames are).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from settlement_research.io import write_json_atomic

RESULTS_ENV = "SETTLEMENT_RESEARCH_RESULTS"
SDC_KEYS = "_sdc"
PUBLIC_KEYS = "_public"  # keys holding declared public statistics (sdc.audit.PUBLIC_KEYS)

T = TypeVar("T")
_MEMO: dict[tuple[str, str | None], Any] = {}


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy/polars scalars to Python, NaN to null, dates to ISO text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "to_list"):  # polars / pandas series
        return _plain(value.to_list())
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _plain(value.tolist())
    return str(value)


def results_path() -> Path | None:
    raw = os.environ.get(RESULTS_ENV)
    return Path(raw) if raw else None


def save_results(
    results: Mapping[str, Any], *, sdc_keys: Sequence[str] = (),
    public_keys: Sequence[str] | Mapping[str, Any] = (),
    path: str | Path | None = None,
) -> None:
    """Write the notebook's key numbers as JSON where the runner asked for them.

    ``sdc_keys``: keys derived from person-level data (disclosure-controlled); ``public_keys``: keys
    holding declared public statistics (IMDi's requests and decisions), or ``{key: years}`` with the
    year or (first, last) window a key's number covers (a window total; stored as
    ``"_public": {"requested": "2009-2014"}``; the clean gate allows a small public number of a
    column with years only for the window it names, or a year in its key path). The gate treats every
    other whole number below the threshold as a count unless its key says otherwise.

    Returns nothing, so a ``save_results(...)`` closing a cell prints nothing into the report.
    """
    from settlement_research.reports.provenance import PROVENANCE_KEY, provenance

    data = _plain(dict(results))
    if PROVENANCE_KEY not in data:  # the runner adds the parameters of the run
        data[PROVENANCE_KEY] = _plain(provenance(source=data.get("source") if isinstance(data.get("source"), str) else None))
    missing = [k for k in sdc_keys if k not in data]
    if missing:
        raise KeyError(f"save_results: sdc_keys {missing} are not in the results")
    if sdc_keys:
        data[SDC_KEYS] = list(sdc_keys)
    if public_keys:
        from settlement_research.sdc.rendering import resolve_public

        unknown = [k for k in public_keys if k not in data]
        if unknown:
            raise KeyError(f"save_results: public_keys {unknown} are not in the results")
        for key in public_keys:
            resolve_public(key)  # only a column the models declare public
        if isinstance(public_keys, Mapping):
            from settlement_research.sdc.public import window_text

            data[PUBLIC_KEYS] = {k: None if y is None else window_text(y) for k, y in public_keys.items()}
        else:
            data[PUBLIC_KEYS] = list(public_keys)
    target = Path(path) if path is not None else results_path()
    if target is not None:
        write_json_atomic(data, target)


def memo(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per process and data version; later calls return the kept value.

    The data ``compute`` read are kept with the value and logged again on every call (readlog),
    so a report that got the value from an earlier report still records what it depends on.
    """
    from settlement_research import readlog
    from settlement_research.reports.provenance import data_manifest_hash

    slot = (key, data_manifest_hash())
    if slot not in _MEMO:
        with readlog.capture() as reads:
            value = compute()
        _MEMO[slot] = (value, reads)
    value, reads = _MEMO[slot]
    readlog.extend(reads)
    return value


def clear_memo() -> None:
    _MEMO.clear()
