"""Statistical disclosure control: the only road from person-level numbers to a page.

- :mod:`~settlement_research.sdc.rules` — threshold, what is disclosive, safe precision of shares;
- :mod:`~settlement_research.sdc.suppression` — primary and secondary suppression, one table or a
  panel shared by many reports;
- :mod:`~settlement_research.sdc.attack` — the attacker's linear program (feasible intervals);
- :mod:`~settlement_research.sdc.publication` — the whole publication set attacked at once;
- :mod:`~settlement_research.sdc.rendering` — tables whose every cell says where it came from;
- :mod:`~settlement_research.sdc.provenance` — the per-render secret that makes those marks unforgeable,
  and ``shown`` for a number in prose;
- :mod:`~settlement_research.sdc.context` — where a small number stands as a count of people;
- :mod:`~settlement_research.sdc.charts` — every figure's text read before its image is published;
- :mod:`~settlement_research.sdc.audit` — the post-render gate (identifiers from the data, default
  deny for small counts, scrubbed errors);
- :mod:`~settlement_research.sdc.public` — the values each declared public column publishes, by
  municipality and year, that a small number shown as public must be;
- :mod:`~settlement_research.sdc.gate` — the gate that decides, run in the process that started the
  render (never the worker that ran template code), from the files on disk.

Notebooks use ``from settlement_research import sdc`` and call ``sdc.suppress``, ``sdc.to_html``, …
"""

from settlement_research.sdc import gate, public, publication
from settlement_research.sdc.audit import (
    SDC_KEYS,
    Finding,
    audit_report,
    check_html,
    check_results,
    scrub,
)
from settlement_research.sdc.provenance import shown
from settlement_research.sdc.rendering import SDC_ATTR, SdcTable, to_html
from settlement_research.sdc.rules import (
    DEFAULT_THRESHOLD,
    NOT_AVAILABLE,
    SUPPRESSED,
    THRESHOLD_ENV,
    is_disclosive,
    safe_count,
    safe_share,
    share_step,
    threshold,
)
from settlement_research.sdc.suppression import (
    Line,
    count_table,
    exposed,
    margin_lines,
    protect,
    suppress,
    suppress_panel,
    suppression_mask,
)

__all__ = [
    "DEFAULT_THRESHOLD", "NOT_AVAILABLE", "SDC_ATTR", "gate", "public", "publication", "SDC_KEYS", "SUPPRESSED", "THRESHOLD_ENV", "Finding", "Line",
    "SdcTable", "audit_report", "check_html", "check_results", "count_table", "exposed", "is_disclosive",
    "margin_lines", "protect", "safe_count", "safe_share", "scrub", "share_step", "shown", "suppress", "suppress_panel",
    "suppression_mask", "threshold", "to_html",
]
