"""``settlement-research import-ssb FILE``: a manually downloaded Statbank file into data_raw/ssb.

Why: the analysis machine may have no access to SSB's API. A researcher downloads a table from
the Statbank (json-stat2, or the CSV export with its title line and status symbols) elsewhere and
brings the file. This command checks that the file parses (values and symbols, never a symbol as
0), copies it byte for byte into data_raw/ssb and writes the same provenance sidecar that
``fetch`` writes (table id, format, sha256, size, time), marked as a manual download with the
original file name - so ``read(raw_dir)`` of the ssb source uses it exactly like a fetched
response, later imports winning over earlier ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from settlement_research.io import write_json_atomic
from settlement_research.paths import data_raw_dir
from settlement_research.sources.http import PROVENANCE_SUFFIX
from settlement_research.sources.ssb import OUTPUT_FORMATS, SOURCE_NAME, parse_response

CLI_HELP = "load a manually downloaded SSB Statbank file (json-stat2 or CSV) into data_raw/ssb with provenance"
_TABLE_IN_NAME = re.compile(r"(?<!\d)(\d{5})(?!\d)")


class SsbImportError(ValueError):
    """The file is not a Statbank table this command can read."""


def detect_format(body: bytes) -> str:
    """json-stat2 when the body is a JSON object with ``value`` and ``dimension``, else csv."""
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SsbImportError(f"looks like JSON but does not parse: {exc}") from None
        if not (isinstance(payload, dict) and "value" in payload and "dimension" in payload):
            raise SsbImportError("JSON without 'value' and 'dimension': not a json-stat2 dataset")
        return "json-stat2"
    return "csv"


def table_id_of(path: Path, body: bytes, fmt: str) -> str | None:
    """The Statbank table id: from json-stat2's extension/label, else 5 digits in the file name."""
    if fmt == "json-stat2":
        payload = json.loads(body)
        ext = payload.get("extension") or {}
        px = ext.get("px") or {} if isinstance(ext, dict) else {}
        for candidate in (px.get("tableid"), payload.get("label", "")):
            if isinstance(candidate, str) and (m := re.match(r"^\s*(\d{5})\b", candidate)):
                return m.group(1)
    m = _TABLE_IN_NAME.search(path.name)
    return m.group(1) if m else None


def import_ssb(path: Path, out_dir: Path, table_id: str | None = None) -> dict[str, Any]:
    """Check, copy and describe one file; returns the provenance written beside it."""
    body = path.read_bytes()
    if not body.strip():
        raise SsbImportError(f"{path}: empty file")
    fmt = detect_format(body)
    try:
        frame = parse_response(body, fmt)
    except (ValueError, KeyError, TypeError) as exc:
        raise SsbImportError(f"{path}: not a readable Statbank {fmt} table: {exc}") from None
    if "value" not in frame.columns or frame.is_empty():
        raise SsbImportError(f"{path}: no values found")
    table = table_id or table_id_of(path, body, fmt)
    if table is None or not re.fullmatch(r"\d{5}", table):
        raise SsbImportError(f"{path}: cannot tell the Statbank table id; pass --table NNNNN")
    sha = hashlib.sha256(body).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{table}_data-manual-{sha[:16]}.{OUTPUT_FORMATS[fmt]}"
    if not target.exists():
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
    symbols = frame.filter(frame["symbol"].is_not_null()) if "symbol" in frame.columns else frame.clear()
    prov = {
        "origin": "manual download (settlement-research import-ssb)",
        "original_name": path.name,
        "retrieved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "http_status": 200,
        "sha256": sha,
        "size_bytes": len(body),
        "file": target.name,
        "table_id": table,
        "kind": "data",
        "output_format": fmt,
        "cells": frame.height,
        "values": int(frame["value"].is_not_null().sum()),
        "symbols": {str(s): int(n) for s, n in symbols.group_by("symbol").len().sort("symbol").iter_rows()},
    }
    write_json_atomic(prov, target.with_name(target.name.rsplit(".", 1)[0] + PROVENANCE_SUFFIX))
    return prov


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="Statbank json-stat2 (.json) or CSV export")
    parser.add_argument("--table", default=None, metavar="NNNNN", help="table id (default: from the file)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: data_raw/ssb)")


def cli_run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"settlement-research import-ssb: {args.file}: no such file", file=sys.stderr)
        return 2
    try:
        prov = import_ssb(args.file, args.out or data_raw_dir() / SOURCE_NAME, args.table)
    except SsbImportError as exc:
        print(f"settlement-research import-ssb: {exc}", file=sys.stderr)
        return 2
    symbols = ", ".join(f"{n} x '{s}'" for s, n in prov["symbols"].items()) or "none"
    print(f"table {prov['table_id']} ({prov['output_format']}): {prov['cells']} cells, {prov['values']} values, "
          f"symbols {symbols}; wrote {prov['file']} (sha256 {prov['sha256'][:16]})")
    return 0


__all__ = ["CLI_HELP", "SsbImportError", "cli_add_arguments", "cli_run", "detect_format", "import_ssb", "table_id_of"]
