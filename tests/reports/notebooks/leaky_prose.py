# %% tags=["parameters"]
source = "synthetic"
how = "markdown"

# %%
import polars as pl
from IPython.display import HTML, Markdown, display

from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import save_results

# Deliberately wrong: a small count written outside any table cell, one way per run.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height
by_kommune = persons.group_by("kommune_nr").len("persons").sort("kommune_nr")
if how == "markdown":
    display(Markdown(f"Kvinesdal settled only {n} refugees in the period."))
elif how == "print":
    print(f"{n} persons settled in Kvinesdal")
elif how == "pandas":
    print(by_kommune.to_pandas())
elif how == "header":
    display(HTML(f"<table><thead><tr><th>{n}</th></tr></thead><tbody><tr><td>Kvinesdal</td></tr></tbody></table>"))
elif how == "caption":
    display(HTML(f"<table><caption>Kvinesdal: {n} persons</caption><tr><td>x</td></tr></table>"))
elif how == "results":
    save_results({"by_kommune": {r["kommune_nr"]: {"persons": r["persons"]} for r in by_kommune.to_dicts()}})
elif how == "decimals":
    display(HTML(f"<table><tr><td>Kvinesdal</td><td>{n / 3:.2f}</td></tr><tr><td>Oslo</td><td>40.00</td></tr></table>"))
