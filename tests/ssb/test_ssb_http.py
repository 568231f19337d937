"""The cached HTTP client against a real HTTP server on 127.0.0.1 (no waiting: sleep is injected)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from ssb_fakes import LocalServer, Reply, Sleeps, closed_port_url, serve

from settlement_research.sources.http import (
    CachedHttpClient,
    CacheMiss,
    HttpError,
    NetworkUnavailable,
    RateLimiter,
    retry_after_seconds,
    write_folder_provenance,
)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    with serve() as server:
        yield server


def client(tmp_path: Path, sleeps: Sleeps, **kwargs) -> CachedHttpClient:
    kwargs.setdefault("limiter", RateLimiter(per_minute=0, clock=sleeps.clock, sleep=sleeps))
    return CachedHttpClient(
        tmp_path / "cache", sleep=sleeps, rng=random.Random(7), backoff_base=1.0,
        connect_timeout=2.0, read_timeout=2.0, **kwargs,
    )


def test_ok_is_cached_with_provenance_and_replayed_offline(local_server, tmp_path):
    body = json.dumps({"answer": 42, "text": "Tromsø"}).encode()
    url = local_server.script("/ok", Reply(body=body))
    sleeps = Sleeps()
    first = client(tmp_path, sleeps).get(url, [("lang", "no"), ("valueCodes[Tid]", "2020")], name="t_ok")
    assert first.body == body and not first.from_cache
    prov = json.loads(Path(str(first.path).replace(".json", ".provenance.json")).read_text())
    assert prov["url"] == url and prov["params"] == [["lang", "no"], ["valueCodes[Tid]", "2020"]]
    assert prov["http_status"] == 200 and prov["size_bytes"] == len(body)
    assert prov["sha256"] == hashlib.sha256(body).hexdigest() and prov["retrieved_at"]
    # Same request again, even with the parameters in another order: served from the cache.
    offline = client(tmp_path, sleeps, offline=True)
    again = offline.get(url, [("valueCodes[Tid]", "2020"), ("lang", "no")], name="t_ok")
    assert again.from_cache and again.body == body and local_server.hits("/ok") == 1
    with pytest.raises(CacheMiss, match="offline and not cached"):
        offline.get(url, [("lang", "en")], name="t_ok")
    prov_file = write_folder_provenance(tmp_path / "cache", "ssb")
    listed = json.loads(prov_file.read_text())
    assert listed["source"] == "ssb" and listed["files"][0]["sha256"] == prov["sha256"]


def test_429_honours_retry_after_exactly(local_server, tmp_path):
    url = local_server.script(
        "/limited", Reply("status", b"{}", 429, {"Retry-After": "7"}), Reply(body=b'{"ok": 1}')
    )
    sleeps = Sleeps()
    resp = client(tmp_path, sleeps).get(url, name="limited")
    assert resp.json() == {"ok": 1} and resp.provenance["attempts"] == 2
    assert sleeps.waits == [7.0] and local_server.hits("/limited") == 2


def test_503_then_200_backs_off_exponentially_with_jitter(local_server, tmp_path):
    url = local_server.script(
        "/busy", Reply("status", b"{}", 503), Reply("status", b"{}", 503), Reply(body=b"[1]")
    )
    sleeps = Sleeps()
    assert client(tmp_path, sleeps).get(url, name="busy").json() == [1]
    assert len(sleeps.waits) == 2
    assert 1.0 <= sleeps.waits[0] <= 2.0 and 2.0 <= sleeps.waits[1] <= 3.0  # base 1, 2 + jitter < 1


def test_retries_are_bounded(local_server, tmp_path):
    url = local_server.script("/down", Reply("status", b"{}", 503))
    sleeps = Sleeps()
    with pytest.raises(HttpError, match="after 3 attempts: HTTP 503"):
        client(tmp_path, sleeps, max_attempts=3).get(url, name="down")
    assert local_server.hits("/down") == 3 and len(sleeps.waits) == 2
    assert not list((tmp_path / "cache").glob("down-*"))  # nothing cached on failure


def test_client_errors_are_not_retried(local_server, tmp_path):
    url = local_server.script("/bad", Reply("status", b'{"error": "too many cells"}', 403))
    with pytest.raises(HttpError, match="HTTP 403.*too many cells"):
        client(tmp_path, Sleeps()).get(url, name="bad")
    assert local_server.hits("/bad") == 1


def test_slow_server_times_out_and_retries_boundedly(local_server, tmp_path):
    url = local_server.script("/slow", Reply("slow", b'{"late": true}', delay=0.6))
    sleeps = Sleeps()
    http = client(tmp_path, sleeps, max_attempts=2)
    http.read_timeout = 0.15
    with pytest.raises(HttpError, match="after 2 attempts: read timed out"):
        http.get(url, name="slow")
    assert local_server.hits("/slow") == 2 and len(sleeps.waits) == 1


def test_truncated_body_is_retried_then_succeeds(local_server, tmp_path):
    full = json.dumps({"value": list(range(50))}).encode()
    url = local_server.script(
        "/trunc", Reply("truncated", full[:40], declared_length=len(full)), Reply(body=full)
    )
    sleeps = Sleeps()
    resp = client(tmp_path, sleeps).get(url, name="trunc")
    assert resp.body == full and resp.provenance["attempts"] == 2 and len(sleeps.waits) == 1


def test_truncated_body_every_time_gives_a_clear_error(local_server, tmp_path):
    url = local_server.script("/trunc2", Reply("truncated", b'{"value": [1, 2', declared_length=500))
    with pytest.raises(HttpError, match="after 2 attempts: truncated"):
        client(tmp_path, Sleeps(), max_attempts=2).get(url, name="trunc2")
    assert local_server.hits("/trunc2") == 2


def test_invalid_json_with_right_length_is_treated_as_truncated(local_server, tmp_path):
    url = local_server.script("/cut", Reply(body=b'{"value": [1, 2'))
    with pytest.raises(HttpError, match="invalid JSON"):
        client(tmp_path, Sleeps(), max_attempts=2).get(url, name="cut")
    assert local_server.hits("/cut") == 2


def test_connection_refused_fails_at_once_naming_the_cache(tmp_path):
    sleeps = Sleeps()
    http = client(tmp_path, sleeps, max_attempts=5)
    with pytest.raises(NetworkUnavailable) as info:
        http.get(closed_port_url() + "/tables/07459/metadata", name="x")
    assert str(tmp_path / "cache") in str(info.value) and "--offline" in str(info.value)
    assert sleeps.waits == []  # no retry loop


def test_rate_limiter_spaces_requests_and_honours_headers(local_server, tmp_path):
    url = local_server.script(
        "/rl", Reply(headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "11"}), Reply()
    )
    sleeps = Sleeps()
    limiter = RateLimiter(per_minute=30, clock=sleeps.clock, sleep=sleeps)
    http = client(tmp_path, sleeps, limiter=limiter)
    for i in range(3):
        http.get(url, [("i", str(i))], name="rl")
    # First request free; the server then says the quota is spent -> wait 11 s; then 2 s spacing.
    assert sleeps.waits == [pytest.approx(11.0), pytest.approx(2.0)]


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds("") is None and retry_after_seconds("soon") is None


def test_tampered_cache_is_refused(local_server, tmp_path):
    url = local_server.script("/t", Reply(body=b'{"a": 1}'))
    resp = client(tmp_path, Sleeps()).get(url, name="t")
    resp.path.write_bytes(b'{"a": 2}')
    with pytest.raises(HttpError, match="does not match the sha256"):
        client(tmp_path, Sleeps(), offline=True).get(url, name="t")
