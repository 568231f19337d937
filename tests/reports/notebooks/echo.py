# %% tags=["parameters"]
label = "plain"
source = "synthetic"
first_year = "2009"
last_year = "2014"

# %%
from settlement_research.reports.results import save_results

save_results({"label": label, "source": source, "first_year": first_year, "last_year": last_year})
