# %% tags=["parameters"]
kommune_nr = "0301"
fail_on = ""
crash_on = ""
sleep_s = "0"

# %%
import os
import time

from settlement_research.reports.results import save_results

if kommune_nr == crash_on:
    os._exit(3)  # kills the process running the report
time.sleep(float(sleep_s))
if kommune_nr == fail_on:
    raise RuntimeError(f"deliberate failure for {kommune_nr}")
save_results({"kommune_nr": kommune_nr, "length": len(kommune_nr)})
