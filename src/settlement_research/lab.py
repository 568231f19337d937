"""JupyterLab on the project's notebooks in one command (``make lab`` / ``settlement-research lab``).

The notebooks are jupytext ``py:percent`` files. Out of the box JupyterLab opens ``.py`` files in the
text editor; the Lab settings shipped in ``jupyter_config/labconfig/`` make the Jupytext Notebook
viewer the default for them. They are put on ``JUPYTER_CONFIG_PATH`` (added to, never replacing, the
user's own Jupyter configuration), so a user's personal settings still win. The kernel is chosen by
each notebook's ``kernelspec`` header (``settlement_research``, registered by ``make setup``).
Root (a container, a CI runner) needs ``--allow-root``; it is added only when running as uid 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from settlement_research.paths import project_root

CLI_HELP = "start JupyterLab on notebooks/ with .py notebooks opening as notebooks"
KERNEL_NAME = "settlement_research"
CONFIG_DIR = "jupyter_config"
NOTEBOOK_DIR = "notebooks"
JUPYTEXT_VIEWER = "Jupytext Notebook"


def lab_env(root: Path | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server: the project's Lab settings first on ``JUPYTER_CONFIG_PATH``."""
    root = root or project_root()
    env = dict(os.environ if base is None else base)
    shipped = str(root / CONFIG_DIR)
    existing = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and p != shipped]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([shipped, *existing])
    return env


def lab_argv(
    root: Path | None = None,
    *,
    port: int | None = None,
    ip: str | None = None,
    token: str | None = None,
    open_browser: bool = True,
    uid: int | None = None,
) -> list[str]:
    """The command line that starts JupyterLab on ``notebooks/`` (``--allow-root`` as uid 0)."""
    root = root or project_root()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root / NOTEBOOK_DIR}"]
    current_uid = uid if uid is not None else (os.getuid() if hasattr(os, "getuid") else 1)
    if current_uid == 0:
        argv.append("--allow-root")
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if ip is not None:
        argv.append(f"--ServerApp.ip={ip}")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        argv.append("--no-browser")
    return argv


def kernel_registered(name: str = KERNEL_NAME) -> bool:
    """Whether the project's kernel is known to Jupyter (``make setup`` registers it)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return name in KernelSpecManager().find_kernel_specs()


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="port to listen on (default: Jupyter's, 8888 or the next free)")
    parser.add_argument("--ip", help="address to listen on (default: localhost)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def cli_run(args: argparse.Namespace) -> int:
    root = project_root()
    if not (root / NOTEBOOK_DIR).is_dir():
        print(f"settlement-research lab: no {NOTEBOOK_DIR}/ folder in {root}; run it from the "
              "project checkout (or set SETTLEMENT_RESEARCH_HOME)", file=sys.stderr)
        return 2
    if not kernel_registered():
        print(f"settlement-research lab: the {KERNEL_NAME!r} kernel is not registered; notebooks will "
              f"ask for a kernel. Register it with: {sys.executable} -m ipykernel install --sys-prefix "
              f"--name {KERNEL_NAME} --display-name {KERNEL_NAME}", file=sys.stderr)
    argv = lab_argv(root, port=args.port, ip=args.ip, open_browser=not args.no_browser)
    try:
        return subprocess.call(argv, env=lab_env(root))
    except KeyboardInterrupt:
        return 0


__all__ = ["CLI_HELP", "JUPYTEXT_VIEWER", "KERNEL_NAME", "kernel_registered", "lab_argv", "lab_env"]
