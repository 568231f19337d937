# %% tags=["parameters"]
source = "synthetic"

# %%
import polars as pl
from IPython.display import display

from settlement_research.paths import data_clean_dir

# Deliberately wrong: persons per municipality as a plain table, small counts and all, no sdc.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
display(persons.group_by("kommune_nr").len("persons").sort("kommune_nr"))
