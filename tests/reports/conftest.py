"""A tiny self-made data_clean (kommune + person-level settlement) and the test templates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"

# kommune_nr -> (name, county nr, county, imdi region, husbanken region, settled persons)
KOMMUNER = {
    "0301": ("Oslo", "03", "Oslo", "ost", "ost", 40),
    "0501": ("Lillehammer", "05", "Oppland", "indre_ost", "ost", 12),
    "1037": ("Kvinesdal", "10", "Vest-Agder", "sor", "sor", 3),  # settles only a few: ':'
    "1201": ("Bergen", "12", "Hordaland", "vest", "vest", 25),
}


def make_clean(root: Path) -> Path:
    """Write data_clean/synthetic/{kommune,settlement}.parquet and MANIFEST.json under ``root``."""
    folder = root / "synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "kommune_nr": list(KOMMUNER),
            "kommune_name": [v[0] for v in KOMMUNER.values()],
            "fylke_nr": [v[1] for v in KOMMUNER.values()],
            "fylke_name": [v[2] for v in KOMMUNER.values()],
            "imdi_region": [v[3] for v in KOMMUNER.values()],
            "husbanken_region": [v[4] for v in KOMMUNER.values()],
            "centrality": pl.Series([1, 3, 6, 1], dtype=pl.Int8),
            "valid_from": pl.Series([1838, 1838, 1838, 1838], dtype=pl.Int16),
            "valid_to": pl.Series([None, None, None, None], dtype=pl.Int16),
        }
    ).write_parquet(folder / "kommune.parquet")
    rows = []
    n = 0
    for code, (*_, settled) in KOMMUNER.items():
        for i in range(settled):
            n += 1
            rows.append({
                "person_id": f"P{n:06d}",
                "settlement_date": dt.date(2012 + i % 3, 1 + i % 12, 1),
                "kommune_nr": code,
                "route": ["ordinary", "agreed_self", "own"][i % 3 if settled > 5 else 0],
                "months_waited": float(3 + i % 9),
            })
    pl.DataFrame(rows).write_parquet(folder / "settlement.parquet")
    (root / "MANIFEST.json").write_text(json.dumps({"tables": sorted(p.name for p in folder.iterdir())}), "utf-8")
    return root


@pytest.fixture(scope="session")
def clean_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clean(tmp_path_factory.mktemp("data_clean"))


@pytest.fixture()
def clean_env(clean_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(clean_dir))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SDC_THRESHOLD", raising=False)
    monkeypatch.delenv("SETTLEMENT_RESEARCH_PERSON_ID_PATTERN", raising=False)
    return clean_dir
