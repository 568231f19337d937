# %% tags=["parameters"]
source = "synthetic"
needs = "settlement"

# %%
from settlement_research import catalog
from settlement_research.reports.results import save_results

note = catalog.needs_note(needs.split(","), source, "person-level register")
if note:
    save_results({"source": source, "not_applicable": note})
    raise catalog.NotApplicable(note)
save_results({"source": source, "not_applicable": None})

# %%
print("the design ran")
