"""IMDi integreringsdata exports -> the aggregate model tables (source protocol: ``imdi``).

``import-imdi`` reads the three real layouts (flat long 2015, raw wide 2015, wide 2022; encoding
and layout detected), maps each value to a model column (``measures.py``), rejects everything else
with a reason, checks that files of one edition giving the same number agree, keeps one row per
municipality and year in the data year's own classification where an export restates years under
later codes (``restated.py``), chooses between editions by a documented precedence and keeps every
edition's value and restatement (``editions.py``), and writes the tables to data_raw/imdi. ``read(raw_dir)`` hands those tables to
the build.
"""

from __future__ import annotations

from settlement_research.sources.imdi.importer import (
    CLI_HELP,
    SOURCE_NAME,
    ImportRefused,
    ImportResult,
    cli_add_arguments,
    cli_run,
    format_summary,
    import_files,
    read,
    require_complete,
    run_import,
    validate_table,
    write_outputs,
)
from settlement_research.sources.imdi.layouts import decode, detect_layout, read_file

__all__ = [
    "CLI_HELP", "SOURCE_NAME", "ImportRefused", "ImportResult", "require_complete", "run_import", "cli_add_arguments", "cli_run", "decode",
    "detect_layout", "format_summary", "import_files", "read", "read_file", "validate_table",
    "write_outputs",
]
