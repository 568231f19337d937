"""The ``settlement-research`` console script. Thin: each command lives in its domain module.

A command module exposes ``CLI_HELP`` (one line), ``cli_add_arguments(parser)`` and
``cli_run(args) -> int`` (the exit code). Modules are imported only when their command runs, so
``--help`` stays fast.

Every command runs inside one error boundary (``cli.boundary``): a ``SettlementResearchError``
becomes one short paragraph on stderr and exit 1 (invalid data) or 2 (unusable input or
arguments); ``--debug`` adds the traceback. Anything unexpected is reported as a bug, with its
traceback. ``--version`` prints the version.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from settlement_research import __version__
from settlement_research.cli.boundary import DEBUG_ENV, run_guarded
from settlement_research.cli.settings import check_environment

# command -> (module, one-line help). Keep sorted by the order a user meets them.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("settlement_research.validation_report", "validate a table file or folder and write a report"),
    "synth": ("settlement_research.sources.synthetic.cli", "generate the synthetic register extract (calibrated, known effects) into data_raw/synthetic"),
    "fetch": ("settlement_research.sources.fetch", "download or --offline replay SSB tables and KLASS codes into data_raw"),
    "import-imdi": ("settlement_research.sources.imdi", "import IMDi integreringsdata exports (flat, raw wide, 2022 wide) into data_raw/imdi"),
    "hypotheses": ("settlement_research.analysis.plan", "write docs/hypotheses.md from the pre-specified analysis plan"),
    "codebook": ("settlement_research.codebook", "write docs/codebook.md and docs/datapackage.json from the models"),
    "build": ("settlement_research.build", "build data_clean from data_raw: validate, quarantine, derive, save with a manifest"),
    "verify": ("settlement_research.pipeline.manifest", "check every file of data_clean against its MANIFEST.json (exit 1 on a mismatch)"),
    "import-ssb": ("settlement_research.sources.ssb_import", "load a manually downloaded SSB Statbank file (json-stat2 or CSV) into data_raw/ssb with provenance"),
    "diff": ("settlement_research.diff", "compare two builds, editions or table files: added, removed and changed values (HTML + JSON)"),
    "harmonize": ("settlement_research.harmonize", "map a municipality-year table to one classification year (2018/2020/2024 reforms)"),
    "demo": ("settlement_research.demo", "synthesise, build, validate and render everything at scale 1"),
    "run-notebook": ("settlement_research.reports.runner", "run one notebook with string parameters: .ipynb, HTML, results.json"),
    "lab": ("settlement_research.lab", "start JupyterLab on notebooks/ with .py notebooks opening as notebooks"),
    "report": ("settlement_research.reports.batch", "render a notebook for a parameter grid: HTML reports, index.html, manifest.json"),
    "trace": ("settlement_research.trace", "print the chain behind one number on a page: page -> clean row -> edition -> raw file and record"),
}

PROG = "settlement-research"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Typed, validated data and reproducible analyses of refugee settlement in Norway.",
        epilog="Errors: exit 1 = invalid data, 2 = unusable input or arguments; --debug (or "
               f"{DEBUG_ENV}=1) shows the traceback of an error.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _split_global(argv: list[str]) -> tuple[list[str], bool]:
    """Remove ``--debug`` (before the command or anywhere after it, up to a ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    return [a for i, a in enumerate(argv) if not (a == "--debug" and i < end)], debug


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain errors are printed as a paragraph with exit code 1 or 2."""
    argv, debug = _split_global(list(sys.argv[1:] if argv is None else argv))
    return run_guarded(lambda: _dispatch(argv), name=argv[0] if argv and argv[0] in COMMANDS else None, debug=debug)


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        parser = _parser()
        if argv and argv[0] == "--version":
            print(f"{PROG} {__version__}")
            return 0
        if not argv or argv[0] in ("-h", "--help"):
            parser.print_help()
            return 0 if argv else 2
        parser.print_usage(sys.stderr)
        print(f"{PROG}: unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    check_environment()
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"{PROG} {name}", description=COMMANDS[name][1])
    module.cli_add_arguments(sub)
    try:
        args = sub.parse_args(argv[1:])
    except SystemExit as exc:  # argparse printed usage and the reason; 0 after --help
        return int(exc.code or 0)
    return int(module.cli_run(args) or 0)


__all__ = ["COMMANDS", "main"]
