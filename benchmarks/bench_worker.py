"""One batch worker's cost per report, by phase, for two checkouts alternated in one run.

    .venv/bin/python benchmarks/bench_worker.py [--base /work/main] [--n 20] [--profile]

Why: the batch report's speed (``bench_sdc.py --reports``) is set by what one worker spends per
report. This script starts one long-lived worker per checkout (``--base`` and this one), each set up
as ``reports.pool`` sets up a worker (preloaded libraries, a warmed ``Renderer`` with the gate in
the parent), and sends them the same municipality profiles in turn, one report at a time (never in
parallel), so that the noise of a shared machine falls on both alike. Each worker times its phases
(running the cells, drawing images, the chart hook, the HTML export, the read log) and then runs the
clean gate (``sdc.gate.settle``) on the files it wrote, timed apart. Both read the data of this
checkout (``SETTLEMENT_RESEARCH_CLEAN``) and render their own ``notebooks/municipality_profile.py``.

``--profile``: cProfile of this checkout's worker over the same reports (top functions by own
time and by cumulative time). Results: stdout and benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
PHASES = ("render", "execute", "print_figure", "chart_hook", "html", "reads", "gate")


def _timed(owner: Any, name: str, totals: dict[str, float], phase: str) -> None:
    """Wrap ``owner.name`` so that its wall time adds to ``totals[phase]`` (outermost call only)."""
    original = getattr(owner, name, None)
    if original is None:
        return
    depth = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                totals[phase] = totals.get(phase, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def child(root: Path, profile: bool) -> None:
    """A worker as ``reports.pool._worker_main`` sets it up; one job per stdin line (a kommune_nr)."""
    import importlib
    import logging

    from settlement_research.reports import pool

    logging.getLogger("papermill").setLevel(logging.ERROR)
    for module in pool.PRELOAD:
        importlib.import_module(module)
    from matplotlib.backend_bases import FigureCanvasBase

    from settlement_research.reports import runner
    from settlement_research.sdc import charts, gate

    renderer = runner.Renderer("inprocess", audit=False)
    renderer.warm_up()
    totals: dict[str, float] = {}
    _timed(runner.Renderer, "_execute", totals, "execute")
    _timed(runner.Renderer, "html", totals, "html")
    _timed(FigureCanvasBase, "print_figure", totals, "print_figure")  # the hook's wrapper inside
    _timed(charts, "check_figure", totals, "chart_hook")
    _timed(pool, "_reads", totals, "reads")
    template = runner.load_template(root / "notebooks" / "municipality_profile.py")
    out = Path(tempfile.mkdtemp(prefix="bench_worker_"))
    knowledge = None
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    print(json.dumps({"ready": str(root)}), flush=True)
    for line in sys.stdin:
        code = line.strip()
        if not code:
            break
        parameters = {"kommune_nr": code}
        if knowledge is None:
            knowledge = gate.Knowledge([parameters], template.declared)
        totals.clear()
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        rendered = renderer.render(template, parameters, out, f"kommune-{code}")
        outcome = {**rendered.to_dict(), "trace": rendered.trace}
        outcome["reads"] = pool._reads(template, parameters) if outcome["status"] == "ok" else None
        totals["render"] = time.perf_counter() - start
        if profiler:
            profiler.disable()
        start = time.perf_counter()
        settled = gate.settle(out, f"kommune-{code}", outcome, knowledge)
        totals["gate"] = time.perf_counter() - start
        page = out / f"kommune-{code}.html"
        print(json.dumps({"code": code, "status": settled["status"], "error": settled.get("error"),
                          "page_bytes": page.stat().st_size if page.is_file() else 0,
                          **{k: round(v, 4) for k, v in totals.items()}}), flush=True)
    if profiler:
        import pstats

        for key in ("tottime", "cumulative"):
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats(key).print_stats(45)


def _start(root: Path, profile: bool) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "SETTLEMENT_RESEARCH_HOME": str(root),
           "SETTLEMENT_RESEARCH_CLEAN": os.environ.get("SETTLEMENT_RESEARCH_CLEAN", str(HERE / "data_clean"))}
    process = subprocess.Popen([sys.executable, __file__, "--child", str(root)] + (["--profile"] if profile else []),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(root))
    assert process.stdout is not None
    json.loads(process.stdout.readline())  # ready
    return process


def _ask(process: subprocess.Popen[str], code: str) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(code + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def _codes(n: int) -> list[str]:
    import polars as pl

    clean = Path(os.environ.get("SETTLEMENT_RESEARCH_CLEAN", HERE / "data_clean"))
    codes = pl.read_parquet(clean / "synthetic" / "kommune.parquet")["kommune_nr"].to_list()
    step = max(1, len(codes) // n)
    return codes[::step][:n]


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"reports": len(rows), "failed": sum(r["status"] != "ok" for r in rows),
                           "page_kb_median": round(statistics.median(r["page_bytes"] for r in rows) / 1024, 1)}
    for phase in PHASES:
        values = [r.get(phase, 0.0) for r in rows]
        out[f"{phase}_s"] = round(statistics.median(values), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=Path("/work/main"), help="the checkout to compare against")
    parser.add_argument("--n", type=int, default=20, help="profiles per worker")
    parser.add_argument("--profile", action="store_true", help="cProfile this checkout's worker instead")
    parser.add_argument("--name", default=None, help="results file name (benchmarks/results/NAME.json)")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.profile)
        return 0
    codes = _codes(args.n)
    if args.profile:
        process = _start(HERE, True)
        rows = [_ask(process, code) for code in codes]
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.close()
        process.wait()
        print(json.dumps(_summary(rows), indent=2))
        return 0
    variants = {"base": args.base.resolve(), "this": HERE}
    processes = {name: _start(root, False) for name, root in variants.items()}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for i, code in enumerate(codes):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))  # alternate who goes first
        for name in order:
            rows[name].append(_ask(processes[name], code))
    for process in processes.values():
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.close()
        process.wait()
    summary = {name: _summary(r) for name, r in rows.items()}
    summary["ratio_render_base_over_this"] = round(summary["base"]["render_s"] / summary["this"]["render_s"], 3)
    summary["ratio_render_plus_gate"] = round(
        (summary["base"]["render_s"] + summary["base"]["gate_s"]) / (summary["this"]["render_s"] + summary["this"]["gate_s"]), 3)
    header = f"{'phase (median s/report)':<26}{'base':>10}{'this':>10}"
    print(header)
    for phase in PHASES:
        print(f"{phase:<26}{summary['base'][phase + '_s']:>10.4f}{summary['this'][phase + '_s']:>10.4f}")
    print(f"{'page KB (median)':<26}{summary['base']['page_kb_median']:>10}{summary['this']['page_kb_median']:>10}")
    print(f"failed: base {summary['base']['failed']}, this {summary['this']['failed']}")
    print(f"render ratio base/this: {summary['ratio_render_base_over_this']}x; render+gate: {summary['ratio_render_plus_gate']}x")
    record = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "base": str(args.base), "n": len(codes),
              "load_avg": os.getloadavg(), "summary": summary, "rows": rows}
    name = args.name or "worker"
    (HERE / "benchmarks" / "results" / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
