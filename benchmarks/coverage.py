"""Monte Carlo check that the headline intervals are honest on the synthetic register.

    nice -n 19 .venv/bin/python benchmarks/coverage.py [--seeds 1-300] [--scale 1] [--window 24] [--jobs 2]

For every seed: generate the synthetic register at ``--scale`` (default 1, the demo scale), take the
window's landmark sample and fit the notebooks' headline specifications:

- ``logit``: ``models.logit_ame`` (statsmodels Logit, municipality-clustered CR1, AMEs) - notebook
  02's primary estimate; one fit gives the moves AME and the owner_startlan contrast;
- ``lpm``: ``models.feols`` linear probability model, same regressors, clustered CR1;
- ``lpm_cr3``: the same with the CR3 clustered covariance (small-sample correction; opt-in, slow);
- ``arrival``: notebook 05's dispersal design (ordinary route, logit AME of arrival dwellings).

Each is compared with the truth of its own seed and of the same estimand (``ground_truth.json``):
the logit with ``adjusted_logit_ame``, the LPMs with ``adjusted_lpm``, the arrival design with
``design_logit_ame`` (what each model converges to on that sample). Per estimator and estimand the
table prints the mean bias, the SD of the errors across seeds, the mean reported SE, their ratio
(1 = honest standard errors), the coverage of the 95 % intervals (with its Monte Carlo SE), and the
diagnosis column ``se/cond``: the mean reported SE over the mean *exact* conditional SD of the
estimator given the sample's regressors (sandwich at the pseudo-true values with the generator's
true probabilities: var(y | X) = p(1 - p), which is what the outcome draw is). It has no Monte Carlo
noise, so it tells a too-small SE (< 1) from an unlucky set of seeds (about 1 with SD/SE > 1). The
column ``orac`` is the coverage of estimate +- 1.96 * that exact SD: what the best possible standard
error would give on these seeds (a shortfall there is in the errors, not in any SE).

Which variance. Every truth is a mean over the seed's own analysis sample (the pseudo-true AME of
the fitted model given the sample's covariates and true probabilities), so the reported intervals
use the AME variance conditional on the covariates (``models.logit_ame(vce="conditional")``, the
default). ``logit_uncond`` / ``arrival_uncond`` are the same estimates with the unconditional
(population-AME, Stata ``vce(unconditional)``) standard error, kept as a diagnostic.

Cheap path (default): the landmark sample comes from the generator's own arrays
(``generator.analysis_frame``: identical rows and values to ``indicators.person_frame`` +
``landmark_sample`` on the written tables, checked by a test and by ``--check-every``), so a seed
costs one generation and the fits. ``--notebook-path`` rebuilds the person frame from the tables.

Results: a table on stdout and benchmarks/results/<name>.json (per-seed rows included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    # one thread per worker: BLAS threads spinning against each other on a shared 2-core machine made
    # a seed take minutes instead of seconds (set before numpy is imported; spawned workers inherit it)
    os.environ.setdefault(_var, "1")
import time  # noqa: E402 (after the thread settings)
from pathlib import Path  # noqa: E402 (after the thread settings)
from typing import Any  # noqa: E402 (after the thread settings)

import numpy as np  # noqa: E402 (after the thread settings)
import polars as pl  # noqa: E402 (after the thread settings)

RESULTS = Path(__file__).resolve().parent / "results"
PERSON_TABLES = ["person", "household", "household_member", "settlement", "housing_spell", "intro_spell", "outcome_year"]
CONTROLS = "age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)"
ARRIVAL_CONTROLS = "C(settlement_year) + age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)"
TENURE_TERM = "C(tenure_1y)[T.owner_startlan]"
ESTIMANDS = {"logit": ("moves", "owner_startlan"), "logit_hc1": ("moves", "owner_startlan"),
             "logit_cr3": ("moves", "owner_startlan"), "logit_uncond": ("moves", "owner_startlan"),
             "lpm": ("moves", "owner_startlan"), "lpm_cr3": ("moves", "owner_startlan"),
             "arrival": ("arrival_dwellings",), "arrival_uncond": ("arrival_dwellings",)}
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
    """The notebook's landmark sample from the tables (same filters, same rare-tenure collapse)."""
    from settlement_research.analysis import indicators, models

    frame = indicators.person_frame(tables, window_months=window).with_columns(
        ((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"))
    kept, _left = indicators.landmark_sample(frame, window_months=window)
    kept = kept.with_columns(pl.col("in_work_or_education").cast(pl.Int8).alias("y"))
    return models.collapse_rare(kept, "tenure_1y", min_count=50)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _design(data: pl.DataFrame, formula: str) -> tuple[np.ndarray, list[str]]:
    import patsy

    rhs = formula.split("~", 1)[1]
    x = patsy.dmatrix(rhs, data.to_pandas(), return_type="dataframe")
    return x.to_numpy(dtype=float), list(x.columns)


def conditional_sd_lpm(x: np.ndarray, p: np.ndarray, cols: list[int]) -> list[float]:
    """Exact SD of OLS coefficients ``cols`` given X when var(y | X) = p(1 - p)."""
    a = np.linalg.pinv(x.T @ x)
    meat = x.T @ (x * (p * (1 - p))[:, None])
    v = a @ meat @ a
    return [float(math.sqrt(v[c, c])) for c in cols]


def conditional_sd_logit(x: np.ndarray, p: np.ndarray, names: list[str], slope: str,
                         contrast: tuple[list[int], int] | None) -> tuple[float, float | None]:
    """First-order SD given X of the logit AME of ``slope`` (and of a category contrast): the
    sandwich at the pseudo-true coefficients with the true outcome variance p(1 - p)."""
    from settlement_research.sources.synthetic.generator import _fractional_logit

    beta = _fractional_logit(x, p)
    q = _sigmoid(x @ beta)
    w = q * (1 - q)
    bread = np.linalg.pinv(x.T @ (x * w[:, None]))
    v = bread @ (x.T @ (x * (p * (1 - p))[:, None])) @ bread
    k = names.index(slope)
    grad = (beta[k] * (w * (1 - 2 * q)))[:, None] * x
    g = grad.mean(axis=0)
    g[k] += w.mean()
    sd_slope = float(math.sqrt(g @ v @ g))
    if contrast is None:
        return sd_slope, None
    gc = _contrast_gradient(x, beta, contrast)
    return sd_slope, float(math.sqrt(gc @ v @ gc))


def _contrast_gradient(x: np.ndarray, beta: np.ndarray, contrast: tuple[list[int], int]) -> np.ndarray:
    """Gradient of the tenure contrast's AME in beta: every row at the base level against every row
    at ``level`` (``dummies``: the tenure columns), averaged."""
    dummies, level = contrast
    x0 = x.copy()
    x0[:, dummies] = 0.0
    x1 = x0.copy()
    x1[:, level] = 1.0
    q0, q1 = _sigmoid(x0 @ beta), _sigmoid(x1 @ beta)
    return ((q1 * (1 - q1))[:, None] * x1 - (q0 * (1 - q0))[:, None] * x0).mean(axis=0)


def alternative_logit_ses(fit: Any, clusters: np.ndarray, names: list[str], slope: str,
                          contrast: tuple[list[int], int]) -> dict[str, tuple[float, float]]:
    """SEs of the moves AME and the tenure contrast from the same logit under HC1 (no clustering) and
    CR3 (cluster jackknife, linearised: (H - H_g)^-1 s_g per left-out municipality)."""
    x = np.asarray(fit.model.exog, dtype=float)
    y = np.asarray(fit.model.endog, dtype=float)
    if list(fit.model.exog_names) != names:
        raise AssertionError("design columns differ between the fit and the benchmark's design")
    beta = np.asarray(fit.params, dtype=float)
    q = _sigmoid(x @ beta)
    w = q * (1 - q)
    n, k = x.shape
    h = x.T @ (x * w[:, None])
    hi = np.linalg.inv(h)
    s = x * (y - q)[:, None]
    v_hc1 = hi @ (s.T @ s) @ hi * n / (n - k)
    _, codes = np.unique(clusters, return_inverse=True)
    g = int(codes.max()) + 1
    sg = np.zeros((g, k))
    np.add.at(sg, codes, s)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=g))])
    xs, xws = x[order], (x * w[:, None])[order]
    hg = np.stack([xs[a:b].T @ xws[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    d = np.linalg.solve(h[None, :, :] - hg, sg[:, :, None])[:, :, 0]
    v_cr3 = (g - 1) / g * d.T @ d
    j = names.index(slope)
    g_slope = ((beta[j] * (w * (1 - 2 * q)))[:, None] * x).mean(axis=0)
    g_slope[j] += w.mean()
    g_con = _contrast_gradient(x, beta, contrast)
    return {name: (float(math.sqrt(g_slope @ v @ g_slope)), float(math.sqrt(g_con @ v @ g_con)))
            for name, v in (("logit_hc1", v_hc1), ("logit_cr3", v_cr3))}


def one_seed(seed: int, scale: float, window: int = 24, *, notebook_path: bool = False,
             estimators: tuple[str, ...] = ("logit", "lpm", "arrival")) -> dict[str, Any]:
    """Estimates, reported SEs, CIs and exact conditional SDs of every estimator for one register."""
    from settlement_research.analysis import models
    from settlement_research.sources.synthetic.generator import analysis_frame, generate

    synth = generate(scale=scale, seed=seed)
    gt = json.loads(json.dumps(synth.ground_truth))
    moves_truth = gt["effects"]["moves_on_work_or_education"]["by_window"][str(window)]
    tenure_truth = gt["effects"]["tenure_1y_on_work_or_education"]["by_window"][str(window)]["contrasts"]["owner_startlan"]
    cheap = models.collapse_rare(analysis_frame(synth, window), "tenure_1y", min_count=50)
    if notebook_path:
        from settlement_research.model import cast_to_model

        data = analysis_sample({k: cast_to_model(synth.tables[k], k) for k in PERSON_TABLES}, window)
    else:
        data = cheap
    moves = f"moves_{window}m"
    formula = f"y ~ {moves} + C(tenure_1y) + {CONTROLS}"
    row: dict[str, Any] = {"seed": seed, "scale": scale, "n": data.height, "n_truth": moves_truth["n"], "window": window,
                           "truth": {}, "fits": {}, "conditional_sd": {}}
    p = cheap["p"].to_numpy()
    fits = {name: {"logit": lambda: models.logit_ame(data, formula), "lpm": lambda: models.feols(data, formula),
                   "lpm_cr3": lambda: models.feols(data, formula, small_sample="CRV3")}[name]()
            for name in estimators if name in TRUTH_KIND}
    # the logit's own design matrix (same rows as ``cheap`` on the cheap path) for the exact SDs
    x, names = _design(cheap, formula) if notebook_path or "logit" not in fits else (
        np.asarray(fits["logit"].fit.model.exog, dtype=float), list(fits["logit"].fit.model.exog_names))
    tenure_cols = [i for i, n in enumerate(names) if n.startswith("C(tenure_1y)")]
    for name, fit in fits.items():
        kind = TRUTH_KIND[name]
        row["truth"][name] = {"moves": moves_truth[kind], "owner_startlan": tenure_truth[kind]}
        row["fits"][name] = {}
        for estimand, term in (("moves", moves), ("owner_startlan", TENURE_TERM)):
            t = fit.term(term)
            row["fits"][name][estimand] = {k: float(t[k]) for k in ("estimate", "std_error", "ci_low", "ci_high")}
        if name == "logit":
            sd_m, sd_t = conditional_sd_logit(x, p, names, moves, (tenure_cols, names.index(TENURE_TERM)))
            _unconditional_variant(row, "logit", fit, {"moves": moves, "owner_startlan": TENURE_TERM},
                                   {"moves": sd_m, "owner_startlan": sd_t})
            # the same fit with other covariance estimators (diagnosis: is it the clustering?)
            for variant, ses in alternative_logit_ses(fit.fit, data["kommune_nr"].to_numpy(), names, moves,
                                                      (tenure_cols, names.index(TENURE_TERM))).items():
                row["truth"][variant] = row["truth"]["logit"]
                row["fits"][variant] = {}
                for estimand, se in zip(("moves", "owner_startlan"), ses, strict=True):
                    est = row["fits"]["logit"][estimand]["estimate"]
                    row["fits"][variant][estimand] = {"estimate": est, "std_error": se,
                                                      "ci_low": est - 1.959964 * se, "ci_high": est + 1.959964 * se}
                row["conditional_sd"][variant] = {"moves": sd_m, "owner_startlan": sd_t}
        else:
            sd_m, sd_t = conditional_sd_lpm(x, p, [names.index(moves), names.index(TENURE_TERM)])
        row["conditional_sd"][name] = {"moves": sd_m, "owner_startlan": sd_t}
    if "arrival" in estimators:
        arrival = (analysis_frame(synth, window, landmark=False)
                   .filter(pl.col("route") == "ordinary").drop_nulls("arrival_dwellings"))
        a_formula = f"y ~ arrival_dwellings + {ARRIVAL_CONTROLS}"
        a_fit = models.logit_ame(arrival, a_formula)
        t = a_fit.term("arrival_dwellings")
        a_truth = gt["effects"]["arrival_dwellings_on_work_or_education"]["by_route"]["ordinary"]
        row["truth"]["arrival"] = {"arrival_dwellings": a_truth["design_logit_ame"]}
        row["fits"]["arrival"] = {"arrival_dwellings": {k: float(t[k]) for k in ("estimate", "std_error", "ci_low", "ci_high")}}
        xa, na = np.asarray(a_fit.fit.model.exog, dtype=float), list(a_fit.fit.model.exog_names)
        row["conditional_sd"]["arrival"] = {
            "arrival_dwellings": conditional_sd_logit(xa, arrival["p"].to_numpy(), na, "arrival_dwellings", None)[0]}
        _unconditional_variant(row, "arrival", a_fit, {"arrival_dwellings": "arrival_dwellings"},
                               row["conditional_sd"]["arrival"])
        row["n_arrival"] = arrival.height
    return row


def _unconditional_variant(row: dict[str, Any], name: str, fit: Any, terms: dict[str, str],
                           cond_sd: dict[str, float]) -> None:
    """The same estimates with the unconditional (population-AME) standard error, as ``<name>_uncond``."""
    from settlement_research.analysis import models

    pdf = fit.fit.model.data.frame  # the fitted rows (after complete_cases), with the cluster column
    table = models.ame_table(fit.fit, pdf, pdf["kommune_nr"].to_numpy(), vce="unconditional")
    variant = f"{name}_uncond"
    row["truth"][variant] = row["truth"][name]
    row["fits"][variant] = {}
    for estimand, term in terms.items():
        t = table.filter(pl.col("term") == term).row(0, named=True)
        row["fits"][variant][estimand] = {k: float(t[k]) for k in ("estimate", "std_error", "ci_low", "ci_high")}
    row["conditional_sd"][variant] = dict(cond_sd)


def _mean(x: list[float]) -> float:
    return sum(x) / len(x)


def _sd(x: list[float]) -> float:
    m = _mean(x)
    return math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1)) if len(x) > 1 else float("nan")


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bias, empirical SD vs mean reported SE vs exact conditional SD, and coverage per estimate."""
    out = []
    for name in rows[0]["fits"]:
        for estimand in ESTIMANDS[name]:
            fits = [r["fits"][name][estimand] for r in rows]
            est = [f["estimate"] for f in fits]
            se = [f["std_error"] for f in fits]
            truth = [r["truth"][name][estimand] for r in rows]
            err = [e - t for e, t in zip(est, truth, strict=True)]
            covered = [f["ci_low"] <= t <= f["ci_high"] for f, t in zip(fits, truth, strict=True)]
            cond = [r.get("conditional_sd", {}).get(name, {}).get(estimand) for r in rows]
            cond_ok = [c for c in cond if c is not None]
            oracle = [abs(e) <= 1.959964 * c for e, c in zip(err, cond, strict=True) if c is not None]
            cov = _mean([float(c) for c in covered])
            sd_err = _sd(err)
            n = len(rows)
            out.append({
                "estimator": name, "estimand": estimand, "seeds": n,
                "mean_truth": _mean(truth), "mean_estimate": _mean(est), "mean_bias": _mean(err),
                "bias_mc_se": sd_err / math.sqrt(n),
                "sd_estimates": _sd(est), "sd_error": sd_err, "mean_reported_se": _mean(se),
                "sd_over_se": sd_err / _mean(se),
                # the SD of an SD estimate from n draws is about SD / sqrt(2 (n - 1))
                "sd_over_se_mc_se": sd_err / _mean(se) / math.sqrt(2 * (n - 1)),
                "rmse_over_se": math.sqrt(_mean([e * e for e in err])) / _mean(se),
                "mean_conditional_sd": _mean(cond_ok) if cond_ok else None,
                "se_over_conditional_sd": _mean(se) / _mean(cond_ok) if cond_ok else None,
                "sd_error_over_conditional_sd": sd_err / _mean(cond_ok) if cond_ok else None,
                "coverage_95": cov, "coverage_mc_se": math.sqrt(cov * (1 - cov) / n),
                # coverage with the exact conditional SD as the SE: the best any SE could do on these seeds
                "coverage_with_conditional_sd": _mean([float(o) for o in oracle]) if oracle else None,
                "coverage_z_vs_0_95": (cov - 0.95) / math.sqrt(0.95 * 0.05 / n),
            })
    return out


def print_table(summary: list[dict[str, Any]]) -> None:
    head = (f"{'estimator':8} {'estimand':17} {'truth':>8} {'bias':>8} {'(mcse)':>7} {'sd(err)':>8} {'mean se':>8} "
            f"{'sd/se':>6} {'(mcse)':>6} {'se/cond':>7} {'cover':>6} {'(mcse)':>6} {'orac':>6}")
    print(head)
    print("-" * len(head))
    for s in summary:
        cond = f"{s['se_over_conditional_sd']:7.3f}" if s.get("se_over_conditional_sd") is not None else f"{'-':>7}"
        orac = s.get("coverage_with_conditional_sd")
        orac_text = f"{orac:6.3f}" if orac is not None else f"{'-':>6}"
        print(f"{s['estimator']:8} {s['estimand']:17} {s['mean_truth']:8.4f} {s['mean_bias']:8.4f} {s['bias_mc_se']:7.4f} "
              f"{s['sd_error']:8.4f} {s['mean_reported_se']:8.4f} {s['sd_over_se']:6.3f} {s.get('sd_over_se_mc_se', float('nan')):6.3f} "
              f"{cond} {s['coverage_95']:6.3f} {s['coverage_mc_se']:6.3f} {orac_text}")


def _read_partial(names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        lines = (RESULTS / f"{name}.partial.jsonl").read_text("utf-8").splitlines()
        rows += [json.loads(line) for line in lines if line.strip()]
    return sorted(rows, key=lambda r: r["seed"])


def write_partial_summary(names: list[str], out_name: str) -> int:
    """Summarise the seeds finished so far in one or more checkpoint files; print and save it."""
    from settlement_research.sources.synthetic import calibration

    rows = _read_partial(names)
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
                                "controls": CONTROLS, "vce": "conditional", "provenance": _provenance(),
                                "seconds_per_seed": round(_mean([r.get("seconds", float("nan")) for r in rows]), 2),
                                "summary": summary, "rows": rows}, indent=2), "utf-8")
    print(f"wrote {path}")
    return 0


def _work(args: tuple[int, float, int, bool, tuple[str, ...]]) -> dict[str, Any]:
    seed, scale, window, notebook_path, estimators = args
    start = time.perf_counter()
    row = one_seed(seed, scale, window, notebook_path=notebook_path, estimators=estimators)
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def _provenance() -> dict[str, Any]:
    import platform
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    import importlib.metadata as md

    versions = {}
    for pkg in ("polars", "statsmodels", "pyfixest", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "python": platform.python_version(), "versions": versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", default="1-300", help="seeds, e.g. 1-300 or 1,2,2014 (default 1-300)")
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic scale (default 1, the demo)")
    parser.add_argument("--window", type=int, default=24, choices=(12, 24, 36), help="moves window in months")
    parser.add_argument("--name", default="coverage", help="results file name (default coverage)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    parser.add_argument("--notebook-path", action="store_true",
                        help="rebuild the landmark sample from the tables as the notebook does (slower)")
    parser.add_argument("--estimators", default="logit,lpm,arrival",
                        help="comma-separated subset of logit,lpm,lpm_cr3,arrival (default logit,lpm,arrival)")
    parser.add_argument("--from-partial", nargs="+", metavar="NAME", default=None,
                        help="only summarise the seeds finished so far in results/NAME.partial.jsonl files "
                             "(several runs over disjoint seeds can be combined) into results/<--name>.json")
    args = parser.parse_args(argv)
    if args.from_partial:
        return write_partial_summary(args.from_partial, args.name)
    seeds = parse_seeds(args.seeds)
    estimators = tuple(e for e in args.estimators.split(",") if e)
    unknown = set(estimators) - set(ESTIMANDS)
    if unknown:
        parser.error(f"unknown estimators {sorted(unknown)}")
    from settlement_research.sources.synthetic import calibration

    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = RESULTS / f"{args.name}.partial.jsonl"  # one line per finished seed: usable if stopped early
    partial.write_text("", "utf-8")
    tasks = [(s, args.scale, args.window, args.notebook_path, estimators) for s in seeds]
    rows = []
    start = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=50) as pool:
            results = pool.imap_unordered(_work, tasks)
            rows = _collect(results, partial, len(seeds))
    else:
        rows = _collect(map(_work, tasks), partial, len(seeds))
    seconds = time.perf_counter() - start
    rows.sort(key=lambda r: r["seed"])
    summary = summarise(rows)
    print(f"scale {args.scale:g}, window {args.window} months, {len(seeds)} seeds, {seconds:.0f} s wall with "
          f"{args.jobs} jobs ({sum(r['seconds'] for r in rows) / len(rows):.1f} s per seed), "
          f"generator {calibration.GENERATOR_VERSION}, {'notebook' if args.notebook_path else 'cheap'} path")
    print_table(summary)
    path = RESULTS / f"{args.name}.json"
    path.write_text(json.dumps({
        "scale": args.scale, "window": args.window, "seeds": seeds, "seconds": round(seconds, 1), "jobs": args.jobs,
        "path": "notebook" if args.notebook_path else "cheap", "generator_version": calibration.GENERATOR_VERSION,
        "controls": CONTROLS, "vce": "conditional", "provenance": _provenance(), "summary": summary, "rows": rows,
    }, indent=2), "utf-8")
    print(f"wrote {path}")
    return 0


def _collect(results: Any, partial: Path, total: int) -> list[dict[str, Any]]:
    rows = []
    for i, row in enumerate(results, 1):
        rows.append(row)
        with partial.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        lg = row["fits"].get("logit", {}).get("moves")
        if lg:
            print(f"[{i}/{total}] seed {row['seed']}: n={row['n']} truth={row['truth']['logit']['moves']:.4f} "
                  f"logit={lg['estimate']:.4f} (se {lg['std_error']:.4f}, cond sd "
                  f"{row['conditional_sd']['logit']['moves']:.4f}) {row['seconds']} s", file=sys.stderr, flush=True)
        else:
            print(f"[{i}/{total}] seed {row['seed']} {row['seconds']} s", file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
