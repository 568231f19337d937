"""Precise report cache: one municipality's settled count changes; how many profiles re-render, how fast.

    .venv/bin/python benchmarks/bench_cache.py [--kommune 1201] [--year 2012] [--moved 5] [--workers 2]
                                               [--n 0] [--check] [--name cache]

In a temporary folder (never the project's data_raw or data_clean): ``synth --scale 1`` and
``build`` (not timed), then ``report municipality_profile --grid kommune_nr=all --force`` (the full
render, timed: the baseline). Then the settled count of one municipality and year changes by
``--moved`` persons: in the scratch copy of the register (register_bosetting.csv, from which the
build derives settled) that many of its ordinary IMDi settlements of that year become settlement
on their own (route 3, not counted as settled); IMDi's published figures in the raw extract
(BOSATT in imdi_bosetting_kommune.csv and the national total in imdi_bosetting_nasjonalt.csv) are
lowered by the same number, so the extract stays consistent, and the edited files' sha256 are
restamped in PROVENANCE.json as a re-generation would; ``build`` again (timed, reported apart), and the same ``report`` without
``--force`` (the re-run, timed end to end, worker start-up and the cache check included).

Printed: how many of the profiles re-rendered and which, the re-run's seconds and the ratio
full render / re-run (goal >= 10x), and the profiles expected to depend on the change, computed
independently of the read logs: the municipality itself and every profile whose peer table lists
it. ``--check`` also renders every profile again with ``--force`` on the changed data and compares
the pages and their lineage files (provenance footer aside) with the first render: the pages that differ must be exactly
the re-rendered ones (none missed, none rendered for nothing). ``--n`` limits the grid to the
first n municipalities plus the changed one and its dependants (a quick run).
Results: stdout and benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TEMPLATE = ROOT / "notebooks" / "municipality_profile.py"
GOAL = 10.0
_FOOTER = re.compile(r'<footer class="provenance".*?</footer>', re.DOTALL)
_CELL_ID = re.compile(r'id="cell-id=[0-9a-f-]+"')  # jupytext gives cells random ids
_SIG = re.compile(r'\sdata-sdc-sig="[0-9a-f]+"')  # the disclosure API signs with a fresh key per render


def cli(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "settlement_research.cli", *args], env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def edit_count(path: Path, key: dict[str, str], column: str, delta: int) -> tuple[int, int]:
    """Add ``delta`` to ``column`` of the one row of a ';' CSV matching ``key``; (old, new)."""
    text = path.read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    hits = [r for r in rows[1:] if all(r[header.index(k)] == v for k, v in key.items())]
    if len(hits) != 1:
        raise SystemExit(f"{path.name}: {len(hits)} rows match {key}, expected one")
    old = int(hits[0][header.index(column)])
    hits[0][header.index(column)] = str(old + delta)
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), "utf-8")
    return old, old + delta


def restamp(folder: Path, names: list[str]) -> None:
    """Record the edited files' sha256 and size in the folder's PROVENANCE.json, as a re-import
    does (the build refuses a raw file whose bytes differ from its provenance)."""
    import hashlib

    prov_path = folder / "PROVENANCE.json"
    prov = json.loads(prov_path.read_text("utf-8"))
    for entry in prov.get("files", []):
        if entry.get("name") in names:
            data = (folder / entry["name"]).read_bytes()
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    prov_path.write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n", "utf-8")


def move_settlements(path: Path, kommune: str, year: str, n: int) -> list[str]:
    """Turn ``n`` ordinary settlements (route 1) of ``kommune`` in ``year`` into own settlement
    (route 3) in the register; returns the persons' row numbers (LOPENR)."""
    text = path.read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    col = {name: i for i, name in enumerate(rows[0])}
    hits = [r for r in rows[1:] if r[col["KOMMNR"]] == kommune and r[col["BOSETTINGSDATO"]].startswith(year)
            and r[col["BOSETTINGSVEI"]] == "1"][:n]
    if len(hits) < n:
        raise SystemExit(f"{path.name}: only {len(hits)} ordinary settlements in {kommune} {year}, need {n}")
    for r in hits:
        r[col["BOSETTINGSVEI"]] = "3"
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), "utf-8")
    return [r[col["LOPENR"]] for r in hits]


def settled_count(clean: Path, kommune: str, year: str) -> int:
    import polars as pl

    frame = pl.read_parquet(clean / "synthetic" / "kommune_settlement_year.parquet")
    return int(frame.filter((pl.col("kommune_nr") == kommune) & (pl.col("year") == int(year)))["settled"].sum())


def peer_dependants(clean: Path, kommune: str, codes: list[str]) -> set[str]:
    """Profiles that show ``kommune``: its own and every profile whose peer table lists it
    (peer tables drawn with the profile module on the data before the change)."""
    os.environ["SETTLEMENT_RESEARCH_CLEAN"] = str(clean)
    from settlement_research.analysis import profile as pr

    data = pr.profile_data("synthetic", 2009, 2014)
    return {kommune} | {c for c in codes if kommune in pr.peer_table(data, c)["kommune_nr"].to_list()[1:]}


def pages(folder: Path) -> dict[str, str]:
    """Every profile page with its lineage file (a reused page must keep both right), without what
    differs between two renders of the same data (the footer names the data manifest; cell ids and
    the disclosure API's signatures are fresh per render)."""
    out = {}
    for p in folder.glob("kommune_nr-*.html"):
        lineage = p.with_name(p.stem + ".lineage.json")
        out[p.stem] = _SIG.sub("", _CELL_ID.sub("", _FOOTER.sub("", p.read_text("utf-8")))) + (
            lineage.read_text("utf-8") if lineage.is_file() else "(no lineage file)")
    return out


def report(out: Path, grid: str, env: dict[str, str], workers: int, *, force: bool) -> tuple[float, dict[str, Any]]:
    args = ["report", str(TEMPLATE), "--grid", f"kommune_nr={grid}", "--out", str(out), "--workers", str(workers),
            "--no-progress"]
    seconds = cli(*args, *(["--force"] if force else []), env=env)
    return seconds, json.loads((out / "manifest.json").read_text("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kommune", default="1201", help="the municipality whose settled count changes")
    parser.add_argument("--year", default="2012")
    parser.add_argument("--moved", type=int, default=5, help="settlements moved off IMDi's count (settled -n)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=0, help="only the first n municipalities (+ the dependants); 0 = all")
    parser.add_argument("--check", action="store_true", help="render everything again and compare the pages")
    parser.add_argument("--name", default="cache")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_cache_"))
    raw, clean = work / "raw", work / "clean"
    env = {**os.environ, "SETTLEMENT_RESEARCH_RAW": str(raw), "SETTLEMENT_RESEARCH_CLEAN": str(clean),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.pop("SETTLEMENT_RESEARCH_SOURCE", None)
    print(f"work folder {work}; synthetic scale 1 (not timed)")
    cli("synth", "--scale", "1", "--out", str(raw / "synthetic"), env=env)
    cli("build", env=env)

    import polars as pl

    codes = sorted(pl.read_parquet(clean / "synthetic" / "kommune.parquet")["kommune_nr"].unique().to_list())
    if args.kommune not in codes:
        raise SystemExit(f"--kommune {args.kommune} is not one of the {len(codes)} municipalities")
    expected_all = peer_dependants(clean, args.kommune, codes)
    grid_codes = codes if not args.n else sorted(set(codes[: args.n]) | expected_all)
    grid = "all" if grid_codes == codes else ",".join(grid_codes)
    expected = expected_all & set(grid_codes)
    out = work / "reports"

    full_s, first = report(out, grid, env, args.workers, force=True)
    if first["failed"]:
        raise SystemExit(f"{first['failed']} profiles failed in the full render")
    before = pages(out) if args.check else {}
    print(f"full render: {len(first['reports'])} profiles in {full_s:.1f} s")

    old = settled_count(clean, args.kommune, args.year)
    folder = raw / "synthetic"
    move_settlements(folder / "register_bosetting.csv", args.kommune, args.year, args.moved)
    edit_count(folder / "imdi_bosetting_kommune.csv", {"KOMMNR": args.kommune, "AAR": args.year}, "BOSATT", -args.moved)
    edit_count(folder / "imdi_bosetting_nasjonalt.csv", {"AAR": args.year}, "BOSATTE", -args.moved)
    restamp(folder, ["register_bosetting.csv", "imdi_bosetting_kommune.csv", "imdi_bosetting_nasjonalt.csv"])
    build_s = cli("build", env=env)
    new = settled_count(clean, args.kommune, args.year)
    if new != old - args.moved:
        raise SystemExit(f"settled of {args.kommune} in {args.year} went {old} -> {new}, expected {old - args.moved}")
    print(f"changed settled of {args.kommune} in {args.year} in the register: {old} -> {new}; rebuild {build_s:.1f} s")

    rerun_s, second = report(out, grid, env, args.workers, force=False)
    rendered = sorted(r["parameters"]["kommune_nr"] for r in second["reports"] if not r.get("cached"))
    ratio = full_s / rerun_s
    print(f"re-run: {len(rendered)} of {len(second['reports'])} profiles re-rendered "
          f"({', '.join(rendered) or 'none'}) in {rerun_s:.1f} s (cache check {second.get('cache_check_s', 0):.1f} s)")
    print(f"expected (the municipality and the profiles listing it as a peer): {len(expected)} "
          f"({', '.join(sorted(expected))})")
    print(f"full render / re-run: {ratio:.1f}x (goal >= {GOAL:g}x" + (
        f"; a --n run: the re-run's fixed costs (start-up, recomputing the profiles' shared data, the gate) "
        f"weigh against {len(grid_codes)} profiles, not 428)" if args.n else ")"))

    result: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
        "cpus": os.cpu_count(), "workers": args.workers, "profiles": len(second["reports"]),
        "kommune": args.kommune, "year": args.year, "settled_before": old, "settled_after": new,
        "full_render_s": round(full_s, 2), "rebuild_s": round(build_s, 2), "rerun_s": round(rerun_s, 2),
        "cache_check_s": second.get("cache_check_s"), "rerendered": rendered, "expected": sorted(expected),
        "ratio": round(ratio, 2), "goal": GOAL,
    }
    if args.check:
        check_s, _ = report(out, grid, env, args.workers, force=True)
        after = pages(out)
        changed = sorted(k.removeprefix("kommune_nr-") for k in after if after[k] != before.get(k))
        missed = sorted(set(changed) - set(rendered))
        extra = sorted(set(rendered) - set(changed))
        print(f"check (forced render, {check_s:.1f} s): {len(changed)} pages differ ({', '.join(changed) or 'none'}); "
              f"missed by the cache: {missed or 'none'}; re-rendered though unchanged: {extra or 'none'}")
        result.update(changed_pages=changed, missed=missed, rendered_unchanged=extra)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"results: {RESULTS / (args.name + '.json')}")
    return 0 if ratio >= GOAL and set(rendered) >= expected and not result.get("missed") else 1


if __name__ == "__main__":
    raise SystemExit(main())
