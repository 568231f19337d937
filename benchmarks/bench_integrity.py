"""What the data's integrity costs: input snapshot, code hash, manifest checks in build, verify and load().

    .venv/bin/python benchmarks/bench_integrity.py [--scale 1] [--repeat 3] [--baseline-src ../main/src]

In one run, on one synthetic extract: a forced build (which now snapshots and hashes its inputs,
hashes the code and writes per-source manifests) next to the pieces it is made of, an up-to-date
build, `verify` (full sha256 and quick), and catalog.load() with its manifest check against the
same load with the check switched off (ratio = with / without, medians). With ``--baseline-src``,
``build --force`` runs as a subprocess alternately with this checkout's code and the baseline's on
the same extract (ratio = this / baseline, medians).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_time  # benchmarks/ is on sys.path when a script runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, default=None, help="src folder of the code to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "clean"
        env = {**os.environ, "SETTLEMENT_RESEARCH_RAW": str(raw), "SETTLEMENT_RESEARCH_CLEAN": str(out)}
        subprocess.run([sys.executable, "-m", "settlement_research.cli", "synth", "--scale", args.scale],
                       env=env, check=True, capture_output=True)
        compared: list[tuple[float, float]] = []
        if args.baseline_src:
            here = str(Path(__file__).resolve().parents[1] / "src")
            for _ in range(args.repeat):
                pair = []
                for src, folder in ((here, "clean_this"), (str(args.baseline_src.resolve()), "clean_base")):
                    start = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-m", "settlement_research.cli", "build", "--force",
                         "--out", str(Path(tmp) / folder)],
                        env={**env, "PYTHONPATH": src}, check=True, capture_output=True,
                    )
                    pair.append(time.perf_counter() - start)
                compared.append((pair[0], pair[1]))
        os.environ.update(env)
        from settlement_research import catalog
        from settlement_research.build import build
        from settlement_research.pipeline import codehash, inputs, manifest

        quiet = {"log": lambda m: None}
        rows: list[tuple[str, float]] = []
        rows.append(("build --force", median_time(lambda: build(raw, out, force=True, **quiet), args.repeat)))
        snap = Path(tmp) / "snap"
        rows.append(("  of which: snapshot + sha256 of raw/synthetic",
                     median_time(lambda: inputs.snapshot(raw, raw / "synthetic", snap), args.repeat)))

        def cold_hash() -> str:
            codehash.clear_cache()
            return codehash.build_code_hash("settlement_research.sources.synthetic")

        rows.append(("  of which: code hash (cold)", median_time(cold_hash, args.repeat)))
        rows.append(("build, up to date", median_time(lambda: build(raw, out, **quiet), args.repeat)))
        rows.append(("verify (full sha256)", median_time(lambda: manifest.verify(out), args.repeat)))
        rows.append(("verify --quick", median_time(lambda: manifest.verify(out, full=False), args.repeat)))
        raw_mb = sum(p.stat().st_size for p in (raw / "synthetic").rglob("*") if p.is_file()) / 1e6

        tables = catalog.tables("synthetic")
        check = manifest.check_table

        def load_all() -> None:
            for t in tables:
                catalog.load(t, source="synthetic")

        load_all()  # warm: validated frames cached
        with_check = median_time(load_all, max(5, args.repeat))
        manifest_mod = sys.modules["settlement_research.pipeline.manifest"]
        manifest_mod.check_table = lambda file, full=False: None
        without = median_time(load_all, max(5, args.repeat))
        manifest_mod.check_table = check
        full = median_time(lambda: [catalog.load(t, source="synthetic", checksum=True) for t in tables], args.repeat)

    print(f"scale {args.scale}: raw/synthetic {raw_mb:.1f} MB; medians of {args.repeat}")
    if compared:
        this = statistics.median(c[0] for c in compared)
        base = statistics.median(c[1] for c in compared)
        print(f"  {'build --force subprocess, this code':<48}{this:8.3f} s")
        print(f"  {'build --force subprocess, baseline code':<48}{base:8.3f} s   ratio {this / base:.2f}x")
    for name, seconds in rows:
        print(f"  {name:<48}{seconds:8.3f} s")
    print(f"  {'load() all ' + str(len(tables)) + ' tables, warm, with check':<48}{with_check:8.4f} s")
    print(f"  {'load() same, check switched off':<48}{without:8.4f} s   ratio {with_check / without:.2f}x")
    print(f"  {'load(checksum=True) all tables, warm':<48}{full:8.4f} s")


if __name__ == "__main__":
    main()
