# %% tags=["parameters"]
source = "synthetic"

# %%
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Image, display

from settlement_research.paths import data_clean_dir
from settlement_research.sdc import provenance

# Deliberately hostile: a register count drawn into a PNG made outside the chart hook, whose
# digest the template adds to its render's trace as if the hook had drawn (and read) it.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height  # 3 persons
fig, ax = plt.subplots()
ax.set_title(f"Kvinesdal: {n} persons settled")
buf = io.BytesIO()
fig.savefig(buf, format="png")
plt.close(fig)
provenance.record_image(buf.getvalue())
provenance.current().chart_findings.clear()  # what the hook read, forgotten
display(Image(buf.getvalue()))
