"""A bokmål page writes decimals with a comma after the table was signed (pages.banner.set_language).
The signed marks must survive that rewrite (no false 'forged_mark' on every nb profile), and the
rewrite must never turn a forged mark into a valid one."""

from __future__ import annotations

import polars as pl

from settlement_research import sdc
from settlement_research.pages.banner import set_language
from settlement_research.sdc import audit, provenance


def _page(body: str) -> str:
    return f"<html><head><title>x</title></head><body>{body}</body></html>"


def test_a_signed_decimal_cell_stays_valid_with_a_decimal_comma() -> None:
    with provenance.scope() as scope:
        frame = sdc.suppress(pl.DataFrame({"kommune": ["A", "B"], "persons": [40, 30], "share": [0.25, 0.5]}),
                             ["persons"])
        html = str(sdc.to_html(frame, controlled=["persons", "share"], counts=["persons"], float_digits=2))
        page = set_language(_page(html), "nb")
        assert "0,25" in page and "0.25" not in page
        assert audit.check_html(page, key=scope.key, t=5) == []


def test_the_rewrite_does_not_launder_a_forged_mark() -> None:
    with provenance.scope() as scope:
        forged = '<table><tr><td data-sdc="value" data-sdc-sig="0123456789abcdef01234567">0.25</td></tr></table>'
        page = set_language(_page(forged), "nb")
        assert "forged_mark" in {f.kind for f in audit.check_html(page, key=scope.key, t=5)}
