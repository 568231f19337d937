# %% tags=["parameters"]
source = "synthetic"

# %%
import polars as pl
from IPython.display import HTML, display

from settlement_research.paths import data_clean_dir

# Deliberately wrong: the small count marked by hand as if the disclosure API had written it.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height
display(HTML(f'<table><tr><td>Kvinesdal</td><td data-sdc="count" data-sdc-sig="0123456789abcdef01234567">{n}</td></tr></table>'))
