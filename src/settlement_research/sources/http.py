"""A small, polite HTTP client for SSB's public APIs, with a replayable on-disk cache.

Why not plain ``requests.get``: SSB allows about 30 requests a minute per IP, answers 429 when that
is exceeded and 503 during its update windows (05:00 and 11:30), and a research build must be
reproducible without the network. So every request goes through

- a rate limiter (``per_minute``, default 30; rate-limit headers such as ``X-RateLimit-Remaining`` /
  ``X-RateLimit-Reset`` or ``RateLimit-*`` make it wait for the reset when the quota is spent),
- a bounded number of attempts (tenacity) with exponential backoff plus jitter on 429/502/503/504,
  read timeouts and truncated bodies (``Retry-After`` seconds or an HTTP date are honoured exactly),
- bounds on every wait and every request: a wait asked for by ``Retry-After`` or rate-limit headers
  longer than ``max_wait`` (default 60 s) is refused with a message instead of slept; a non-finite
  header (``Retry-After: inf``) is an error; each attempt has a total ``deadline`` (headers and
  body, so a server trickling one byte every few seconds is cut off), and redirect loops stop,
- truncation checks (body shorter than ``Content-Length``, or invalid JSON where JSON is expected),
- a shape check (``validate``, see ``shapes.py``) before anything is cached: a bad body is never
  cached, and a cached body that fails it is fetched again (or refused offline),
- a cache: every raw body is written to ``<cache_dir>/<name>-<key>.<ext>`` with a sidecar
  ``<name>-<key>.provenance.json`` (URL, params, retrieval time, HTTP status, sha256, size), and
  replayed from there (``offline=True`` never touches the network).

A failure to *connect* (DNS, connection refused, connect timeout) is not retried: without network
the caller learns at once, with the cache path and ``--offline`` named as the alternative.
Clock and sleep are injectable so tests never really wait.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
import tenacity
import urllib3.exceptions

from settlement_research.errors import InputError
from settlement_research.io import atomic_path, sha256_file, write_json_atomic
from settlement_research.sources.shapes import Check, ShapeError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_MAX_WAIT = 60.0   # seconds: the longest wait a server may ask for before we give up
DEFAULT_DEADLINE = 300.0  # seconds: the longest one attempt (headers + body) may take
MAX_REDIRECTS = 10
CHUNK = 1 << 16
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


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another attempt (after ``retry_after`` if given)."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.retry_after = retry_after


def bounded_wait(seconds: float, why: str, cap: float) -> float:
    """``seconds`` if it is a finite wait no longer than ``cap``; else a clear ``HttpError``."""
    if not math.isfinite(seconds):
        raise HttpError(f"{why}: {seconds!r} is not a finite number of seconds; the server's answer is unusable")
    if seconds > cap:
        raise HttpError(
            f"{why}: the server asks to wait {seconds:,.0f} s, longer than the cap of {cap:g} s "
            "(--max-wait or SETTLEMENT_RESEARCH_FETCH_MAX_WAIT); try again later"
        )
    return max(0.0, seconds)


@dataclass
class RateLimiter:
    """At most ``per_minute`` requests a minute (evenly spaced); ``per_minute <= 0`` disables it.

    ``note_headers`` lets the server's own accounting override the spacing: when it says the quota
    is spent, the next request waits until the announced reset.
    """

    per_minute: float = 30.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    max_wait: float = DEFAULT_MAX_WAIT
    _next_at: float | None = None

    def wait(self) -> float:
        """Block until the next request may go; return the seconds waited (at most ``max_wait``)."""
        now = self.clock()
        waited = 0.0
        if self._next_at is not None and now < self._next_at:
            waited = bounded_wait(self._next_at - now, "rate-limit headers of the last response", self.max_wait)
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
            left = float(remaining)
            reset_s = float(reset)
        except ValueError:
            return
        if math.isfinite(left) and left > 0:
            return
        # Some servers send seconds until reset, others an epoch timestamp. The next wait() bounds
        # the wait (a reset a day ahead, or 'inf', is refused there, before anything sleeps).
        delta = reset_s - time.time() if reset_s > 1e9 else reset_s
        until = self.clock() + max(0.0, delta) if math.isfinite(left) else math.inf
        self._next_at = max(self._next_at or until, until)


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    lower = {k.lower(): v for k, v in headers.items()}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (a number of seconds or an HTTP date); ``inf``/``nan`` stay non-finite."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if not math.isfinite(seconds) else max(0.0, seconds)
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
    deadline: float = DEFAULT_DEADLINE
    max_wait: float = DEFAULT_MAX_WAIT
    limiter: RateLimiter = field(default_factory=RateLimiter)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    headers: dict[str, str] = field(default_factory=lambda: {"User-Agent": "settlement-research/0.1"})
    session: requests.Session = field(default_factory=requests.Session)
    waits: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)
        self.session.max_redirects = MAX_REDIRECTS
        self.limiter.max_wait = min(self.limiter.max_wait, self.max_wait)

    # ------------------------------------------------------------------ cache
    def cache_path(self, url: str, params: Params | None, name: str, ext: str) -> Path:
        return self.cache_dir / f"{name}-{cache_key(url, params)}.{ext.lstrip('.')}"

    @staticmethod
    def provenance_path(body_path: Path) -> Path:
        return body_path.with_name(body_path.name.rsplit(".", 1)[0] + PROVENANCE_SUFFIX)

    def _from_cache(self, path: Path, url: str, validate: Check | None = None) -> Response | None:
        side = self.provenance_path(path)
        if not (path.is_file() and side.is_file()):
            return None
        prov = json.loads(side.read_text("utf-8"))
        body = path.read_bytes()
        if hashlib.sha256(body).hexdigest() != prov.get("sha256"):
            raise HttpError(f"cached file {path} does not match the sha256 in {side.name}; delete both and fetch again")
        if validate is not None:
            try:
                validate(body)
            except ShapeError as exc:
                if self.offline:
                    raise HttpError(f"cached file {path} is not what the API should answer ({exc}); "
                                    "delete it and its .provenance.json, then fetch again online") from None
                return None  # cached by an older version without the check: fetch it again
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
        validate: Check | None = None,
    ) -> Response:
        """The body of ``url?params``: from the cache when present, else fetched and cached.

        ``name`` is a readable file stem (``07459_data``); ``extra`` goes into the provenance
        sidecar (table id, selection, ...) so readers can find their files without parsing URLs.
        ``validate`` checks the body's shape (``shapes.py``); a body that fails is not cached.
        """
        path = self.cache_path(url, params, name, ext)
        if not self.refresh or self.offline:
            cached = self._from_cache(path, url, validate)
            if cached is not None:
                return cached
        if self.offline:
            raise CacheMiss(
                f"offline and not cached: {canonical_url(url, params)}\n"
                f"  expected {path}\n  run `settlement-research fetch` with network first"
            )
        body, status, content_type, attempts = self._download(url, params, expect_json, accept)
        if validate is not None:
            try:
                validate(body)
            except ShapeError as exc:
                raise HttpError(
                    f"{canonical_url(url, params)} answered HTTP {status} with a body of the wrong shape: "
                    f"{exc}. Not cached."
                ) from None
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
        base = min(self.backoff_cap, self.max_wait, self.backoff_base * 2 ** (attempt - 1))
        return min(self.max_wait, base + self.rng.uniform(0, self.backoff_base))

    def _wait_for(self, state: tenacity.RetryCallState) -> float:
        """Tenacity wait: the server's Retry-After if it gave one (already bounded), else backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            return exc.retry_after
        return self._backoff(state.attempt_number)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        self.waits.append((exc.why if isinstance(exc, _Retry) else str(exc), seconds))

    def _download(
        self, url: str, params: Params | None, expect_json: bool, accept: str | None
    ) -> tuple[bytes, int, str, int]:
        headers = dict(self.headers)
        if accept:
            headers["Accept"] = accept
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait_for,
            retry=tenacity.retry_if_exception_type(_Retry),
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    body, status, content_type = self._attempt(url, params, headers, expect_json)
                    return body, status, content_type, attempt.retry_state.attempt_number
        except _Retry as exc:
            raise HttpError(
                f"giving up on {canonical_url(url, params)} after {self.max_attempts} attempts: {exc.why}"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _attempt(
        self, url: str, params: Params | None, headers: Mapping[str, str], expect_json: bool
    ) -> tuple[bytes, int, str]:
        """One GET within ``deadline`` seconds; ``_Retry`` for what another attempt may fix."""
        waited = self.limiter.wait()
        if waited:
            self.waits.append(("rate-limit", waited))
        deadline = time.monotonic() + self.deadline
        try:
            resp = self.session.get(
                url, params=params, headers=headers, stream=True,
                timeout=(self.connect_timeout, min(self.read_timeout, self.deadline)),
            )
        except requests.exceptions.TooManyRedirects:
            raise HttpError(
                f"{canonical_url(url, params)}: more than {MAX_REDIRECTS} redirects (a redirect loop?); "
                "the server is misconfigured, try again later"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise _Retry(f"read timed out after {min(self.read_timeout, self.deadline):g} s") from None
        except requests.exceptions.ConnectionError as exc:
            if _is_connect_failure(exc):
                raise NetworkUnavailable(
                    f"cannot connect to {url} ({_reason(exc)}). No network?\n"
                    f"  Cached responses live in {self.cache_dir}; replay them with "
                    f"`settlement-research fetch --offline` (or offline=True)."
                ) from exc
            raise _Retry(f"connection broken ({_reason(exc)})") from None
        with contextlib.closing(resp):
            self.limiter.note_headers(resp.headers)
            if resp.status_code in RETRY_STATUSES:
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                if retry_after is not None:
                    retry_after = bounded_wait(retry_after, f"HTTP {resp.status_code} with Retry-After", self.max_wait)
                raise _Retry(f"HTTP {resp.status_code}", retry_after)
            if resp.status_code != 200:
                text = self._read_body(resp, deadline, limit=300).decode("utf-8", "replace")
                raise HttpError(f"HTTP {resp.status_code} from {resp.url}: {text.strip()}")
            body = self._read_body(resp, deadline)
            try:
                _check_complete(body, resp.headers, expect_json)
            except _Truncated as exc:
                raise _Retry(f"truncated or invalid body ({exc})") from None
            return body, resp.status_code, resp.headers.get("Content-Type", "")

    def _read_body(self, resp: requests.Response, deadline: float, limit: int | None = None) -> bytes:
        """The body, read in pieces as they arrive, given up when the attempt's deadline passes."""
        chunks: list[bytes] = []
        size = 0
        while limit is None or size < limit:
            if time.monotonic() > deadline:
                raise _Retry(
                    f"no complete response within the deadline of {self.deadline:g} s "
                    f"({size} bytes arrived; the server sends too slowly)"
                )
            try:
                chunk = resp.raw.read1(CHUNK, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:
                raise _Retry(f"read timed out after {min(self.read_timeout, self.deadline):g} s") from None
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
                raise _Retry(f"truncated body ({exc.__class__.__name__})") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)


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
