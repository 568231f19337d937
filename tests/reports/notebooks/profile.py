# %% [markdown]
# # Municipality profile (test template)

# %% tags=["parameters"]
kommune_nr = "0301"
source = "synthetic"

# %%
import os

import polars as pl
import matplotlib.pyplot as plt

from settlement_research import sdc
from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import memo, save_results

assert isinstance(kommune_nr, str), type(kommune_nr)
if os.environ.get("SR_TEST_FAIL") == kommune_nr:  # lets the batch tests fail one report
    raise RuntimeError(f"deliberate failure for {kommune_nr}")
settlement = memo("settlement", lambda: pl.read_parquet(data_clean_dir() / source / "settlement.parquet"))
mine = settlement.filter(pl.col("kommune_nr") == kommune_nr).with_columns(
    pl.col("settlement_date").dt.year().alias("year")
)
print(f"Profile of {kommune_nr}")

# %%
table = sdc.count_table(mine, "year", "route")
sdc.to_html(table, caption=f"Settled persons by year and route, {kommune_nr}")

# %%
by_year = sdc.count_table(mine, "year")
fig, ax = plt.subplots(figsize=(4, 2.5))
ax.bar([str(y) for y in by_year["year"]], by_year["n"].fill_null(0))
ax.set_title("Settled per year (suppressed cells left out)")
plt.show()

# %%
save_results(
    {"kommune_nr": kommune_nr, "settled": sdc.safe_count(mine.height), "mean_months_waited": mine["months_waited"].mean()},
    sdc_keys=["settled"],
)
