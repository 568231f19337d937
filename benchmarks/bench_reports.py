"""Batch reports: the plain CLI loop versus ``settlement-research report``, on the real profile.

    .venv/bin/python benchmarks/bench_reports.py [--n 6] [--workers 2] [--all-n 0] [--name reports]

Template: notebooks/municipality_profile.py on the demo data (synthetic scale 1, 428
municipalities). The data is the data_clean that SETTLEMENT_RESEARCH_CLEAN (or the project's
data_clean) points at when it holds a synthetic build; otherwise it is generated and built into the
temporary work folder first (not timed). Nothing is written into the project except the results.

Plain loop (what a user would script): per report one ``papermill`` CLI call (``-r`` so '0301'
stays a string) and one ``jupyter nbconvert --to html --no-input``; the jupytext -> ipynb
conversion is done once, outside the timing.

``report``: one ``settlement-research report`` call, timed end to end including worker start-up,
(1) on the same subset as the plain loop and (2) on every municipality (``--all-n`` limits it for a
quick run), both with ``--force``; then (3) the full run again without ``--force``: everything
comes from the cache.

Goal: the plain loop's seconds per report over the full run's (wall time / reports) >= 17x, and
the full run in about 3 minutes on 2 cores. Results: stdout and benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
TEMPLATE = ROOT / "notebooks" / "municipality_profile.py"
GOAL = 17.0


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def demo_data(work: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment pointing at a synthetic data_clean: the configured one, else a fresh build."""
    from settlement_research.paths import data_clean_dir

    configured = Path(env.get("SETTLEMENT_RESEARCH_CLEAN") or data_clean_dir())
    if (configured / "MANIFEST.json").is_file() and (configured / "synthetic" / "kommune.parquet").is_file():
        return {**env, "SETTLEMENT_RESEARCH_CLEAN": str(configured)}
    env = {**env, "SETTLEMENT_RESEARCH_RAW": str(work / "raw"), "SETTLEMENT_RESEARCH_CLEAN": str(work / "clean")}
    print(f"no synthetic data_clean at {configured}; building the demo data in {work} (not timed)")
    run([str(BIN / "settlement-research"), "synth", "--scale", "1", "--out", str(work / "raw" / "synthetic")], env)
    run([str(BIN / "settlement-research"), "build"], env)
    return env


def codes_of(env: dict[str, str]) -> list[str]:
    import polars as pl

    frame = pl.read_parquet(Path(env["SETTLEMENT_RESEARCH_CLEAN"]) / "synthetic" / "kommune.parquet")
    return sorted(set(frame["kommune_nr"].to_list()))


def report_cmd(codes: list[str], out: Path, workers: int, *, force: bool) -> list[str]:
    cmd = [str(BIN / "settlement-research"), "report", str(TEMPLATE), "--grid", f"kommune_nr={','.join(codes)}",
           "--out", str(out), "--workers", str(workers), "--no-progress"]
    return [*cmd, "--force"] if force else cmd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6, help="reports in the plain-loop subset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--all-n", type=int, default=0, help="limit the full run to this many (0 = all)")
    parser.add_argument("--name", default="reports")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    env = demo_data(work, dict(os.environ))
    codes = codes_of(env)
    # A spread of sizes: every len(codes)/n-th municipality, Oslo first.
    subset = list(dict.fromkeys(["0301", *codes[:: max(1, len(codes) // args.n)]]))[: args.n]
    full = codes[: args.all_n] if args.all_n else codes
    print(f"template {TEMPLATE.name} on {env['SETTLEMENT_RESEARCH_CLEAN']}; subset {', '.join(subset)}; "
          f"full run {len(full)} reports; work folder {work}")

    # 1. Plain loop: papermill CLI + nbconvert CLI per report.
    ipynb = work / "template.ipynb"
    subprocess.run([str(BIN / "jupytext"), "--to", "ipynb", "-o", str(ipynb), str(TEMPLATE)], check=True,
                   capture_output=True, env=env)
    nb = json.loads(ipynb.read_text())
    nb["metadata"]["kernelspec"] = {"name": "settlement_research", "display_name": "settlement_research", "language": "python"}
    ipynb.write_text(json.dumps(nb))
    plain_dir = work / "plain"
    plain_dir.mkdir()
    plain: list[float] = []
    for code in subset:
        out = plain_dir / f"kommune_nr-{code}.ipynb"
        seconds = run([str(BIN / "papermill"), "--no-progress-bar", str(ipynb), str(out), "-r", "kommune_nr", code,
                       "--cwd", str(work)], env)
        seconds += run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)], env)
        plain.append(round(seconds, 3))
        print(f"  plain {code}: {seconds:.2f} s")

    # 2. report on the same subset; 3. report on all; 4. all again, from the cache.
    subset_s = run(report_cmd(subset, work / "report_subset", args.workers, force=True), env)
    subset_manifest = json.loads((work / "report_subset" / "manifest.json").read_text())
    full_s = run(report_cmd(full, work / "report_all", args.workers, force=True), env)
    full_manifest = json.loads((work / "report_all" / "manifest.json").read_text())
    cached_s = run(report_cmd(full, work / "report_all", args.workers, force=False), env)
    cached_manifest = json.loads((work / "report_all" / "manifest.json").read_text())

    plain_per = statistics.mean(plain)
    subset_per = subset_s / len(subset)
    full_per = full_s / len(full)
    inside = [r["duration_s"] for r in full_manifest["reports"]]
    result: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_1m": os.getloadavg()[0]},
        "template": TEMPLATE.name, "workers": args.workers, "subset": subset,
        "plain_loop": {"per_report_s": plain, "mean_per_report_s": round(plain_per, 3), "total_s": round(sum(plain), 3)},
        "report_subset": {"reports": len(subset), "total_s": round(subset_s, 3), "per_report_s": round(subset_per, 3),
                          "render_in_worker_s": [r["duration_s"] for r in subset_manifest["reports"]],
                          "failed": subset_manifest["failed"]},
        "report_all": {"reports": len(full), "total_s": round(full_s, 3), "per_report_s": round(full_per, 3),
                       "render_in_worker_median_s": round(statistics.median(inside), 3),
                       "render_in_worker_mean_s": round(statistics.mean(inside), 3), "failed": full_manifest["failed"]},
        "report_all_cached": {"total_s": round(cached_s, 3), "rendered": cached_manifest["rendered"],
                              "failed": cached_manifest["failed"]},
        "ratio_same_subset": round(plain_per / subset_per, 2),
        "ratio_per_report": round(plain_per / full_per, 2), "goal_ratio": GOAL,
        "goal_met": plain_per / full_per >= GOAL,
    }
    print(f"plain loop: {plain_per:.2f} s/report (papermill + nbconvert CLI)")
    print(f"report, same {len(subset)}: {subset_per:.3f} s/report end to end ({subset_s:.1f} s, worker start-up "
          f"included): {plain_per / subset_per:.1f}x")
    print(f"report, all {len(full)}: {full_per:.3f} s/report end to end ({full_s:.1f} s): "
          f"{plain_per / full_per:.1f}x per report (goal {GOAL:g}x); in a worker: median "
          f"{statistics.median(inside):.2f} s")
    print(f"report, all again: {cached_s:.2f} s, {cached_manifest['rendered']} rendered (cache)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    failed = subset_manifest["failed"] or full_manifest["failed"] or cached_manifest["failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
