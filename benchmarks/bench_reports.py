"""Batch reports: the plain CLI loop versus ``settlement-research report``, same template, same subset.

    .venv/bin/python benchmarks/bench_reports.py [--n 6] [--workers 2] [--template PATH] [--name reports]

Plain loop (what a user would script): per report one ``papermill`` CLI call (``-r`` so '0301'
stays a string) and one ``jupyter nbconvert --to html --no-input``; the jupytext -> ipynb
conversion is done once, outside the timing. ``report``: one ``settlement-research report`` call
for the same parameter sets with ``--force`` (no cache), timed end to end including worker start-up.
A second ``report`` call shows the cache (nothing rendered). Both write HTML without code cells.

The default template is a municipality profile of typical weight (person-level counts through
disclosure control, two tables, two figures, a memoised national aggregate) on a generated
data_clean of 428 municipalities, written to a temporary folder; ``--template`` takes a project
notebook instead (then SETTLEMENT_RESEARCH_CLEAN must point at data it can read).

A third ``report`` run over ``--amortized-n`` (default 60) municipalities measures the per-report
cost once worker start-up is spread over a realistic batch (428 profiles is the real job); the
goal ratio is plain-loop seconds per report over that. The same-subset ratio is reported too.

Goal: >= 17x faster per report. Results: stdout and benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
GOAL = 17.0

TEMPLATE = '''# %% [markdown]
# # Municipality profile (benchmark template)

# %% tags=["parameters"]
kommune_nr = "0301"
source = "synthetic"

# %%
import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns

from settlement_research.analysis import disclosure
from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import memo, save_results

sns.set_theme(style="whitegrid")
settlement = memo("settlement", lambda: pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
                  .with_columns(pl.col("settlement_date").dt.year().alias("year")))
national = memo("national", lambda: settlement.group_by("year").agg(pl.len().alias("national"),
                pl.col("months_waited").mean().alias("national_wait")).sort("year"))
kommune = pl.read_parquet(data_clean_dir() / source / "kommune.parquet").filter(pl.col("kommune_nr") == kommune_nr)
mine = settlement.filter(pl.col("kommune_nr") == kommune_nr)
print(f"{kommune['kommune_name'][0]} ({kommune_nr}), {kommune['fylke_name'][0]}")

# %% [markdown]
# ## Settled persons by year and route

# %%
table = disclosure.count_table(mine, "year", "route")
disclosure.to_html(table, caption="Settled persons by year and route")

# %%
by_year = disclosure.count_table(mine, "year").join(national, on="year", how="right")
fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
sns.barplot(x=by_year["year"].cast(pl.String).to_list(), y=by_year["n"].fill_null(0).to_list(), ax=ax[0], color="C0")
ax[0].set_title("Settled per year (suppressed cells left out)")
ax[1].plot(by_year["year"], by_year["national_wait"], marker="o", label="Norway")
wait = mine.group_by("year").agg(pl.col("months_waited").mean(), pl.len()).filter(pl.col("len") >= disclosure.threshold()).sort("year")
ax[1].plot(wait["year"], wait["months_waited"], marker="s", label=kommune_nr)
ax[1].set_title("Months from permit to settlement"); ax[1].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Waiting time

# %%
waits = disclosure.suppress(
    mine.group_by("route").agg(pl.len().alias("n"), pl.col("months_waited").mean().round(1).alias("mean_months")).sort("route"),
    ["n"], dependent={"mean_months": "n"})
disclosure.to_html(waits, caption="Persons and mean months waited by route")

# %%
save_results({"kommune_nr": kommune_nr, "settled": disclosure.safe_count(mine.height),
              "mean_months_waited": None if mine.height < disclosure.threshold() else mine["months_waited"].mean()},
             sdc_keys=["settled"])
'''


def make_data(root: Path, n_kommuner: int = 428, seed: int = 1) -> list[str]:
    """A data_clean with ``n_kommuner`` municipalities and a person-level settlement table."""
    import polars as pl

    rng = random.Random(seed)
    counties = [("03", "Oslo", "ost", "ost"), ("12", "Hordaland", "vest", "vest"), ("16", "Sør-Trøndelag", "midt_norge", "midt_norge"),
                ("10", "Vest-Agder", "sor", "sor"), ("19", "Troms", "nord", "bodo")]
    codes, rows, people = [], [], []
    for i in range(n_kommuner):
        fylke, fname, imdi, hb = counties[i % len(counties)]
        code = f"{fylke}{i // len(counties) + 1:02d}"
        codes.append(code)
        rows.append({"kommune_nr": code, "kommune_name": f"Kommune {code}", "fylke_nr": fylke, "fylke_name": fname,
                     "imdi_region": imdi, "husbanken_region": hb, "centrality": rng.randint(1, 6),
                     "valid_from": 1838, "valid_to": None})
        for _ in range(rng.choice([2, 3, 8, 20, 40, 120])):
            people.append({"person_id": f"P{len(people) + 1:07d}", "kommune_nr": code,
                           "settlement_date": dt.date(rng.randint(2009, 2014), rng.randint(1, 12), 1),
                           "route": rng.choice(["ordinary", "ordinary", "agreed_self", "own"]),
                           "months_waited": round(rng.uniform(1, 14), 1)})
    folder = root / "synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).with_columns(pl.col("centrality").cast(pl.Int8), pl.col("valid_from").cast(pl.Int16),
                                    pl.col("valid_to").cast(pl.Int16)).write_parquet(folder / "kommune.parquet")
    pl.DataFrame(people).write_parquet(folder / "settlement.parquet")
    (root / "MANIFEST.json").write_text(json.dumps({"bench": True, "persons": len(people)}), "utf-8")
    return codes


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6, help="reports in the subset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--template", type=Path, default=None, help="a py:percent notebook (default: built-in profile)")
    parser.add_argument("--amortized-n", type=int, default=60,
                        help="reports in a second, larger report run: start-up amortised as in a real batch")
    parser.add_argument("--name", default="reports")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    env = dict(os.environ)
    if args.template is None:
        template = work / "profile_bench.py"
        template.write_text(TEMPLATE, "utf-8")
        codes = make_data(work / "data_clean")
        env["SETTLEMENT_RESEARCH_CLEAN"] = str(work / "data_clean")
    else:
        template = args.template.resolve()
        from settlement_research.reports.batch import kommune_codes

        codes = kommune_codes()
    subset = codes[: args.n]
    print(f"template {template.name}, {len(subset)} reports: {', '.join(subset)}; work folder {work}")

    # Plain loop: papermill CLI + nbconvert CLI per report.
    ipynb = work / "template.ipynb"
    subprocess.run([str(BIN / "jupytext"), "--to", "ipynb", "-o", str(ipynb), str(template)], check=True,
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

    # report: one call for the same subset, no cache.
    out_dir = work / "report"
    cmd = [str(BIN / "settlement-research"), "report", str(template), "--grid", f"kommune_nr={','.join(subset)}",
           "--out", str(out_dir), "--workers", str(args.workers), "--force", "--no-progress"]
    batch_seconds = run(cmd, env)
    manifest = json.loads((out_dir / "manifest.json").read_text())
    per_report_inside = [r["duration_s"] for r in manifest["reports"]]
    cached_seconds = run([c for c in cmd if c != "--force"], env)
    cached = json.loads((out_dir / "manifest.json").read_text())
    big = codes[: args.amortized_n]
    big_cmd = [str(BIN / "settlement-research"), "report", str(template), "--grid", f"kommune_nr={','.join(big)}",
               "--out", str(work / "report_big"), "--workers", str(args.workers), "--force", "--no-progress"]
    big_seconds = run(big_cmd, env)
    big_manifest = json.loads((work / "report_big" / "manifest.json").read_text())

    plain_per = sum(plain) / len(plain)
    batch_per = batch_seconds / len(subset)
    big_per = big_seconds / len(big)
    ratio_subset = plain_per / batch_per
    ratio = plain_per / big_per
    result: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_1m": os.getloadavg()[0]},
        "template": str(template.name), "reports": len(subset), "workers": args.workers,
        "plain_loop": {"per_report_s": plain, "mean_per_report_s": round(plain_per, 3), "total_s": round(sum(plain), 3)},
        "report": {"total_s": round(batch_seconds, 3), "per_report_s": round(batch_per, 3),
                   "render_in_worker_s": per_report_inside, "failed": manifest["failed"]},
        "report_cached": {"total_s": round(cached_seconds, 3), "rendered": cached["rendered"]},
        "report_amortized": {"reports": len(big), "total_s": round(big_seconds, 3), "per_report_s": round(big_per, 3),
                             "failed": big_manifest["failed"]},
        "ratio_same_subset": round(ratio_subset, 2),
        "ratio_per_report": round(ratio, 2), "goal_ratio": GOAL, "goal_met": ratio >= GOAL,
        "projection_428_reports_s": round(big_per * 428, 1),
    }
    print(f"plain loop: {plain_per:.2f} s/report; report on the same {len(subset)}: {batch_per:.3f} s/report end to end "
          f"({batch_seconds:.1f} s, worker start-up included): {ratio_subset:.1f}x")
    print(f"report on {len(big)}: {big_per:.3f} s/report end to end ({big_seconds:.1f} s): {ratio:.1f}x per report "
          f"(goal {GOAL}x); 428 reports ~ {big_per * 428:.0f} s")
    print(f"inside workers: {', '.join(f'{s:.2f}' for s in per_report_inside)} s; cached re-run "
          f"{cached_seconds:.2f} s, {cached['rendered']} rendered")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0 if not (manifest["failed"] or big_manifest["failed"]) else 1


if __name__ == "__main__":
    sys.exit(main())
