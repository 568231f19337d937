"""Disclosure control at full size: suppression + whole-set LP audit of all 428 profiles, and the
batch report's speed against the plain papermill + nbconvert loop, in the same run.

    .venv/bin/python benchmarks/bench_sdc.py [--reports] [--n 3] [--workers 2] [--name sdc]

1. ``suppress``: ``profile.profile_data`` (loading, and the LP-audited suppression of every
   person-derived count a profile shows, once for all municipalities), timed.
2. ``audit``: the whole publication set — each profile's settled per year and window total, its
   yearly in-work counts and bases and its rounded pooled share (an interval constraint), as its
   results.json holds them, plus notebook 01's national sums — attacked with the fast LP audit
   (``sdc.publication``); goal <= 15 s. Prints hidden cells, LPs solved, and any exposed cell.
3. ``--reports``: ``settlement-research report municipality_profile --grid kommune_nr=all`` (which
   now runs the same whole-set audit itself, ``sdc.publication.audit_batch``, and the post-render
   gate with signed marks, context rules and the chart hook) and notebook 01 rendered for real, the
   set audited again from the files on disk, and a sample of ``--n`` plain papermill + nbconvert
   CLI runs (bench_reports.py's loop) for the ratio; goal >= 25x.

Data: the demo data_clean (synthetic, scale 1), as bench_reports.py finds or builds it.
Results: stdout and benchmarks/results/<name>.json.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_reports as br  # noqa: E402

AUDIT_GOAL_S = 15.0
RATIO_GOAL = 25.0


def publication_from_profile_data(data: Any) -> Any:
    """What every profile and notebook 01 publish about settled, built as their results.json are."""
    import polars as pl

    from settlement_research.analysis import profile as pr
    from settlement_research.sdc import publication

    profiles = []
    for code in data.kommune["kommune_nr"].to_list():
        years = pr.settlement_years(data, code)
        window = pr.window_settled(data, code)
        intro = pr.intro_table(data, code)
        profiles.append({
            "kommune_nr": code, "settled": window["settled"], "settled_symbol": window["settled_symbol"],
            "settled_by_year": dict(zip(map(str, years["year"]), years["settled"].to_list(), strict=True)),
            "settled_symbols": {str(y): s for y, s in zip(years["year"], years["settled_symbol"], strict=True) if s},
            # as the profile's results.json: status counts per year and the pooled (rounded) share
            "work_education_share": pr.intro_pooled(data, code)["kommune"],
            "work_education_by_year": {} if intro is None else dict(zip(
                map(str, intro["year"]), intro["work_education_count"].to_list(), strict=True)),
            "work_education_base_by_year": {} if intro is None else dict(zip(
                map(str, intro["year"]), intro["work_education_base"].to_list(), strict=True)),
            "work_education_symbols": {} if intro is None else {
                str(y): s for y, s in zip(intro["year"], intro["work_education_count_symbol"], strict=True) if s},
        })
    from settlement_research import load

    raw = load("kommune_settlement_year", source=data.source).filter(
        pl.col("year").is_between(data.first_year, data.last_year))
    national = {"settled_by_year": {str(y): int(s) for y, s in
                                    raw.group_by("year").agg(pl.col("settled").sum()).sort("year").iter_rows()}}
    return publication.settled_publication(profiles, national)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", action="store_true", help="also render all profiles and time the ratio")
    parser.add_argument("--n", type=int, default=3, help="plain-loop sample size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", default="sdc")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-sdc-"))
    env = br.demo_data(work, dict(os.environ))
    os.environ["SETTLEMENT_RESEARCH_CLEAN"] = env["SETTLEMENT_RESEARCH_CLEAN"]
    from settlement_research.analysis import profile as pr
    from settlement_research.sdc import publication

    start = time.perf_counter()
    data = pr.profile_data("synthetic", 2009, 2014)
    suppress_s = time.perf_counter() - start
    start = time.perf_counter()
    pub = publication_from_profile_data(data)
    build_s = time.perf_counter() - start
    audit = publication.audit_publication(pub)
    audit_s = time.perf_counter() - start - build_s
    result: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_1m": os.getloadavg()[0]},
        "profiles": data.kommune.height, "suppress_s": round(suppress_s, 2),
        "audit": {"seconds": round(audit_s, 2), "build_publication_s": round(build_s, 2), "hidden": audit.hidden, "lps": audit.lps, "pinned": len(audit.pinned),
                  "below_threshold": len(audit.below_threshold), "narrow": len(audit.narrow), "ok": audit.ok,
                  "goal_s": AUDIT_GOAL_S},
    }
    print(f"suppression for {data.kommune.height} profiles (profile_data, LP-audited): {suppress_s:.1f} s")
    print(f"publication set read back from {data.kommune.height} profiles' numbers: {build_s:.2f} s")
    print(f"whole-set audit: {audit_s:.2f} s (goal <= {AUDIT_GOAL_S:g} s), {audit.hidden} hidden cells, {audit.lps} LPs; "
          f"pinned {len(audit.pinned)}, below threshold {len(audit.below_threshold)}, narrow {len(audit.narrow)}")

    if args.reports:
        codes = br.codes_of(env)
        out = work / "profiles"
        full_s = br.run([str(br.BIN / "settlement-research"), "report", str(br.TEMPLATE), "--grid", "kommune_nr=all",
                         "--source", "synthetic", "--out", str(out), "--workers", str(args.workers), "--no-progress",
                         "--force"], env)
        manifest = json.loads((out / "manifest.json").read_text())
        br.run([str(br.BIN / "settlement-research"), "run-notebook", "01_national_overview", "--out",
                str(work / "national")], env)
        start = time.perf_counter()
        rendered = publication.audit_set(out, work / "national" / "01_national_overview.results.json")
        rendered_s = time.perf_counter() - start
        ipynb = work / "template.ipynb"
        subprocess.run([str(br.BIN / "jupytext"), "--to", "ipynb", "-o", str(ipynb), str(br.TEMPLATE)], check=True,
                       capture_output=True, env=env)
        nb = json.loads(ipynb.read_text())
        nb["metadata"]["kernelspec"] = {"name": "settlement_research", "display_name": "settlement_research",
                                        "language": "python"}
        ipynb.write_text(json.dumps(nb))
        plain = []
        for code in codes[:: max(1, len(codes) // args.n)][: args.n]:
            target = work / f"plain-{code}.ipynb"
            seconds = br.run([str(br.BIN / "papermill"), "--no-progress-bar", str(ipynb), str(target), "-r",
                              "kommune_nr", code, "--cwd", str(work)], env)
            seconds += br.run([str(br.BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(target)], env)
            plain.append(round(seconds, 3))
        ratio = statistics.mean(plain) / (full_s / len(codes))
        result["reports"] = {"reports": len(codes), "total_s": round(full_s, 2), "failed": manifest["failed"],
                             "set_audit_in_report": manifest.get("set_audit"),
                             "plain_per_report_s": plain, "ratio": round(ratio, 1), "goal_ratio": RATIO_GOAL,
                             "rendered_audit_s": round(rendered_s, 2), "rendered_audit_ok": rendered.ok,
                             "rendered_hidden": rendered.hidden}
        print(f"report --grid kommune_nr=all: {full_s:.1f} s for {len(codes)} ({manifest['failed']} failed); plain loop "
              f"{statistics.mean(plain):.2f} s/report -> {ratio:.1f}x (goal >= {RATIO_GOAL:g}x)")
        print(f"audit of the rendered set from disk: {rendered_s:.2f} s, {rendered.hidden} hidden, ok={rendered.ok}; "
              f"report's own whole-set audit: {manifest.get('set_audit')}")
    br.RESULTS.mkdir(parents=True, exist_ok=True)
    (br.RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0 if audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())
