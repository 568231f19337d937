"""Published figures the synthetic register is calibrated to, and the effect sizes it injects.

Everything the generator aims at is data here, so a reviewer can compare the targets with DESIGN §4
and the ground truth without reading the generator. Changing a number here changes the output and
must bump ``GENERATOR_VERSION``.
"""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

GENERATOR_VERSION = "2.1.0"  # 2: emigration, same-dwelling tenure changes, landmark truths per window; 2.1: arrival conditions

YEARS = (2009, 2010, 2011, 2012, 2013, 2014)
FOLLOW_UP_END = dt.date(2019, 12, 31)
CONTEXT_YEARS = tuple(range(2009, 2020))
CLASSIFICATION_YEAR = 2014

# DESIGN §4: IMDi annual reports, via Bakkeli, Steen Jensen & Grønningsæter (Fafo-rapport 2015).
NATIONAL_SOURCE = "IMDi annual reports 2009-2014, via Fafo-rapport 2015 (Samordnet bosetting av flyktninger)"
PUBLISHED: dict[int, dict[str, float]] = {
    2009: {"settled": 6087, "waiting_in_reception": 1407, "within_6m_pct": 77, "long_waiting": 310, "months": 5.3},
    2010: {"settled": 5797, "waiting_in_reception": 1627, "within_6m_pct": 74, "long_waiting": 327, "months": 5.7},
    2011: {"settled": 5486, "waiting_in_reception": 1967, "within_6m_pct": 67, "long_waiting": 513, "months": 6.5},
    2012: {"settled": 5742, "waiting_in_reception": 3829, "within_6m_pct": 61, "long_waiting": 1554, "months": 6.7},
    2013: {"settled": 6551, "waiting_in_reception": 5443, "within_6m_pct": 50, "long_waiting": 2346, "months": 8.0},
    2014: {"settled": 6874, "waiting_in_reception": 5214, "within_6m_pct": 48, "long_waiting": 2805, "months": 8.3},
}
# The 2014 figures are "per November"; the others refer to the end of the year.
REFERENCE_DATES: dict[int, dt.date] = {
    y: (dt.date(2014, 11, 30) if y == 2014 else dt.date(y, 12, 31)) for y in YEARS
}
# Last day settlements are generated for in a year (2014 is counted to the reference date).
LAST_SETTLEMENT_DAY = {y: REFERENCE_DATES[y] for y in YEARS}

# Municipal structure (2014): 428 municipalities, about 5.1 million inhabitants, one big city.
N_MUNICIPALITIES_2014 = 428
TOTAL_POPULATION_2014 = 5_110_000
CAPITAL_POPULATION = 650_000
MEDIAN_POPULATION = 5_000
# SSB-like centrality classes 1 (most central) .. 6: municipalities per class (sums to 428).
CENTRALITY_COUNTS = {1: 5, 2: 20, 3: 55, 4: 80, 5: 110, 6: 158}

# Arrivals (persons settled through IMDi): about 70 % single adults (DESIGN §4).
PERSON_SHARES = {
    "single": 0.69, "unaccompanied_minor": 0.05, "couple": 0.04,
    "family_with_children": 0.16, "single_parent": 0.06,
}
OWN_SETTLEMENT_SHARE = 0.09  # egenbosetting uten avtale, "just under 10 %" of all settlements
AGREED_SELF_SHARE = 0.12  # avtalt selvbosetting, of those settled through IMDi
REQUEST_FACTOR = 1.30  # national requests relative to persons settled

# Outcome: share in work or education one year after leaving the programme (SSB measure; IMDi's
# 44.2 % for 2011-2013 is "directly after"; SSB reports about 65 % in 2023).
WORK_EDUCATION_ONE_YEAR_TARGET = 0.50

# Injected effects (the truth analyses should recover; see ground_truth.json for the estimands).
MOVES_LOGIT = -0.22  # per move in the first 24 months after settlement
TENURE_LOGIT = {  # tenure held one year after settlement, relative to municipal rental
    "municipal_rental": 0.0, "private_sublet_by_municipality": 0.05, "private_rental": -0.05,
    "owner_startlan": 0.40, "owner": 0.40, "shared_housing": -0.15, "temporary": -0.30,
}
EDUCATION_LOGIT = {"none": -0.6, "primary": 0.0, "secondary": 0.45, "tertiary": 0.85, "unknown": -0.2}
HOUSEHOLD_LOGIT = {"single": 0.0, "couple": -0.1, "family_with_children": -0.3, "single_parent": -0.6}
AGE_LOGIT = (-0.035, -0.0015)  # linear and quadratic in (age at settlement - 30)
MALE_LOGIT = 0.35
UNEMPLOYMENT_LOGIT = -8.0  # per unit of the unemployment share (-0.08 per percentage point)

# Arrival conditions (dispersal design, notebook 05): municipal dwellings per 1000 inhabitants of the
# settlement municipality in the settlement year, centred at 20. A direct effect on the outcome only
# (not on moves: then it would confound notebook 02's moves estimate, which does not adjust for
# arrival conditions); ordinary-route
# refugees are placed by IMDi independently of their own traits (given year), so the design
# identifies them; agreed self-settled households half the time choose a large municipality.
ARRIVAL_DWELLINGS_LOGIT = 0.02  # on the outcome logit, per dwelling per 1000
ARRIVAL_DWELLINGS_CENTRE = 20.0
SELF_SETTLED_CHOOSE_CITY = 0.5  # share of agreed self-settled households that pick a municipality by size

# Decision = f(municipal dwellings per 1000), confounded by centrality (DESIGN H8).
DECISION_RATIO_INTERCEPT = 0.86
DWELLINGS_RATIO_SLOPE = 0.008  # decided/requested per municipal dwelling per 1000 inhabitants
CENTRALITY_RATIO_SLOPE = 0.06  # per centrality class (rural municipalities more willing)
DECLINE_LOGIT_INTERCEPT = -2.4
DWELLINGS_DECLINE_LOGIT = -0.10  # per dwelling per 1000, on the log-odds of declining
DWELLINGS_MEAN = 19.0
DWELLINGS_CENTRALITY_SLOPE = 3.0  # rural municipalities have more municipal dwellings per 1000


def wait_lognormal(year: int) -> tuple[float, float]:
    """(mu, sigma) of a lognormal waiting time (months) with the published mean and 6-month share.

    Solves P(W <= 6) = p and E[W] = m: sigma = z + sqrt(z^2 + 2 ln(m/6)), mu = ln 6 - sigma z.
    """
    p = PUBLISHED[year]["within_6m_pct"] / 100
    m = PUBLISHED[year]["months"]
    z = NormalDist().inv_cdf(p)
    sigma = z + math.sqrt(z * z + 2 * math.log(m / 6))
    return math.log(6) - sigma * z, sigma


def settled_target(year: int, scale: float) -> int:
    """Persons settled through IMDi in a year at a given scale."""
    return int(round(PUBLISHED[year]["settled"] * scale))


def scaled_national(scale: float) -> list[dict[str, object]]:
    """The national series as it belongs with a register of this scale (counts scaled, rates not).

    At scale 1 this is exactly the published series.
    """
    rows = []
    for y in YEARS:
        p = PUBLISHED[y]
        rows.append({
            "year": y,
            "settled": settled_target(y, scale),
            "waiting_in_reception": int(round(p["waiting_in_reception"] * scale)),
            "within_6m_pct": p["within_6m_pct"],
            "long_waiting": int(round(p["long_waiting"] * scale)),
            "months": p["months"],
            "reference_date": REFERENCE_DATES[y],
            "source": NATIONAL_SOURCE if scale == 1 else f"{NATIONAL_SOURCE}; counts scaled x{scale:g} to the synthetic register",
        })
    return rows
