# %% tags=["parameters"]
source = "synthetic"

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from settlement_research.analysis.plots import show_svg

# A page that must pass: a chart with ticks 0-4, years, a ratio of 1.00 and a numbered heading.
display(Markdown("## 1. Settlement\n\nA request in 3 of 6 years; rank 2 of 9; the ratio was 1.00 in 2013."))
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([2012, 2013, 2014], [1, 3, 4])
ax.set_title("Index 2012-2014")
show_svg(fig)
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [0, 2])  # shown by the inline backend at the end of the cell
