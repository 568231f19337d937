"""Long-lived worker processes that render reports one at a time, isolated from each other.

Why not ProcessPoolExecutor: when a report kills its process (os._exit, a segfault in a C
extension, the OOM killer) the executor breaks and fails every pending report without saying which
one did it. Here each worker has its own pipe, so a dead or hung worker fails exactly the report it
was running, is replaced, and the batch goes on.

Workers are forked from a 'forkserver' process that has imported the heavy libraries once (no
threads or locks inherited from the parent; only imports, no computation, happen before the fork),
so a worker, a replacement for a crashed one or a recycled one starts in a fraction of a second.
Since the forkserver outlives one batch, each worker takes the parent's current environment and
working directory from its settings. Each worker warms up (fonts, SVG writer, HTML template) and
then renders many reports with the in-process engine (see engine.py for what is reset between
reports). A worker is recycled after ``max_tasks`` reports to bound memory growth.

Workers do not decide what is published: a template runs in their process and could patch any
check there. Each outcome carries the render's trace (``sdc.gate.Trace``) and the parent runs the
decisive gate on the files (``sdc.gate.settle``).

With the in-process engine an ok report's outcome carries ``reads``: the data its cells read
(``readlog``) plus the banner the runner stamps on every page, the batch's precise cache key.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

# Imported once per worker so that no report pays for them. Missing ones are skipped.
PRELOAD = (
    "numpy", "polars", "pandas", "matplotlib.pyplot", "seaborn", "settlement_research.sdc",
    "settlement_research.analysis.plots", "settlement_research.catalog", "settlement_research.reports.results",
    "settlement_research.reports.runner",
)


@dataclass
class Job:
    """One report to render: which template file, parameters and where the files go."""

    index: int
    template_path: str
    parameters: dict[str, str]
    out_dir: str
    stem: str


@dataclass
class WorkerSettings:
    engine: str = "inprocess"
    sdc_threshold: int | None = None
    audit: bool = False  # the decisive gate runs in the parent, which never runs template code (sdc.gate)
    preload: tuple[str, ...] = field(default_factory=lambda: PRELOAD)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str = field(default_factory=os.getcwd)


def prewarm(preload: tuple[str, ...] = PRELOAD) -> None:
    """Start the fork server and its preloaded imports now, in the background (seconds of numpy,
    polars and matplotlib), so a batch that checks its cache first does not pay them after the
    check: a re-run that renders a few reports is mostly such fixed costs."""
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(list(preload))  # ignored once the server runs
    forkserver.ensure_running()


def _worker_main(conn: Connection, settings: WorkerSettings) -> None:
    """Worker process: set up once, then render jobs until told to stop (``None``)."""
    os.environ.clear()
    os.environ.update(settings.env)
    os.chdir(settings.cwd)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    for module in settings.preload:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a missing optional module only costs speed
            pass
    from settlement_research.reports.engine import take_reads
    from settlement_research.reports.runner import Renderer, load_template

    renderer = Renderer(settings.engine, sdc_threshold=settings.sdc_threshold, audit=settings.audit)
    renderer.warm_up()
    conn.send(("ready", None))
    templates: dict[str, Any] = {}
    while True:
        try:
            job: Job | None = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        start = time.perf_counter()
        try:
            template = templates.get(job.template_path)
            if template is None:
                template = templates[job.template_path] = load_template(job.template_path)
            take_reads()  # nothing left over from a report that failed before its cells ran
            rendered = renderer.render(template, job.parameters, Path(job.out_dir), job.stem)
            outcome = {**rendered.to_dict(), "trace": rendered.trace}  # the trace: for the parent's gate only
            outcome["reads"] = _reads(template, job.parameters) if outcome["status"] == "ok" else None
        except Exception as exc:  # noqa: BLE001 - reported as this report's failure
            outcome = {"name": job.stem, "parameters": job.parameters, "status": "failed",
                       "duration_s": round(time.perf_counter() - start, 3), "error": f"{type(exc).__name__}: {exc}"}
        conn.send(("done", outcome))


def _reads(template: Any, parameters: dict[str, str]) -> list[dict[str, Any]] | None:
    """What the report just rendered read: its cells' log, and the banner the runner stamped
    (``banner.data_info`` of the source it shows). None when no log was taken (kernel engine)."""
    from settlement_research import readlog
    from settlement_research.errors import SettlementResearchError
    from settlement_research.pages import banner
    from settlement_research.reports import parameters as params
    from settlement_research.reports.engine import take_reads

    reads = take_reads()
    if reads is None:
        return None
    try:
        source: str | None = params.effective_source(parameters, template.declared)
    except SettlementResearchError:
        source = None
    with readlog.capture() as stamped:
        banner.data_info(source)
    return [*reads, *stamped]


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: Job | None = None
    started: float = 0.0
    served: int = 0
    ready_at: float = 0.0  # when the worker finished its set-up (0 = not yet)


class WorkerPool:
    """Render jobs on ``n`` worker processes; ``on_done(job, outcome)`` is called for each job."""

    def __init__(self, n: int, settings: WorkerSettings, *, timeout: float | None = None,
                 max_tasks: int = 200) -> None:
        self.n = max(1, n)
        self.settings = settings
        self.timeout = timeout
        self.max_tasks = max_tasks
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(list(settings.preload))  # ignored once the server runs
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=_worker_main, args=(child, self.settings), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker, *, kill: bool = False) -> None:
        if not kill:
            try:
                worker.conn.send(None)
            except (BrokenPipeError, OSError):
                kill = True
            worker.process.join(0.5)  # its files are written; do not wait for a slow teardown
        if kill or worker.process.is_alive():
            worker.process.kill()
            worker.process.join(5)
        worker.conn.close()

    def run(self, jobs: Iterable[Job], on_done: Callable[[Job, dict[str, Any]], None]) -> None:
        pending = deque(jobs)
        if not pending:
            return
        self.workers = [self._start() for _ in range(min(self.n, len(pending)))]
        try:
            while pending or any(w.job for w in self.workers):
                for worker in self.workers:
                    if worker.job is None and pending:  # queued in the pipe until the worker is ready
                        worker.job, worker.started = pending.popleft(), time.monotonic()
                        worker.conn.send(worker.job)
                busy = [w for w in self.workers if w.job is not None]
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
                for i, worker in enumerate(list(self.workers)):
                    if worker.job is None:
                        continue
                    failure: str | None = None
                    if worker.conn in ready:
                        try:
                            tag, outcome = worker.conn.recv()
                        except (EOFError, OSError):
                            failure = "the worker process died"
                        else:
                            if tag == "ready":  # set-up done: the job's clock starts now
                                worker.ready_at = time.monotonic()
                                continue
                            job, worker.job = worker.job, None
                            worker.served += 1
                            restart = worker.served >= self.max_tasks and pending
                            if pending and not restart:  # the next job goes out before this one is judged:
                                worker.job, worker.started = pending.popleft(), time.monotonic()
                                worker.conn.send(worker.job)  # the worker renders while on_done gates
                            on_done(job, outcome)
                            if restart:
                                self._stop(worker)
                                self.workers[i] = self._start()
                            continue
                    elif worker.process.sentinel in ready or not worker.process.is_alive():
                        failure = "the worker process died"
                    elif self.timeout and worker.ready_at and time.monotonic() - max(worker.started, worker.ready_at) > self.timeout:
                        failure = f"timed out after {self.timeout:g} s"
                    if failure is None:
                        continue
                    job = worker.job
                    assert job is not None
                    worker.process.join(1)
                    code = worker.process.exitcode
                    self._stop(worker, kill=True)
                    detail = f"{failure} (exit code {code})" if code is not None and "died" in failure else failure
                    on_done(job, {"name": job.stem, "parameters": job.parameters, "status": "failed",
                                  "duration_s": round(time.monotonic() - worker.started, 3), "error": detail})
                    self.workers[i] = self._start() if pending else None  # type: ignore[call-overload]
                self.workers = [w for w in self.workers if w is not None]
        finally:
            for worker in self.workers:
                self._stop(worker, kill=worker.job is not None)
            self.workers = []
