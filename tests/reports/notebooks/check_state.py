# %% tags=["parameters"]
marker = "leak"

# %%
import logging
import os
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import polars as pl

leaks = []
if "LEAKED_GLOBAL" in globals():
    leaks.append("global")
if "fig" in globals():
    leaks.append("fig")
if mpl.rcParams["lines.linewidth"] == 7.5:
    leaks.append("rcParams")
if pd.get_option("display.max_rows") == 3:
    leaks.append("pandas option")
if os.environ.get("SR_LEAKED_ENV"):
    leaks.append("environment")
if os.getcwd() == "/":
    leaks.append("cwd")
if plt.get_fignums():
    leaks.append("open figures")
if any(f[0] == "error" and f[2] is Warning for f in warnings.filters):
    leaks.append("warning filters")
if any(h.get_name() == "sr-leak" for h in logging.getLogger().handlers):
    leaks.append("logging handler")
if pl.Config.state(if_set=True).get("POLARS_FMT_MAX_ROWS") == "3":
    leaks.append("polars config")
assert not leaks, f"state leaked from a previous report: {leaks}"
print("clean")
