"""Thin, honest wrappers around pyfixest and statsmodels: polars in, tidy polars out.

Every fit drops rows with missing values explicitly (and says how many) before clustering, because
a clustered covariance with misaligned groups is silently wrong. Standard errors are clustered by
municipality unless told otherwise.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]


@dataclass
class FitResult:
    """A fitted model reduced to what a research note needs."""

    model: str
    formula: str
    table: pl.DataFrame
    n_obs: int
    n_dropped: int
    n_clusters: int | None
    cluster: str | None
    confounders: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fit: Any = None
    vce: str | None = None  # which AME variance the intervals describe (logit_ame only)

    def term(self, name: str) -> dict[str, Any]:
        rows = self.table.filter(pl.col("term") == name)
        if rows.height != 1:
            raise KeyError(f"term {name!r} not in {self.table['term'].to_list()}")
        return rows.row(0, named=True)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model, "formula": self.formula, "n_obs": self.n_obs, "n_dropped": self.n_dropped,
            "n_clusters": self.n_clusters, "cluster": self.cluster, "confounders": self.confounders,
            "notes": self.notes, "vce": self.vce, "terms": self.table.to_dicts(),
        }


def formula_variables(formula: str) -> list[str]:
    """Column names a formula refers to (pyfixest/patsy syntax; C(x), i(x) and logs unwrapped)."""
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula)
    skip = {"C", "i", "np", "log", "exp", "I", "Treatment", "reference", "ref", "Q", "center", "scale"}
    seen: list[str] = []
    for n in names:
        if n not in skip and n not in seen:
            seen.append(n)
    return seen


def complete_cases(data: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, int]:
    """Rows with every listed column present, and how many were dropped (never silent)."""
    present = [c for c in columns if c in data.columns]
    kept = data.drop_nulls(subset=present)
    kept = kept.filter(pl.all_horizontal([pl.col(c).is_not_nan() for c in present if kept[c].dtype.is_float()] or [pl.lit(True)]))
    return kept, data.height - kept.height


def collapse_rare(data: pl.DataFrame, column: str, *, min_count: int = 50, label: str = "other (rare)") -> pl.DataFrame:
    """Merge categories with fewer than ``min_count`` rows into one, so no estimate rests on a
    handful of people and a logit is not broken by separation in a tiny category.

    If the merged group is itself still below ``min_count`` its rows are removed; compare heights
    to report how many (the notebooks do).
    """
    counts = data.group_by(column).len()
    rare = counts.filter(pl.col("len") < min_count)
    if rare.height == 0:
        return data
    if rare["len"].sum() < min_count:
        return data.filter(~pl.col(column).is_in(rare[column].to_list()))
    return data.with_columns(
        pl.when(pl.col(column).is_in(rare[column].to_list())).then(pl.lit(label)).otherwise(pl.col(column)).alias(column)
    )


def _as_frame(data: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return data.collect() if isinstance(data, pl.LazyFrame) else data


def _tidy_pyfixest(fit: Any) -> pl.DataFrame:
    t = fit.tidy().reset_index()
    t.columns = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    return pl.from_pandas(t).select(TIDY_COLUMNS)


def feols(
    data: pl.DataFrame | pl.LazyFrame, formula: str, *, cluster: str | None = "kommune_nr",
    confounders: list[str] | None = None, family: str | None = None, small_sample: str = "CRV1",
) -> FitResult:
    """OLS / linear probability model (or logit with ``family='logit'``) with fixed effects.

    ``formula`` is pyfixest syntax: ``y ~ x + controls | kommune_nr + year``. ``small_sample``
    "CRV3" gives the jackknife-like CR3 clustered covariance, honest with few or unbalanced clusters.
    """
    import pyfixest as pf

    if small_sample not in ("CRV1", "CRV3"):
        raise ValueError(f"small_sample must be CRV1 or CRV3, got {small_sample!r}")
    frame = _as_frame(data)
    cols = formula_variables(formula) + ([cluster] if cluster else [])
    frame, dropped = complete_cases(frame, cols)
    vcov: Any = {small_sample: cluster} if cluster else "hetero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family:
            fit = pf.feglm(formula, data=frame.to_pandas(), family=family, vcov=vcov)
        else:
            fit = pf.feols(formula, data=frame.to_pandas(), vcov=vcov)
    return FitResult(
        model=f"pyfixest.{'feglm[' + family + ']' if family else 'feols'}", formula=formula,
        table=_tidy_pyfixest(fit), n_obs=int(fit._N), n_dropped=dropped,
        n_clusters=frame[cluster].n_unique() if cluster else None, cluster=cluster,
        confounders=list(confounders or []), notes=[f"clustered covariance {small_sample}"] if cluster and small_sample != "CRV1" else [],
        fit=fit,
    )


def _tidy_statsmodels(params: Any, bse: Any, stat: Any, pvalues: Any, conf: Any) -> pl.DataFrame:
    conf = np.asarray(conf)
    return pl.DataFrame({
        "term": [str(n) for n in params.index],
        "estimate": np.asarray(params, dtype=float),
        "std_error": np.asarray(bse, dtype=float),
        "statistic": np.asarray(stat, dtype=float),
        "p_value": np.asarray(pvalues, dtype=float),
        "ci_low": conf[:, 0].astype(float),
        "ci_high": conf[:, 1].astype(float),
    })


AME_VCE = ("conditional", "unconditional")


def logit_ame(
    data: pl.DataFrame | pl.LazyFrame, formula: str, *, cluster: str = "kommune_nr",
    confounders: list[str] | None = None, vce: str = "conditional",
) -> FitResult:
    """Logit with municipality-clustered errors, reported as average marginal effects (probability points).

    Continuous regressors get the average derivative; each level of a ``C(var)`` category gets the
    average difference in predicted probability between everyone at that level and everyone at the
    reference level, not a derivative.

    ``vce`` says which sampling variance of the AME the interval describes (see ``ame_table``):
    "conditional" (default; Stata's ``margins`` default) treats the sample's covariates as fixed and
    fits an estimand averaged over *this* sample, which is what the synthetic register's truths are
    (``adjusted_logit_ame``, ``causal_ame``, ``design_logit_ame`` are means over the analysis sample);
    "unconditional" (Stata's ``margins, vce(unconditional)``) adds the sampling of the covariates, for
    an AME of the population the sample was drawn from. Both use the same clusters and CR1 factor.

    Formula in patsy syntax (``y ~ x + C(education)``); the outcome must be 0/1.
    """
    import statsmodels.formula.api as smf

    if vce not in AME_VCE:
        raise ValueError(f"vce must be one of {AME_VCE}, got {vce!r}")
    frame = _as_frame(data)
    frame, dropped = complete_cases(frame, formula_variables(formula) + [cluster])
    pdf = _categories_for_patsy(frame.to_pandas(), formula)
    groups = pdf[cluster].astype("category").cat.codes.to_numpy()
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported in FitResult.notes instead
        fit = smf.logit(formula, data=pdf).fit(
            disp=False, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups}
        )
    notes = [] if fit.mle_retvals.get("converged", True) else ["the logit did not converge; read with care"]
    notes.append(AME_VCE_NOTE[vce])
    return FitResult(
        model="statsmodels.Logit (average marginal effects)", formula=formula,
        table=ame_table(fit, pdf, groups, vce=vce),
        n_obs=int(fit.nobs), n_dropped=dropped, n_clusters=int(len(np.unique(groups))), cluster=cluster,
        confounders=list(confounders or []), notes=notes, fit=fit, vce=vce,
    )


AME_VCE_NOTE = {
    "conditional": "AME standard errors conditional on the sample's covariates (delta method, clustered CR1): "
                   "the interval is for the AME averaged over this sample",
    "unconditional": "AME standard errors unconditional (influence function incl. covariate sampling, clustered "
                     "CR1, as Stata's margins, vce(unconditional)): the interval is for the population AME",
}


def ame_table(fit: Any, pdf: Any, groups: np.ndarray, *, vce: str = "conditional") -> pl.DataFrame:
    """Tidy AME table of a fitted statsmodels Logit: derivatives for continuous columns, whole-category
    contrasts for ``C(var)`` levels, standard errors for the ``vce`` estimand.

    Why two variances. AME_hat = mean_i me_i(beta_hat). Linearised, AME_hat - AME = sum_i psi_i with
    psi_i = G' H^-1 s_i  [+ (me_i - AME) / n]: G = dAME/dbeta, H = X'WX, s_i the logit score. The first
    term alone is the delta method given the covariates ("conditional": the estimand is the mean of
    me_i over this sample, e.g. the synthetic truths); the second adds the variation of the sample mean
    of me_i over covariate draws ("unconditional": a population AME; Stata's vce(unconditional);
    Wooldridge 2010, ch. 12-15 / the influence-function argument). Either is summed by cluster with the
    CR1 factor G/(G-1) (n-1)/(n-k) of the logit's clustered covariance, so "conditional" reproduces
    statsmodels' delta-method errors exactly.
    """
    from scipy.stats import norm

    if vce not in AME_VCE:
        raise ValueError(f"vce must be one of {AME_VCE}, got {vce!r}")
    x = np.asarray(fit.model.exog, dtype=float)
    beta = np.asarray(fit.params, dtype=float)
    names = list(fit.params.index)
    q = _expit(x @ beta)
    w = q * (1 - q)
    influence = _AmeInfluence(x, np.asarray(fit.model.endog, dtype=float), q, groups,
                              unconditional=vce == "unconditional")
    rows = []
    contrasts = _category_contrasts(fit, pdf, influence)
    skip = set(contrasts["term"].to_list()) | {"Intercept", "const"}
    for j, name in enumerate(names):
        if name in skip or np.ptp(x[:, j]) == 0:
            continue
        me = beta[j] * w
        grad = ((beta[j] * w * (1 - 2 * q))[:, None] * x).mean(axis=0)
        grad[j] += w.mean()
        rows.append(_ame_row(name, float(me.mean()), influence.se(me, grad), norm))
    table = pl.DataFrame(rows, schema={c: (pl.String if c == "term" else pl.Float64) for c in TIDY_COLUMNS})
    return table.vstack(contrasts)


def ame_table_with(result: FitResult, vce: str) -> pl.DataFrame:
    """The AME table of a ``logit_ame`` result with the other variance (same fit, same clusters), so a
    notebook can say how much the population-AME interval differs from the sample-mean one."""
    if result.fit is None or result.cluster is None or result.vce is None:
        raise ValueError("ame_table_with needs a result of logit_ame")
    pdf = result.fit.model.data.frame  # the fitted rows, with the cluster column
    return ame_table(result.fit, pdf, pdf[result.cluster].astype(str).to_numpy(), vce=vce)


def interval_sentence(result: FitResult, term: str) -> str:
    """One sentence naming the estimand the AME interval of ``term`` is for, with the other variance's
    standard error as a ratio (what a reader wanting the population AME would get)."""
    other = "unconditional" if result.vce == "conditional" else "conditional"
    se = result.term(term)["std_error"]
    alt = ame_table_with(result, other).filter(pl.col("term") == term)["std_error"][0]
    if result.vce == "conditional":
        return (f"The interval is conditional on this sample's covariates (delta method, the default of Stata's "
                f"`margins`): it is for the average over the persons analysed (the estimand the synthetic register's truths are "
                f"defined on); "
                f"for the population average (`vce(unconditional)`) the standard error would be {alt / se:.3f} times "
                "as large.")
    return (f"The interval is for the population average marginal effect (influence function with the sampling of "
            f"the covariates, Stata's `margins, vce(unconditional)`); conditional on this sample's covariates the "
            f"standard error would be {alt / se:.3f} times as large.")


def _expit(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return np.asarray(expit(z))


def _ame_row(term: str, estimate: float, se: float, norm: Any) -> dict[str, Any]:
    z = estimate / se if se > 0 else float("nan")
    return {"term": term, "estimate": estimate, "std_error": se, "statistic": z,
            "p_value": float(2 * norm.sf(abs(z))), "ci_low": estimate - 1.959964 * se,
            "ci_high": estimate + 1.959964 * se}


class _AmeInfluence:
    """Clustered standard error of an average of ``me_i(beta_hat)`` from its influence function."""

    def __init__(self, x: np.ndarray, y: np.ndarray, q: np.ndarray, groups: np.ndarray, *, unconditional: bool) -> None:
        n, k = x.shape
        self.n = n
        self.scores = x * (y - q)[:, None]
        self.h_inv = np.linalg.pinv(x.T @ (x * (q * (1 - q))[:, None]))
        _, self.codes = np.unique(np.asarray(groups), return_inverse=True)
        self.g = int(self.codes.max()) + 1
        self.factor = self.g / (self.g - 1) * (n - 1) / (n - k) if self.g > 1 else float("nan")
        self.unconditional = unconditional

    def psi(self, me: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Per-person influence of the AME: the coefficient part, plus the covariate part if unconditional."""
        psi = self.scores @ (self.h_inv @ grad)
        if self.unconditional:
            psi = psi + (me - me.mean()) / self.n
        return psi

    def se(self, me: np.ndarray, grad: np.ndarray) -> float:
        by_cluster = np.bincount(self.codes, weights=self.psi(me, grad), minlength=self.g)
        return float(np.sqrt(self.factor * (by_cluster ** 2).sum()))


def _categories_for_patsy(pdf: Any, formula: str) -> Any:
    """String columns used as ``C(var)`` as pandas categoricals with sorted levels: the same design
    (patsy sorts the levels of a string column the same way) built several times faster, because
    patsy no longer sniffs every string value for missingness."""
    for var in set(re.findall(r"C\((\w+)\)", formula)):
        if var in pdf.columns and pdf[var].dtype == object:
            pdf[var] = pdf[var].astype("category")
    return pdf


_CATEGORY_TERM = re.compile(r"^C\((?P<var>\w+)\)\[T\.(?P<level>.+)\]$")


def _category_contrasts(fit: Any, pdf: Any, influence: _AmeInfluence) -> pl.DataFrame:
    """Average contrasts ``P(y | var = level) - P(y | var = reference)`` with influence-function errors.

    statsmodels' ``dummy=True`` switches one dummy on while leaving a person's own category dummy
    on as well, which is not a contrast between two categories; this sets the whole category.
    """
    import patsy
    from scipy.stats import norm

    design_info = getattr(fit.model.data, "design_info", None) or fit.model.data.model_spec
    beta = np.asarray(fit.params, dtype=float)
    names = list(fit.params.index)
    by_var: dict[str, list[str]] = {}
    for name in names:
        m = _CATEGORY_TERM.match(name)
        if m:
            by_var.setdefault(m["var"], []).append(m["level"])
    exog = np.asarray(fit.model.exog, dtype=float)
    rows = []
    for var, levels in by_var.items():
        values = sorted(str(v) for v in pdf[var].unique())
        reference = next(v for v in values if v not in levels)
        own = {level: names.index(f"C({var})[T.{level}]") for level in levels}
        # A main effect only: set the category's dummy columns directly (fast). With interactions the
        # design must be rebuilt from counterfactual data.
        interacted = any(f"C({var})" in n and n not in {f"C({var})[T.{lv}]" for lv in levels} for n in names)

        def design(level: str, var: str = var, own: dict[str, int] = own, interacted: bool = interacted) -> np.ndarray:
            if interacted:
                return np.asarray(patsy.build_design_matrices([design_info], pdf.assign(**{var: level}))[0])
            x = exog.copy()
            x[:, list(own.values())] = 0.0
            if level in own:
                x[:, own[level]] = 1.0
            return x

        x0 = design(reference)
        p0 = _expit(x0 @ beta)
        for level in levels:
            x1 = design(level)
            p1 = _expit(x1 @ beta)
            me = p1 - p0
            grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0).mean(axis=0)
            rows.append(_ame_row(f"C({var})[T.{level}]", float(me.mean()), influence.se(me, grad), norm))
    return pl.DataFrame(rows, schema={c: (pl.String if c == "term" else pl.Float64) for c in TIDY_COLUMNS})


def mixedlm(
    data: pl.DataFrame | pl.LazyFrame, formula: str, *, groups: str = "kommune_nr",
    confounders: list[str] | None = None,
) -> FitResult:
    """Linear mixed model with a random intercept per municipality (statsmodels MixedLM)."""
    import statsmodels.formula.api as smf

    frame = _as_frame(data)
    frame, dropped = complete_cases(frame, formula_variables(formula) + [groups])
    pdf = frame.to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(formula, data=pdf, groups=pdf[groups]).fit()
    fe = fit.fe_params.index
    table = _tidy_statsmodels(fit.fe_params, fit.bse[fe], fit.tvalues[fe], fit.pvalues[fe], fit.conf_int().loc[fe])
    return FitResult(
        model="statsmodels.MixedLM", formula=formula, table=table, n_obs=int(fit.nobs), n_dropped=dropped,
        n_clusters=pdf[groups].nunique(), cluster=groups, confounders=list(confounders or []),
        notes=[f"random-intercept variance {float(fit.cov_re.iloc[0, 0]):.4g}"], fit=fit,
    )


def gee(
    data: pl.DataFrame | pl.LazyFrame, formula: str, *, groups: str = "kommune_nr", family: str = "binomial",
    confounders: list[str] | None = None,
) -> FitResult:
    """Population-averaged model (statsmodels GEE, exchangeable correlation within municipality)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    families = {"binomial": sm.families.Binomial(), "gaussian": sm.families.Gaussian(), "poisson": sm.families.Poisson()}
    frame = _as_frame(data)
    frame, dropped = complete_cases(frame, formula_variables(formula) + [groups])
    pdf = frame.sort(groups).to_pandas()
    fit = smf.gee(formula, groups=groups, data=pdf, family=families[family],
                  cov_struct=sm.cov_struct.Exchangeable()).fit()
    table = _tidy_statsmodels(fit.params, fit.bse, fit.tvalues, fit.pvalues, fit.conf_int())
    return FitResult(
        model=f"statsmodels.GEE[{family}]", formula=formula, table=table, n_obs=int(fit.nobs), n_dropped=dropped,
        n_clusters=pdf[groups].nunique(), cluster=groups, confounders=list(confounders or []), fit=fit,
    )


def phreg(
    data: pl.DataFrame | pl.LazyFrame, formula: str, *, duration: str, event: str,
    cluster: str | None = "kommune_nr", confounders: list[str] | None = None,
) -> FitResult:
    """Cox proportional hazards for waiting times (statsmodels PHReg); estimates are log hazard ratios.

    ``formula`` is ``duration ~ covariates``; ``event`` is 1 when the event (settlement) happened.
    """
    import statsmodels.formula.api as smf

    frame = _as_frame(data)
    cols = formula_variables(formula) + [duration, event] + ([cluster] if cluster else [])
    frame, dropped = complete_cases(frame, cols)
    pdf = frame.to_pandas()
    fit = smf.phreg(formula, data=pdf, status=pdf[event].astype(int).to_numpy()).fit(
        groups=pdf[cluster].to_numpy() if cluster else None
    )
    names = fit.model.exog_names
    import pandas as pd

    params = pd.Series(fit.params, index=names)
    table = _tidy_statsmodels(params, pd.Series(fit.bse, index=names), pd.Series(fit.tvalues, index=names),
                              pd.Series(fit.pvalues, index=names), fit.conf_int())
    table = table.with_columns(pl.col("estimate").exp().alias("hazard_ratio"))
    return FitResult(
        model="statsmodels.PHReg (Cox)", formula=formula, table=table, n_obs=int(pdf.shape[0]), n_dropped=dropped,
        n_clusters=pdf[cluster].nunique() if cluster else None, cluster=cluster,
        confounders=list(confounders or []), fit=fit,
    )


def compare(results: dict[str, FitResult], term: str) -> pl.DataFrame:
    """One row per specification for one term: the robustness table of a research note."""
    rows = []
    for label, res in results.items():
        matches = res.table.filter(pl.col("term") == term)
        if matches.height:
            r = matches.row(0, named=True)
            rows.append({"specification": label, "model": res.model, "estimate": r["estimate"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_value"],
                         "n_obs": res.n_obs, "n_dropped": res.n_dropped})
    return pl.DataFrame(rows)
