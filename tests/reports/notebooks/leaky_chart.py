# %% tags=["parameters"]
source = "synthetic"
how = "title"

# %%
import io

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Image, display

from settlement_research.paths import data_clean_dir

# Deliberately wrong: what a chart draws is text too.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
first = persons["person_id"][0]
n = persons.filter(pl.col("kommune_nr") == "1037").height
fig, ax = plt.subplots(figsize=(3, 2))
ax.bar(["Kvinesdal", "Oslo"], [n, 40])
if how == "title":
    ax.set_title(f"Settled, first person {first}")
elif how == "annotation":
    ax.annotate(str(n), (0, n))
elif how == "legend":
    ax.bar([0], [1], label=f"{n} persons")
    ax.legend()
elif how == "unchecked":  # an image whose pixels the gate cannot read: not drawn through the hook
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (20, 10), "white").save(buffer, "PNG")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))
if how != "unchecked":
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))
