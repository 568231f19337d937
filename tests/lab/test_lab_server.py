"""`make lab` serves the py:percent notebooks as notebooks: a real server, asked over its REST API."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from settlement_research.lab import JUPYTEXT_VIEWER, KERNEL_NAME, lab_argv, lab_env

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def test_argv_adds_allow_root_only_for_root() -> None:
    assert "--allow-root" in lab_argv(ROOT, uid=0)
    assert "--allow-root" not in lab_argv(ROOT, uid=1000)
    argv = lab_argv(ROOT, port=8123, token="t", open_browser=False, uid=1000)
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in argv
    assert "--ServerApp.port=8123" in argv and "--no-browser" in argv


def test_env_puts_shipped_settings_first_and_keeps_the_users() -> None:
    env = lab_env(ROOT, base={"JUPYTER_CONFIG_PATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(ROOT / "jupyter_config"), "/elsewhere"]
    shipped = json.loads((ROOT / "jupyter_config/labconfig/default_setting_overrides.json").read_text())
    assert shipped["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == JUPYTEXT_VIEWER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_lab_serves_py_notebook_as_notebook_with_jupytext_default_viewer(tmp_path: Path) -> None:
    pytest.importorskip("jupyterlab")
    pytest.importorskip("jupytext")
    port, token = _free_port(), secrets.token_hex(16)
    env = lab_env(ROOT)
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = (tmp_path / "lab.log").open("w")
    argv = lab_argv(ROOT, port=port, ip="127.0.0.1", token=token, open_browser=False)
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.skip(f"jupyter lab could not start: {(tmp_path / 'lab.log').read_text()[-800:]}")
            try:
                _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.skip(f"jupyter lab did not answer within {START_TIMEOUT:.0f} s")
                time.sleep(0.5)

        model = _get(f"{base}/api/contents/00_data_review.py?type=notebook&content=1", token)
        assert model["type"] == "notebook"
        assert model["content"]["metadata"]["kernelspec"]["name"] == KERNEL_NAME
        assert any(c["cell_type"] == "code" for c in model["content"]["cells"])

        settings = _get(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin", token)
        viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers["python"] == JUPYTEXT_VIEWER
        news = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification", token)
        assert news["schema"]["properties"]["fetchNews"]["default"] == "false"

        listing = _get(f"{base}/api/contents/", token)  # the server opens on notebooks/
        assert "00_data_review.py" in {item["name"] for item in listing["content"]}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        log.close()
