"""``settlement-research fetch``: pull the registry's SSB tables and KLASS 131/104 into data_raw.

Online it downloads (through the cache: files already present are reused unless ``--refresh``)
into ``<out>/ssb`` and ``<out>/klass``, each with a PROVENANCE.json; ``--offline`` replays the
cache and fails on the first missing response, so a build can prove it needs no network.

Bounded: a server may ask for a wait (Retry-After, rate-limit reset) of at most ``--max-wait``
seconds (default 60, or ``$SETTLEMENT_RESEARCH_FETCH_MAX_WAIT``), and one request may take at most
``--deadline`` seconds (default 300, or ``$SETTLEMENT_RESEARCH_FETCH_DEADLINE``); the settings
are read once, here, and passed down.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from settlement_research.paths import data_raw_dir
from settlement_research.sources import klass, ssb
from settlement_research.sources.http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_WAIT,
    CachedHttpClient,
    CacheMiss,
    HttpError,
    NetworkUnavailable,
    RateLimiter,
    write_folder_provenance,
)

CLI_HELP = "Download (or --offline replay) SSB tables and KLASS municipality/county codes into data_raw."
MAX_WAIT_ENV = "SETTLEMENT_RESEARCH_FETCH_MAX_WAIT"
DEADLINE_ENV = "SETTLEMENT_RESEARCH_FETCH_DEADLINE"


def seconds_setting(
    value: float | None, env: str, default: float, environ: Mapping[str, str] | None = None
) -> float:
    """A bound in seconds: the argument, else the environment variable, else the default."""
    source = f"--{env.rsplit('_FETCH_', 1)[-1].lower().replace('_', '-')}"
    if value is None:
        raw = (os.environ if environ is None else environ).get(env)
        if raw is None or not raw.strip():
            return default
        source = f"${env}={raw!r}"
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{source} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{source}: {value!r} must be a finite number of seconds above 0")
    return value


@dataclass
class FetchSummary:
    tables: dict[str, int] = field(default_factory=dict)  # table id -> rows
    klass: dict[str, int] = field(default_factory=dict)  # request label -> rows


def fetch(
    out: Path,
    *,
    tables: list[str] | None = None,
    from_year: int = 2010,
    to_year: int = 2024,
    offline: bool = False,
    refresh: bool = False,
    per_minute: float = 30.0,
    ssb_url: str = ssb.BASE_URL,
    klass_url: str = klass.BASE_URL,
    with_klass: bool = True,
    cell_limit: int = ssb.CELL_LIMIT,
    client_options: dict | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
    deadline: float = DEFAULT_DEADLINE,
) -> FetchSummary:
    """Fetch everything the package needs; one rate limiter for both APIs (same host, same quota).

    ``max_wait``: the longest wait a server may ask for; ``deadline``: the longest one request may take.
    """
    if from_year > to_year:
        raise ValueError(f"--from-year {from_year} is after --to-year {to_year}")
    unknown = sorted(set(tables or []) - set(ssb.REGISTRY))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; the registry has {sorted(ssb.REGISTRY)}")
    opts = {"max_wait": max_wait, "deadline": deadline, **(client_options or {})}
    limiter = opts.pop("limiter", None) or RateLimiter(per_minute=per_minute, max_wait=max_wait)
    summary = FetchSummary()

    ssb_http = CachedHttpClient(Path(out) / "ssb", offline=offline, refresh=refresh, limiter=limiter, **opts)
    client = ssb.SsbClient(ssb_http, base_url=ssb_url, cell_limit=cell_limit)
    for table_id in tables or list(ssb.REGISTRY):
        frame = client.fetch_table(ssb.REGISTRY[table_id], from_year, to_year)
        summary.tables[table_id] = frame.height
    write_folder_provenance(Path(out) / "ssb", "ssb", api=ssb_url, from_year=from_year, to_year=to_year)

    if with_klass:
        klass_http = CachedHttpClient(Path(out) / "klass", offline=offline, refresh=refresh, limiter=limiter, **opts)
        kc = klass.KlassClient(klass_http, base_url=klass_url)
        last = min(date(to_year, 12, 31), date.today())
        for classification in (klass.MUNICIPALITIES, klass.COUNTIES):
            for year in range(from_year, to_year + 1):
                codes = kc.codes_at(classification, date(year, 1, 1))
                summary.klass[f"{classification} codesAt {year}-01-01"] = codes.height
            changes = kc.changes(classification, date(from_year, 1, 1), last)
            summary.klass[f"{classification} changes {from_year}-01-01..{last}"] = changes.height
        write_folder_provenance(Path(out) / "klass", "klass", api=klass_url, from_year=from_year, to_year=to_year)
    return summary


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="raw data folder (default: data_raw)")
    parser.add_argument("--offline", action="store_true", help="replay the cache only, never use the network")
    parser.add_argument("--refresh", action="store_true", help="download again even when cached")
    parser.add_argument("--tables", default="", help=f"comma-separated SSB table ids (default: {','.join(ssb.REGISTRY)})")
    parser.add_argument("--from-year", type=int, default=2010)
    parser.add_argument("--to-year", type=int, default=2024)
    parser.add_argument("--per-minute", type=float, default=30.0, help="request rate limit (SSB allows about 30)")
    parser.add_argument("--no-klass", action="store_true", help="skip the KLASS classifications")
    parser.add_argument("--max-wait", type=float, default=None,
                        help=f"longest wait (s) a server may ask for before fetch gives up (default {DEFAULT_MAX_WAIT:g}, "
                             f"or ${MAX_WAIT_ENV})")
    parser.add_argument("--deadline", type=float, default=None,
                        help=f"longest time (s) one request may take (default {DEFAULT_DEADLINE:g}, or ${DEADLINE_ENV})")
    parser.add_argument("--ssb-url", default=ssb.BASE_URL, help=argparse.SUPPRESS)
    parser.add_argument("--klass-url", default=klass.BASE_URL, help=argparse.SUPPRESS)


def cli_run(args: argparse.Namespace) -> int:
    out = args.out or data_raw_dir()
    tables = [t.strip() for t in args.tables.split(",") if t.strip()] or None
    try:
        max_wait = seconds_setting(args.max_wait, MAX_WAIT_ENV, DEFAULT_MAX_WAIT)
        deadline = seconds_setting(args.deadline, DEADLINE_ENV, DEFAULT_DEADLINE)
    except ValueError as exc:
        print(f"settlement-research fetch: {exc}", file=sys.stderr)
        return 2
    try:
        summary = fetch(
            out, tables=tables, from_year=args.from_year, to_year=args.to_year, offline=args.offline,
            refresh=args.refresh, per_minute=args.per_minute, ssb_url=args.ssb_url,
            klass_url=args.klass_url, with_klass=not args.no_klass, max_wait=max_wait, deadline=deadline,
        )
    except (NetworkUnavailable, CacheMiss) as exc:
        print(f"settlement-research fetch: {exc}", file=sys.stderr)
        return 2
    except (HttpError, ValueError) as exc:
        print(f"settlement-research fetch: {exc}", file=sys.stderr)
        return 1
    mode = "replayed from cache" if args.offline else "fetched"
    for table_id, rows in summary.tables.items():
        print(f"ssb {table_id}: {rows} cells {mode}")
    for label, rows in summary.klass.items():
        print(f"klass {label}: {rows} rows {mode}")
    print(f"raw data in {out}")
    return 0
