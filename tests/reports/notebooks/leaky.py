# %% tags=["parameters"]
kommune_nr = "0301"
source = "synthetic"

# %%
import polars as pl
from IPython.display import HTML, display

from settlement_research.paths import data_clean_dir

settlement = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
mine = settlement.filter(pl.col("kommune_nr") == kommune_nr)
# Deliberately wrong: shows the raw count in a controlled cell and lists person ids.
display(HTML(f'<table><tr><td data-sdc="count">{mine.height}</td></tr></table>'))
print(mine["person_id"].head(2).to_list())

# %%
from settlement_research.reports.results import save_results

save_results({"settled": mine.height}, sdc_keys=["settled"])  # wrong too: not through safe_count
