# %% tags=["parameters"]
source = "synthetic"
how = "title"

# %%
import io

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Image, display

from settlement_research.analysis.plots import show_svg
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
elif how == "mathtext":  # one <tspan> per glyph in the SVG: read as one text
    ax.set_title(f"${n}$ persons")
elif how == "ticks":  # the count as a category's tick label: no axis's scale
    ax.set_xticks([0, 1], labels=[str(n), "40"])
elif how == "pieces":  # an id in two texts side by side, written right piece first
    ax.text(0.6, 0.5, str(first)[5:], transform=ax.transAxes)
    ax.text(0.2, 0.5, str(first)[:5], transform=ax.transAxes)
if how == "raster":  # an image whose text the gate cannot read, however harmless it looks
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (20, 10), "white").save(buffer, "PNG")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))
elif how == "glyphs":  # text drawn as glyph paths: shapes, not text
    ax.set_title("Settled")
    with plt.rc_context({"svg.fonttype": "path"}):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    display({"image/svg+xml": buffer.getvalue().decode()}, raw=True)
else:
    show_svg(fig)
