"""Speed and memory of synth + build at several scales, and what validation costs over plain polars.

    .venv/bin/python benchmarks/run.py [--scales 1,10,30] [--quick] [--name NAME]

Each step of each scale runs in its own subprocess (the console script, as a user runs it), so its
peak memory is that process's and its children's max RSS (``os.wait4``; the running maximum of
``resource.getrusage(RUSAGE_CHILDREN)`` is recorded too). The validation ratio compares
``validation.validate`` with one plain polars pass of the same rules (dtypes, nulls, ranges, sets,
patterns, keys and the models' frame rules) on the same clean tables in the same process (median
of five alternating runs per table after a warm-up).
The scaling exponent is the log-log slope of synth+build time against scale (1 = linear).

Goals: scale 30 in <= 60 s and <= 6 GB; validation <= 1.3x the plain pass; near-linear scaling.
Results: a table on stdout and benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
GOALS = {"seconds_at_30": 60.0, "peak_gb_at_30": 6.0, "validation_ratio": 1.3, "exponent": 1.15}


# --------------------------------------------------------------------------------------------
# measuring a subprocess
# --------------------------------------------------------------------------------------------

def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, exit code and peak RSS (MB) of a command and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "cmd": " ".join(cmd[1:]), "seconds": round(seconds, 2), "rc": proc.returncode,
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "children_max_mb_so_far": round(children / 1024, 1),
        "output_tail": output.strip().splitlines()[-12:],
    }


def cli() -> str:
    exe = Path(sys.executable).with_name("settlement-research")
    return str(exe) if exe.exists() else "settlement-research"


def run_scale(scale: float, seed: int, work: Path) -> dict[str, Any]:
    raw, clean = work / f"raw-{scale:g}", work / f"clean-{scale:g}"
    env = {**os.environ, "SETTLEMENT_RESEARCH_RAW": str(raw), "SETTLEMENT_RESEARCH_CLEAN": str(clean),
           "SETTLEMENT_RESEARCH_HOME": str(ROOT)}
    synth = measure([cli(), "synth", "--scale", f"{scale:g}", "--seed", str(seed)], env)
    if synth["rc"] != 0:
        return {"scale": scale, "synth": synth, "error": "synth failed"}
    build = measure([cli(), "build", "--raw", str(raw), "--out", str(clean), "--force"], env)
    result: dict[str, Any] = {"scale": scale, "synth": synth, "build": build}
    result["seconds"] = round(synth["seconds"] + build["seconds"], 2)
    result["peak_mb"] = max(synth["peak_mb"], build["peak_mb"])
    manifest = clean / "MANIFEST.json"
    if build["rc"] == 0 and manifest.is_file():
        sources = json.loads(manifest.read_text())["sources"]
        result["build_stages_s"] = {s: e.get("timings_s", {}) for s, e in sources.items()}
        result["rows"] = {
            f"{s}/{o['table']}": o["rows"] for s, e in sources.items() for o in e["outputs"]
        }
        val = subprocess.run(
            [sys.executable, __file__, "--_validation", str(clean)], env=env, capture_output=True, text=True
        )
        if val.returncode == 0:
            result["validation"] = json.loads(val.stdout.strip().splitlines()[-1])
        else:
            result["validation_error"] = val.stderr.strip().splitlines()[-5:]
    else:
        result["error"] = "build failed"
    shutil.rmtree(raw, ignore_errors=True)
    shutil.rmtree(clean, ignore_errors=True)
    return result


# --------------------------------------------------------------------------------------------
# validation versus a plain polars pass of the same rules
# --------------------------------------------------------------------------------------------

REPEATS = 5  # timed runs per table and method, alternating; the median is kept


def plain_pass(frame: Any, table: str, sorted_key_shortcut: bool = True) -> int:
    """Rows breaking any rule of the model, in one polars query (no reporting): the baseline.

    The same rules ``validate`` checks (casts to the model dtypes, nulls, ranges, sets, patterns,
    string lengths, the key and the model's frame rules), written as a user would write them
    directly in polars: every row flag in one lazy query, the key through
    ``DataFrame.is_duplicated``. With ``sorted_key_shortcut`` (the default, and what the goal is
    measured against) the key test is skipped when the key strictly increases row by row, the
    shortcut ``validate`` takes, so the ratio compares like with like.
    """
    import polars as pl

    from settlement_research.model import get_model

    schema = get_model(table).to_schema()
    lf = frame.lazy()
    casts, bad = [], []
    for name, column in schema.columns.items():
        c = pl.col(name)
        dtype = column.dtype.type
        casts.append(c.cast(dtype, strict=False).alias(name))
        if not column.nullable:
            bad.append(c.is_null())
        for check in column.checks:
            stats = dict(check.statistics or {})
            if check.name == "greater_than_or_equal_to":
                bad.append(c < stats["min_value"])
            elif check.name == "less_than_or_equal_to":
                bad.append(c > stats["max_value"])
            elif check.name == "in_range":
                bad.append(~c.is_between(stats["min_value"], stats["max_value"]))
            elif check.name == "isin":
                bad.append(~c.is_in(list(stats["allowed_values"])))
            elif check.name == "str_matches":
                bad.append(~c.str.contains(str(stats["pattern"])))
            elif check.name == "str_length":
                n = c.str.len_chars()
                if stats.get("min_value") is not None:
                    bad.append(n < stats["min_value"])
                if stats.get("max_value") is not None:
                    bad.append(n > stats["max_value"])
    typed = lf.select(casts)
    parts = [typed.select(pl.any_horizontal([b.fill_null(False) for b in bad]).alias("bad"))] if bad else []
    for i, check in enumerate(schema.checks):  # frame rules: True = row passes
        out = check._check_fn(SimpleNamespace(lazyframe=typed, key="*"))
        parts.append(out.select(pl.first().not_().fill_null(False).alias(f"rule_{i}")))
    flags = pl.concat(parts, how="horizontal").collect() if parts else None
    mask = flags.select(pl.any_horizontal(pl.all())).to_series() if flags is not None else None
    if schema.unique and not (sorted_key_shortcut and _strictly_increasing(frame, list(schema.unique))):
        dup = frame.select(list(schema.unique)).is_duplicated()
        mask = dup if mask is None else (mask | dup)
    return int(mask.sum()) if mask is not None else 0


def _strictly_increasing(frame: Any, keys: list[str]) -> bool:
    import polars as pl

    if frame.height < 2:
        return True
    greater, equal = pl.lit(False), pl.lit(True)
    for k in keys:
        greater = greater | (equal & (pl.col(k) > pl.col(k).shift(1)))
        equal = equal & (pl.col(k) == pl.col(k).shift(1))
    return bool(frame.select(greater.slice(1).fill_null(False).all()).item())


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def validation_comparison(clean: Path, repeats: int = REPEATS) -> dict[str, Any]:
    """``validate`` versus ``plain_pass`` on the same materialised clean tables, same process.

    Each table is read once; both methods get that one frame. One untimed call of each warms up
    (imports, schema building, polars' first-call costs), then ``repeats`` timed calls alternate
    between the two so machine noise hits both alike; the median of each is kept.
    """
    import polars as pl

    from settlement_research.validation import validate

    per_table: dict[str, Any] = {}
    total_v = total_p = total_h = 0.0
    for path in sorted(clean.glob("*/*.parquet")):
        table = path.stem
        frame = pl.read_parquet(path)
        validate(frame, table)
        plain_pass(frame, table)
        plain_pass(frame, table, sorted_key_shortcut=False)
        v_times, p_times, h_times = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = validate(frame, table)
            t1 = time.perf_counter()
            bad_plain = plain_pass(frame, table)
            t2 = time.perf_counter()
            plain_pass(frame, table, sorted_key_shortcut=False)
            t3 = time.perf_counter()
            v_times.append(t1 - t0)
            p_times.append(t2 - t1)
            h_times.append(t3 - t2)
        bad_validate = result.failing_rows.height if result.failing_rows is not None else 0
        v, p, h = _median(v_times), _median(p_times), _median(h_times)
        per_table[f"{path.parent.name}/{table}"] = {
            "rows": frame.height, "validate_s": round(v, 4), "plain_s": round(p, 4),
            "plain_hashed_key_s": round(h, 4), "failing_validate": bad_validate, "failing_plain": bad_plain,
        }
        total_v += v
        total_p += p
        total_h += h
    return {"validate_s": round(total_v, 3), "plain_s": round(total_p, 3),
            "ratio": round(total_v / total_p, 2) if total_p else None,
            "plain_hashed_key_s": round(total_h, 3),
            "ratio_vs_hashed_key": round(total_v / total_h, 2) if total_h else None, "repeats": repeats,
            "statistic": "sum over tables of the median time per table", "tables": per_table}


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

def exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) on log(scale)."""
    pts = [(math.log(s), math.log(t)) for s, t in points if s > 0 and t > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sxx, 2) if sxx else None


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in results if "seconds" in r and "error" not in r]
    slope = exponent([(r["scale"], r["seconds"]) for r in ok])
    build_slope = exponent([(r["scale"], r["build"]["seconds"]) for r in ok])
    top = max(ok, key=lambda r: r["scale"]) if ok else None
    ratio = top.get("validation", {}).get("ratio") if top else None
    # fixed costs (start-up, imports) flatten the slope at small scales; the top pair shows the trend
    top_two = sorted(ok, key=lambda r: r["scale"])[-2:]
    top_slope = exponent([(r["scale"], r["seconds"]) for r in top_two]) if len(top_two) == 2 else None
    summary = {"exponent": slope, "build_exponent": build_slope, "exponent_top_two_scales": top_slope,
               "validation_ratio": ratio}
    if top and top["scale"] >= 30:
        summary["seconds_at_30"] = top["seconds"]
        summary["peak_gb_at_30"] = round(top["peak_mb"] / 1024, 2)
    goals = {
        "seconds_at_30": summary.get("seconds_at_30") is not None and summary["seconds_at_30"] <= GOALS["seconds_at_30"],
        "peak_gb_at_30": summary.get("peak_gb_at_30") is not None and summary["peak_gb_at_30"] <= GOALS["peak_gb_at_30"],
        "validation_ratio": ratio is not None and ratio <= GOALS["validation_ratio"],
        "near_linear": slope is not None and slope <= GOALS["exponent"]
        and (top_slope is None or top_slope <= GOALS["exponent"]),
    }
    return {"summary": summary, "goals_met": goals}


def print_table(results: list[dict[str, Any]], rep: dict[str, Any]) -> None:
    print(f"{'scale':>6} {'synth s':>8} {'build s':>8} {'total s':>8} {'peak MB':>8} "
          f"{'valid. s':>9} {'plain s':>8} {'ratio':>6}")
    for r in results:
        if "error" in r:
            print(f"{r['scale']:>6g}  {r['error']}")
            for step in ("synth", "build"):
                if step in r and r[step]["rc"] != 0:
                    print("   " + "\n   ".join(r[step]["output_tail"]))
            continue
        v = r.get("validation", {})
        print(f"{r['scale']:>6g} {r['synth']['seconds']:>8.1f} {r['build']['seconds']:>8.1f} {r['seconds']:>8.1f} "
              f"{r['peak_mb']:>8.0f} {v.get('validate_s', float('nan')):>9.2f} {v.get('plain_s', float('nan')):>8.2f} "
              f"{v.get('ratio') or float('nan'):>6.2f}")
        if v.get("ratio_vs_hashed_key") is not None:
            print(f"{'':>6}   validation vs a plain pass that hashes every key: {v['plain_hashed_key_s']:.2f} s, "
                  f"ratio {v['ratio_vs_hashed_key']:.2f} (median of {v.get('repeats')} runs per table)")
        for source, stages in r.get("build_stages_s", {}).items():
            print(f"{'':>6}   build stages ({source}): " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
    s, g = rep["summary"], rep["goals_met"]
    print(f"scaling exponent (synth+build): {s['exponent']}  (build only: {s['build_exponent']}; "
          f"between the two largest scales: {s['exponent_top_two_scales']})")
    for key, met in g.items():
        print(f"goal {key}: {'met' if met else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,30", help="comma-separated scales (default 1,10,30)")
    parser.add_argument("--quick", action="store_true", help="scales 1 and 3 only (a smoke run)")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--name", default=None, help="results/<name>.json (default: timestamp)")
    parser.add_argument("--_validation", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._validation:
        print(json.dumps(validation_comparison(Path(args._validation))))
        return 0
    scales = [1.0, 3.0] if args.quick else [float(s) for s in args.scales.split(",") if s.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        for scale in sorted(scales):
            print(f"scale {scale:g} ...", flush=True)
            results.append(run_scale(scale, args.seed, Path(tmp)))
    rep = report(results)
    print_table(results, rep)
    name = args.name or dt.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {
        "name": name, "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "goals": GOALS, **rep, "scales": results,
    }
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    os.replace(tmp_out, out)
    print(f"wrote {out}")
    return 1 if any("error" in r for r in results) else 0  # a missed goal is reported, not an error


if __name__ == "__main__":
    sys.exit(main())
