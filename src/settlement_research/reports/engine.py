"""An in-process papermill engine: cells run in an IPython shell inside the current Python.

Why: a papermill run through a Jupyter kernel pays interpreter start, kernel handshake and the
imports of polars/matplotlib/seaborn for every report (~7 s per report with the CLI). Here a worker
process pays them once and each report only pays for its own cells.

Isolation between reports (tested in tests/reports/): after every report the user namespace is
reset (``InteractiveShell.reset``), all figures are closed, the pandas and polars options go back
to their defaults, and matplotlib rcParams, warning filters, root logging handlers,
``os.environ``, ``sys.path`` and the working directory go back to what they were when the report
started. What is *not* reset is
module-level state of imported libraries: a template must not monkeypatch library modules.

Register with ``register()`` (done on import of settlement_research.reports.runner); the engine's
name is ``"inprocess"``. The notebook semantics follow papermill's kernel engine: cells run in
order, the first error stops execution and papermill raises ``PapermillExecutionError``. Before
the first cell runs, the cell of injected parameters is verified (``parameters.verify_injected``):
only string literals assigned to names the parameters cell declares, no IPython syntax.

While the cells run, the data they read are logged (``readlog.capture``): :func:`take_reads` hands
the log of the last notebook to the batch, which stores it beside the report as its precise cache key.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import warnings
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine, papermill_engines
from traitlets.config import Config

from settlement_research import readlog
from settlement_research.reports.parameters import verify_injected

ENGINE_NAME = "inprocess"


class _Capture:
    """The output list of the cell being executed, shared by streams, display and displayhook."""

    outputs: list[Any] = []
    displays: dict[str, Any] = {}  # display_id -> output, for updates within one report


class _Stream:
    """A text stream that appends to the current cell's outputs, merging consecutive writes."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        if not text:
            return 0
        outputs = _Capture.outputs
        if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1]["name"] == self.name:
            outputs[-1]["text"] += text
        else:
            outputs.append(nbformat.v4.new_output("stream", name=self.name, text=text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("in-process notebook stream has no file descriptor")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class _Publisher(DisplayPublisher):
    """``display()`` output becomes a ``display_data`` output of the current cell."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:  # type: ignore[override]
        display_id = (transient or {}).get("display_id")
        if update and display_id in _Capture.displays:  # display(..., display_id=x, update=True)
            _Capture.displays[display_id]["data"] = data
            return
        out = nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})
        if display_id:
            _Capture.displays[display_id] = out
        _Capture.outputs.append(out)

    def clear_output(self, wait: bool = False) -> None:
        _Capture.outputs.clear()


class _Hook(DisplayHook):
    """The value of a cell's last expression becomes an ``execute_result`` output."""

    def start_displayhook(self) -> None:
        pass

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:  # type: ignore[override]
        _Capture.outputs.append(
            nbformat.v4.new_output(
                "execute_result", data=format_dict, metadata=md_dict or {},
                execution_count=self.shell.execution_count,
            )
        )

    def finish_displayhook(self) -> None:
        pass

    def flush(self) -> None:
        """As IPython's, minus its two full ``gc.collect()`` (~0.2 s each with polars loaded)."""
        oh = self.shell.user_ns.get("_oh")
        if oh is not None:
            oh.clear()
        self._, self.__, self.___ = "", "", ""


class ReportShell(InteractiveShell):
    """An InteractiveShell whose outputs are collected as notebook outputs."""

    display_pub_class = _Publisher
    displayhook_class = _Hook

    def _showtraceback(self, etype, evalue, stb) -> None:  # type: ignore[override]
        _Capture.outputs.append(
            nbformat.v4.new_output("error", ename=etype.__name__, evalue=str(evalue), traceback=list(stb))
        )

    def enable_gui(self, gui=None) -> None:  # inline figures need no event loop
        pass

    def init_io(self) -> None:  # streams are swapped per cell; nothing to set up
        pass

    def system(self, cmd: str) -> None:  # type: ignore[override]
        # ``!cmd`` output must land in the cell, not on the worker's terminal.
        import subprocess

        completed = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        sys.stdout.write(completed.stdout)
        sys.stderr.write(completed.stderr)
        self.user_ns["_exit_code"] = completed.returncode


class _Baseline:
    """Process state taken when a report starts and put back when it ends."""

    def __init__(self) -> None:
        import matplotlib as mpl

        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.sys_path = list(sys.path)
        self.rc = copy.deepcopy(dict(mpl.rcParams))
        self.backend = mpl.get_backend()
        self.warning_filters = list(warnings.filters)
        self.root_handlers = list(logging.root.handlers)
        self.root_level = logging.root.level

    def restore(self, shell: ReportShell) -> None:
        import matplotlib as mpl
        import matplotlib.pyplot as plt

        plt.close("all")
        if mpl.get_backend() != self.backend:
            shell.enable_matplotlib("inline")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mpl.rcParams.clear()
            mpl.rcParams.update(self.rc)
        _reset_library_options()
        os.chdir(self.cwd)
        os.environ.clear()
        os.environ.update(self.environ)
        sys.path[:] = self.sys_path
        warnings.filters[:] = self.warning_filters
        mutated = getattr(warnings, "_filters_mutated", None)
        if mutated is not None:
            mutated()  # forget the "once" registries, so report 2 sees the warnings report 1 saw
        logging.root.handlers[:] = self.root_handlers
        logging.root.setLevel(self.root_level)
        shell.reset(new_session=False)
        shell.execution_count = 1


def _reset_library_options() -> None:
    if "pandas" in sys.modules:
        import pandas as pd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.reset_option("all")
    if "polars" in sys.modules:
        import polars as pl

        pl.Config.restore_defaults()


_SHELL: ReportShell | None = None
_LAST_READS: list[readlog.Read] | None = None


def take_reads() -> list[readlog.Read] | None:
    """The data the last notebook run in this process read (None if none ran since the last call)."""
    global _LAST_READS
    reads, _LAST_READS = _LAST_READS, None
    return reads


def get_shell() -> ReportShell:
    """The process's report shell, created once with the inline matplotlib backend."""
    global _SHELL
    if _SHELL is None:
        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        main = sys.modules.get("__main__")
        _SHELL = ReportShell.instance(config=config)
        _SHELL.enable_matplotlib("inline")
        # IPython makes its user namespace the process's __main__ (a module without __spec__, which
        # breaks multiprocessing started later in this process, e.g. a batch after run-notebook).
        # It is put in place only while cells run (run_cell).
        if main is not None:
            sys.modules["__main__"] = main
    return _SHELL


def snapshot() -> _Baseline:
    """The process state before a report (taken per report, so a caller may change the
    environment between reports; only what the report itself changes is undone)."""
    get_shell()
    return _Baseline()


def reset_state(baseline: _Baseline) -> None:
    """Undo what a report changed: see the module docstring for what is restored."""
    baseline.restore(get_shell())


def run_cell(shell: ReportShell, source: str) -> tuple[list[Any], bool]:
    """Run one cell's code; return its outputs and whether it succeeded."""
    outputs: list[Any] = []
    _Capture.outputs = outputs
    saved = sys.stdout, sys.stderr
    main = sys.modules.get("__main__")
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")  # type: ignore[assignment]
    sys.modules["__main__"] = shell.user_module  # as in a kernel: the notebook's namespace is __main__
    try:
        result = shell.run_cell(source, store_history=True)
    finally:
        sys.stdout, sys.stderr = saved
        if main is not None:
            sys.modules["__main__"] = main
        _Capture.outputs = []
    return outputs, bool(result.success)


class InProcessEngine(Engine):
    """papermill engine running the notebook in this process's report shell."""

    @classmethod
    def execute_managed_notebook(  # type: ignore[override]
        cls, nb_man, kernel_name, report_env: dict[str, str] | None = None, **kwargs
    ) -> None:
        """``report_env``: environment variables for this report only (e.g. the results path)."""
        shell = get_shell()  # its namespace was reset after the previous report
        # Last line of defence: whoever injected the parameters (our runner, papermill's own
        # translator), the cell must only assign string literals to declared names.
        verify_injected(nb_man.nb, transform=shell.transform_cell)
        global _LAST_READS
        baseline = snapshot()
        os.environ.update(report_env or {})
        _LAST_READS = None
        try:
            with readlog.capture() as reads:
                cls._run_cells(nb_man, shell)
            _LAST_READS = reads
        finally:
            _Capture.displays = {}
            reset_state(baseline)

    @staticmethod
    def _run_cells(nb_man: Any, shell: ReportShell) -> None:
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code":
                continue
            nb_man.cell_start(cell, index)
            cell.execution_count = shell.execution_count
            outputs, ok = run_cell(shell, cell.source)
            cell.outputs = outputs
            if not ok:
                nb_man.cell_exception(cell, index)
                nb_man.cell_complete(cell, index)
                break
            nb_man.cell_complete(cell, index)

    @classmethod
    def nb_kernel_name(cls, nb, name=None) -> str:  # type: ignore[override]
        return name or nb.metadata.get("kernelspec", {}).get("name") or "python3"


def register() -> None:
    papermill_engines.register(ENGINE_NAME, InProcessEngine)
