"""The municipal structure the synthetic register lives in.

By default: the real 2014 count of municipalities per county, codes ``fylke_nr + 2 digits`` (Oslo is
the single municipality 0301), a heavily skewed population (one city of about 650 000, median about
5 000, about 5.1 million in all), SSB-like centrality related to size and plainly fictional names,
so nobody mistakes a synthetic figure for a real municipality's. A real municipality frame can be
given instead (``from_file``).
"""

from __future__ import annotations

import re
from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl

from settlement_research.geo import regions
from settlement_research.sources.synthetic import calibration as cal
from settlement_research.textio import read_csv_frame

COLUMNS = [
    "kommune_nr", "kommune_name", "fylke_nr", "fylke_name", "imdi_region", "husbanken_region",
    "centrality", "population",
]

# Counties after the 2020 and 2024 reforms, for real frames of later years (geo.regions).
LATER_COUNTIES = regions.LATER_COUNTIES

# Invented stems and ordinary place-name endings: "Skvalpvik", "Tusseldal" are plainly not real.
_STEMS = [
    "Brumle", "Skvalp", "Tussel", "Grømle", "Huldre", "Draugs", "Jotne", "Snurre", "Vettle", "Kvitre",
    "Mjaule", "Knerte", "Pjokke", "Tufse", "Rumle", "Glimme", "Fnugg", "Skrolle", "Blinke", "Dvergs",
    "Gnåle", "Kløvre", "Lirke", "Myse", "Nøste", "Pusle", "Rasle", "Sildre", "Tasse", "Umpe",
    "Vimse", "Ylle", "Zulke", "Ærle", "Øgle", "Åkle", "Drøsse", "Fjomp", "Knurve", "Plisse",
]
_ENDINGS = ["vik", "dal", "fjord", "heim", "nes", "øy", "berg", "stad", "sund", "li", "mo", "vang", "bygd", "haug"]


def fictional_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct invented municipality names."""
    combos = [s + e for s in _STEMS for e in _ENDINGS]
    if n > len(combos):
        combos += [f"{c} {r}" for r in ("Nordre", "Søndre") for c in combos]
    order = rng.permutation(len(combos))[:n]
    return [combos[i] for i in order]


def _codes(fylke_nr: str, n: int) -> list[str]:
    """Municipality codes of a county: 01 first, then spread like real numbering (gaps, up to 99)."""
    if fylke_nr == "03":
        return ["0301"]
    step = min(3.0, 98.0 / max(n - 1, 1))
    return [f"{fylke_nr}{1 + int(round(k * step)):02d}" for k in range(n)]


def _lognormal_populations(n: int) -> np.ndarray:
    """Quantiles of a lognormal with the target median, scaled so the total is the national one."""
    rest_total = cal.TOTAL_POPULATION_2014 - cal.CAPITAL_POPULATION
    mean = rest_total / n
    sigma = float(np.sqrt(2 * np.log(mean / cal.MEDIAN_POPULATION)))
    q = [NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)]
    pops = cal.MEDIAN_POPULATION * np.exp(sigma * np.asarray(q))
    pops = np.minimum(pops, cal.CAPITAL_POPULATION * 0.45)
    pops *= rest_total / pops.sum()
    return np.maximum(np.round(pops), 200)


def centrality_classes(population: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Centrality 1-6 from size plus noise, with SSB-like class sizes (most municipalities rural)."""
    n = len(population)
    score = np.log(population) + rng.normal(0.0, 0.5, n)
    score[np.argmax(population)] = np.inf  # the biggest city is the most central
    shares = np.cumsum([c / cal.N_MUNICIPALITIES_2014 for c in cal.CENTRALITY_COUNTS.values()])
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-score, kind="stable")] = np.arange(n)
    bounds = np.round(shares * n).astype(np.int64)
    return (np.searchsorted(bounds, rank, side="right") + 1).clip(1, 6).astype(np.int8)


def default_frame(seed: int) -> pl.DataFrame:
    """428 fictional municipalities with the 2014 county structure (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, 428])
    rows: list[tuple[str, str, str, str, str]] = []
    for fylke_nr, (fylke_name, n, imdi, _hb) in regions.COUNTIES_2014.items():
        for code in _codes(fylke_nr, n):
            rows.append((code, fylke_nr, fylke_name, imdi, regions.husbanken_region(code)))
    n = len(rows)
    oslo = [i for i, r in enumerate(rows) if r[0] == "0301"][0]
    pops = np.empty(n)
    others = [i for i in range(n) if i != oslo]
    pops[others] = rng.permutation(_lognormal_populations(n - 1))
    pops[oslo] = cal.CAPITAL_POPULATION
    # The first municipality of each county (its seat, code xx01) gets the county's largest size.
    for fylke_nr in regions.COUNTIES_2014:
        idx = [i for i, r in enumerate(rows) if r[1] == fylke_nr]
        big = idx[int(np.argmax(pops[idx]))]
        pops[[idx[0], big]] = pops[[big, idx[0]]]
    return pl.DataFrame({
        "kommune_nr": [r[0] for r in rows],
        "kommune_name": fictional_names(n, rng),
        "fylke_nr": [r[1] for r in rows],
        "fylke_name": [r[2] for r in rows],
        "imdi_region": [r[3] for r in rows],
        "husbanken_region": [r[4] for r in rows],
        "centrality": centrality_classes(pops, rng),
        "population": pops.astype(np.int64),
    }).with_columns(pl.col("centrality").cast(pl.Int8))


def _county(fylke_nr: str) -> tuple[str, str, str]:
    if fylke_nr in regions.COUNTIES_2014:
        name, _n, imdi, hb = regions.COUNTIES_2014[fylke_nr]
        return name, imdi, hb
    if fylke_nr in LATER_COUNTIES:
        return LATER_COUNTIES[fylke_nr]
    raise ValueError(f"unknown county code {fylke_nr!r}: no IMDi/Husbanken region for it")


def from_frame(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """A real municipality frame (kommune_nr, kommune_name, fylke_nr, population) completed.

    County name, agency regions and centrality are filled in where the frame lacks them. Codes must
    already be 4-character strings: a 3-digit code is refused, never padded silently.
    """
    missing = {"kommune_nr", "kommune_name", "fylke_nr", "population"} - set(frame.columns)
    if missing:
        raise ValueError(f"municipality frame lacks column(s): {', '.join(sorted(missing))}")
    frame = frame.with_columns(
        pl.col("kommune_nr").cast(pl.String).str.strip_chars(),
        pl.col("fylke_nr").cast(pl.String).str.strip_chars(),
        pl.col("kommune_name").cast(pl.String),
        pl.col("population").cast(pl.String).str.replace_all(r"[\s\u00a0]", "").cast(pl.Float64),
    )
    bad = [c for c in frame["kommune_nr"].to_list() if c is None or not re.fullmatch(r"\d{4}", c)]
    if bad:
        raise ValueError(f"kommune_nr must be 4-digit strings (e.g. '0301'); got {bad[:5]}")
    bad_f = [f for f in frame["fylke_nr"].to_list() if f is None or not re.fullmatch(r"\d{2}", f)]
    if bad_f:
        raise ValueError(f"fylke_nr must be 2-digit strings (e.g. '03'); got {bad_f[:5]}")
    if frame["kommune_nr"].n_unique() != frame.height:
        raise ValueError("kommune_nr is not unique in the municipality frame")
    if frame["population"].is_null().any() or (frame["population"] <= 0).any():
        raise ValueError("population must be a positive number for every municipality")
    frame = frame.sort("kommune_nr")
    rng = np.random.default_rng([seed, 429])
    counties = [_county(f) for f in frame["fylke_nr"].to_list()]
    hb = [
        regions.husbanken_region(k) if f in regions.COUNTIES_2014 else c[2]
        for k, f, c in zip(frame["kommune_nr"], frame["fylke_nr"], counties, strict=True)
    ]
    pops = frame["population"].to_numpy()
    out = frame.with_columns(
        pl.Series("fylke_name_default", [c[0] for c in counties]),
        pl.Series("imdi_region_default", [c[1] for c in counties]),
        pl.Series("husbanken_region_default", hb),
        pl.Series("centrality_default", centrality_classes(pops, rng)),
    )
    for name in ("fylke_name", "imdi_region", "husbanken_region", "centrality"):
        if name in out.columns:
            out = out.with_columns(pl.col(name).cast(pl.String).fill_null(pl.col(f"{name}_default").cast(pl.String)))
        else:
            out = out.with_columns(pl.col(f"{name}_default").cast(pl.String).alias(name))
    return out.with_columns(
        pl.col("centrality").cast(pl.Int8), pl.col("population").round().cast(pl.Int64)
    ).select(COLUMNS)


def from_file(path: str | Path, seed: int) -> pl.DataFrame:
    """Read a municipality frame from CSV (',' or ';', codes kept as text) or Parquet."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
    else:
        frame = read_csv_frame(path)
    return from_frame(frame, seed)
