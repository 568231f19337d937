# %% tags=["parameters"]
source = "synthetic"
how = "png"

# %%
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Image, display

from settlement_research.paths import data_clean_dir
from settlement_research.sdc import provenance

# Deliberately hostile: a register count drawn into a chart, and the chart hook's findings in the
# render's trace forgotten, so that only the clean gate (which reads the chart itself) stands.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height  # 3 persons
fig, ax = plt.subplots()
if how == "svg_annotation":
    ax.bar([0], [n])
    ax.annotate(str(n), (0, n))
elif how == "svg_mathtext":
    ax.set_title(f"Kvinesdal: ${n}$ persons settled")
else:
    ax.set_title(f"Kvinesdal: {n} persons settled")
buf = io.BytesIO()
fig.savefig(buf, format="png" if how == "png" else "svg")
plt.close(fig)
provenance.current().chart_findings.clear()  # what the hook read, forgotten
if how == "png":
    display(Image(buf.getvalue()))
else:
    display({"image/svg+xml": buf.getvalue().decode()}, raw=True)
