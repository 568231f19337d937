"""Render one template for every parameter set of a grid: cached, parallel, failure-isolated.

``settlement-research report TEMPLATE --grid kommune_nr=all [--grid year=2012..2014]`` writes
``reports/TEMPLATE/<stem>.html`` (no code cells), ``<stem>.ipynb``, ``<stem>.results.json``, an
``index.html`` (sortable, filterable, offline) and ``manifest.json`` (per report: parameters,
status, duration, error, cache key; per run: git commit, template hash, data manifest hash).

Grid values: ``all`` (kommune_nr only) = every code in the catalog's kommune table; ``a..b`` an
integer range, kept as strings with the width of ``a`` when it has a leading zero
(``0301..0303``); ``a,b,c`` a list. Parameters are strings end to end.

Parameters are checked before anything is rendered or written (reports.parameters): every key
(``-p`` and ``--grid``) must be declared in the template's ``parameters`` cell, ``source`` must be
a registered source, years must lie in the data. The size of the grid is computed from the specs
before any value list is built, and a grid of more than ``MAX_REPORTS`` reports is refused. All
of these exit 2 with nothing created. A ``kommune_nr`` that the source's kommune table does not
have fails only its own report (status failed, with the reason; nothing rendered for it).

Cache: a report is reused, not rendered, when the previous manifest has it as ok with the same
cache key (template hash + parameters + data manifest hash + disclosure settings + hash of the
package code the template imports, see pipeline/codehash.py) and its files
still exist. A failed report is rendered again. ``--force`` ignores the cache.

Precise cache: a report rendered in-process also records which data it read (``readlog``: clean
tables, sidecars, and the rows it took from derived frames such as the profiles' suppressed panel,
with a hash of each), stored beside it as ``<stem>.reads.json``. When the data changed, a report
whose key without the data (``precise_key``) is unchanged is reused if every one of its reads
still hashes the same against the new data; only the others re-render. A report rendered by the
kernel engine has no record and keys on the whole data manifest. When the person-level
identifiers changed, a reused report is first audited again (``sdc.audit.audit_report``) and
re-rendered if the gate finds anything; its files stay in place for the whole-set audit.

A failing report is marked failed with its error and the rest go on; the exit code is 1 if any
report failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.errors import InputError, SettlementResearchError
from settlement_research.io import write_json_atomic, write_text_atomic
from settlement_research.paths import data_clean_dir, project_root
from settlement_research.pipeline.codehash import report_code_hash
from settlement_research.reports.parameters import ParameterError, UnknownMunicipality, check_keys
from settlement_research.reports.provenance import (
    cache_key,
    data_manifest_hash,
    git_commit,
)
from settlement_research.sdc import gate as sdc_gate
from settlement_research.textsafe import escape_terminal

CLI_HELP = "Render a notebook template for a grid of parameters (HTML, index.html, manifest.json)."
MANIFEST = "manifest.json"
INDEX = "index.html"
MAX_REPORTS = 10_000  # all 428 municipalities x 20 years fit; 1..200000000 does not
_RANGE = re.compile(r"(-?\d{1,9})\.\.(-?\d{1,9})", re.ASCII)


# --------------------------------------------------------------------------------------------- grid


def kommune_codes(source: str | None = None, year: int | None = None) -> list[str]:
    """Every kommune_nr in the catalog's kommune table (sorted, unique); the source is checked
    by the catalog (a registered name, never a path). With ``year``: only the codes valid in that
    classification year (a real source's table holds every code since 1838; a profile of
    2009-2014 is one of the 428 municipalities of 2014)."""
    from settlement_research.catalog import CatalogError, load

    try:
        frame = load("kommune", source=source)
    except CatalogError as exc:
        raise ParameterError(f"--grid kommune_nr=all: {exc}") from None
    if year is not None and {"valid_from", "valid_to"} <= set(frame.columns):
        frame = frame.filter((pl.col("valid_from").fill_null(-9999) <= year) & (pl.col("valid_to").fill_null(9999) >= year))
    return sorted(set(frame.get_column("kommune_nr").cast(str).to_list()))


def count_values(key: str, spec: str, *, source: str | None = None, year: int | None = None) -> int:
    """How many values ``spec`` gives at most, computed without building them."""
    spec = spec.strip()
    if spec == "all":
        if key != "kommune_nr":
            raise ParameterError(f"--grid {key}=all: 'all' is only defined for kommune_nr")
        return len(kommune_codes(source, year))
    n = 0
    for part in (p.strip() for p in spec.split(",")):
        match = _RANGE.fullmatch(part)
        n += max(0, int(match[2]) - int(match[1]) + 1) if match else 1
    return n


def expand_values(key: str, spec: str, *, source: str | None = None, limit: int = MAX_REPORTS,
                  year: int | None = None) -> list[str]:
    """One grid axis: 'all', 'a..b' or 'a,b,c' -> a list of strings (at most ``limit``)."""
    spec = spec.strip()
    size = count_values(key, spec, source=source, year=year)
    if size > limit:
        raise ParameterError(f"--grid {key}={spec[:40]}: {size:,} values, more than the limit of {limit:,} reports")
    if spec == "all":
        return kommune_codes(source, year)
    values: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        match = _RANGE.fullmatch(part)
        if match:
            lo, hi = match.groups()
            width = len(lo) if lo.startswith("0") and len(lo) > 1 else 0
            if int(hi) < int(lo):
                raise ValueError(f"--grid {key}={part}: empty range")
            values += [str(i).zfill(width) for i in range(int(lo), int(hi) + 1)]
        elif part:
            values.append(part)
    if not values:
        raise ValueError(f"--grid {key}={spec!r}: no values")
    return list(dict.fromkeys(values))


def parse_grid(specs: Sequence[str], *, source: str | None = None, declared: Mapping[str, str] | None = None,
               template: str = "template", limit: int = MAX_REPORTS, year: int | None = None) -> dict[str, list[str]]:
    """``["kommune_nr=all", "year=2012..2014"]`` -> the axes, checked before anything is built:
    keys are identifiers (declared by the template when ``declared`` is given) and the product
    of the axes' sizes, computed arithmetically, is at most ``limit``."""
    axes: dict[str, str] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--grid {spec!r} is not key=values")
        if key in axes:
            raise ParameterError(f"--grid {key} given twice")
        axes[key] = values
    if declared is not None:
        check_keys(axes, declared, template)
    else:
        check_keys(axes, {k: "" for k in axes}, template)  # identifiers at least
    sizes = {key: count_values(key, values, source=source, year=year) for key, values in axes.items()}
    total = math.prod(sizes.values())
    if total > limit:
        shown = " x ".join(f"{k} {n:,}" for k, n in sizes.items())
        raise ParameterError(f"--grid: {total:,} reports ({shown}), more than the limit of {limit:,}")
    return {key: expand_values(key, values, source=source, limit=limit, year=year) for key, values in axes.items()}


def expand_grid(grid: Mapping[str, Sequence[str]], fixed: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Cartesian product of the axes, in the axes' order, each merged with the fixed parameters."""
    keys = list(grid)
    return [{**(fixed or {}), **dict(zip(keys, combo, strict=True))} for combo in itertools.product(*(grid[k] for k in keys))]


def report_stem(parameters: Mapping[str, str]) -> str:
    """File stem for a parameter set: 'kommune_nr-0301__year-2012' (safe characters only)."""
    raw = "__".join(f"{k}-{v}" for k, v in parameters.items()) or "report"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", raw)
    if safe != raw or len(safe) > 120:
        safe = f"{safe[:100]}_{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return safe


# ------------------------------------------------------------------------------------------ batch


def _previous(out_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        return {r["name"]: r for r in data.get("reports", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


READS = ".reads.json"


def _previous_run(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def identifiers_hash() -> str:
    """sha256 of the person-level identifier values the disclosure gate checks pages against."""
    from settlement_research.sdc.audit import identifier_values

    return hashlib.sha256("\n".join(sorted(identifier_values())).encode("utf-8")).hexdigest()


def _reads_unchanged(entry: dict[str, Any] | None, precise: str, out_dir: Path, verifier: Any) -> bool:
    """A previous ok report with the same key without data, whose logged reads all still match."""
    if not entry or entry.get("precise_key") != precise or not entry.get("reads_file"):
        return False
    if not _reusable(entry, entry.get("cache_key", ""), out_dir):
        return False
    try:
        reads = json.loads((out_dir / entry["reads_file"]).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(reads, list) and verifier.unchanged(reads)


def _passes_gate(entry: dict[str, Any], out_dir: Path, t: int, declared: Mapping[str, str]) -> bool:
    """A cached report audited again by the clean gate (no render key: marks prove nothing)."""
    from settlement_research.sdc import gate

    return not gate.audit_rendered(out_dir, str(entry["name"]), entry.get("parameters") or {}, declared=declared, t=t)


def _reusable(entry: dict[str, Any] | None, key: str, out_dir: Path) -> bool:
    if not entry or entry.get("cache_key") != key or entry.get("status") != "ok":
        return False
    files = [entry.get("html"), entry.get("notebook"), entry.get("results_file")]
    return bool(entry.get("html")) and all((out_dir / f).is_file() for f in files if f)


def run_batch(
    template_name: str | Path,
    parameter_sets: Sequence[Mapping[str, str]],
    out_dir: Path | None = None,
    *,
    workers: int | None = None,
    engine: str = "inprocess",
    timeout: float | None = 600.0,
    force: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Render every parameter set; write manifest.json and index.html; return the manifest.

    Every parameter set is checked against the template first: ``ParameterError`` (nothing
    rendered, nothing created) for an undeclared key or a value outside its domain, except an
    unknown ``kommune_nr``, which fails only that report.
    """
    from settlement_research import sdc
    from settlement_research.reports.index import link_languages
    from settlement_research.reports.pool import Job, WorkerPool, WorkerSettings
    from settlement_research.reports.runner import load_template

    template = load_template(template_name)
    refused: dict[int, str] = {}
    checked: list[dict[str, str]] = []
    for i, parameters in enumerate(parameter_sets):
        try:
            checked.append(template.check(parameters))
        except UnknownMunicipality as exc:  # this report fails, the others render
            checked.append(dict(parameters))
            refused[i] = str(exc)
    path = template.path
    template_hash = template.hash
    name = template.name
    code_hash = report_code_hash(path)  # the analysis code the template imports, and the renderer
    out_dir = (out_dir or project_root() / "reports" / name).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    data_hash = data_manifest_hash()
    t = sdc.threshold()
    gate = sdc.audit.GATE
    previous = {} if force else _previous(out_dir)
    previous_ids = None if force else _previous_run(out_dir).get("identifiers_sha256")
    from settlement_research.readlog import Verifier

    check_start = time.perf_counter()
    if parameter_sets:
        from settlement_research.reports.pool import prewarm

        prewarm()  # the workers' imports load beside the cache check
    verifier = Verifier()
    ids_hash = identifiers_hash()  # every ok report of this manifest passed the gate against these
    by_reads = 0

    entries: list[dict[str, Any]] = []
    jobs: list[Job] = []
    seen: set[str] = set()
    parameter_sets = checked
    keys = list(dict.fromkeys(k for p in parameter_sets for k in p))
    # File names from the parameters that vary ('kommune_nr-0301.html'); fixed ones are in the index.
    naming = [k for k in keys if len({p.get(k) for p in parameter_sets}) > 1] or keys
    for i, parameters in enumerate(parameter_sets):
        stem = report_stem({k: parameters[k] for k in naming if k in parameters})
        if stem in seen:
            continue
        seen.add(stem)
        settings: dict[str, Any] = dict(sdc_threshold=t, sdc_gate=gate, engine=engine, code=code_hash)
        key = cache_key(template_hash, parameters, data_hash, **settings)
        precise = cache_key(template_hash, parameters, "reads-v1", **settings)  # the data are in the reads
        entry: dict[str, Any] = {"name": stem, "parameters": parameters, "cache_key": key, "precise_key": precise}
        old = previous.get(stem)
        if i in refused:
            for stale in (f"{stem}.html", f"{stem}.ipynb", f"{stem}.results.json", f"{stem}.lineage.json",
                          f"{stem}{READS}"):
                (out_dir / stale).unlink(missing_ok=True)
            entry.update(status="failed", cached=False, duration_s=0.0, error=refused[i])
        elif _reusable(old, key, out_dir):
            assert old is not None
            entry.update({k: v for k, v in old.items() if k not in entry}, cached=True, cached_by="key")
        elif _reads_unchanged(old, precise, out_dir, verifier) and (
                ids_hash == previous_ids or _passes_gate(old, out_dir, t, template.declared)):  # type: ignore[arg-type]
            assert old is not None
            entry.update({k: v for k, v in old.items() if k not in entry}, cached=True, cached_by="reads")
            by_reads += 1
        else:
            entry.update(status="pending", cached=False)
            jobs.append(Job(len(entries), str(path), parameters, str(out_dir), stem))
        entries.append(entry)

    manifest: dict[str, Any] = {
        "template": name, "template_path": str(path), "template_hash": template_hash, "code_hash": code_hash,
        "git_commit": git_commit(), "data_manifest_hash": data_hash, "data_clean_dir": str(data_clean_dir()),
        "sdc_threshold": t, "sdc_gate": gate, "engine": engine,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "identifiers_sha256": ids_hash,
        "cache_check_s": round(time.perf_counter() - check_start, 3), "cached_by_reads": by_reads,
        "reports": entries,
    }
    bar = _progress_bar(len(entries), name, enabled=progress)
    counts = {"ok": 0, "failed": 0, "cached": sum(1 for e in entries if e.get("cached"))}
    bar.update(counts["cached"])
    bar.set_postfix(counts)
    start = time.perf_counter()
    last_save = [time.monotonic()]

    knowledge = sdc_gate.Knowledge(parameter_sets, template.declared, t)  # the data as they are before any template runs
    gate_s = [0.0]

    def on_done(job: Job, outcome: dict[str, Any]) -> None:
        entry = entries[job.index]
        reads = outcome.pop("reads", None)
        started = time.perf_counter()
        # decided here, in a process that never ran template code (the worker could patch its own gate)
        outcome = sdc_gate.settle(out_dir, job.stem, outcome, knowledge)
        gate_s[0] += time.perf_counter() - started
        entry.update({k: v for k, v in outcome.items() if k not in ("name", "parameters")})
        entry["rendered_with_data_manifest"] = data_hash
        reads_file = out_dir / f"{job.stem}{READS}"
        if reads is not None and outcome["status"] == "ok":
            write_json_atomic(reads, reads_file)
            entry["reads_file"] = reads_file.name
        else:
            reads_file.unlink(missing_ok=True)
            entry["reads_file"] = None
        counts["ok" if outcome["status"] == "ok" else "failed"] += 1
        bar.update(1)
        bar.set_postfix(counts)
        if time.monotonic() - last_save[0] > 10:  # a killed batch still leaves a useful manifest
            write_json_atomic(manifest, out_dir / MANIFEST)
            last_save[0] = time.monotonic()

    n_workers = workers or min(os.cpu_count() or 1, 2 if len(jobs) > 1 else 1)
    settings = WorkerSettings(engine=engine, sdc_threshold=t)
    before = sdc_gate.snapshot(out_dir)
    try:
        WorkerPool(n_workers, settings, timeout=timeout).run(jobs, on_done)
        # files a template wrote beside the reports are never read by the gate: never published
        stray = sdc_gate.strays(out_dir, before, {job.stem for job in jobs}, keep=(MANIFEST, INDEX))
        for path in stray:
            path.unlink(missing_ok=True)
        manifest["stray_files_withheld"] = len(stray)
        sdc.publication.audit_batch(out_dir, manifest, t=t)  # the whole set, attacked as one system
    finally:
        bar.close()
        manifest["duration_s"] = round(time.perf_counter() - start, 3)
        manifest["rendered"] = len(jobs)
        manifest["failed"] = sum(1 for e in entries if e.get("status") != "ok")
        manifest["clean_gate_s"] = round(gate_s[0], 3)
        sdc.audit.scrub_manifest(manifest, knowledge.ids)  # no identifier reaches manifest.json, index.html or the console
        index, manifest["index_findings"] = gated_index(manifest, knowledge)
        write_json_atomic(manifest, out_dir / MANIFEST)
        link_languages(out_dir, manifest.get("reports", []))  # a page links its other-language sibling
        write_text_atomic(index, out_dir / INDEX)
    return manifest


def gated_index(manifest: Mapping[str, Any], knowledge: Any) -> tuple[str, list[dict[str, str]]]:
    """index.html, judged by the clean gate like any page (``sdc.gate.audit_index``), and what the
    gate found. When it finds anything, the page is written without the reports' key numbers; if
    even that one has a finding, with nothing but the names and statuses of the reports.
    ``knowledge``: ``sdc.gate.Knowledge``, loaded before any template ran."""
    from settlement_research.reports.index import write_index
    from settlement_research.sdc import gate

    parameters = next((r.get("parameters") or {} for r in manifest.get("reports", []) if r.get("parameters")), {})
    windows = knowledge.windows([r.get("parameters") or {} for r in manifest.get("reports", [])])
    found: list[dict[str, str]] = []
    for mode in ("full", "no_numbers", "names"):
        html = write_index(manifest, mode=mode)
        findings = gate.audit_index(html, knowledge, parameters, windows)
        if not findings:
            return html, found
        found += [{**f.to_dict(), "index": mode} for f in findings]
    return write_index(manifest, mode="empty"), found


def _progress_bar(total: int, name: str, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="report", disable=not enabled, file=sys.stderr, dynamic_ncols=True)


# -------------------------------------------------------------------------------------------- CLI


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("template", help="notebook name in notebooks/ (without .py) or a path to a .py file")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                        help="a parameter axis: 'all' (kommune_nr), 'a..b' or 'a,b,c' (repeatable)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a fixed parameter for every report (a string; repeatable)")
    parser.add_argument("--source", default=None,
                        help="data source (synthetic | imdi | ssb): for 'all' and passed as parameter 'source'")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default reports/TEMPLATE/)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: cores, at most 2)")
    parser.add_argument("--engine", choices=("inprocess", "kernel"), default="inprocess",
                        help="inprocess (fast, default) or a Jupyter kernel per report")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before one report is failed")
    parser.add_argument("--force", action="store_true", help="render everything again, ignoring the cache")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.reports.runner import load_template, parse_parameters

    try:
        template = load_template(args.template)
        fixed = parse_parameters(args.parameter)
        if args.source and "source" in template.declared:
            fixed.setdefault("source", args.source)
        check_keys(fixed, template.declared, template.name)
        source = args.source or fixed.get("source") or template.declared.get("source")
        last = fixed.get("last_year") or template.declared.get("last_year")  # 'all' = the municipalities of that year
        year = int(last) if isinstance(last, str) and last.isascii() and last.isdigit() else None
        grid = parse_grid(args.grid, source=source, declared=template.declared, template=template.name, year=year)
        both = sorted(set(grid) & set(fixed))
        if both:
            raise ParameterError(f"{', '.join(both)} given both as --grid and as -p")
        parameter_sets = expand_grid(grid, fixed)
        manifest = run_batch(template.path, parameter_sets, args.out, workers=args.workers, engine=args.engine,
                             timeout=args.timeout, force=args.force, progress=not args.no_progress)
    except (ValueError, TypeError, argparse.ArgumentTypeError, FileNotFoundError) as exc:
        if isinstance(exc, SettlementResearchError):
            raise  # the CLI boundary prints it like every other command's errors
        raise InputError(str(exc)) from exc
    reports = manifest["reports"]
    out = Path(manifest["template_path"]).stem if args.out is None else args.out
    print(f"{len(reports)} reports: {len(reports) - manifest['failed']} ok "
          f"({sum(1 for r in reports if r.get('cached'))} from cache), {manifest['failed']} failed; "
          f"{manifest['duration_s']:.1f} s; index: {Path(args.out or project_root() / 'reports' / str(out)) / INDEX}")
    audit = manifest.get("set_audit")
    if audit and audit.get("skipped"):
        print(f"whole-set disclosure audit not needed: {audit['skipped']}")
    elif audit and audit.get("error"):
        print(f"whole-set disclosure audit could not run ({audit['error']}); every report of the set is failed",
              file=sys.stderr)
    elif audit and not audit["ok"]:
        print(f"whole-set disclosure audit: {audit['pinned']} hidden cell(s) pinned, {audit['below_threshold']} proven "
              f"below the threshold, {audit['narrow']} narrower than the threshold allows; "
              f"{len(audit['withheld'])} report(s) withheld", file=sys.stderr)
    for r in reports:
        if r.get("status") != "ok":
            print(f"  FAILED {r['name']}: {escape_terminal(r.get('error'))}", file=sys.stderr)
    return 1 if manifest["failed"] else 0
