"""What a published page says about itself, and how its numbers look.

* :mod:`.banner` — which data a page shows (source, edition, synthetic or not), as a text banner,
  a caption prefix and the ``"data"`` block of results.json: no page, table or copied paragraph
  of synthetic numbers can pass for real statistics.
* :mod:`.tables` — one formatting layer for every table (labels with units, one thousands
  separator, years as labels, fixed decimals per unit, no dtype rows, wide tables scroll).
"""

from settlement_research.pages.banner import (
    banner_html,
    caption,
    data_info,
    insert_banner,
    stamp_page,
)
from settlement_research.pages.tables import format_value, html_table, publish

__all__ = ["banner_html", "caption", "data_info", "format_value", "html_table", "insert_banner", "publish", "stamp_page"]
