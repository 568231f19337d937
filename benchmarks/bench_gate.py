"""What the clean-process gate costs: the same 20 profiles rendered by a checkout whose gate runs in
the worker (before, e.g. main) and by this one (after), alternately, in the same run.

    .venv/bin/python benchmarks/bench_gate.py --before /path/to/other/checkout/src [--n 20] [--repeat 2]

Each run is ``settlement-research report municipality_profile --grid kommune_nr=<n codes> --force``
with 2 workers, on the demo data_clean (as bench_reports.py finds or builds it), the same template
file for both. Prints the wall time per report of each, their ratio, and the time this checkout's
parent process spent in the clean gate (``manifest.json``: ``clean_gate_s``) per report.
Results: stdout and benchmarks/results/<name>.json.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_reports as br  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def render(src: Path, codes: list[str], out: Path, env: dict[str, str]) -> tuple[float, dict]:
    """Wall time of one forced batch of ``codes`` with the package at ``src``, and its manifest."""
    cmd = [sys.executable, "-m", "settlement_research.cli", "report", str(br.TEMPLATE), "--grid",
           f"kommune_nr={','.join(codes)}", "--out", str(out), "--workers", "2", "--force", "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(cmd, env={**env, "PYTHONPATH": str(src)}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: some report failed (counted in the manifest)
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall, json.loads((out / "manifest.json").read_text("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the checkout to compare with")
    parser.add_argument("--n", type=int, default=20, help="profiles per batch")
    parser.add_argument("--repeat", type=int, default=2, help="batches per checkout (alternating)")
    parser.add_argument("--name", default="gate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp:
        work = Path(tmp)
        env = br.demo_data(work, dict(os.environ))
        codes = br.codes_of(env)[: args.n]
        walls: dict[str, list[float]] = {"before": [], "after": []}
        gate_s: list[float] = []
        failed: dict[str, int] = {}
        for i in range(args.repeat):
            for label, src in (("before", args.before.resolve()), ("after", ROOT / "src")):
                wall, manifest = render(src, codes, work / f"{label}-{i}", env)
                walls[label].append(wall)
                failed[label] = manifest.get("failed", 0)
                if label == "after":
                    gate_s.append(float(manifest.get("clean_gate_s", 0.0)))
                print(f"{label} #{i + 1}: {wall:.1f} s for {len(codes)} reports ({manifest.get('failed')} failed)")
    before, after = statistics.median(walls["before"]), statistics.median(walls["after"])
    per_gate = statistics.median(gate_s) / len(codes)
    summary = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "reports": len(codes),
        "before_src": str(args.before), "before_s": round(before, 2), "after_s": round(after, 2),
        "before_s_per_report": round(before / len(codes), 3), "after_s_per_report": round(after / len(codes), 3),
        "after_over_before": round(after / before, 3), "clean_gate_s_per_report": round(per_gate, 3),
        "failed": failed, "loadavg": os.getloadavg(),
    }
    print(f"before {summary['before_s_per_report']} s/report, after {summary['after_s_per_report']} s/report "
          f"(after/before {summary['after_over_before']}); clean gate in the parent {per_gate:.3f} s/report")
    out = ROOT / "benchmarks" / "results" / f"{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
