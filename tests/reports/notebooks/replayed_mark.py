# %% tags=["parameters"]
source = "synthetic"

# %%
import polars as pl
from IPython.display import HTML, display

from settlement_research import sdc
from settlement_research.paths import data_clean_dir
from settlement_research.sdc import provenance

# Deliberately wrong: a genuine public mark made in another render (another key), replayed here.
with provenance.scope():
    mark = sdc.shown(3, public="requested")
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
display(HTML(f"<p>Kvinesdal settled {mark} refugees.</p>"))
