"""Municipality knowledge in one place: codes, code changes, counties and agency regions.

``geo.codes`` says which codes are municipalities and when each was valid; ``geo.changes`` reads
every change table (shipped, KLASS, FHI, CSV) into one ``ChangeTable``; ``geo.regions`` holds the
counties of 2014 and IMDi's and Husbanken's regions. The shipped tables live in ``geo/data``.
"""

from __future__ import annotations

from settlement_research.geo.changes import ChangeTable, load_changes, shipped_changes
from settlement_research.geo.codes import is_code, is_municipality, valid_in, validity

__all__ = ["ChangeTable", "is_code", "is_municipality", "load_changes", "shipped_changes", "valid_in", "validity"]
