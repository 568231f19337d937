"""Where a shown number came from, in a form a template cannot forge: a per-render secret.

Why: the gate lets a small number through only when the disclosure API emitted it (a suppressed
table's cell, a declared public statistic, a category label). An attribute such as
``data-sdc="count"`` alone is a claim anyone can write by hand, copy from another page or replay
from an earlier render. So every marked element also carries ``data-sdc-sig``, an HMAC of its kind
and its text under a key that exists only in the rendering process for the length of one render
(:func:`scope`); the key is never written to a page, a notebook or results.json. The gate
(:mod:`settlement_research.sdc.audit`) recomputes the HMAC: a mark whose signature does not match
the text it is on is a forged mark and withholds the report.

Threat model: the marks stop markup written, copied or replayed by a template. Template *code*
runs in the renderer's process and can read the key and call :func:`sign` itself, so the gate that
decides (:mod:`.gate`, in the process that started the render) gives a verified mark no power to
let a small number through: there a mark only restricts, and a public number is checked against
the public table (:mod:`.public`).

The same scope collects what the chart hook (:mod:`settlement_research.sdc.charts`) found while
figures were drawn (the gate adds it to its own findings; it reads every chart's SVG text itself).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KEY_ENV = "SETTLEMENT_RESEARCH_SDC_KEY"  # only for a report run in a separate Jupyter kernel
SIG_ATTR = "data-sdc-sig"
KINDS = ("count", "value", "suppressed", "public", "label", "header")
_SPACE = re.compile(r"\s+")
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")


@dataclass
class Scope:
    """One render: its secret key and what the chart hook found."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    chart_findings: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)


_SCOPE = Scope()


def current() -> Scope:
    """The render in progress (outside :func:`scope`, e.g. in JupyterLab, a process-wide one)."""
    raw = os.environ.get(KEY_ENV)
    if raw and _SCOPE.key.hex() != raw:  # a kernel started by the runner: the runner's key
        _SCOPE.key = bytes.fromhex(raw)
    return _SCOPE


@contextmanager
def scope() -> Iterator[Scope]:
    """A fresh key for one render; afterwards the key is replaced, so nothing signed during this
    render verifies in any later one."""
    global _SCOPE
    saved = _SCOPE
    _SCOPE = Scope()
    try:
        yield _SCOPE
    finally:
        _SCOPE = saved if saved is not _SCOPE else Scope()


def canonical(text: str) -> str:
    """The text a signature covers: whitespace collapsed (HTML renders it so), and a comma between
    digits read as a point: a bokmål page writes the signed 68.5 as 68,5 (``banner.set_language``);
    the digits, which are what could disclose, stay covered."""
    return _DIGIT_COMMA.sub(".", _SPACE.sub(" ", text).strip())


def sign(kind: str, text: str, key: bytes | None = None) -> str:
    """The signature of ``kind`` shown as ``text`` in the current render."""
    if kind not in KINDS:
        raise ValueError(f"sdc.provenance: unknown kind {kind!r}")
    key = current().key if key is None else key
    return hmac.new(key, f"{kind}\x1f{canonical(text)}".encode(), hashlib.sha256).hexdigest()[:24]


def verify(kind: str | None, text: str, signature: str | None, key: bytes | None = None) -> bool:
    if not kind or not signature or kind not in KINDS:
        return False
    return hmac.compare_digest(sign(kind, text, key), signature)


def attrs(kind: str, text: str) -> str:
    """``data-sdc="kind" data-sdc-sig="…"`` for an element whose text content is ``text`` (the
    text as the browser shows it, i.e. after unescaping)."""
    return f'data-sdc="{kind}" {SIG_ATTR}="{sign(kind, text)}"'


_MARK = re.compile(r'data-sdc="([^"]*)"\s+' + SIG_ATTR + r'="([0-9a-f]*)"')


def rewrite(open_tag: str, old: str, new: str) -> str:
    """``open_tag`` (an element's start tag) re-signed for showing ``new`` instead of ``old``: a
    layout step that only re-writes a signed value (a bokmål decimal comma) keeps its mark valid.
    A mark that does not verify for ``old`` is left as it is (the gate still calls it forged)."""
    match = _MARK.search(open_tag)
    if not match or not verify(match.group(1), old, match.group(2)):
        return open_tag
    return open_tag[:match.start()] + attrs(match.group(1), new) + open_tag[match.end():]


def record_chart_finding(kind: str, message: str) -> None:
    current().chart_findings.append((kind, message))


def shown(value: Any, *, public: str | None = None, years: Any = None, label: bool = False,
          t: int | None = None) -> str:
    """A number for prose (Markdown or HTML) with its provenance: ``<span data-sdc=… >3</span>``.

    ``public``: the declared public column it comes from (``"requested"``, ``"settlement.decided"``);
    ``years``: the year or (first, last) window it covers (a window total: the clean gate allows a
    small public number of a column with years only as the public value of the window it names);
    ``label``: a category or ordinal, not a count. Otherwise it is a count from person-level data:
    ``None`` is shown as ':' and a disclosive value is refused (pass it through ``suppress`` first).
    """
    import html as html_lib

    from settlement_research.sdc.rules import SUPPRESSED, is_disclosive

    extra = ""
    if value is None or (isinstance(value, float) and value != value):
        text = SUPPRESSED
        kind = "suppressed"
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = f"{value:,}".replace(",", "\u202f") if isinstance(value, int | float) else str(value)
        if public is not None:
            from settlement_research.sdc.rendering import resolve_public

            extra = f' data-sdc-public="{html_lib.escape(resolve_public(public))}"'
            if years is not None:
                from settlement_research.sdc.public import WINDOW_ATTR, window_text

                extra += f' {WINDOW_ATTR}="{window_text(years)}"'
            kind = "public"
        elif label:
            kind = "label"
        else:
            if isinstance(value, int | float) and is_disclosive(value, t):
                raise ValueError("sdc.shown: a count below the threshold; suppress it first")
            kind = "count"
    return f"<span {attrs(kind, text)}{extra}>{html_lib.escape(text)}</span>"


__all__ = ["KEY_ENV", "KINDS", "SIG_ATTR", "Scope", "attrs", "canonical", "current", "record_chart_finding", "rewrite",
           "scope", "shown", "sign", "verify"]
