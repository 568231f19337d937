"""Monte Carlo check that notebook 02's intervals are honest on the synthetic register.

    .venv/bin/python benchmarks/coverage.py [--seeds 1-300] [--scale 1] [--window 24] [--name coverage]

For every seed: write the synthetic register (raw layout) at ``--scale`` (default 1, the demo
scale), read it back, build the person frame and the window's landmark sample exactly as
notebooks/02_housing_stability_and_outcomes.py does, and fit the notebook's adjusted specification:

- ``logit``: ``models.logit_ame`` (statsmodels Logit, municipality-clustered CR1, AMEs) - the
  notebook's primary estimate;
- ``lpm``: ``models.feols`` linear probability model, same regressors, clustered CR1;
- ``lpm_cr3``: the same with the CR3 clustered covariance (small-sample correction).

Each is compared with the truth of its own seed and of the same estimand (``ground_truth.json``,
``by_window[window]``): the logit with ``adjusted_logit_ame``, the LPMs with ``adjusted_lpm`` (what
each model converges to on that sample), for the moves effect and the owner_startlan-vs-
municipal_rental contrast. The table reports, per estimator and estimand, the mean bias, the
empirical SD of the errors across seeds, the mean reported SE, their ratio (1 = honest standard
errors) and the coverage of the reported 95 % intervals (with its Monte Carlo standard error).
Not a test: ~10 s per seed at scale 1.

Results: a table on stdout and benchmarks/results/<name>.json (per-seed rows included).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

RESULTS = Path(__file__).resolve().parent / "results"
PERSON_TABLES = ["person", "household", "household_member", "settlement", "housing_spell", "intro_spell", "outcome_year"]
CONTROLS = "age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)"
TENURE_TERM = "C(tenure_1y)[T.owner_startlan]"
ESTIMANDS = ("moves", "owner_startlan")
TRUTH_KIND = {"logit": "adjusted_logit_ame", "lpm": "adjusted_lpm", "lpm_cr3": "adjusted_lpm"}


def parse_seeds(text: str) -> list[int]:
    """'1-40' or '1,2,5' or '1-10,2014'."""
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part.strip():
            seeds.append(int(part))
    return seeds


def analysis_sample(tables: dict[str, pl.DataFrame], window: int) -> pl.DataFrame:
    """The notebook's landmark sample (same filters, same rare-tenure collapse)."""
    from settlement_research.analysis import indicators, models

    frame = indicators.person_frame(tables, window_months=window).with_columns(
        ((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"))
    kept, _left = indicators.landmark_sample(frame, window_months=window)
    kept = kept.with_columns(pl.col("in_work_or_education").cast(pl.Int8).alias("y"))
    return models.collapse_rare(kept, "tenure_1y", min_count=50)


def one_seed(seed: int, scale: float, window: int = 24, *, via_csv: bool = False,
             estimators: tuple[str, ...] = ("logit", "lpm", "lpm_cr3")) -> dict[str, Any]:
    """Estimates, reported SEs and CIs of every estimator for one synthetic register."""
    from settlement_research.analysis import models
    from settlement_research.sources.synthetic import read
    from settlement_research.sources.synthetic.writer import write_register

    if via_csv:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "synthetic"
            write_register(raw, scale=scale, seed=seed)
            tables = {k: v.collect() for k, v in read(raw).items() if k in PERSON_TABLES}
            gt = json.loads((raw / "ground_truth.json").read_text("utf-8"))
    else:  # the same values without the CSV round trip (the reader restores exactly these columns)
        from settlement_research.model import cast_to_model
        from settlement_research.sources.synthetic.generator import generate

        synth = generate(scale=scale, seed=seed)
        tables = {k: cast_to_model(synth.tables[k], k) for k in PERSON_TABLES}
        gt = json.loads(json.dumps(synth.ground_truth))
    moves_truth = gt["effects"]["moves_on_work_or_education"]["by_window"][str(window)]
    tenure_truth = gt["effects"]["tenure_1y_on_work_or_education"]["by_window"][str(window)]["contrasts"]["owner_startlan"]
    data = analysis_sample(tables, window)
    moves = f"moves_{window}m"
    formula = f"y ~ {moves} + C(tenure_1y) + {CONTROLS}"
    make = {
        "logit": lambda: models.logit_ame(data, formula),
        "lpm": lambda: models.feols(data, formula),
        "lpm_cr3": lambda: models.feols(data, formula, small_sample="CRV3"),
    }
    fits = {name: make[name]() for name in estimators}
    row: dict[str, Any] = {"seed": seed, "scale": scale, "n": data.height, "n_truth": moves_truth["n"], "window": window,
                           "truth": {}, "fits": {}}
    for name, fit in fits.items():
        kind = TRUTH_KIND[name]
        row["truth"][name] = {"moves": moves_truth[kind], "owner_startlan": tenure_truth[kind]}
        row["fits"][name] = {}
        for estimand, term in (("moves", moves), ("owner_startlan", TENURE_TERM)):
            t = fit.term(term)
            row["fits"][name][estimand] = {k: float(t[k]) for k in ("estimate", "std_error", "ci_low", "ci_high")}
    return row


def _mean(x: list[float]) -> float:
    return sum(x) / len(x)


def _sd(x: list[float]) -> float:
    m = _mean(x)
    return math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1)) if len(x) > 1 else float("nan")


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bias, empirical SD vs mean reported SE, and coverage per estimator and estimand."""
    out = []
    for name in rows[0]["fits"]:
        for estimand in ESTIMANDS:
            est = [r["fits"][name][estimand]["estimate"] for r in rows]
            se = [r["fits"][name][estimand]["std_error"] for r in rows]
            truth = [r["truth"][name][estimand] for r in rows]
            err = [e - t for e, t in zip(est, truth, strict=True)]
            covered = [r["fits"][name][estimand]["ci_low"] <= r["truth"][name][estimand]
                       <= r["fits"][name][estimand]["ci_high"] for r in rows]
            cov = _mean([float(c) for c in covered])
            sd_err = _sd(err)
            out.append({
                "estimator": name, "estimand": estimand, "seeds": len(rows),
                "mean_truth": _mean(truth), "mean_estimate": _mean(est), "mean_bias": _mean(err),
                "bias_mc_se": sd_err / math.sqrt(len(rows)),
                "sd_estimates": _sd(est), "sd_error": sd_err, "mean_reported_se": _mean(se),
                "sd_over_se": sd_err / _mean(se), "rmse_over_se": math.sqrt(_mean([e * e for e in err])) / _mean(se),
                "coverage_95": cov, "coverage_mc_se": math.sqrt(cov * (1 - cov) / len(rows)),
            })
    return out


def print_table(summary: list[dict[str, Any]]) -> None:
    head = f"{'estimator':8} {'estimand':15} {'truth':>8} {'bias':>8} {'(mcse)':>7} {'sd(err)':>8} {'mean se':>8} {'sd/se':>6} {'cover':>6} {'(mcse)':>6}"
    print(head)
    print("-" * len(head))
    for s in summary:
        print(f"{s['estimator']:8} {s['estimand']:15} {s['mean_truth']:8.4f} {s['mean_bias']:8.4f} {s['bias_mc_se']:7.4f} "
              f"{s['sd_error']:8.4f} {s['mean_reported_se']:8.4f} {s['sd_over_se']:6.2f} {s['coverage_95']:6.3f} "
              f"{s['coverage_mc_se']:6.3f}")


def write_partial_summary(names: list[str], out_name: str) -> int:
    """Summarise the seeds finished so far in one or more checkpoint files; print and save it."""
    from settlement_research.sources.synthetic import calibration

    rows = []
    for name in names:
        lines = (RESULTS / f"{name}.partial.jsonl").read_text("utf-8").splitlines()
        rows += [json.loads(line) for line in lines if line.strip()]
    if not rows:
        print("no finished seeds")
        return 1
    summary = summarise(rows)
    scale, window = rows[0].get("scale", None), rows[0]["window"]
    print(f"{len(rows)} seeds finished (window {window} months), generator {calibration.GENERATOR_VERSION}")
    print_table(summary)
    path = RESULTS / f"{out_name}.json"
    path.write_text(json.dumps({"scale": scale, "window": window, "seeds": [r["seed"] for r in rows],
                                "partial": True, "generator_version": calibration.GENERATOR_VERSION,
                                "controls": CONTROLS, "summary": summary, "rows": rows}, indent=2), "utf-8")
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", default="1-300", help="seeds, e.g. 1-300 or 1,2,2014 (default 1-300)")
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic scale (default 1, the demo)")
    parser.add_argument("--window", type=int, default=24, choices=(12, 24, 36), help="moves window in months")
    parser.add_argument("--name", default="coverage", help="results file name (default coverage)")
    parser.add_argument("--via-csv", action="store_true", help="write and read the raw CSV layout per seed (slower)")
    parser.add_argument("--estimators", default="logit,lpm,lpm_cr3", help="comma-separated subset of logit,lpm,lpm_cr3")
    parser.add_argument("--from-partial", nargs="+", metavar="NAME", default=None,
                        help="only summarise the seeds finished so far in results/NAME.partial.jsonl files "
                             "(several runs over disjoint seeds can be combined) into results/<--name>.json")
    args = parser.parse_args(argv)
    if args.from_partial:
        return write_partial_summary(args.from_partial, args.name)
    seeds = parse_seeds(args.seeds)
    from settlement_research.sources.synthetic import calibration

    rows = []
    start = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = RESULTS / f"{args.name}.partial.jsonl"  # one line per finished seed: usable if stopped early
    partial.write_text("", "utf-8")
    estimators = tuple(e for e in args.estimators.split(",") if e)
    for i, seed in enumerate(seeds, 1):
        row = one_seed(seed, args.scale, args.window, via_csv=args.via_csv, estimators=estimators)
        rows.append(row)
        with partial.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        lg = row["fits"]["logit"]["moves"]
        print(f"[{i}/{len(seeds)}] seed {seed}: n={row['n']} truth={row['truth']['logit']['moves']:.4f} "
              f"logit={lg['estimate']:.4f} (se {lg['std_error']:.4f})", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    summary = summarise(rows)
    print(f"scale {args.scale:g}, window {args.window} months, {len(seeds)} seeds, {seconds:.0f} s, "
          f"generator {calibration.GENERATOR_VERSION}")
    print_table(summary)
    path = RESULTS / f"{args.name}.json"
    path.write_text(json.dumps({
        "scale": args.scale, "window": args.window, "seeds": seeds, "seconds": round(seconds, 1),
        "generator_version": calibration.GENERATOR_VERSION, "controls": CONTROLS,
        "summary": summary, "rows": rows,
    }, indent=2), "utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
