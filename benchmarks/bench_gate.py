"""What the clean-process gate costs: the same 20 profiles rendered by a checkout whose gate runs in
the worker (before, e.g. main) and by this one (after), alternately, in the same run.

    .venv/bin/python benchmarks/bench_gate.py --before /path/to/other/checkout/src [--n 20] [--repeat 2]
    .venv/bin/python benchmarks/bench_gate.py --audit-only reports/municipality_profile [--repeat 3]
    .venv/bin/python benchmarks/bench_gate.py --parent reports/municipality_profile --before /other/src [--repeat 3]

Each run is ``settlement-research report municipality_profile --grid kommune_nr=<n codes> --force``
with 2 workers, on the demo data_clean (as bench_reports.py finds or builds it), the same template
file for both. Prints the wall time per report of each, their ratio, and the time this checkout's
parent process spent in the clean gate (``manifest.json``: ``clean_gate_s``) per report.
``--audit-only DIR``: no rendering; for every ok report of a rendered batch folder, the time of the
gate as the worker ran it before (``sdc.audit.audit_report`` with marks taken as they claim) and of
the clean gate (``sdc.gate.audit_rendered``: marks restrict only, public numbers checked against the
data, lineage and read log), alternately, in this one process (median of ``--repeat``).
``--parent DIR --before SRC``: no rendering; the parent's clean gate as a batch runs it (``Knowledge``
loaded once, then ``sdc.gate.audit_rendered`` once per report, after one warm-up report), in a fresh
process per run, alternating the ``--before`` checkout and this one on the same files (median of
``--repeat`` runs each). Render DIR with the newer checkout: an older gate reads its marks as well.
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


def audit_cost(folder: Path, repeat: int) -> dict[str, float]:
    """Median seconds per report of the worker-side gate and of the clean gate on ``folder``'s files."""
    from settlement_research.pages import lineage as page_lineage
    from settlement_research.reports.runner import load_template
    from settlement_research.sdc import audit, gate, provenance

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    declared = load_template(manifest["template_path"]).declared
    reports = [r for r in manifest["reports"] if r.get("status") == "ok"]
    ids = audit.identifier_values()
    t = int(manifest.get("sdc_threshold") or 5)
    gate.audit_rendered(folder, reports[0]["name"], reports[0]["parameters"], declared=declared, t=t, ids=ids)  # warm

    def worker_side() -> None:  # what the worker ran after each render before: the report, then its lineage
        for r in reports:
            files = gate.artefacts(folder, r["name"])
            audit.audit_report(files[".html"], files[".results.json"], files[".ipynb"], t=t, ids=ids,
                               scope=provenance.Scope(key=b""), verify_marks=False)
            page_lineage.audit_lineage(files[".lineage.json"], ids=ids, t=t)

    def clean() -> None:
        for r in reports:
            gate.audit_rendered(folder, r["name"], r["parameters"], declared=declared, t=t, ids=ids)

    times: dict[str, list[float]] = {"worker_side": [], "clean": []}
    for _ in range(repeat):
        for label, fn in (("worker_side", worker_side), ("clean", clean)):
            start = time.perf_counter()
            fn()
            times[label].append((time.perf_counter() - start) / len(reports))
    return {"reports": len(reports), **{f"{k}_s_per_report": round(statistics.median(v), 4) for k, v in times.items()}}


_PARENT = """
import json, sys, time
from pathlib import Path
from settlement_research.reports.runner import load_template
from settlement_research.sdc import gate
folder = Path(sys.argv[1])
manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
declared = load_template(manifest["template_path"]).declared
reports = [r for r in manifest["reports"] if r.get("status") == "ok"]
knowledge = gate.Knowledge([r["parameters"] for r in reports], declared)
found = 0
def audit(r):
    global found
    found += len(gate.audit_rendered(folder, r["name"], r["parameters"], declared=knowledge.declared, t=knowledge.t,
                                     ids=knowledge.ids, clean=knowledge.clean(r["parameters"])))
audit(reports[0])  # warm: imports, regexes
start, cpu = time.perf_counter(), time.process_time()
for r in reports[1:]:
    audit(r)
n = len(reports) - 1
print(json.dumps({"s_per_report": (time.perf_counter() - start) / n, "cpu_s_per_report": (time.process_time() - cpu) / n,
                  "findings": found}))
"""


def parent_cost(folder: Path, before: Path, repeat: int) -> dict[str, object]:
    """Median seconds per report of the parent's clean gate with the ``before`` checkout and this one,
    each run in a fresh process (as a batch's parent), alternately on the same files."""
    times: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}  # CPU seconds: what the gate takes from the workers' cores
    findings: dict[str, int] = {}
    for _ in range(repeat):
        for label, src in (("before", before.resolve()), ("after", ROOT / "src")):
            done = subprocess.run([sys.executable, "-c", _PARENT, str(folder)], env={**os.environ, "PYTHONPATH": str(src)},
                                  capture_output=True, text=True, check=True)
            out = json.loads(done.stdout.strip().splitlines()[-1])
            times[label].append(out["s_per_report"])
            cpu[label].append(out["cpu_s_per_report"])
            findings[label] = out["findings"]
            print(f"{label}: {out['s_per_report']:.4f} s/report ({out['cpu_s_per_report']:.4f} CPU s)")
    before_s, after_s = statistics.median(times["before"]), statistics.median(times["after"])
    before_cpu, after_cpu = statistics.median(cpu["before"]), statistics.median(cpu["after"])
    return {"runs": {k: [round(x, 4) for x in v] for k, v in times.items()},
            "cpu_runs": {k: [round(x, 4) for x in v] for k, v in cpu.items()},
            "before_s_per_report": round(before_s, 4), "after_s_per_report": round(after_s, 4),
            "before_over_after": round(before_s / after_s, 2), "before_cpu_s_per_report": round(before_cpu, 4),
            "after_cpu_s_per_report": round(after_cpu, 4), "cpu_before_over_after": round(before_cpu / after_cpu, 2),
            "findings": findings}


def save(name: str, result: dict) -> None:
    """benchmarks/results/<name>.json."""
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=None, help="src folder of the checkout to compare with")
    parser.add_argument("--audit-only", type=Path, default=None, help="a rendered batch folder: time the gates only")
    parser.add_argument("--parent", type=Path, default=None,
                        help="a rendered batch folder: time the parent's clean gate of --before and of this checkout")
    parser.add_argument("--n", type=int, default=20, help="profiles per batch")
    parser.add_argument("--repeat", type=int, default=2, help="batches per checkout (alternating)")
    parser.add_argument("--name", default="gate")
    args = parser.parse_args()
    if args.audit_only is not None:
        result = {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "folder": str(args.audit_only),
                  **audit_cost(args.audit_only, args.repeat), "loadavg": os.getloadavg()}
        print(f"{result['reports']} reports: worker-side gate {result['worker_side_s_per_report']:.3f} s/report, "
              f"clean gate {result['clean_s_per_report']:.3f} s/report")
        save(f"{args.name}-audit", result)
        return 0
    if args.before is None:
        parser.error("--before or --audit-only is required")
    if args.parent is not None:
        result = {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "folder": str(args.parent),
                  "before_src": str(args.before), **parent_cost(args.parent, args.before, args.repeat),
                  "loadavg": os.getloadavg()}
        print(f"parent's clean gate: before {result['before_s_per_report']:.4f} s/report, after "
              f"{result['after_s_per_report']:.4f} s/report ({result['before_over_after']}x); CPU "
              f"{result['before_cpu_s_per_report']:.4f} vs {result['after_cpu_s_per_report']:.4f} s/report "
              f"({result['cpu_before_over_after']}x)")
        save(f"{args.name}-parent", result)
        return 0
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
    save(args.name, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
