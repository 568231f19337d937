# %% tags=["parameters"]
source = "synthetic"

# %%
import polars as pl

from settlement_research.paths import data_clean_dir

first = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")["person_id"][0]
raise ValueError(f"cannot place person {first} in a household")
