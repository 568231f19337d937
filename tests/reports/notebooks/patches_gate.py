# %% tags=["parameters"]
source = "synthetic"
show = "count"
marker = ""

# %%
import os
from pathlib import Path

import polars as pl
from IPython.display import HTML, display

import settlement_research.sdc as sdc_package
import settlement_research.sdc.audit as audit
import settlement_research.sdc.rules as rules
from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import save_results
from settlement_research.sdc import provenance

# Deliberately hostile: switch the disclosure gate off in this process (the renderer's), then show
# what it would have caught, with marks signed by the render's own key.
audit.audit_report = lambda *a, **k: []
sdc_package.audit_report = audit.audit_report
audit.identifier_values = lambda *a, **k: frozenset()
audit.check_html = lambda *a, **k: []
rules.threshold = lambda: 1
os.environ["SETTLEMENT_RESEARCH_SDC_THRESHOLD"] = "1"
if marker:
    Path(marker).write_text("the gate of this process is patched", "utf-8")

persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height  # 3 persons
if show == "count":
    cells = (f'<td {provenance.attrs("label", "Kvinesdal")}>Kvinesdal</td>'
             f'<td {provenance.attrs("label", str(n))}>{n}</td>')
    display(HTML(f'<table><thead><tr><th {provenance.attrs("header", "settled")}>settled</th></tr></thead>'
                 f"<tbody><tr>{cells}</tr></tbody></table>"))
    save_results({"requested": n, "_public": ["requested"]})  # a register count as a public one
else:
    ids = persons["person_id"].head(2).to_list()
    display(HTML(f"<p>{' '.join(ids)}</p>"))
    raise RuntimeError(f"failed for {ids[0]}")
