"""fetch is bounded: capped waits, a total deadline per request, clean errors for redirect loops and
non-finite headers, and a shape check before anything is cached. Against a loopback server with
small caps (sleep is injected, so no test really waits)."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ssb_fakes import LocalServer, Reply, Sleeps, serve

from settlement_research.cli import main
from settlement_research.sources import klass, shapes, ssb
from settlement_research.sources.fetch import MAX_WAIT_ENV, seconds_setting
from settlement_research.sources.http import CachedHttpClient, HttpError, RateLimiter

KLASS_OK = json.dumps({"codes": [{"code": "0301", "name": "Oslo", "validFrom": "1838-01-01"}]}).encode()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    with serve() as server:
        yield server


def client(tmp_path: Path, sleeps: Sleeps, **kwargs) -> CachedHttpClient:
    kwargs.setdefault("limiter", RateLimiter(per_minute=0, clock=sleeps.clock, sleep=sleeps))
    kwargs.setdefault("max_wait", 5.0)
    return CachedHttpClient(
        tmp_path / "cache", sleep=sleeps, rng=random.Random(7), backoff_base=1.0,
        connect_timeout=2.0, read_timeout=2.0, **kwargs,
    )


def test_retry_after_a_day_is_refused_not_slept(local_server, tmp_path) -> None:
    url = local_server.script("/day", Reply("status", b"{}", 429, {"Retry-After": "86400"}))
    sleeps = Sleeps()
    with pytest.raises(HttpError, match=r"asks to wait 86,400 s, longer than the cap of 5 s"):
        client(tmp_path, sleeps).get(url, name="day")
    assert sleeps.waits == [] and local_server.hits("/day") == 1


def test_retry_after_within_the_cap_is_honoured(local_server, tmp_path) -> None:
    url = local_server.script("/soon", Reply("status", b"{}", 503, {"Retry-After": "4"}), Reply(body=b"[1]"))
    sleeps = Sleeps()
    assert client(tmp_path, sleeps).get(url, name="soon").json() == [1]
    assert sleeps.waits == [4.0]


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan", "-inf"])
def test_non_finite_retry_after_is_a_clean_error(local_server, tmp_path, value: str) -> None:
    url = local_server.script("/inf", Reply("status", b"{}", 429, {"Retry-After": value}))
    sleeps = Sleeps()
    with pytest.raises(HttpError, match="not a finite number of seconds"):
        client(tmp_path, sleeps).get(url, name="inf")
    assert sleeps.waits == []


def test_rate_limit_reset_a_day_ahead_is_refused_before_the_next_request(local_server, tmp_path) -> None:
    day_ahead = str(int(time.time()) + 86400)  # an epoch timestamp
    url = local_server.script("/rl", Reply(headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": day_ahead}))
    sleeps = Sleeps()
    limiter = RateLimiter(per_minute=0, clock=sleeps.clock, sleep=sleeps)
    http = client(tmp_path, sleeps, limiter=limiter)
    http.get(url, [("i", "1")], name="rl")  # this answer is fine; the quota is spent for a day
    with pytest.raises(HttpError, match="longer than the cap of 5 s"):
        http.get(url, [("i", "2")], name="rl")
    assert sleeps.waits == [] and local_server.hits("/rl") == 1


def test_non_finite_rate_limit_reset_is_a_clean_error(local_server, tmp_path) -> None:
    url = local_server.script("/rlinf", Reply(headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "inf"}))
    sleeps = Sleeps()
    http = client(tmp_path, sleeps, limiter=RateLimiter(per_minute=0, clock=sleeps.clock, sleep=sleeps))
    http.get(url, [("i", "1")], name="rlinf")
    with pytest.raises(HttpError, match="not a finite number of seconds"):
        http.get(url, [("i", "2")], name="rlinf")
    assert sleeps.waits == []


def test_backoff_never_waits_longer_than_the_cap(local_server, tmp_path) -> None:
    url = local_server.script("/busy", Reply("status", b"{}", 503))
    sleeps = Sleeps()
    http = client(tmp_path, sleeps, max_wait=1.5, max_attempts=5)
    with pytest.raises(HttpError, match="after 5 attempts: HTTP 503"):
        http.get(url, name="busy")
    assert len(sleeps.waits) == 4 and max(sleeps.waits) <= 1.5


def test_a_server_trickling_one_byte_at_a_time_is_cut_off_at_the_deadline(local_server, tmp_path) -> None:
    body = json.dumps({"value": list(range(40))}).encode()
    url = local_server.script("/trickle", Reply("trickle", body, delay=0.2))  # would take ~30 s
    sleeps = Sleeps()
    http = client(tmp_path, sleeps, deadline=0.6, max_attempts=2)
    with pytest.raises(HttpError, match=r"after 2 attempts: no complete response within the deadline of 0.6 s"):
        http.get(url, name="trickle")
    assert not list((tmp_path / "cache").glob("trickle-*"))


def test_a_redirect_loop_is_a_clean_error(local_server, tmp_path) -> None:
    url = local_server.script("/loop", Reply("status", b"", 302, {"Location": "/loop"}))
    with pytest.raises(HttpError, match="more than 10 redirects"):
        client(tmp_path, Sleeps()).get(url, name="loop")
    assert local_server.hits("/loop") == 11


def test_a_body_of_the_wrong_shape_is_never_cached(local_server, tmp_path) -> None:
    local_server.script(
        "/classifications/131/codesAt", Reply(body=b'{"error": "maintenance", "ok": true}'), Reply(body=KLASS_OK)
    )
    kc = klass.KlassClient(client(tmp_path, Sleeps()), base_url=local_server.base)
    with pytest.raises(HttpError, match=r"(?s)wrong shape.*KLASS codes response.*error, ok.*Not cached"):
        kc.codes_at(131, "2024-01-01")
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())
    assert kc.codes_at(131, "2024-01-01")["code"].to_list() == ["0301"]  # asked again, not replayed
    assert local_server.hits("/classifications/131/codesAt") == 2


def test_ssb_metadata_and_data_of_the_wrong_shape_are_refused(local_server, tmp_path) -> None:
    local_server.script("/tables/07459/metadata", Reply(body=b'{"class": "collection", "link": {}}'))
    sc = ssb.SsbClient(client(tmp_path, Sleeps()), base_url=local_server.base)
    with pytest.raises(HttpError, match="json-stat2 table metadata"):
        sc.metadata("07459")
    with pytest.raises(shapes.ShapeError, match="3 values for 4 cells"):
        shapes.jsonstat2(json.dumps({
            "class": "dataset", "id": ["A", "B"], "size": [2, 2], "value": [1, 2, 3],
            "dimension": {d: {"category": {"index": {"x": 0, "y": 1}}} for d in "AB"},
        }).encode())


def test_a_bad_body_cached_by_an_older_version_is_fetched_again(local_server, tmp_path) -> None:
    url = local_server.script("/classifications/131/codesAt", Reply(body=KLASS_OK))
    http = client(tmp_path, Sleeps())
    params = [("date", "2024-01-01")]
    path = http.cache_path(url, params, "old", "json")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"error": "old"}')
    http.provenance_path(path).write_text(json.dumps({"sha256": hashlib.sha256(b'{"error": "old"}').hexdigest()}))
    offline = client(tmp_path, Sleeps(), offline=True)
    with pytest.raises(HttpError, match="is not what the API should answer"):
        offline.get(url, params, name="old", validate=shapes.klass_codes)
    assert http.get(url, params, name="old", validate=shapes.klass_codes).body == KLASS_OK
    assert path.read_bytes() == KLASS_OK


def test_max_wait_setting_from_argument_or_environment() -> None:
    assert seconds_setting(None, MAX_WAIT_ENV, 60.0, environ={}) == 60.0
    assert seconds_setting(None, MAX_WAIT_ENV, 60.0, environ={MAX_WAIT_ENV: "7.5"}) == 7.5
    assert seconds_setting(3.0, MAX_WAIT_ENV, 60.0, environ={MAX_WAIT_ENV: "7.5"}) == 3.0
    for bad in ("soon", "inf", "nan", "-1", "0"):
        with pytest.raises(ValueError, match=MAX_WAIT_ENV):
            seconds_setting(None, MAX_WAIT_ENV, 60.0, environ={MAX_WAIT_ENV: bad})
    with pytest.raises(ValueError, match="--max-wait"):
        seconds_setting(float("inf"), MAX_WAIT_ENV, 60.0, environ={})


def test_fetch_command_gives_up_with_a_message_not_a_traceback(local_server, tmp_path, monkeypatch, capsys) -> None:
    local_server.routes["/"] = lambda path, query: Reply("status", b"{}", 429, {"Retry-After": "120"})
    args = ["fetch", "--out", str(tmp_path / "raw"), "--ssb-url", local_server.base, "--no-klass", "--per-minute", "0"]
    assert main([*args, "--max-wait", "30"]) == 1
    err = capsys.readouterr().err
    assert "asks to wait 120 s, longer than the cap of 30 s" in err and "Traceback" not in err
    monkeypatch.setenv(MAX_WAIT_ENV, "ten")
    assert main(args) == 2
    assert f"${MAX_WAIT_ENV}='ten' is not a number of seconds" in capsys.readouterr().err
