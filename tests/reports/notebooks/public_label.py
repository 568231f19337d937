# %% tags=["parameters"]
source = "synthetic"
kommune_nr = "1037"
show = "requested"

# %%
import polars as pl
from IPython.display import display

from settlement_research import sdc
from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import save_results

folder = data_clean_dir() / source
if show == "requested":  # IMDi's published requests, small ones included: may be shown
    shown = pl.read_parquet(folder / "kommune_settlement_year.parquet").filter(pl.col("kommune_nr") == kommune_nr)
    shown = shown.select("year", "requested").sort("year")
    total, year = shown["requested"].to_list()[0], shown["year"].to_list()[0]
else:  # deliberately wrong: register counts under the public column's name
    if show == "rewrite":  # ... after making the public table say the same (the gate loaded it before)
        table = pl.read_parquet(folder / "kommune_settlement_year.parquet")
        table.with_columns(requested=pl.lit(1, pl.Int32)).write_parquet(folder / "kommune_settlement_year.parquet")
    persons = pl.read_parquet(folder / "settlement.parquet").filter(pl.col("kommune_nr") == kommune_nr)
    shown = (persons.group_by(pl.col("settlement_date").dt.year().alias("year")).len()
             .rename({"len": "requested"}).sort("year"))
    total, year = shown["requested"].to_list()[1], shown["year"].to_list()[1]
display(sdc.to_html(shown.with_columns(pl.col("year").cast(pl.Int32)), public=["requested"]))
save_results({"requested": total}, public_keys={"requested": year})  # the year the number is of
