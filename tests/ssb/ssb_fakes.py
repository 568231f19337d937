"""Test doubles for the SSB/KLASS clients: a REAL HTTP server on 127.0.0.1 and small fake APIs.

The server is ``http.server`` in a thread on an ephemeral loopback port; each route is a function
of the request, or a script of behaviours played one per request (the last one repeats), so tests
can say "429 with Retry-After, then 200". Nothing here leaves the loopback interface.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# ------------------------------------------------------------------------------------------ server


@dataclass
class Reply:
    """One scripted answer. ``kind``: ok | status | slow | truncated | trickle (one byte every ``delay`` s)."""

    kind: str = "ok"
    body: bytes = b'{"ok": true}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None


Route = Callable[[str, dict[str, str]], Reply]


@dataclass
class LocalServer:
    base: str
    routes: dict[str, Route | list[Reply]]
    log: list[tuple[str, dict[str, str]]]

    def script(self, path: str, *replies: Reply) -> str:
        """Play ``replies`` one per request to ``path`` (the last repeats); return the full URL."""
        self.routes[path] = list(replies)
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)


def _handler_class(server_state: LocalServer, counters: dict[str, Iterator[int]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            server_state.log.append((parts.path, query))
            route = server_state.routes.get(parts.path)
            if route is None:  # function routes also serve every path below them
                under = [k for k, r in server_state.routes.items() if callable(r) and parts.path.startswith(k)]
                route = server_state.routes[max(under, key=len)] if under else None
            if route is None:
                reply = Reply("status", b'{"error": "not found"}', 404)
            elif callable(route):
                reply = route(parts.path, query)
            else:
                n = next(counters.setdefault(parts.path, itertools.count()))
                reply = route[min(n, len(route) - 1)]
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            if reply.kind == "trickle":
                self._trickle(reply)
                return
            if reply.delay:
                time.sleep(reply.delay)
            status = 200 if reply.kind in ("ok", "slow", "truncated") else reply.status
            try:
                self.send_response(status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                length = reply.declared_length if reply.kind == "truncated" else len(reply.body)
                self.send_header("Content-Length", str(length))
                if reply.kind == "truncated":
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(reply.body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                self.close_connection = True

        def _trickle(self, reply: Reply) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                for i in range(len(reply.body)):
                    self.wfile.write(reply.body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(reply.delay)
            except (BrokenPipeError, ConnectionResetError):  # the client cut it off
                self.close_connection = True

    return Handler


@contextlib.contextmanager
def serve() -> Iterator[LocalServer]:
    """Run a loopback server for the duration of the block (wrap it in a fixture)."""
    state = LocalServer("", {}, [])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(state, {}))
    httpd.daemon_threads = True
    httpd.block_on_close = False
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Sleeps:
    """An injected ``sleep`` that records the waits and advances a fake clock instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


# ------------------------------------------------------------------------------------------ json-stat2


def jsonstat2(dims: list[tuple[str, list[tuple[str, str]]]], cells: dict[tuple[str, ...], Any]) -> dict:
    """A json-stat2 dataset; ``cells`` maps code tuples to a number, or a status symbol (str)."""
    ids = [d for d, _ in dims]
    sizes = [len(c) for _, c in dims]
    values: list[float | None] = []
    status: dict[str, str] = {}
    for i, combo in enumerate(itertools.product(*[[code for code, _ in c] for _, c in dims])):
        v = cells.get(combo)
        if isinstance(v, str):
            values.append(None)
            status[str(i)] = v
        else:
            values.append(v)
    return {
        "version": "2.0", "class": "dataset", "label": "fake", "id": ids, "size": sizes,
        "dimension": {
            d: {"label": d.lower(), "category": {"index": {c: i for i, (c, _) in enumerate(cs)},
                                                "label": dict(cs)},
                "extension": {"elimination": d not in ("ContentsCode", "Tid")}}
            for d, cs in dims
        },
        "value": values, "status": status,
    }


@dataclass
class FakeTable:
    """A PxWeb table: dimensions, which can be eliminated (summed), and a cell function."""

    table_id: str
    dims: list[tuple[str, list[tuple[str, str]]]]
    cell: Callable[[dict[str, str]], float | str | None]
    eliminable: tuple[str, ...] = ()

    def metadata(self) -> dict:
        meta = jsonstat2(self.dims, {})
        for d, _ in self.dims:
            meta["dimension"][d]["extension"]["elimination"] = d in self.eliminable
        del meta["value"], meta["status"]
        meta["extension"] = {"px": {"tableid": self.table_id}}
        return meta

    def data(self, query: dict[str, str]) -> dict:
        chosen: list[tuple[str, list[tuple[str, str]]]] = []
        for d, cats in self.dims:
            wanted = query.get(f"valueCodes[{d}]")
            if wanted is None:
                if d not in self.eliminable:
                    raise ValueError(f"{d} must be selected")
                continue
            codes = [c for c, _ in cats] if wanted == "*" else wanted.split(",")
            label = dict(cats)
            chosen.append((d, [(c, label[c]) for c in codes]))
        eliminated = [(d, cats) for d, cats in self.dims if d not in {x for x, _ in chosen}]
        cells: dict[tuple[str, ...], Any] = {}
        for combo in itertools.product(*[[c for c, _ in cs] for _, cs in chosen]):
            fixed = dict(zip([d for d, _ in chosen], combo, strict=True))
            total: float | str | None = 0.0
            for rest in itertools.product(*[[c for c, _ in cs] for _, cs in eliminated]):
                v = self.cell({**fixed, **dict(zip([d for d, _ in eliminated], rest, strict=True))})
                if isinstance(v, str) or v is None:
                    total = v
                    break
                total += v
            cells[combo] = total
        return jsonstat2(chosen, cells)


def pxweb_route(tables: dict[str, FakeTable], cell_limit: int) -> Route:
    """The PxWebApi v2 metadata and data endpoints over ``tables``, enforcing the cell limit."""

    def route(path: str, query: dict[str, str]) -> Reply:
        parts = path.rstrip("/").split("/")
        table = tables.get(parts[-2])
        if table is None:
            return Reply("status", b'{"error": "no such table"}', 404)
        if parts[-1] == "metadata":
            return Reply(body=json.dumps(table.metadata()).encode())
        payload = table.data(query)
        if math.prod(payload["size"]) > cell_limit:
            return Reply("status", b'{"error": "too many cells"}', 403)
        return Reply(body=json.dumps(payload).encode())

    return route
