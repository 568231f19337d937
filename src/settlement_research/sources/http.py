"""A small, polite HTTP client for SSB's public APIs, with a replayable on-disk cache.

Why not plain ``requests.get``: SSB allows about 30 requests a minute per IP, answers 429 when that
is exceeded and 503 during its update windows (05:00 and 11:30), and a research build must be
reproducible without the network. So every request goes through

- a rate limiter (``per_minute``, default 30; rate-limit headers such as ``X-RateLimit-Remaining`` /
  ``X-RateLimit-Reset`` or ``RateLimit-*`` make it wait for the reset when the quota is spent),
- a bounded number of attempts with exponential backoff plus jitter on 429/502/503/504, read
  timeouts and truncated bodies (``Retry-After`` seconds or an HTTP date are honoured exactly),
- truncation checks (body shorter than ``Content-Length``, or invalid JSON where JSON is expected),
- a cache: every raw body is written to ``<cache_dir>/<name>-<key>.<ext>`` with a sidecar
  ``<name>-<key>.provenance.json`` (URL, params, retrieval time, HTTP status, sha256, size), and
  replayed from there (``offline=True`` never touches the network).

A failure to *connect* (DNS, connection refused, connect timeout) is not retried: without network
the caller learns at once, with the cache path and ``--offline`` named as the alternative.
Clock and sleep are injectable so tests never really wait.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3.exceptions

from settlement_research.errors import InputError
from settlement_research.io import atomic_path, sha256_file, write_json_atomic

RETRY_STATUSES = frozenset({429, 502, 503, 504})
PROVENANCE_SUFFIX = ".provenance.json"
Params = Sequence[tuple[str, str]] | Mapping[str, str]


class HttpError(InputError, RuntimeError):
    """A request that could not be completed (after the allowed attempts)."""


class NetworkUnavailable(HttpError):
    """The host could not be reached at all: no point retrying, use the cache instead."""


class CacheMiss(HttpError):
    """Offline mode and the response is not in the cache."""


class _Truncated(Exception):
    """Internal: the body is incomplete or not the JSON it should be."""


@dataclass
class RateLimiter:
    """At most ``per_minute`` requests a minute (evenly spaced); ``per_minute <= 0`` disables it.

    ``note_headers`` lets the server's own accounting override the spacing: when it says the quota
    is spent, the next request waits until the announced reset.
    """

    per_minute: float = 30.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_at: float | None = None

    def wait(self) -> float:
        """Block until the next request may go; return the seconds waited."""
        now = self.clock()
        waited = 0.0
        if self._next_at is not None and now < self._next_at:
            waited = self._next_at - now
            self.sleep(waited)
            now = self.clock()
        interval = 60.0 / self.per_minute if self.per_minute > 0 else 0.0
        self._next_at = max(now, self._next_at or now) + interval if interval else None
        return waited

    def note_headers(self, headers: Mapping[str, str]) -> None:
        remaining = _header(headers, "x-ratelimit-remaining", "ratelimit-remaining")
        reset = _header(headers, "x-ratelimit-reset", "ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if float(remaining) > 0:
                return
            reset_s = float(reset)
        except ValueError:
            return
        # Some servers send seconds until reset, others an epoch timestamp.
        delta = reset_s - time.time() if reset_s > 1e9 else reset_s
        until = self.clock() + max(0.0, delta)
        self._next_at = max(self._next_at or until, until)


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    lower = {k.lower(): v for k, v in headers.items()}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (it may be a number of seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def canonical_url(url: str, params: Params | None) -> str:
    """The URL with its parameters sorted: the identity of a request in the cache."""
    items = sorted((params.items() if isinstance(params, Mapping) else params) or [])
    return f"{url}?{urlencode(items, safe='[],*')}" if items else url


def cache_key(url: str, params: Params | None) -> str:
    return hashlib.sha256(canonical_url(url, params).encode("utf-8")).hexdigest()[:16]


@dataclass
class Response:
    """A body with where it came from; ``path`` is the cached copy, ``provenance`` its sidecar."""

    url: str
    status: int
    body: bytes
    path: Path
    provenance: dict[str, Any]
    from_cache: bool

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CachedHttpClient:
    """GET with rate limiting, bounded retries, truncation checks and a replayable cache."""

    cache_dir: Path
    offline: bool = False
    refresh: bool = False
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 120.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    limiter: RateLimiter = field(default_factory=RateLimiter)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    headers: dict[str, str] = field(default_factory=lambda: {"User-Agent": "settlement-research/0.1"})
    session: requests.Session = field(default_factory=requests.Session)
    waits: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)

    # ------------------------------------------------------------------ cache
    def cache_path(self, url: str, params: Params | None, name: str, ext: str) -> Path:
        return self.cache_dir / f"{name}-{cache_key(url, params)}.{ext.lstrip('.')}"

    @staticmethod
    def provenance_path(body_path: Path) -> Path:
        return body_path.with_name(body_path.name.rsplit(".", 1)[0] + PROVENANCE_SUFFIX)

    def _from_cache(self, path: Path, url: str) -> Response | None:
        side = self.provenance_path(path)
        if not (path.is_file() and side.is_file()):
            return None
        prov = json.loads(side.read_text("utf-8"))
        body = path.read_bytes()
        if hashlib.sha256(body).hexdigest() != prov.get("sha256"):
            raise HttpError(f"cached file {path} does not match the sha256 in {side.name}; delete both and fetch again")
        return Response(url, int(prov.get("http_status", 200)), body, path, prov, True)

    # ------------------------------------------------------------------ get
    def get(
        self,
        url: str,
        params: Params | None = None,
        *,
        name: str,
        ext: str = "json",
        expect_json: bool = True,
        accept: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Response:
        """The body of ``url?params``: from the cache when present, else fetched and cached.

        ``name`` is a readable file stem (``07459_data``); ``extra`` goes into the provenance
        sidecar (table id, selection, ...) so readers can find their files without parsing URLs.
        """
        path = self.cache_path(url, params, name, ext)
        if not self.refresh or self.offline:
            cached = self._from_cache(path, url)
            if cached is not None:
                return cached
        if self.offline:
            raise CacheMiss(
                f"offline and not cached: {canonical_url(url, params)}\n"
                f"  expected {path}\n  run `settlement-research fetch` with network first"
            )
        body, status, content_type, attempts = self._download(url, params, expect_json, accept)
        with atomic_path(path) as tmp:
            tmp.write_bytes(body)
        prov = {
            "url": url,
            "params": [list(p) for p in ((params.items() if isinstance(params, Mapping) else params) or [])],
            "request": canonical_url(url, params),
            "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "http_status": status,
            "content_type": content_type,
            "sha256": sha256_file(path),
            "size_bytes": len(body),
            "attempts": attempts,
            "file": path.name,
            **(dict(extra) if extra else {}),
        }
        write_json_atomic(prov, self.provenance_path(path))
        return Response(url, status, body, path, prov, False)

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return base + self.rng.uniform(0, self.backoff_base)

    def _wait(self, why: str, seconds: float) -> None:
        self.waits.append((why, seconds))
        self.sleep(seconds)

    def _download(
        self, url: str, params: Params | None, expect_json: bool, accept: str | None
    ) -> tuple[bytes, int, str, int]:
        headers = dict(self.headers)
        if accept:
            headers["Accept"] = accept
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            waited = self.limiter.wait()
            if waited:
                self.waits.append(("rate-limit", waited))
            retry_after: float | None = None
            try:
                resp = self.session.get(
                    url, params=params, headers=headers,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
                self.limiter.note_headers(resp.headers)
                if resp.status_code in RETRY_STATUSES:
                    last = f"HTTP {resp.status_code}"
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                elif resp.status_code != 200:
                    raise HttpError(
                        f"HTTP {resp.status_code} from {resp.url}: {resp.text[:300].strip()}"
                    )
                else:
                    body = resp.content
                    _check_complete(body, resp.headers, expect_json)
                    return body, resp.status_code, resp.headers.get("Content-Type", ""), attempt
            except _Truncated as exc:
                last = f"truncated or invalid body ({exc})"
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                last = f"truncated body ({exc.__class__.__name__})"
            except requests.exceptions.ReadTimeout:
                last = f"read timed out after {self.read_timeout} s"
            except requests.exceptions.ConnectionError as exc:
                if _is_connect_failure(exc):
                    raise NetworkUnavailable(
                        f"cannot connect to {url} ({_reason(exc)}). No network?\n"
                        f"  Cached responses live in {self.cache_dir}; replay them with "
                        f"`settlement-research fetch --offline` (or offline=True)."
                    ) from exc
                last = f"connection broken ({_reason(exc)})"
            if attempt < self.max_attempts:
                self._wait(last, retry_after if retry_after is not None else self._backoff(attempt))
        raise HttpError(
            f"giving up on {canonical_url(url, params)} after {self.max_attempts} attempts: {last}"
        )


def _check_complete(body: bytes, headers: Mapping[str, str], expect_json: bool) -> None:
    length = _header(headers, "content-length")
    encoded = (_header(headers, "content-encoding") or "identity").lower() != "identity"
    if length is not None and not encoded and length.isdigit() and int(length) != len(body):
        raise _Truncated(f"{len(body)} of {length} bytes")
    if expect_json:
        try:
            json.loads(body)
        except ValueError as exc:
            raise _Truncated(f"invalid JSON: {exc}") from None


def _is_connect_failure(exc: requests.exceptions.ConnectionError) -> bool:
    """DNS failure, refused connection or connect timeout: the host is unreachable."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def _reason(exc: BaseException) -> str:
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    return str(reason)[:200]


def write_folder_provenance(folder: Path, source: str, **extra: Any) -> Path:
    """``<folder>/PROVENANCE.json``: the source and every cached file with its sidecar facts."""
    files = []
    for side in sorted(Path(folder).glob(f"*{PROVENANCE_SUFFIX}")):
        prov = json.loads(side.read_text("utf-8"))
        files.append(
            {k: prov.get(k) for k in ("file", "request", "retrieved_at", "http_status", "sha256", "size_bytes")}
            | {"provenance": side.name}
        )
    return write_json_atomic(
        {"source": source, "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
         **extra, "files": files},
        Path(folder) / "PROVENANCE.json",
    )


def cached_responses(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every cached body in ``folder`` with its provenance, oldest retrieval first."""
    out = []
    for side in Path(folder).glob(f"*{PROVENANCE_SUFFIX}"):
        prov = json.loads(side.read_text("utf-8"))
        body = side.with_name(prov.get("file", ""))
        if body.is_file():
            out.append((body, prov))
    return sorted(out, key=lambda item: (item[1].get("retrieved_at", ""), item[0].name))
