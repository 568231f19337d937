"""Agency coordination (H10): each municipality's IMDi–Husbanken office pair and its index.

Only nine office pairs exist, so any estimate of a coordination "effect" rests on nine data points,
whatever the number of municipality-years. ``permutation_test`` makes that explicit by shuffling
the index across pairs, not across municipalities.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from settlement_research.regions import coordination_index


def kommune_coordination(kommune: pl.DataFrame) -> pl.DataFrame:
    """Per municipality: its office pair, the pair's coordination index and a region-mismatch flag.

    A mismatch is a pair whose two regions carry different names (e.g. Husbanken Sør with IMDi Indre Øst).
    """
    index = coordination_index()
    out = kommune.select("kommune_nr", "kommune_name", "fylke_nr", "imdi_region", "husbanken_region").join(
        index, on=["husbanken_region", "imdi_region"], how="left"
    )
    return out.with_columns(
        (pl.col("husbanken_region") + "–" + pl.col("imdi_region")).alias("office_pair"),
        (pl.col("husbanken_region") != pl.col("imdi_region")).alias("region_mismatch"),
    )


def pair_level(panel: pl.DataFrame, outcome: str) -> pl.DataFrame:
    """Collapse a municipality-year panel to the nine office pairs (the real unit of variation)."""
    return (
        panel.drop_nulls([outcome, "coordination_index"])
        .group_by("office_pair", "coordination_index")
        .agg(pl.col(outcome).mean().alias(outcome), pl.len().alias("rows"),
             pl.col("kommune_nr").n_unique().alias("municipalities"))
        .sort("coordination_index")
    )


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
