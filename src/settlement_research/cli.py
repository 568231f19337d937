"""The ``settlement-research`` console script. Thin: each command lives in its domain module.

A command module exposes ``CLI_HELP`` (one line), ``cli_add_arguments(parser)`` and
``cli_run(args) -> int`` (the exit code). Modules are imported only when their command runs, so
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# command -> (module, one-line help). Keep sorted by the order a user meets them.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("settlement_research.validation_report", "validate a table file or folder and write a report"),
    "synth": ("settlement_research.sources.synthetic.cli", "generate the synthetic register extract (calibrated, known effects) into data_raw/synthetic"),
    "fetch": ("settlement_research.sources.fetch", "download or --offline replay SSB tables and KLASS codes into data_raw"),
    "import-imdi": ("settlement_research.sources.imdi", "import IMDi integreringsdata exports (flat, raw wide, 2022 wide) into data_raw/imdi"),
    "import-ssb": ("settlement_research.sources.ssb_import", "load a manually downloaded SSB Statbank file (json-stat2 or CSV) into data_raw/ssb with provenance"),
    "codebook": ("settlement_research.codebook", "write docs/codebook.md and docs/datapackage.json from the models"),
    "build": ("settlement_research.build", "build data_clean from data_raw: validate, quarantine, derive, save with a manifest"),
    "diff": ("settlement_research.diff", "compare two builds, editions or table files: added, removed and changed values (HTML + JSON)"),
    "harmonize": ("settlement_research.harmonize", "map a municipality-year table to one classification year (2018/2020/2024 reforms)"),
    "demo": ("settlement_research.demo", "synthesise, build, validate and render everything at scale 1"),
    "run-notebook": ("settlement_research.reports.runner", "run one notebook with string parameters: .ipynb, HTML, results.json"),
    "report": ("settlement_research.reports.batch", "render a notebook for a parameter grid: HTML reports, index.html, manifest.json"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="settlement-research",
        description="Typed, validated data and reproducible analyses of refugee settlement in Norway.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        parser = _parser()
        if not argv or argv[0] in ("-h", "--help"):
            parser.print_help()
            return 0 if argv else 2
        parser.print_usage(sys.stderr)
        print(f"settlement-research: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"settlement-research {name}", description=COMMANDS[name][1])
    module.cli_add_arguments(sub)
    args = sub.parse_args(argv[1:])
    return int(module.cli_run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
