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

LEAKED_GLOBAL = marker
mpl.rcParams["lines.linewidth"] = 7.5
pd.set_option("display.max_rows", 3)
pl.Config.set_tbl_rows(3)
os.environ["SR_LEAKED_ENV"] = marker
os.chdir("/")
warnings.simplefilter("error")
leak_handler = logging.NullHandler()
leak_handler.set_name("sr-leak")
logging.getLogger().addHandler(leak_handler)
fig = plt.figure()  # left open on purpose
