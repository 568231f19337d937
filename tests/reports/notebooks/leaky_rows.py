# %% tags=["parameters"]
kommune_nr = "0301"
source = "synthetic"

# %%
import polars as pl
from IPython.display import display

from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import save_results

# Deliberately wrong, the way a hurried analyst would: person rows on the page, an id in results.json.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
display(persons.head())
save_results({"kommune_nr": kommune_nr, "example": persons["person_id"][0]})
