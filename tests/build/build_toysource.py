"""A tiny hand-made source for the build tests: a raw folder writer and its read(raw_dir).

It follows the source protocol (SOURCE_NAME, read(raw_dir) -> lazy model tables) without depending
on the synthetic or IMDi importers, so build.py is tested on its own. CSV files are read as text
(validation casts them), Parquet files as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import polars as pl

from settlement_research.io import sha256_file
from settlement_research.model.settlement import decision_status_expr
from settlement_research.regions import husbanken_region, imdi_region

SOURCE_NAME = "toy"
KOMMUNER = {"0301": "Oslo", "1201": "Bergen", "0501": "Lillehammer", "1505": "Kristiansund"}
FYLKER = {"03": "Oslo", "12": "Hordaland", "05": "Oppland", "15": "Møre og Romsdal"}
YEARS = [2013, 2014, 2015]
CSV_TABLES = ("kommune", "kommune_settlement_year")


def read(raw_dir: Path) -> dict[str, pl.LazyFrame]:
    tables: dict[str, pl.LazyFrame] = {}
    for path in sorted(Path(raw_dir).iterdir()):
        if path.suffix == ".parquet":
            tables[path.stem] = pl.scan_parquet(path)
        elif path.suffix == ".csv":
            tables[path.stem] = pl.scan_csv(path, infer_schema=False)
    return tables


def make_tables(n_persons: int = 120, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Consistent person-level and aggregate tables for four municipalities, 2013-2015."""
    rng = random.Random(seed)
    kommune = pl.DataFrame({
        "kommune_nr": list(KOMMUNER),
        "kommune_name": list(KOMMUNER.values()),
        "fylke_nr": [k[:2] for k in KOMMUNER],
        "fylke_name": [FYLKER[k[:2]] for k in KOMMUNER],
        "imdi_region": [imdi_region(k[:2]) for k in KOMMUNER],
        "husbanken_region": [husbanken_region(k) for k in KOMMUNER],
        "centrality": ["1", "1", "3", "4"],
        "valid_from": ["1838"] * 4,
        "valid_to": ["2019"] * 4,
    })
    persons, settlements, housing, intro, outcomes = [], [], [], [], []
    for i in range(n_persons):
        pid = f"p{i:04d}"
        k = rng.choice(list(KOMMUNER))
        arrival = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(0, 700))
        permit = arrival + dt.timedelta(days=rng.randrange(60, 300))
        settled = permit + dt.timedelta(days=rng.randrange(30, 400))
        minor = rng.random() < 0.1
        persons.append({
            "person_id": pid, "birth_year": 2000 if minor else rng.randrange(1960, 1995),
            "sex": rng.choice(["female", "male"]), "country_group": rng.choice(["syria", "eritrea", "other"]),
            "education": rng.choice(["none", "primary", "secondary"]), "arrival_date": arrival,
            "permit_date": permit, "unaccompanied_minor": minor,
        })
        settlements.append({
            "person_id": pid, "settlement_date": settled, "kommune_nr": k,
            "route": rng.choice(["ordinary", "ordinary", "agreed_self", "own"]),
            "months_waited": round((settled - permit).days / 30.4, 1),
        })
        move = settled + dt.timedelta(days=rng.randrange(100, 600))
        housing.append({"person_id": pid, "spell_no": 1, "kommune_nr": k, "start_date": settled,
                        "end_date": move - dt.timedelta(days=1), "tenure": "municipal_rental",
                        "rooms": 2, "persons": 1})
        housing.append({"person_id": pid, "spell_no": 2, "kommune_nr": k, "start_date": move,
                        "end_date": None, "tenure": rng.choice(["private_rental", "owner_startlan"]),
                        "rooms": 3, "persons": 2})
        start = settled + dt.timedelta(days=rng.randrange(10, 90))
        end = start + dt.timedelta(days=rng.randrange(200, 700))
        done = end <= dt.date(2016, 6, 30)
        intro.append({"person_id": pid, "spell_no": 1, "kommune_nr": k, "start_date": start,
                      "end_date": end if done else None,
                      "end_reason": rng.choice(["completed", "interrupted"]) if done else "ongoing"})
        for year in range(settled.year, 2017):
            outcomes.append({"person_id": pid, "year": year, "kommune_nr": k,
                             "status": rng.choice(["work", "education", "unemployed", "other"])})
    sky = pl.DataFrame(
        [{"kommune_nr": k, "year": str(y), "classification_year": "2014",
          "requested": str(rng.randrange(5, 40)), "decided": rng.choice([None, "0", "10", "30"])}
         for k in KOMMUNER for y in YEARS]
    )
    status = sky.with_columns(pl.col("requested", "decided").cast(pl.Int32)).select(decision_status_expr())
    sky = sky.with_columns(decision_status=status.to_series())
    national = pl.DataFrame({
        "year": pl.Series(YEARS, dtype=pl.Int16), "settled": pl.Series([40, 40, 40], dtype=pl.Int32),
        "reference_date": [dt.date(y, 12, 31) for y in YEARS], "source": ["toy"] * 3,
    })
    return {
        "kommune": kommune,
        "national_settlement_year": national,
        "kommune_settlement_year": sky,
        "person": pl.DataFrame(persons),
        "settlement": pl.DataFrame(settlements),
        "housing_spell": pl.DataFrame(housing).with_columns(pl.col("spell_no", "rooms", "persons").cast(pl.Int16)),
        "intro_spell": pl.DataFrame(intro).with_columns(pl.col("spell_no").cast(pl.Int16)),
        "outcome_year": pl.DataFrame(outcomes).with_columns(pl.col("year").cast(pl.Int16)),
    }


def write_raw(
    raw_dir: Path,
    tables: dict[str, pl.DataFrame] | None = None,
    *,
    folder: str = "toy",
    checksums: bool = True,
) -> Path:
    """Write the tables as a raw source folder with PROVENANCE.json and a ground_truth.json."""
    tables = make_tables() if tables is None else tables
    out = Path(raw_dir) / folder
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name in CSV_TABLES:
            frame.write_csv(out / f"{name}.csv")
        else:
            frame.write_parquet(out / f"{name}.parquet")
    (out / "ground_truth.json").write_text(json.dumps({"persons": tables["person"].height}), "utf-8")
    files = sorted(p for p in out.iterdir() if p.name != "PROVENANCE.json")
    provenance = {
        "source": SOURCE_NAME,
        "files": [{"path": p.name, "sha256": sha256_file(p)} for p in files] if checksums else [],
    }
    (out / "PROVENANCE.json").write_text(json.dumps(provenance), "utf-8")
    return out
