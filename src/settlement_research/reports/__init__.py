"""Reports: run notebooks one at a time (runner) and in batch (batch, pool, engine, index).

jsonschema (imported by nbformat) imports ``rfc3987_syntax``, which builds a grammar at import:
about 2 s per process, paid by every CLI call and worker, for the "iri" string format that no
notebook schema uses. Marking it absent before nbformat is imported makes jsonschema skip that one
format check; a process that already imported the real module keeps it.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
