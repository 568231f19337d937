"""Generate the synthetic register: persons, households, settlement, housing careers, programme
spells and outcomes, plus the municipal aggregates, with known injected effects.

Everything is vectorised numpy over persons or households (loops run only over years and spell
numbers), and every random draw comes from one ``numpy.random.Generator`` in a fixed order, so a
seed and a scale always give the same data.

Structural model (the truth ``ground_truth.json`` reports):

- Household mobility (log hazard of leaving a dwelling) rises for singles, single parents, low
  education, youth and self-found housing; the chance of buying with startlån rises with
  education, couples/families, age near 38 and the municipality's startlån rate.
- Being in work or education one year after leaving the introduction programme is a logit in the
  moves of the first 24 months, the tenure held one year after settlement, and age, education,
  sex, household type and municipal unemployment. Age, education and household type drive both
  housing and the outcome, so the unadjusted comparisons are biased.
- The council's decided/requested ratio is linear in municipal dwellings per 1000 inhabitants and
  in centrality (which also drives the dwelling stock), with a decline channel that also depends on
  dwellings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from settlement_research.model.base import COUNTRY_GROUPS, EDUCATION, TENURES
from settlement_research.sources.synthetic import calibration as cal
from settlement_research.sources.synthetic import municipalities as munis

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_MONTH = 30.4375
NOV = 15  # status is measured in (mid-)November


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


# Windows (months after settlement) the notebooks allow for counting moves; the truth is given for
# each. The outcome depends on the changes of address in the first 24 months (STRUCTURAL_WINDOW).
WINDOWS = (12, 24, 36)
STRUCTURAL_WINDOW = 24
MIN_TENURE_COUNT = 50  # notebooks merge rarer tenure categories (models.collapse_rare)
RARE = -2  # code of the merged rare-tenure category
# Emigration: yearly hazard from settlement (single adults and minors leave more often).
EMIGRATION_HAZARD = 0.012
EMIGRATION_HAZARD_SINGLE = 0.010
# Shares of tenure changes that happen in the same dwelling (no change of address).
SAME_DWELLING_BUY = 0.5  # municipal or sublet dwelling bought with startlån (leie-til-eie)
SAME_DWELLING_LEASE = 0.4  # a sublet private dwelling whose lease the household takes over
NEVER = np.iinfo(np.int64).max // 4
_BIG = np.int64(1) << 20
_BASE_DAY = (dt.date(2000, 1, 1) - EPOCH).days


FOLLOW_UP_END = _day(cal.FOLLOW_UP_END)
HH_TYPES = ["single", "unaccompanied_minor", "couple", "family_with_children", "single_parent"]
SINGLE, UM, COUPLE, FAMILY, SINGLE_PARENT = range(5)
MEAN_KIDS = {FAMILY: 1.6, SINGLE_PARENT: 1.2}
T = {name: i for i, name in enumerate(TENURES)}
MUN, SUB, PRIV, OWN_SL, OWNER, SHARED, TEMP = (T[n] for n in (
    "municipal_rental", "private_sublet_by_municipality", "private_rental", "owner_startlan", "owner",
    "shared_housing", "temporary",
))
BASE_MONTHS = np.array([30.0, 26.0, 24.0, 96.0, 120.0, 12.0, 3.0])[np.argsort([MUN, SUB, PRIV, OWN_SL, OWNER, SHARED, TEMP])]
ROUTES = ["ordinary", "agreed_self", "own"]
EDU = {name: i for i, name in enumerate(EDUCATION)}

# Country mix of arrivals, 2009 and 2014 (linear in between), and education by country group.
COUNTRY_2009 = {"syria": .01, "eritrea": .20, "afghanistan": .15, "somalia": .22, "iraq": .12, "iran": .06,
                "ethiopia": .07, "sudan": .03, "myanmar": .06, "congo": .03, "other": .05}
COUNTRY_2014 = {"syria": .30, "eritrea": .28, "afghanistan": .08, "somalia": .12, "iraq": .03, "iran": .04,
                "ethiopia": .05, "sudan": .03, "myanmar": .01, "congo": .02, "other": .04}
EDUCATION_BY_COUNTRY = {  # none, primary, secondary, tertiary, unknown
    "syria": (.08, .30, .30, .22, .10), "eritrea": (.20, .40, .25, .05, .10),
    "afghanistan": (.35, .30, .18, .07, .10), "somalia": (.45, .30, .12, .03, .10),
    "iraq": (.12, .30, .30, .18, .10), "iran": (.05, .20, .35, .30, .10),
    "ethiopia": (.20, .40, .25, .05, .10), "sudan": (.25, .35, .25, .05, .10),
    "myanmar": (.35, .35, .15, .05, .10), "congo": (.30, .35, .20, .05, .10),
    "other": (.15, .30, .30, .15, .10),
}
# Household-type shift of log waiting time (families and minors are prioritised, singles wait).
WAIT_SHIFT = np.array([0.06, -0.35, 0.0, -0.15, -0.15])
UNEMPLOYMENT_BY_YEAR = dict(zip(cal.CONTEXT_YEARS, (
    .027, .028, .027, .027, .029, .030, .031, .032, .030, .027, .025), strict=True))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) probability matrix (rows need not be normalised)."""
    k = probs.shape[1]
    cols = [np.ascontiguousarray(probs[:, j], dtype=np.float64) for j in range(k)]
    cum = [cols[0]]
    for c in cols[1:]:
        cum.append(cum[-1] + c)
    u = rng.random(len(probs)) * cum[-1]
    out = np.zeros(len(probs), dtype=np.int64)
    for c in cum[:-1]:
        out += c < u
    return out


def _pick_rows(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``_pick(rng, table[rows])`` without building the (n, k) matrix: same draws, same result.

    The cumulative sums are those ``_pick`` computes (the same float additions), done once per
    table row and gathered, which matters when millions of rows share a handful of distributions.
    """
    table = np.asarray(table, dtype=np.float64)
    cum = [np.ascontiguousarray(table[:, 0])]
    for j in range(1, table.shape[1]):
        cum.append(cum[-1] + table[:, j])
    u = rng.random(len(rows)) * cum[-1][rows]
    out = np.zeros(len(rows), dtype=np.int64)
    for c in cum[:-1]:
        out += c[rows] < u
    return out


def _inverse_permutation(ids: np.ndarray, base: int) -> np.ndarray:
    """``np.argsort(ids)`` for ``ids`` = a permutation of 0..n-1 plus ``base`` (distinct, so exact)."""
    order = np.empty(ids.size, dtype=np.int64)
    order[ids - base] = np.arange(ids.size)
    return order


def _blocks(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices start[0] .. start[0]+len[0]-1, start[1] .., concatenated (vectorised ranges)."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


@dataclass
class Synthetic:
    """The generated register: model-named frames (before the raw layout) and the ground truth."""

    tables: dict[str, pl.DataFrame]
    ground_truth: dict[str, Any]
    # the outcome model's own arrays over the structural analysis sample (never written out): what
    # ``analysis_frame`` and the coverage benchmark need without rebuilding the person frame
    structural: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------------
# Municipalities and municipality-years
# ------------------------------------------------------------------------------------------------


@dataclass
class _Munis:
    frame: pl.DataFrame
    pop: np.ndarray  # 2014 population
    cent: np.ndarray
    dwell: np.ndarray  # (M, n_context_years) municipal dwellings per 1000, as reported (1 decimal)
    startlan: np.ndarray  # (M,) startlån per 1000, base rate
    unemp: np.ndarray  # (M, n_context_years)
    willing: np.ndarray  # (M,)


def _municipal_traits(frame: pl.DataFrame, rng: np.random.Generator) -> _Munis:
    m = frame.height
    pop = frame["population"].to_numpy().astype(float)
    cent = frame["centrality"].to_numpy().astype(float)
    years = np.asarray(cal.CONTEXT_YEARS)
    base = cal.DWELLINGS_MEAN + cal.DWELLINGS_CENTRALITY_SLOPE * (cent - 3.5) + rng.normal(0, 5.0, m)
    dwell = base[:, None] + 0.15 * (years - 2009)[None, :] + rng.normal(0, 0.5, (m, len(years)))
    dwell = np.round(np.clip(dwell, 2.0, 80.0), 1)
    startlan = np.clip(1.5 + rng.normal(0, 0.6, m), 0.1, 5.0)
    year_u = np.array([UNEMPLOYMENT_BY_YEAR[y] for y in years])
    unemp = np.clip(
        rng.normal(0, 0.007, m)[:, None] + year_u[None, :] + rng.normal(0, 0.002, (m, len(years))), 0.005, 0.09
    )
    willing = rng.normal(0, 0.04, m)  # small: with 428 municipalities a chance correlation with dwellings would swamp the effect
    return _Munis(frame, pop, cent, dwell, startlan, unemp, willing)


def _decisions(mu: _Munis, scale: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Requests and council decisions per municipality-year 2009-2014 (effect (c) lives here)."""
    m, ny = mu.pop.size, len(cal.YEARS)
    yi = np.arange(ny)
    dwell = mu.dwell[:, yi]  # context years start in 2009, so the first six columns are 2009-2014
    share = mu.pop ** 0.85 * np.exp(rng.normal(0, 0.25, m))
    asked_p = _sigmoid(1.5 + 0.8 * (np.log(mu.pop) - np.log(5000)))
    asked = rng.random((m, ny)) < asked_p[:, None]
    asked[:, cal.YEARS.index(2014)] = True  # from 2014 IMDi asks every municipality
    need = np.array([cal.settled_target(y, scale) * cal.REQUEST_FACTOR for y in cal.YEARS])
    w = share[:, None] * asked * np.exp(rng.normal(0, 0.15, (m, ny)))
    requested = rng.poisson(need[None, :] * w / w.sum(axis=0, keepdims=True)).astype(float)
    requested[~asked] = 0.0  # not asked this year
    u_nd, u_dec, u_round = rng.random((m, ny)), rng.random((m, ny)), rng.random((m, ny))
    eps = rng.normal(0, 0.12, (m, ny))
    no_decision = u_nd < np.where(np.asarray(cal.YEARS) < 2012, 0.08, 0.04)[None, :]

    def parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p_decline = _sigmoid(cal.DECLINE_LOGIT_INTERCEPT + cal.DWELLINGS_DECLINE_LOGIT * (d - 20) - 2 * mu.willing[:, None])
        ratio = (cal.DECISION_RATIO_INTERCEPT + cal.DWELLINGS_RATIO_SLOPE * (d - 20)
                 + cal.CENTRALITY_RATIO_SLOPE * (mu.cent[:, None] - 3.5) + mu.willing[:, None] + eps)
        return p_decline, np.clip(ratio, 0.05, 1.5)

    p_decline, ratio = parts(dwell)
    decided = np.floor(ratio * requested + u_round)  # stochastic rounding: E[decided] = ratio * requested
    decided = np.where(u_dec < p_decline, 0.0, decided)
    decided = np.where(no_decision | (requested == 0), np.nan, decided)  # nothing asked: nothing decided
    # expected ratio over the decline and rounding lotteries, at the observed dwellings and at +1
    p1, ratio1 = parts(dwell + 1.0)
    return {"requested": requested, "decided": decided, "dwell": dwell,
            "expected_ratio": (1 - p_decline) * ratio, "expected_ratio_plus_one": (1 - p1) * ratio1}


# ------------------------------------------------------------------------------------------------
# Households and persons
# ------------------------------------------------------------------------------------------------


def _households(target: int, shares: dict[str, float], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Household types and sizes whose persons add up to exactly ``target``."""
    mean_size = np.array([1.0, 1.0, 2.0, 3.0 + MEAN_KIDS[FAMILY], 2.0 + MEAN_KIDS[SINGLE_PARENT]])
    p = np.array([shares.get(t, 0.0) for t in HH_TYPES]) / mean_size
    p /= p.sum()
    n = int(target / float(p @ mean_size) * 1.05) + 10
    types = rng.choice(5, size=n, p=p)
    kids = np.where(types == FAMILY, 1 + np.minimum(rng.poisson(MEAN_KIDS[FAMILY], n), 6),
                    np.where(types == SINGLE_PARENT, 1 + np.minimum(rng.poisson(MEAN_KIDS[SINGLE_PARENT], n), 5), 0))
    sizes = np.select([types == COUPLE, types == FAMILY, types == SINGLE_PARENT], [2, 2 + kids, 1 + kids], 1)
    keep = np.cumsum(sizes) <= target
    types, sizes = types[keep], sizes[keep]
    fill = target - int(sizes.sum())
    return np.concatenate([types, np.zeros(fill, int)]), np.concatenate([sizes, np.ones(fill, int)])


def _country_probs(year: int) -> np.ndarray:
    w = (year - 2009) / 5
    p = np.array([(1 - w) * COUNTRY_2009[g] + w * COUNTRY_2014[g] for g in COUNTRY_GROUPS])
    return p / p.sum()


# ------------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Switches:
    """A harder world: departures from selection on observables, each with a documented strength.

    All default to 0 (off), and then the register is byte-identical to one made without them: their
    draws come from a separate random stream. Strengths are in units of a standard-normal latent trait.

    - ``hidden_confounder``: household motivation U ~ N(0, 1), never recorded. It lowers mobility
      (log hazard of leaving a dwelling: -0.5 x strength x U) and raises the outcome (logit:
      +0.6 x strength x U). Motivated people move less and work more, so an estimate adjusted only for
      the observed confounders is **more negative** than the causal effect of a move.
    - ``reverse_causation``: an early job J (Bernoulli 0.3, unrecorded) found within the moves window
      leads to a move (log hazard +0.7 x strength x J) and to work later (logit +0.8 x strength x J).
      The association of moves with work is pulled **towards zero / positive**.
    - ``route_selection``: motivated households find their own housing (log-odds of agreed
      self-settlement +0.8 x strength x U). With ``hidden_confounder`` also on, route contrasts (H2)
      and comparisons of the self-settled with the ordinary route are confounded.
    """

    hidden_confounder: float = 0.0
    reverse_causation: float = 0.0
    route_selection: float = 0.0

    @property
    def on(self) -> bool:
        return any((self.hidden_confounder, self.reverse_causation, self.route_selection))

    def describe(self) -> dict[str, Any]:
        return {
            "hidden_confounder": {"strength": self.hidden_confounder, "mobility_log_hazard": -0.5 * self.hidden_confounder,
                                  "outcome_logit": 0.6 * self.hidden_confounder,
                                  "expected_bias": "adjusted moves estimate more negative than the causal effect"},
            "reverse_causation": {"strength": self.reverse_causation, "early_job_share": 0.3,
                                  "mobility_log_hazard": 0.7 * self.reverse_causation,
                                  "outcome_logit": 0.8 * self.reverse_causation,
                                  "expected_bias": "adjusted moves estimate pulled towards zero or positive"},
            "route_selection": {"strength": self.route_selection, "agreed_self_log_odds": 0.8 * self.route_selection,
                                "expected_bias": "route contrasts confounded by motivation"},
        }


def generate(scale: float = 1.0, seed: int = 2014, municipalities: pl.DataFrame | None = None,
             switches: Switches | None = None) -> Synthetic:
    """The synthetic register at ``scale`` (1 = the published national numbers) from ``seed``.

    ``municipalities`` is a completed municipality frame (``municipalities.from_frame``); by default
    the 428 fictional municipalities of ``municipalities.default_frame(seed)``. ``switches`` turn on
    hidden confounding, reverse causation and selection into routes (see ``Switches``).
    """
    if not 0 < scale <= 100:
        raise ValueError(f"scale must be in (0, 100], got {scale}")
    sw = switches or Switches()
    frame = municipalities if municipalities is not None else munis.default_frame(seed)
    rng = np.random.default_rng([seed, 2014])
    latent_rng = np.random.default_rng([seed, 2014, 99])  # the switches' own stream: off = untouched data
    latent_u: list[np.ndarray] = []
    mu = _municipal_traits(frame, rng)
    m = frame.height
    dec = _decisions(mu, scale, rng)

    # --- households per settlement year ------------------------------------------------------
    own_shares = {"single": 0.80, "couple": 0.10, "family_with_children": 0.07, "single_parent": 0.03}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("type", "size", "year", "route", "kommune", "country")}
    for yi, year in enumerate(cal.YEARS):
        target = cal.settled_target(year, scale)
        n_own = int(round(target * cal.OWN_SETTLEMENT_SHARE / (1 - cal.OWN_SETTLEMENT_SHARE)))
        t_imdi, s_imdi = _households(target, cal.PERSON_SHARES, rng)
        t_own, s_own = _households(n_own, own_shares, rng)
        p_self = np.where(t_imdi == SINGLE, 0.14, np.where(t_imdi == UM, 0.0, 0.08))
        u_year = latent_rng.standard_normal(t_imdi.size + t_own.size)
        latent_u.append(u_year)
        if sw.route_selection:
            odds = np.log(np.maximum(p_self, 1e-12) / (1 - p_self)) + 0.8 * sw.route_selection * u_year[:t_imdi.size]
            p_self = np.where(p_self > 0, _sigmoid(odds), 0.0)
        route = np.concatenate([np.where(rng.random(t_imdi.size) < p_self, 1, 0), np.full(t_own.size, 2)])
        decided = dec["decided"][:, yi]
        w = np.where(np.isnan(decided), 0.25 * np.nan_to_num(dec["requested"][:, yi]), decided)
        w = w + 0.02 * max(float(np.mean(w)), 1e-3)
        k_imdi = rng.choice(m, size=t_imdi.size, p=w / w.sum())
        w_own = mu.pop ** 1.2
        k_own = rng.choice(m, size=t_own.size, p=w_own / w_own.sum())
        # agreed self-settled households found their own housing: half of them where the rentals are
        chooses = (route[:t_imdi.size] == 1) & (rng.random(t_imdi.size) < cal.SELF_SETTLED_CHOOSE_CITY)
        k_imdi = np.where(chooses, rng.choice(m, size=t_imdi.size, p=w_own / w_own.sum()), k_imdi)
        types = np.concatenate([t_imdi, t_own])
        parts["type"].append(types)
        parts["size"].append(np.concatenate([s_imdi, s_own]))
        parts["year"].append(np.full(types.size, year))
        parts["route"].append(route)
        parts["kommune"].append(np.concatenate([k_imdi, k_own]))
        parts["country"].append(rng.choice(len(COUNTRY_GROUPS), size=types.size, p=_country_probs(year)))
    hh = {k: np.concatenate(v) for k, v in parts.items()}
    n_hh = hh["type"].size
    yidx = hh["year"] - cal.YEARS[0]
    lo_day = np.array([_day(dt.date(y, 1, 1)) for y in cal.YEARS], dtype=np.int64)[yidx]
    hi_day = np.array([_day(cal.LAST_SETTLEMENT_DAY[y]) for y in cal.YEARS], dtype=np.int64)[yidx]
    settle = lo_day + np.floor(rng.random(n_hh) * (hi_day - lo_day + 1)).astype(np.int64)
    mu_w = np.array([cal.wait_lognormal(y)[0] for y in cal.YEARS])
    sd_w = np.array([cal.wait_lognormal(y)[1] for y in cal.YEARS])
    wait_m = np.exp(mu_w[yidx] + WAIT_SHIFT[hh["type"]] + sd_w[yidx] * rng.standard_normal(n_hh))
    wait_days = np.clip(np.round(wait_m * DAYS_PER_MONTH), 3, 239 * DAYS_PER_MONTH).astype(np.int64)
    permit = settle - wait_days
    processing = np.clip(np.round(np.exp(np.log(180) + 0.5 * rng.standard_normal(n_hh))), 30, 900).astype(np.int64)
    arrival = permit - processing

    # --- persons -----------------------------------------------------------------------------
    size = hh["size"]
    n = int(size.sum())
    ph = np.repeat(np.arange(n_hh), size)  # person -> household
    first = np.cumsum(size) - size
    pos = np.arange(n) - first[ph]
    ptype = hh["type"][ph]
    adult = (pos == 0) & (ptype != UM) | (pos == 1) & np.isin(ptype, [COUPLE, FAMILY])
    head_age = np.select(
        [hh["type"] == SINGLE, hh["type"] == UM, hh["type"] == SINGLE_PARENT],
        [18 + rng.gamma(2.0, 5.5, n_hh), rng.choice([14, 15, 16, 17], n_hh, p=[.1, .25, .35, .3]),
         22 + rng.gamma(2.2, 4.5, n_hh)],
        22 + rng.gamma(2.5, 4.5, n_hh),
    )
    head_age = np.round(np.clip(head_age, 14, 67)).astype(np.int64)
    partner_age = np.clip(head_age + np.round(rng.normal(-2, 3, n_hh)), 18, 70).astype(np.int64)
    max_child = np.clip(np.minimum(head_age, partner_age) - 17, 1, 18)
    child_age = np.floor(rng.random(n) * max_child[ph]).astype(np.int64)
    age = np.where(pos == 0, head_age[ph], np.where(adult, partner_age[ph], child_age))
    male_p = np.select([ptype == SINGLE, ptype == UM, ptype == SINGLE_PARENT], [0.72, 0.85, 0.15], 0.5)
    sex_male = np.where(adult & (pos == 0) & np.isin(ptype, [COUPLE, FAMILY]), True,
                        np.where(adult & (pos == 1), False, rng.random(n) < male_p))
    country = hh["country"][ph]
    edu_adult = _pick_rows(rng, np.array([EDUCATION_BY_COUNTRY[g] for g in COUNTRY_GROUPS]), country)
    edu_minor = np.where(age < 7, EDU["none"], np.where(rng.random(n) < 0.85, EDU["primary"], EDU["unknown"]))
    edu = np.where(adult, edu_adult, edu_minor)
    settle_year = hh["year"][ph]
    birth_year = settle_year - age

    # --- housing careers (household level) ----------------------------------------------------
    head = first  # index of each household's first person
    h_age, h_edu, h_type = age[head], edu[head], hh["type"]
    single_like = np.isin(h_type, [SINGLE, UM])
    motivation = np.concatenate(latent_u)  # U per household (order of hh)
    early_job = latent_rng.random(n_hh) < 0.3
    mobility_shift = -0.5 * sw.hidden_confounder * motivation + 0.7 * sw.reverse_causation * early_job
    arrival_dwell = mu.dwell[hh["kommune"], hh["year"] - cal.CONTEXT_YEARS[0]] - cal.ARRIVAL_DWELLINGS_CENTRE
    mobility = mobility_shift + (-0.35 + 0.15 * (h_type == SINGLE) + 0.50 * (h_type == SINGLE_PARENT) + 0.60 * (h_edu == EDU["none"])
                + 0.25 * (h_edu == EDU["primary"]) - 0.35 * (h_edu == EDU["tertiary"])
                - 0.005 * (h_age - 30) + 0.25 * (hh["route"] == 1) + rng.normal(0, 0.35, n_hh))
    owner_prop = (-2.0 + 2.2 * (h_edu == EDU["tertiary"]) + 1.1 * (h_edu == EDU["secondary"])
                  - 1.2 * (h_edu == EDU["none"]) + 0.3 * np.isin(h_type, [COUPLE, FAMILY])
                  - 0.6 * single_like - 0.03 * np.abs(h_age - 34)
                  + 0.3 * (mu.startlan[hh["kommune"]] - 1.5) + rng.normal(0, 0.3, n_hh))
    p0 = np.zeros((n_hh, 7))
    route = hh["route"]
    ordinary, agreed, own_r = route == 0, route == 1, route == 2
    p_own0 = _sigmoid(owner_prop - 2.5)
    p0[ordinary] = [0.55, 0.17, 0.08, 0, 0, 0.10, 0.10]
    p0[agreed] = [0.03, 0.02, 0.80, 0, 0, 0.10, 0.05]
    p0[own_r] = [0, 0, 0.85, 0, 0, 0.15, 0]
    p0[~own_r, OWN_SL] = p_own0[~own_r] * (1 - 0.7 * (hh["type"][~own_r] != FAMILY))
    p0[~single_like, MUN] += p0[~single_like, SHARED]
    p0[~single_like, SHARED] = 0
    p0[h_type == UM] = [0.40, 0, 0, 0, 0, 0.60, 0]
    tenure = _pick(rng, p0)
    trans = np.zeros((7, 7))
    trans[MUN, [MUN, SUB, PRIV]] = [0.30, 0.15, 0.55]
    trans[SUB, [MUN, SUB, PRIV]] = [0.25, 0.15, 0.60]
    trans[PRIV, [MUN, SUB, PRIV, OWNER]] = [0.20, 0.10, 0.65, 0.05]
    trans[OWN_SL, [PRIV, OWN_SL, OWNER]] = [0.2, 0.5, 0.3]
    trans[OWNER, [PRIV, OWNER]] = [0.2, 0.8]
    trans[SHARED, [MUN, SUB, PRIV]] = [0.35, 0.05, 0.60]
    trans[TEMP, [MUN, SUB, PRIV]] = [0.65, 0.20, 0.15]
    own_shift = np.full(7, np.nan)
    own_shift[[MUN, SUB, PRIV, SHARED, TEMP]] = [0.0, -0.1, 0.2, -1.0, -1.5]
    pop_w = mu.pop ** 1.1
    pop_w = pop_w / pop_w.sum()
    cent_h = mu.cent

    # emigration (household level): a constant yearly hazard from settlement; observation of the
    # household ends the day before it leaves Norway
    emig_rate = (EMIGRATION_HAZARD + EMIGRATION_HAZARD_SINGLE * single_like) / 365.25
    emig = settle + np.ceil(rng.exponential(1.0, n_hh) / emig_rate).astype(np.int64)
    emig = np.where(emig <= FOLLOW_UP_END, emig, NEVER)

    sp_h, sp_no, sp_k, sp_start, sp_end, sp_ten, sp_new = [], [], [], [], [], [], []
    active = np.arange(n_hh)
    start = settle.copy()
    kommune = hh["kommune"].copy()
    cur = tenure
    new_addr = np.ones(n_hh, dtype=bool)  # the first spell is the move from reception
    for k in range(60):
        if active.size == 0:
            break
        t_cur = cur[active]
        months = BASE_MONTHS[t_cur] * np.where(t_cur == TEMP, 1.0, np.exp(-mobility[active])) * rng.gamma(2.0, 0.5, active.size)
        end = start[active] + np.maximum(14, np.round(months * DAYS_PER_MONTH)).astype(np.int64) - 1
        leaves = emig[active] - 1 <= end
        end = np.where(leaves, emig[active] - 1, end)
        is_open = ((end >= FOLLOW_UP_END) & ~leaves) | (k == 59)
        sp_h.append(active)
        sp_no.append(np.full(active.size, k + 1))
        sp_k.append(kommune[active])
        sp_start.append(start[active])
        sp_end.append(np.where(is_open, -1, end))
        sp_ten.append(t_cur)
        sp_new.append(new_addr[active])
        stop = is_open | leaves
        active, end, t_cur = active[~stop], end[~stop], t_cur[~stop]
        # next dwelling
        pt = trans[t_cur].copy()
        can_buy = ~np.isnan(own_shift[t_cur])
        p_buy = np.where(can_buy, _sigmoid(owner_prop[active] + np.nan_to_num(own_shift[t_cur])), 0.0)
        pt *= (1 - p_buy)[:, None]
        pt[:, OWN_SL] += p_buy
        nxt = _pick(rng, pt)
        p_sec = (0.06 + 0.04 * single_like[active] + 0.03 * (cent_h[kommune[active]] >= 5)
                 - 0.04 * np.isin(t_cur, [OWN_SL, OWNER]))
        sec = rng.random(active.size) < p_sec
        dest = rng.choice(m, size=active.size, p=pop_w)
        sec &= dest != kommune[active]
        nxt = np.where(sec, np.where(rng.random(active.size) < 0.8, PRIV, MUN), nxt)
        kommune[active] = np.where(sec, dest, kommune[active])
        # a change of tenure in the same dwelling is no move: rent-to-own (leie-til-eie) of a municipal
        # or sublet dwelling, or taking over the lease of a sublet private dwelling
        u_same = rng.random(active.size)
        same = ((np.isin(t_cur, [MUN, SUB]) & (nxt == OWN_SL) & (u_same < SAME_DWELLING_BUY))
                | ((t_cur == SUB) & (nxt == PRIV) & (u_same < SAME_DWELLING_LEASE))) & ~sec
        new_addr[active] = ~same
        start[active] = end + 1
        cur[active] = nxt
    spells = {
        "h": np.concatenate(sp_h), "no": np.concatenate(sp_no), "k": np.concatenate(sp_k),
        "start": np.concatenate(sp_start), "end": np.concatenate(sp_end), "tenure": np.concatenate(sp_ten),
        "new": np.concatenate(sp_new),
    }
    order = np.lexsort((spells["no"], spells["h"]))
    spells = {key: v[order] for key, v in spells.items()}

    # exposures exactly as analysis.indicators defines them (calendar offsets from settlement)
    settle_dates = _dates(settle)
    win_ends = {w: settle_dates.dt.offset_by(f"{w}mo").cast(pl.Int32).to_numpy().astype(np.int64) for w in WINDOWS}
    win_end = win_ends[STRUCTURAL_WINDOW]
    point_1y = (settle_dates.dt.offset_by("1y").cast(pl.Int32).to_numpy()).astype(np.int64)
    sh = spells["h"]
    address_move = (spells["no"] > 1) & spells["new"]
    move_keys = sh[address_move].astype(np.int64) * _BIG + (spells["start"][address_move] - _BASE_DAY)

    def moves_until(h: np.ndarray, last_day: np.ndarray) -> np.ndarray:
        """Changes of address of households ``h`` after settlement, on or before ``last_day``."""
        hi = np.searchsorted(move_keys, h.astype(np.int64) * _BIG + (last_day - _BASE_DAY), side="right")
        return hi - np.searchsorted(move_keys, h.astype(np.int64) * _BIG, side="left")

    moves24 = moves_until(np.arange(n_hh), win_end)
    sp_end_eff = np.where(spells["end"] < 0, FOLLOW_UP_END, spells["end"])
    covers = (spells["start"] <= point_1y[sh]) & (sp_end_eff >= point_1y[sh])
    tenure_1y = np.full(n_hh, -1)
    tenure_1y[sh[covers]] = spells["tenure"][covers]

    # --- introduction programme (persons) -----------------------------------------------------
    p_route = hh["route"][ph]
    p_settle = settle[ph]
    eligible = adult & (age >= 18) & (age <= 55) & (p_route != 2) & (rng.random(n) < 0.93)
    ip = np.flatnonzero(eligible)
    # most start within four months; a few start late (parental leave, illness) and are still going
    late = rng.random(ip.size) < 0.04
    i_start = p_settle[ip] + np.where(late, rng.integers(365, 1800, ip.size), rng.integers(14, 121, ip.size))
    p_int = _sigmoid(-1.2 + 0.25 * (moves24[ph[ip]] - 1) + 0.4 * (edu[ip] == EDU["none"])
                     - 0.3 * (edu[ip] == EDU["tertiary"]) + 0.3 * (ptype[ip] == SINGLE_PARENT))
    interrupted = rng.random(ip.size) < p_int
    dur = np.where(
        interrupted, rng.integers(60, 651, ip.size),
        np.clip(np.round(rng.normal(730, 30, ip.size)), 640, 800).astype(np.int64)
        + np.where(rng.random(ip.size) < 0.15, rng.integers(90, 366, ip.size), 0),
    )
    i_end = i_start + dur
    # emigration: no programme for those gone before it starts; it is cut short for those who leave in it
    p_emig = emig[ph]
    stays = p_emig[ip] - 1 >= i_start
    ip, i_start, i_end, interrupted = ip[stays], i_start[stays], i_end[stays], interrupted[stays]
    cut = p_emig[ip] - 1 < i_end
    i_end = np.where(cut, p_emig[ip] - 1, i_end)
    interrupted = interrupted | cut
    i_open = i_end > FOLLOW_UP_END
    i_reason = np.where(i_open, 2, np.where(interrupted, 1, 0))

    # --- outcomes: status in November of each year --------------------------------------------
    k_settle = hh["kommune"][ph]
    edu_lo = np.array([cal.EDUCATION_LOGIT[e] for e in EDUCATION])
    hh_lo = np.array([cal.HOUSEHOLD_LOGIT["single"], cal.HOUSEHOLD_LOGIT["single"], cal.HOUSEHOLD_LOGIT["couple"],
                      cal.HOUSEHOLD_LOGIT["family_with_children"], cal.HOUSEHOLD_LOGIT["single_parent"]])
    a30 = age - 30.0
    cov_lo = (edu_lo[edu] + hh_lo[ptype] + cal.AGE_LOGIT[0] * a30 + cal.AGE_LOGIT[1] * a30 ** 2
              + cal.MALE_LOGIT * sex_male)
    ten_lo = np.array([cal.TENURE_LOGIT[t] for t in TENURES])

    # the analysis sample: programme leavers whose status one year after is observed
    # (observed in that November: not emigrated). Moves act on the outcome only when they come before
    # it: the structural exposure is the changes of address up to min(24 months, the outcome date).
    nov = np.array([_day(dt.date(y, 11, NOV)) for y in range(cal.YEARS[0], cal.FOLLOW_UP_END.year + 1)])
    end_year = _dates(np.where(i_open, 0, i_end)).dt.year().to_numpy()
    out_year = end_year + 1
    out_nov = nov[np.clip(out_year - cal.YEARS[0], 0, nov.size - 1)]
    in_sample = ~i_open & (out_year <= cal.FOLLOW_UP_END.year) & (out_nov < p_emig[ip])
    sp_idx = ip[in_sample]
    s_out_year = out_year[in_sample]
    s_nov = out_nov[in_sample]
    s_h = ph[sp_idx]
    s_unemp = mu.unemp[k_settle[sp_idx], (s_out_year - cal.CONTEXT_YEARS[0]).astype(np.int64)]
    s_moves = moves_until(s_h, np.minimum(win_end[s_h], s_nov))
    s_ten = tenure_1y[s_h]
    if (s_ten < 0).any():
        raise AssertionError("every analysis person holds a tenure one year after settlement")
    latent_lo = 0.6 * sw.hidden_confounder * motivation + 0.8 * sw.reverse_causation * early_job  # per household
    arrival_lo = cal.ARRIVAL_DWELLINGS_LOGIT * arrival_dwell  # per household (direct effect)
    eta_no_alpha = (cal.MOVES_LOGIT * s_moves + ten_lo[s_ten] + cov_lo[sp_idx] + latent_lo[s_h] + arrival_lo[s_h]
                    + cal.UNEMPLOYMENT_LOGIT * (s_unemp - 0.028))
    alpha = _calibrate_intercept(eta_no_alpha, cal.WORK_EDUCATION_ONE_YEAR_TARGET)
    eta = alpha + eta_no_alpha
    y_sample = rng.random(sp_idx.size) < _sigmoid(eta)

    # every person aged 16+ each November from settlement to the end of follow-up
    settle_dates_p = _dates(p_settle)
    first_year = settle_year + (settle_dates_p.dt.ordinal_day().to_numpy() > 305)
    n_years = np.maximum(cal.FOLLOW_UP_END.year - first_year + 1, 0)
    o_p = np.repeat(np.arange(n), n_years)
    o_first = np.cumsum(n_years) - n_years
    o_year = first_year[o_p] + (np.arange(o_p.size) - o_first[o_p])
    o_nov = nov[o_year - cal.YEARS[0]]
    keep = ((o_year - birth_year[o_p]) >= 16) & (o_nov < p_emig[o_p])  # resident that November
    o_p, o_year, o_nov = o_p[keep], o_year[keep], o_nov[keep]
    intro_start_p = np.full(n, np.iinfo(np.int64).max)
    intro_end_p = np.full(n, np.iinfo(np.int64).max)
    intro_start_p[ip] = i_start
    intro_end_p[ip] = np.where(i_open, np.iinfo(np.int64).max, i_end)
    in_prog = (intro_start_p[o_p] <= o_nov) & (intro_end_p[o_p] >= o_nov)
    years_since = o_year - settle_year[o_p]
    general = -0.6 + 0.25 * np.minimum(years_since, 6) + cov_lo[o_p] + latent_lo[ph[o_p]] + arrival_lo[ph[o_p]] + alpha
    p_we = np.where(in_prog, 0.10, _sigmoid(general))
    we = rng.random(o_p.size) < p_we
    # the analysis rows take the structural draw
    o_key = o_p.astype(np.int64) * 10000 + o_year
    s_key = sp_idx.astype(np.int64) * 10000 + s_out_year
    pos_in = np.searchsorted(o_key, s_key)
    if s_key.size:
        assert np.array_equal(o_key[pos_in], s_key), "analysis outcome rows must exist"
    we[pos_in] = y_sample
    young = (o_year - birth_year[o_p]) < 25
    we_kind = _pick_rows(rng, np.array([[0.65, 0.23, 0.12], [0.35, 0.50, 0.15]]), young.astype(np.int64))
    status = np.where(we, we_kind, 3 + (rng.random(o_p.size) < np.where(in_prog, 0.95, 0.6)))
    # municipality of residence in November: the household's spell covering that day
    o_h = ph[o_p]
    big = np.int64(1) << 20
    spell_key = sh.astype(np.int64) * big + (spells["start"] - _day(dt.date(2000, 1, 1)))
    q_key = o_h.astype(np.int64) * big + (o_nov - _day(dt.date(2000, 1, 1)))
    o_spell = np.searchsorted(spell_key, q_key, side="right") - 1
    o_kommune = spells["k"][o_spell]

    # --- ground truth --------------------------------------------------------------------------
    # one analysis sample per allowed window (landmark design): the outcome date lies after both the
    # moves window and the tenure point; the exposure of each window is counted as the notebook does
    windows = {}
    for w in WINDOWS:
        landmark = np.maximum(win_ends[w][s_h], point_1y[s_h])
        windows[w] = (s_nov > landmark, moves_until(s_h, win_ends[w][s_h]))
    design = {"age": age[sp_idx].astype(float), "education": edu[sp_idx],
              "household": np.where(ptype == UM, SINGLE, ptype)[sp_idx], "male": sex_male[sp_idx],
              "route": p_route[sp_idx], "year": settle_year[sp_idx], "arrival_dwell": arrival_dwell[s_h],
              "kommune": k_settle[sp_idx], "household_index": s_h}
    truth = _ground_truth(
        alpha=alpha, eta=eta, y=y_sample, moves=s_moves, ten=s_ten, ten_lo=ten_lo, dec=dec, mu=mu, scale=scale,
        seed=seed, frame=frame, windows=windows, design=design,
    )
    if sw.on:
        truth["switches"] = sw.describe()
    structural = {"p": _sigmoid(eta), "y": y_sample, "tenure_1y": s_ten, "windows": windows, **design}

    # --- frames in model names, rows in key order (sorted on integer ids: ids share one width) --
    pid_int = rng.permutation(n).astype(np.int64) + 100_000_000
    hid_int = rng.permutation(n_hh).astype(np.int64) + 10_000_000
    pid = pl.Series("person_id", pid_int).cast(pl.String)
    hid = pl.Series("household_id", hid_int).cast(pl.String).str.pad_start(9, "H")
    kn = frame["kommune_nr"]

    def cat(values: list[str], idx: np.ndarray) -> pl.Series:
        return pl.Series(values).gather(idx)

    tables: dict[str, pl.DataFrame] = {}
    tables["kommune"] = frame.select(
        "kommune_nr", "kommune_name", "fylke_nr", "fylke_name", "imdi_region", "husbanken_region", "centrality",
    ).with_columns(pl.lit(2009, pl.Int16).alias("valid_from"), pl.lit(None, pl.Int16).alias("valid_to"))
    o = _inverse_permutation(pid_int, 100_000_000)  # persons in person_id order
    tables["person"] = pl.DataFrame({
        "person_id": pid.gather(o),
        "birth_year": birth_year[o].astype(np.int16),
        "sex": cat(["female", "male"], sex_male[o].astype(np.int64)),
        "country_group": cat(COUNTRY_GROUPS, country[o]),
        "education": cat(EDUCATION, edu[o]),
        "arrival_date": _dates(arrival[ph][o]),
        "permit_date": _dates(permit[ph][o]),
        "unaccompanied_minor": ptype[o] == UM,
        "emigration_date": _dates(np.where(p_emig == NEVER, 0, p_emig)[o]).set(pl.Series(p_emig[o] == NEVER), None),
    })
    tables["settlement"] = pl.DataFrame({
        "person_id": pid.gather(o),
        "settlement_date": _dates(p_settle[o]),
        "kommune_nr": kn.gather(k_settle[o]),
        "route": cat(ROUTES, p_route[o]),
        "months_waited": np.round((p_settle - permit[ph]) / DAYS_PER_MONTH, 2)[o],
    })
    oh = _inverse_permutation(hid_int, 10_000_000)
    tables["household"] = pl.DataFrame({
        "household_id": hid.gather(oh),
        "household_type": cat(["single", "single", "couple", "family_with_children", "single_parent"], h_type[oh]),
        "size": size[oh].astype(np.int16),
    })
    om = np.lexsort((pid_int, hid_int[ph]))
    tables["household_member"] = pl.DataFrame({
        "household_id": hid.gather(ph[om]), "person_id": pid.gather(om),
        "role": cat(["child", "adult"], adult[om].astype(np.int64)),
    })
    # housing spells: each household spell for every member
    extra = np.where(spells["tenure"] == SHARED, 1 + rng.poisson(1.5, sh.size), 0)
    persons_in = np.minimum(size[sh] + extra, 30)
    rooms = np.where(
        spells["tenure"] == SHARED, persons_in,
        np.ceil(size[sh] * 0.6) + 1 + np.isin(spells["tenure"], [OWN_SL, OWNER]) + rng.choice([-1, 0, 0, 1], sh.size),
    )
    rooms = np.clip(rooms, 1, 12)
    # rows in (person_id, spell_no) order: persons in id order, each with its household's spells
    # (spells are sorted by household and number); the order a lexsort would give, without sorting
    n_spells = np.bincount(sh, minlength=n_hh)
    spell_start = np.cumsum(n_spells) - n_spells
    sp_member = np.repeat(o, n_spells[ph[o]])
    sp_rows = _blocks(spell_start[ph[o]], n_spells[ph[o]])
    tables["housing_spell"] = pl.DataFrame({
        "person_id": pid.gather(sp_member),
        "spell_no": spells["no"][sp_rows].astype(np.int16),
        "kommune_nr": kn.gather(spells["k"][sp_rows]),
        "start_date": _dates(spells["start"][sp_rows]),
        "end_date": _dates(spells["end"][sp_rows]).set(pl.Series(spells["end"][sp_rows] < 0), None),
        "tenure": cat(TENURES, spells["tenure"][sp_rows]),
        "new_address": spells["new"][sp_rows],
        "rooms": rooms[sp_rows].astype(np.int16),
        "persons": persons_in[sp_rows].astype(np.int16),
    })
    oi = np.argsort(pid_int[ip], kind="stable")
    tables["intro_spell"] = pl.DataFrame({
        "person_id": pid.gather(ip[oi]),
        "spell_no": np.ones(ip.size, np.int16),
        "kommune_nr": kn.gather(k_settle[ip][oi]),
        "start_date": _dates(i_start[oi]),
        "end_date": _dates(i_end[oi]).set(pl.Series(i_open[oi]), None),
        "end_reason": cat(["completed", "interrupted", "ongoing"], i_reason[oi]),
    })
    # (person_id, year) order: o_p is ascending with years ascending within a person, so the rows
    # are each person's block, taken in person_id order (what np.lexsort would return)
    o_count = np.bincount(o_p, minlength=n)
    oo = _blocks((np.cumsum(o_count) - o_count)[o], o_count[o])
    tables["outcome_year"] = pl.DataFrame({
        "person_id": pid.gather(o_p[oo]),
        "year": o_year[oo].astype(np.int16),
        "status": cat(["work", "education", "work_and_education", "unemployed", "other"], status[oo]),
        "kommune_nr": kn.gather(o_kommune[oo]),
    })
    tables.update(_aggregates(mu, dec, hh, ph, ptype, p_route, k_settle, settle_year, scale, rng))
    truth["calibration"] = _calibration_report(
        settle_year[p_route != 2], ((p_settle - permit[ph]) / DAYS_PER_MONTH)[p_route != 2],
        single_adults=int(((ptype == SINGLE) & adult).sum()), persons=n, households=n_hh, scale=scale,
    )
    return Synthetic(tables, truth, structural)


def analysis_frame(synth: Synthetic, window: int = STRUCTURAL_WINDOW, *, landmark: bool = True) -> pl.DataFrame:
    """Notebook 02's landmark sample for ``window``, built from the generator's own arrays.

    The same persons, values and column names as ``indicators.person_frame`` + ``landmark_sample``
    give from the written tables (before ``models.collapse_rare``), plus ``p``, the structural
    probability of the outcome. ``landmark=False``: every programme leaver with an observed outcome
    (notebook 05's sample; ``moves_{window}m`` is then null where the window is not complete). Why: the coverage benchmark fits hundreds of registers and needs
    only this sample; a test checks it against the notebook's path.
    """
    if synth.structural is None:
        raise ValueError("this Synthetic carries no structural arrays (generated by an older version?)")
    s = synth.structural
    in_landmark, moves = s["windows"][window]
    mask = in_landmark if landmark else np.ones(in_landmark.size, dtype=bool)
    households = ["single", "single", "couple", "family_with_children", "single_parent"]
    kn = synth.tables["kommune"]["kommune_nr"]
    age = s["age"][mask].astype(np.int64)
    return pl.DataFrame({
        "kommune_nr": kn.gather(s["kommune"][mask]),
        "settlement_year": s["year"][mask].astype(np.int16),
        "route": pl.Series(ROUTES).gather(s["route"][mask]),
        "age_at_settlement": age,
        "age_sq": ((age - 30) ** 2).astype(float),
        "education": pl.Series(EDUCATION).gather(s["education"][mask]),
        "household_type": pl.Series(households).gather(s["household"][mask]),
        "sex": pl.Series(["female", "male"]).gather(s["male"][mask].astype(np.int64)),
        "tenure_1y": pl.Series(TENURES).gather(s["tenure_1y"][mask]),
        f"moves_{window}m": pl.Series(moves[mask].astype(np.int64)).set(pl.Series(~in_landmark[mask]), None)
        if not landmark else moves[mask].astype(np.int64),
        "arrival_dwellings": s["arrival_dwell"][mask] + cal.ARRIVAL_DWELLINGS_CENTRE,
        "y": s["y"][mask].astype(np.int8),
        "p": s["p"][mask],
    })


def _calibrate_intercept(eta: np.ndarray, target: float) -> float:
    """The intercept that makes the mean predicted probability equal ``target`` (bisection)."""
    if eta.size == 0:
        return 0.0
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(mid + eta).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _ols_slope(y: np.ndarray, x: np.ndarray) -> float:
    x = x.astype(float)
    return float(np.cov(x, y.astype(float), bias=True)[0, 1] / x.var()) if x.var() > 0 else float("nan")


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _collapse_tenure(ten: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The notebooks' rare-tenure rule (models.collapse_rare, 50 persons): merged codes and kept rows."""
    counts = np.bincount(ten[mask], minlength=len(TENURES))
    rare = (counts > 0) & (counts < MIN_TENURE_COUNT)
    ten = ten.copy()
    if rare.any():
        is_rare = rare[ten]
        if counts[rare].sum() < MIN_TENURE_COUNT:
            mask = mask & ~is_rare
        else:
            ten[is_rare] = RARE
    return ten, mask


def _dummies(codes: np.ndarray, reference: int) -> tuple[np.ndarray, list[int]]:
    levels = [int(v) for v in np.unique(codes) if v != reference]
    return (np.column_stack([codes == v for v in levels]).astype(float) if levels else np.zeros((codes.size, 0)),
            levels)


def _fractional_logit(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Coefficients a logit converges to when the outcome is drawn from ``p``: the pseudo-true value
    of the fitted specification (Newton on the fractional-logit score X'(p - mu) = 0)."""
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        mu_ = _sigmoid(x @ beta)
        step = np.linalg.lstsq(x.T @ (x * (mu_ * (1 - mu_))[:, None]), x.T @ (p - mu_), rcond=None)[0]
        beta += step
        if np.abs(step).max() < 1e-12:
            break
    return beta


def _window_truth(w: int, mask: np.ndarray, moves_w: np.ndarray, *, p: np.ndarray, y: np.ndarray,
                  ten: np.ndarray, ten_lo: np.ndarray, eta: np.ndarray, design: dict[str, np.ndarray]) -> dict[str, Any]:
    """Truths of one window's analysis sample: causal effects and the adjusted models' pseudo-true values."""
    ten_c, mask = _collapse_tenure(ten, mask)
    if mask.sum() < 10:
        return {"window_months": w, "n": int(mask.sum())}
    b = cal.MOVES_LOGIT
    pm, ym, mv, tc = p[mask], y[mask], moves_w[mask].astype(float), ten_c[mask]
    age = design["age"][mask]
    ref = T["municipal_rental"]
    t_d, t_levels = _dummies(tc, ref)
    e_d, _ = _dummies(design["education"][mask], int(design["education"][mask].min()))
    h_d, _ = _dummies(design["household"][mask], int(design["household"][mask].min()))
    x = np.column_stack([np.ones(pm.size), mv, t_d, age, (age - 30) ** 2, e_d, h_d, design["male"][mask].astype(float)])
    beta = _fractional_logit(x, pm)
    lpm = np.linalg.lstsq(x, pm, rcond=None)[0]
    q = _sigmoid(x @ beta)
    t_cols = {lvl: 2 + i for i, lvl in enumerate(t_levels)}

    def logit_contrast(code: int) -> float:
        x0 = x.copy()
        x0[:, list(t_cols.values())] = 0.0
        x1 = x0.copy()
        x1[:, t_cols[code]] = 1.0
        return float(np.mean(_sigmoid(x1 @ beta) - _sigmoid(x0 @ beta)))

    base = eta[mask] - ten_lo[ten[mask]]
    contrasts: dict[str, Any] = {}
    for name, code in T.items():
        if code == ref:
            continue
        exposed = tc == code
        contrasts[name] = {
            "causal_ame": _r(float(np.mean(_sigmoid(base + ten_lo[code]) - _sigmoid(base + ten_lo[ref])))),
            "adjusted_logit_ame": _r(logit_contrast(code)) if code in t_cols else None,
            "adjusted_lpm": _r(float(lpm[t_cols[code]])) if code in t_cols else None,
            "naive_difference": _r(float(ym[exposed].mean() - ym[tc == ref].mean()))
            if exposed.any() and (tc == ref).any() else None,
            "n_exposed": int(exposed.sum()),
        }
    causal = float(np.mean(b * pm * (1 - pm))) if w <= STRUCTURAL_WINDOW else None
    return {
        "window_months": w,
        "n": int(mask.sum()),
        "share_in_work_or_education": _r(float(ym.mean())),
        "moves": {
            "causal_ame": _r(causal) if causal is not None else None,
            "causal_note": (
                "mean over the sample of b * p * (1 - p): one more change of address inside the first "
                f"{w} months adds one to the structural exposure" if causal is not None else
                f"not one number: moves in months {STRUCTURAL_WINDOW + 1}-{w} have no effect in the generator, so "
                f"the effect of one more move in the first {w} months depends on when it happens"
            ),
            "adjusted_logit_ame": _r(float(np.mean(beta[1] * q * (1 - q)))),
            "adjusted_lpm": _r(float(lpm[1])),
            "naive_ols_slope": _r(_ols_slope(ym, mv)),
            "mean_moves": _r(float(mv.mean())),
        },
        "tenure_1y": {"reference": "municipal_rental", "contrasts": contrasts},
    }


def _arrival_truth(p: np.ndarray, design: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    """Truth of the dispersal design for one route: direct AME and the design's pseudo-true AME."""
    if mask.sum() < 50:
        return {"n": int(mask.sum())}
    pm, age = p[mask], design["age"][mask]
    year_d, _ = _dummies(design["year"][mask], int(design["year"][mask].min()))
    e_d, _ = _dummies(design["education"][mask], int(design["education"][mask].min()))
    h_d, _ = _dummies(design["household"][mask], int(design["household"][mask].min()))
    x = np.column_stack([np.ones(pm.size), design["arrival_dwell"][mask], year_d, age, (age - 30) ** 2, e_d, h_d,
                         design["male"][mask].astype(float)])
    beta = _fractional_logit(x, pm)
    q = _sigmoid(x @ beta)
    return {"n": int(mask.sum()),
            "direct_ame": _r(float(np.mean(cal.ARRIVAL_DWELLINGS_LOGIT * pm * (1 - pm)))),
            "design_logit_ame": _r(float(np.mean(beta[1] * q * (1 - q)))),
            "mean_arrival_dwellings": _r(float(design["arrival_dwell"][mask].mean() + cal.ARRIVAL_DWELLINGS_CENTRE))}


def _ground_truth(*, alpha: float, eta: np.ndarray, y: np.ndarray, moves: np.ndarray, ten: np.ndarray,
                  ten_lo: np.ndarray, dec: dict[str, np.ndarray], mu: _Munis, scale: float, seed: int,
                  frame: pl.DataFrame, windows: dict[int, tuple[np.ndarray, np.ndarray]],
                  design: dict[str, np.ndarray]) -> dict[str, Any]:
    p = _sigmoid(eta)
    b = cal.MOVES_LOGIT
    by_window = {
        str(w): _window_truth(w, mask, mv, p=p, y=y, ten=ten, ten_lo=ten_lo, eta=eta, design=design)
        for w, (mask, mv) in windows.items()
    }
    main = by_window[str(STRUCTURAL_WINDOW)]
    arrival = {route: _arrival_truth(p, design, design["route"] == code) for route, code in (("ordinary", 0), ("agreed_self", 1))}
    requested, decided, dwell = dec["requested"], dec["decided"], dec["dwell"]
    ok = (requested > 0) & ~np.isnan(decided)
    ratio = np.where(ok, decided / np.where(ok, requested, 1), np.nan)
    effect = (dec["expected_ratio_plus_one"] - dec["expected_ratio"])[ok]
    adjustment = ["age_at_settlement (with its square)", "education", "household_type", "sex"]
    sample_definition = (
        "Landmark design. Persons with an introduction-programme spell that has ended (first ended spell) "
        "whose status is observed in November of the year after the end year (outcome_year.year = "
        "year(end_date) + 1 <= 2019; not emigrated by then), and whose outcome date (15 November of that "
        "year) lies after the landmark = max(settlement_date + W months, settlement_date + 1 year): the "
        "exposures are measured before the outcome. Outcome: status in {work, education, "
        "work_and_education}. Tenure categories held by fewer than 50 persons of the sample are merged "
        "(models.collapse_rare). This is what analysis.indicators.person_frame + landmark_sample give."
    )
    return {
        "generator_version": cal.GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "analysis_sample": {
            "definition": sample_definition,
            "window_months": STRUCTURAL_WINDOW,
            "n": main["n"],
            "n_structural": int(eta.size),
            "share_in_work_or_education": main.get("share_in_work_or_education"),
            "mean_structural_probability": _r(float(p.mean())) if p.size else None,
        },
        "outcome_model": {
            "family": "logit",
            "intercept": _r(alpha),
            "moves": b,
            "moves_definition": (
                "changes of address (housing spells with spell_no > 1 and new_address true) after settlement, "
                f"up to min(settlement + {STRUCTURAL_WINDOW} months, the outcome date): a move acts only on "
                "outcomes measured after it"
            ),
            "tenure_1y": cal.TENURE_LOGIT,
            "education": cal.EDUCATION_LOGIT,
            "household_type": cal.HOUSEHOLD_LOGIT,
            "age_centered_30": {"linear": cal.AGE_LOGIT[0], "quadratic": cal.AGE_LOGIT[1]},
            "male": cal.MALE_LOGIT,
            "unemployment_share_minus_0_028": cal.UNEMPLOYMENT_LOGIT,
            "unemployment_note": "unemployment_share of the settlement municipality in the outcome year",
            "age_definition": "age_at_settlement = year(settlement_date) - birth_year",
        },
        "effects": {
            "moves_on_work_or_education": {
                "estimand": (
                    "Effect of one more change of address in the first W months after settlement "
                    "(moves_Wm as analysis.indicators.housing_stability) on the probability of being in work or "
                    "education in November one year after leaving the programme, holding tenure_1y and the "
                    "covariates fixed, averaged over the window's landmark sample. Probability points (0.01 = 1 "
                    "point). Per window: 'causal_ame' = mean(b * p * (1 - p)) (null where the window makes the "
                    "effect timing-dependent); 'adjusted_logit_ame' = the average derivative the notebook's "
                    "adjusted logit converges to on this sample (fractional logit of the true probabilities on "
                    "the notebook's regressors: like-for-like for its interval); 'adjusted_lpm' = the same for "
                    "a linear probability model; 'naive_ols_slope' = unadjusted slope."
                ),
                "adjustment_set": adjustment + ["tenure_1y"],
                "confounders": ["age_at_settlement", "education", "household_type"],
                "structural_logit_coefficient": b,
                "structural_window_months": STRUCTURAL_WINDOW,
                "by_window": {w: {"n": t["n"], **t.get("moves", {})} for w, t in by_window.items()},
            },
            "tenure_1y_on_work_or_education": {
                "estimand": (
                    "Average marginal effect of holding a tenure one year after settlement (tenure_1y, the spell "
                    "covering settlement_date + 1 year) instead of municipal_rental on the probability of being "
                    "in work or education one year after leaving the programme, holding moves and the covariates "
                    "fixed, over the window's landmark sample: 'causal_ame' = mean of p(tenure = t) - "
                    "p(municipal_rental); 'adjusted_logit_ame' = the contrast the notebook's adjusted logit "
                    "converges to; 'naive_difference' = raw difference in means."
                ),
                "reference": "municipal_rental",
                "adjustment_set": adjustment + ["moves"],
                "confounders": ["age_at_settlement", "education", "household_type"],
                "main_contrast": "owner_startlan",
                "by_window": {w: {"n": t["n"], **t.get("tenure_1y", {})} for w, t in by_window.items()},
            },
            "arrival_dwellings_on_work_or_education": {
                "estimand": (
                    "Effect of one more municipal dwelling per 1000 inhabitants in the settlement municipality in the "
                    "settlement year (arrival conditions, kommune_housing_year.municipal_dwellings_per_1000) on the "
                    "probability of being in work or education in November one year after leaving the programme, "
                    "over programme leavers with an observed outcome, by route. 'direct_ame' = mean(c * p * (1 - p)) "
                    "with c the direct structural coefficient; 'design_logit_ame' = what a logit of the outcome on "
                    "arrival dwellings, settlement year and pre-arrival traits (age, its square, education, household "
                    "type, sex) converges to: the total effect through moves and tenure included, identified for the "
                    "ordinary route because IMDi places those refugees independently of their traits given the year."
                ),
                "adjustment_set": ["settlement_year", "age_at_settlement (with its square)", "education",
                                   "household_type", "sex"],
                "confounders": ["settlement_year"],
                "structural_logit_coefficient": cal.ARRIVAL_DWELLINGS_LOGIT,
                "structural_mobility_coefficient": 0.0,
                "by_route": arrival,
            },
            "municipal_dwellings_on_decided_requested": {
                "estimand": (
                    "Average effect of one more municipal dwelling per 1000 inhabitants (KOSTRA, same "
                    "year) on the ratio decided/requested, over municipality-years 2009-2014 with "
                    "requested > 0 and a decision registered (decided not null): the mean over those rows "
                    "of E[ratio | dwellings + 1] - E[ratio | dwellings], the expectation taken over the "
                    "decline lottery and the rounding of decided, with each municipality-year's other "
                    "draws held fixed ('ame_plus_one'). Includes the decline channel (decided = 0). "
                    "Centrality drives both the dwelling stock and willingness, so adjust for centrality "
                    "(e.g. OLS of decided/requested on dwellings per 1000 and centrality dummies)."
                ),
                "adjustment_set": ["centrality"],
                "confounders": ["centrality"],
                "structural_linear_coefficient": cal.DWELLINGS_RATIO_SLOPE,
                "structural_decline_logit_coefficient": cal.DWELLINGS_DECLINE_LOGIT,
                "centrality_ratio_coefficient": cal.CENTRALITY_RATIO_SLOPE,
                "ame_plus_one": _r(float(effect.mean())) if ok.any() else None,
                "naive_ols_slope": _r(_ols_slope(ratio[ok], dwell[ok])) if ok.sum() > 2 else None,
                "n": int(ok.sum()),
                "note": "rows where KOSTRA suppressed municipal_dwellings_per_1000 ('..') are in n; drop them "
                        "and the estimand is unchanged in expectation",
            },
        },
        "municipalities": {"n": frame.height, "names": "fictional" if frame.height else None},
    }


def _aggregates(mu: _Munis, dec: dict[str, np.ndarray], hh: dict[str, np.ndarray], ph: np.ndarray,
                ptype: np.ndarray, p_route: np.ndarray, k_settle: np.ndarray, settle_year: np.ndarray,
                scale: float, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """Municipality-year tables: IMDi settlement, KOSTRA housing, SSB context, national series."""
    m, ny = mu.pop.size, len(cal.YEARS)
    years_c = np.asarray(cal.CONTEXT_YEARS)
    nyc = years_c.size
    kn = mu.frame["kommune_nr"]
    imdi = p_route != 2
    cell = k_settle * ny + (settle_year - cal.YEARS[0])
    settled = np.bincount(cell[imdi], minlength=m * ny).reshape(m, ny)
    settled_um = np.bincount(cell[imdi & (ptype == UM)], minlength=m * ny).reshape(m, ny)
    prev = np.concatenate([settled[:, :1], settled[:, :-1]], axis=1)
    family = rng.poisson(0.35 * prev)
    rows_k = np.repeat(np.arange(m), ny)
    rows_y = np.tile(np.asarray(cal.YEARS), m)

    def col(a: np.ndarray) -> pl.Series:
        flat = a.reshape(-1).astype(float)
        return pl.Series(np.where(np.isnan(flat), 0, flat).astype(np.int64)).set(pl.Series(np.isnan(flat)), None)

    ksy = pl.DataFrame({
        "kommune_nr": kn.gather(rows_k), "year": rows_y.astype(np.int16),
        "requested": col(dec["requested"]), "decided": col(dec["decided"]),
        "settled": settled.reshape(-1), "settled_unaccompanied_minors": settled_um.reshape(-1),
        "family_reunified": family.reshape(-1),
    })

    # context 2009-2019
    growth = np.select([mu.cent <= 2, mu.cent <= 4], [0.012, 0.006], -0.003) + rng.normal(0, 0.003, m)
    pop = np.round(mu.pop[:, None] * (1 + growth[:, None]) ** (years_c - 2014)[None, :])
    imm_share = np.clip(0.06 + 0.04 * (3.5 - mu.cent) / 2.5 + rng.normal(0, 0.02, m), 0.02, 0.35)
    immigrants = np.round(pop * imm_share[:, None] * (1 + 0.04 * (years_c - 2014))[None, :])
    refugees = np.round(immigrants * np.clip(0.25 + rng.normal(0, 0.08, m), 0.05, 0.6)[:, None])
    short = np.round(refugees * np.clip(0.4 + rng.normal(0, 0.08, (m, nyc)), 0.1, 0.9))
    settled_ctx = np.zeros((m, nyc))
    settled_ctx[:, :ny] = settled
    grants = np.zeros((m, nyc))
    for j in range(nyc):
        grants[:, j] = 135_000 * settled_ctx[:, max(0, j - 4): j + 1].sum(axis=1)
    low_income = np.clip(0.09 + rng.normal(0, 0.02, m)[:, None] + rng.normal(0, 0.004, (m, nyc)), 0.01, 0.4)
    social = np.clip(0.04 + rng.normal(0, 0.01, m)[:, None] + rng.normal(0, 0.003, (m, nyc)), 0.005, 0.2)
    rc = np.repeat(np.arange(m), nyc)
    ry = np.tile(years_c, m)
    ctx = pl.DataFrame({
        "kommune_nr": kn.gather(rc), "year": ry.astype(np.int16),
        "population": pop.reshape(-1).astype(np.int64), "immigrants": immigrants.reshape(-1).astype(np.int64),
        "refugees": refugees.reshape(-1).astype(np.int64), "refugees_short_residence": short.reshape(-1).astype(np.int64),
        "unemployment_share": np.round(mu.unemp.reshape(-1), 3),
        "persistent_low_income_share": np.round(low_income.reshape(-1), 3),
        "social_assistance_share": np.round(social.reshape(-1), 3),
        "imdi_grants_nok": grants.reshape(-1),
    })

    # KOSTRA housing 2009-2019
    dwell = mu.dwell
    municipal = np.round(dwell * pop / 1000)
    startlan_rate = mu.startlan[:, None] * np.exp(rng.normal(0, 0.15, (m, nyc)))
    startlan_n = np.round(startlan_rate * pop / 1000)
    kostra = pl.DataFrame({
        "kommune_nr": kn.gather(rc), "year": ry.astype(np.int16),
        "municipal_dwellings": municipal.reshape(-1).astype(np.int64),
        "municipal_dwellings_per_1000": dwell.reshape(-1),
        "waiting_list": rng.poisson(municipal.reshape(-1) * 0.08),
        "refused_share": np.round(np.clip(0.3 + rng.normal(0, 0.12, m * nyc), 0, 0.9), 3),
        "startlan_count": startlan_n.reshape(-1).astype(np.int64),
        "startlan_per_1000": np.round(startlan_n / pop * 1000, 2).reshape(-1),
        "startlan_nok": np.round(startlan_n.reshape(-1) * rng.uniform(1.2e6, 2.0e6, m * nyc), -3),
        "rental_grant_nok": np.round(rng.gamma(0.6, 800.0, m * nyc) * np.sqrt(pop.reshape(-1)), -3),
    })
    national = pl.DataFrame(cal.scaled_national(scale))
    return {"kommune_settlement_year": ksy, "kommune_context_year": ctx, "kommune_housing_year": kostra,
            "national_settlement_year": national}


def _calibration_report(year: np.ndarray, months: np.ndarray, *, single_adults: int, persons: int,
                        households: int, scale: float) -> dict[str, Any]:
    """What the generated sample hit (persons settled through IMDi), next to the published targets."""
    months = np.round(months, 2)  # as written to the settlement table
    per_year = []
    for y in cal.YEARS:
        sel = year == y
        per_year.append({
            "year": y, "settled": int(sel.sum()), "target_settled": cal.settled_target(y, scale),
            "within_6m_share": _r(float((months[sel] <= 6).mean())) if sel.any() else None,
            "target_within_6m_share": cal.PUBLISHED[y]["within_6m_pct"] / 100,
            "months_waited_mean": _r(float(months[sel].mean())) if sel.any() else None,
            "target_months": cal.PUBLISHED[y]["months"],
        })
    return {
        "per_year": per_year,
        "single_adult_share_of_persons": _r(single_adults / max(persons, 1)),
        "target_single_adult_share": cal.PERSON_SHARES["single"],
        "persons": persons,
        "households": households,
    }
