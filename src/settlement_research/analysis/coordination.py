"""Agency coordination (H10): each municipality's IMDi–Husbanken office pair and its index.

Only nine office pairs exist, so any estimate of a coordination "effect" rests on nine data points,
whatever the number of municipality-years. ``permutation_test`` makes that explicit by shuffling
the index across pairs, not across municipalities.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from settlement_research.regions import HUSBANKEN_OFFICES, IMDI_OFFICES, coordination_index


def _short(offices: dict[str, str]) -> dict[str, str]:
    """Office names without the town in brackets: 'Midt-Norge (Trondheim)' -> 'Midt-Norge'."""
    return {k: v.split(" (")[0] for k, v in offices.items()}


def kommune_coordination(kommune: pl.DataFrame) -> pl.DataFrame:
    """Per municipality: its office pair, the pair's coordination index and a region-mismatch flag.

    A mismatch is a pair whose two regions carry different names (e.g. Husbanken Sør with IMDi Indre Øst).
    """
    index = coordination_index()
    out = kommune.select("kommune_nr", "kommune_name", "fylke_nr", "imdi_region", "husbanken_region").join(
        index, on=["husbanken_region", "imdi_region"], how="left"
    )
    return out.with_columns(
        # the pair by its offices' names (Sør–Indre Øst), as readers know them; ids stay in their columns
        (pl.col("husbanken_region").replace_strict(_short(HUSBANKEN_OFFICES), default=pl.col("husbanken_region"))
         + "–" + pl.col("imdi_region").replace_strict(_short(IMDI_OFFICES), default=pl.col("imdi_region"))
         ).alias("office_pair"),
        (pl.col("husbanken_region") != pl.col("imdi_region")).alias("region_mismatch"),
    )


def pair_level(panel: pl.DataFrame, outcome: str, *, numerator: str | None = None,
               denominator: str | None = None) -> pl.DataFrame:
    """Collapse a municipality-year panel to the nine office pairs (the real unit of variation).

    With ``numerator`` and ``denominator`` the pair's value is the ratio of their sums (settled over
    requested across all its municipality-years), not a mean of ratios that lets a municipality
    asked for two refugees weigh as much as one asked for two hundred.
    """
    if (numerator is None) != (denominator is None):
        raise ValueError("give both numerator and denominator, or neither")
    if numerator is not None and denominator is not None:
        rows = panel.drop_nulls([numerator, denominator, "coordination_index"]).filter(pl.col(denominator) > 0)
        value = (pl.col(numerator).sum() / pl.col(denominator).sum()).alias(outcome)
        extra = [pl.col(numerator).sum().alias(numerator), pl.col(denominator).sum().alias(denominator)]
    else:
        rows = panel.drop_nulls([outcome, "coordination_index"])
        value, extra = pl.col(outcome).mean().alias(outcome), []
    return (
        rows.group_by("office_pair", "coordination_index")
        .agg(value, *extra, pl.len().alias("rows"), pl.col("kommune_nr").n_unique().alias("municipalities"))
        .sort("coordination_index", "office_pair")
    )


def pair_regression(pairs: pl.DataFrame, outcome: str, *, reps: int = 9999, seed: int = 1) -> dict[str, float]:
    """Slope of the pair-level outcome on the index: OLS, wild bootstrap p and the minimum detectable effect.

    One observation per pair, so the wild bootstrap over pairs is the wild cluster bootstrap; the MDE
    (80 % power, 5 % two-sided, t with n - 2 degrees of freedom) says how large a slope nine pairs
    could reveal at all.
    """
    from settlement_research.analysis import inference

    x = np.column_stack([np.ones(pairs.height), pairs["coordination_index"].to_numpy()])
    y = pairs[outcome].to_numpy().astype(float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = pairs.height - 2
    se = float(np.sqrt(resid @ resid / dof * np.linalg.inv(x.T @ x)[1, 1]))
    boot = inference.wild_cluster_bootstrap(x, y, np.arange(pairs.height), 1, reps=reps, seed=seed)
    return {"slope": float(beta[1]), "std_error": se, "wild_bootstrap_p": boot.p_value, "reps": reps,
            "n_pairs": pairs.height, "mde_80": inference.minimum_detectable_effect(se, dof)}


def permutation_test(pairs: pl.DataFrame, outcome: str, *, n_perm: int = 5000, seed: int = 1) -> dict[str, float]:
    """Slope of outcome on index across pairs, with a p-value from shuffling the index over pairs."""
    x = pairs["coordination_index"].to_numpy()
    y = pairs[outcome].to_numpy()

    def slope(xv: np.ndarray) -> float:
        return float(np.polyfit(xv, y, 1)[0])

    observed = slope(x)
    rng = np.random.default_rng(seed)
    perms = np.array([slope(rng.permutation(x)) for _ in range(n_perm)])
    p = float((np.abs(perms) >= abs(observed) - 1e-12).mean())
    return {"slope": observed, "p_value": p, "n_pairs": int(len(x)), "n_perm": n_perm}
