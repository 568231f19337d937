"""The index and a rendered report in headless Chromium, over the DevTools protocol.

No console errors, every image loaded, the filter filters, and a screenshot for a person to look
at. Skips cleanly when /usr/bin/chromium is absent (``make test`` installs it when it can).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from settlement_research.reports.index import write_index
from settlement_research.reports.runner import Renderer, load_template

pytestmark = pytest.mark.browser
NOTEBOOKS = Path(__file__).parent / "notebooks"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1200,900", "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


class Page:
    """A minimal CDP client for one page: navigate, evaluate, collect errors, screenshot."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []

    def _record(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(str(params.get("args"))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(params["entry"].get("text", "")[:300])
        self.events.append(message)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=deadline - time.monotonic()))
            self._record(message)
            if message.get("method") == method:
                return
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        # on a loaded machine a late load event of the page before can arrive first: wait until the
        # document is the one asked for and fully loaded
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.eval(
                f"location.href === {json.dumps(url)} && document.readyState === 'complete'"):
            time.sleep(0.1)

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Page]:
    if not Path(CHROMIUM).is_file():
        pytest.skip("headless chromium is not installed (/usr/bin/chromium)")
    from websockets.sync.client import connect

    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()) and time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.skip(f"chromium exited with {proc.returncode}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = [t for t in json.load(response) if t.get("type") == "page"]
        with connect(targets[0]["webSocketDebuggerUrl"], max_size=64 * 2**20, open_timeout=10) as ws:
            p = Page(ws)
            for domain in ("Page", "Runtime", "Log"):
                p.send(f"{domain}.enable")
            yield p
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture()
def batch_dir(clean_env: Path, tmp_path: Path) -> Path:
    """Three rendered reports (one failed) and their index, made in-process (no workers)."""
    out = tmp_path / "site"
    renderer, template = Renderer(), load_template(NOTEBOOKS / "profile.py")
    reports = [renderer.render(template, {"kommune_nr": k}, out, f"kommune_nr-{k}").to_dict()
               for k in ("0301", "1037", "1201")]
    reports.append({"name": "kommune_nr-0501", "parameters": {"kommune_nr": "0501"}, "status": "failed",
                    "duration_s": 0.1, "error": "RuntimeError: example"})
    (out / "index.html").write_text(write_index({"template": "profile", "reports": reports}), "utf-8")
    return out


def test_index_and_report_in_headless_chromium(page: Page, batch_dir: Path, tmp_path: Path) -> None:
    page.open((batch_dir / "index.html").as_uri())
    visible = "Array.from(document.querySelectorAll('#reports tbody tr')).filter(r => !r.hidden).length"
    assert page.eval(visible) == 4
    banner_text = "(document.querySelector('.data-banner') || {innerText: ''}).innerText"
    assert "SYNTHETIC DATA" in page.eval(banner_text)  # in text, not only inside chart images
    page.eval("document.getElementById('filter').focus()")
    page.send("Input.insertText", text="1037")
    assert page.eval(visible) == 1
    assert page.eval("document.getElementById('count').textContent") == "1 of 4 reports"
    page.eval("const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'))")
    page.eval("const s = document.getElementById('status'); s.value = 'failed'; s.dispatchEvent(new Event('change'))")
    assert page.eval(visible) == 1
    page.eval("const s2 = document.getElementById('status'); s2.value = ''; s2.dispatchEvent(new Event('change'))")
    page.eval("document.querySelectorAll('#reports th')[0].click(); document.querySelectorAll('#reports th')[0].click()")
    first = page.eval("document.querySelector('#reports tbody tr td').textContent")
    assert first == "kommune_nr-1201"  # sorted descending by name
    assert "sort=report" in page.eval("location.hash") and "dir=desc" in page.eval("location.hash")
    # CSV export of what is shown: capture the blob instead of downloading it
    page.eval("const f3 = document.getElementById('filter'); f3.value = '1037 0301'; f3.dispatchEvent(new Event('input'))")
    page.eval("f3.value = 'ok'; f3.dispatchEvent(new Event('input'))")
    page.eval("window.__csv = null; URL.createObjectURL = function(b){ b.text().then(t => window.__csv = t); return 'data:text/plain,ok'; }")
    page.eval("document.getElementById('export').click()")
    csv = page.eval("new Promise(r => setTimeout(() => r(window.__csv), 300))")
    lines = csv.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("report,") and len(lines) == 1 + 3  # header + the three ok reports
    assert "\u202f" not in csv  # numbers exported plain, so a spreadsheet reads them as numbers
    assert "q=ok" in page.eval("location.hash")
    # the state in the URL survives a reload (via another page: a hash change alone fires no load event)
    page.open("about:blank")
    page.open((batch_dir / "index.html").as_uri() + "#q=1037&sort=report&dir=asc")
    assert page.eval(visible) == 1 and page.eval("document.getElementById('filter').value") == "1037"
    page.screenshot(tmp_path / "index.png")
    assert page.errors == []

    page.open((batch_dir / "kommune_nr-1037.html").as_uri())
    images = page.eval("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert all(images)
    charts = page.eval("Array.from(document.querySelectorAll('svg')).map(s => s.getBoundingClientRect().width)")
    assert charts and all(w > 100 for w in charts)  # inline SVG charts, laid out at their width
    assert page.eval("document.querySelectorAll('svg text').length") >= 5  # a chart's text is text (the gate reads it)
    assert page.eval("Array.from(document.querySelectorAll('[data-sdc=suppressed]')).every(c => c.textContent === ':')")
    assert page.eval("document.body.innerText.includes('import polars')") is False
    assert page.eval(banner_text).startswith("SYNTHETIC DATA")
    shot = page.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 5000
    assert page.errors == []
