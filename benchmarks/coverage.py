"""Monte Carlo check that notebook 02's intervals are honest on the synthetic register.

    .venv/bin/python benchmarks/coverage.py [--seeds 1-100] [--scale 0.3] [--name coverage]

For every seed: write the synthetic register (raw layout) at ``--scale``, read it back, build the
person frame and the analysis sample exactly as notebooks/02_housing_stability_and_outcomes.py
does, and fit the notebook's adjusted specification three ways:

- ``logit``: ``models.logit_ame`` (statsmodels Logit, municipality-clustered, AMEs) - the notebook's
  primary estimate;
- ``lpm``: ``models.feols`` linear probability model, same regressors, clustered by municipality;
- ``lpm_fe``: the same with municipality fixed effects (``| kommune_nr``).

Each is compared with the truth of its own seed (``ground_truth.json``): the AME of moves_24m
(``ame_derivative``) and the owner_startlan-vs-municipal_rental tenure contrast (``ame``). The table
reports, per estimator and estimand, the mean bias, the empirical SD of the estimates across seeds,
the mean reported SE, their ratio (1 = honest standard errors) and the coverage of the reported
95 % intervals (with its Monte Carlo standard error). Not a test: ~5 s per seed at scale 0.3.

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
MOVES = "moves_24m"
TENURE_TERM = "C(tenure_1y)[T.owner_startlan]"
ESTIMANDS = {"moves_24m": MOVES, "owner_startlan": TENURE_TERM}


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


def analysis_sample(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The notebook's analysis sample (same filters, same rare-tenure collapse)."""
    from settlement_research.analysis import indicators, models

    frame = indicators.person_frame(tables)
    analysis = frame.filter(pl.col("in_work_or_education").is_not_null()).with_columns(
        pl.col("in_work_or_education").cast(pl.Int8).alias("y"),
        ((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"),
        pl.col("tenure_1y").fill_null("unknown"),
    )
    return models.collapse_rare(analysis, "tenure_1y", min_count=50)


def one_seed(seed: int, scale: float) -> dict[str, Any]:
    """Estimates, reported SEs and CIs of every estimator for one synthetic register."""
    from settlement_research.analysis import models
    from settlement_research.sources.synthetic import read
    from settlement_research.sources.synthetic.writer import write_register

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "synthetic"
        write_register(raw, scale=scale, seed=seed)
        tables = {k: v.collect() for k, v in read(raw).items() if k in PERSON_TABLES}
        gt = json.loads((raw / "ground_truth.json").read_text("utf-8"))
    effects = gt["effects"]
    truth = {
        "moves_24m": effects["moves_24m_on_work_or_education"]["ame_derivative"],
        "owner_startlan": effects["tenure_1y_on_work_or_education"]["contrasts"]["owner_startlan"]["ame"],
    }
    data = analysis_sample(tables)
    formula = f"y ~ {MOVES} + C(tenure_1y) + {CONTROLS}"
    fits = {
        "logit": models.logit_ame(data, formula),
        "lpm": models.feols(data, formula),
        "lpm_fe": models.feols(data, f"{formula} | kommune_nr"),
    }
    row: dict[str, Any] = {"seed": seed, "n": data.height, "n_truth": effects["moves_24m_on_work_or_education"]["n"],
                           "truth": truth, "fits": {}}
    for name, fit in fits.items():
        row["fits"][name] = {}
        for estimand, term in ESTIMANDS.items():
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
            truth = [r["truth"][estimand] for r in rows]
            err = [e - t for e, t in zip(est, truth, strict=True)]
            covered = [r["fits"][name][estimand]["ci_low"] <= r["truth"][estimand] <= r["fits"][name][estimand]["ci_high"]
                       for r in rows]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", default="1-100", help="seeds, e.g. 1-100 or 1,2,2014 (default 1-100)")
    parser.add_argument("--scale", type=float, default=0.3, help="synthetic scale (default 0.3)")
    parser.add_argument("--name", default="coverage", help="results file name (default coverage)")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    from settlement_research.sources.synthetic import calibration

    rows = []
    start = time.perf_counter()
    for i, seed in enumerate(seeds, 1):
        row = one_seed(seed, args.scale)
        rows.append(row)
        lg = row["fits"]["logit"]["moves_24m"]
        print(f"[{i}/{len(seeds)}] seed {seed}: n={row['n']} truth={row['truth']['moves_24m']:.4f} "
              f"logit={lg['estimate']:.4f} (se {lg['std_error']:.4f})", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    summary = summarise(rows)
    print(f"scale {args.scale:g}, {len(seeds)} seeds, {seconds:.0f} s, generator {calibration.GENERATOR_VERSION}")
    print_table(summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.name}.json"
    path.write_text(json.dumps({
        "scale": args.scale, "seeds": seeds, "seconds": round(seconds, 1),
        "generator_version": calibration.GENERATOR_VERSION, "controls": CONTROLS,
        "summary": summary, "rows": rows,
    }, indent=2), "utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
