# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: settlement_research
#     language: python
#     name: settlement_research
# ---

# %% [markdown]
# # Data review
#
# **For reviewers.** What was built, from which inputs, whether every table passes its model and the
# cross-table rules, how complete the municipality-year tables are, and where cells are missing or
# suppressed. Nothing here changes the data.

# %% tags=["parameters"]
source = "synthetic"

# %%
import json

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Markdown, display

from settlement_research import catalog
from settlement_research.analysis import plots
from settlement_research.model import get_model
from settlement_research.paths import data_clean_dir
from settlement_research.relations import check_relations
from settlement_research.reports.results import save_results
from settlement_research.textsafe import escape_markdown
from settlement_research.validation import validate

plots.set_theme()
manifest_path = data_clean_dir() / "MANIFEST.json"
manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else {}

# %% [markdown]
# ## Manifest: inputs and outputs with checksums

# %%
section = manifest.get("sources", {}).get(source, manifest.get(source, {}))
outputs = section.get("outputs", {})
inputs = section.get("inputs", {})


def _rows(entries: object) -> list[dict]:
    if isinstance(entries, dict):
        return [{"name": k, **v} for k, v in entries.items()]
    return list(entries or [])


md = escape_markdown  # the manifest is a file: its strings are shown as text, never as markup
display(Markdown(f"Built {md(section.get('built_at', section.get('time', 'unknown time')))} with package "
                 f"{md(manifest.get('package_version', section.get('package_version', '?')))}, schema "
                 f"{md(manifest.get('schema_version', section.get('schema_version', '?')))}."))
if inputs:
    display(plots.table(pl.DataFrame(_rows(inputs)).select(pl.all().exclude("^.*sha256.*$"), pl.col("^.*sha256.*$").str.slice(0, 16)), caption="Inputs"))
if outputs:
    display(plots.table(pl.DataFrame(_rows(outputs)).select(pl.all().exclude("^.*sha256.*$"), pl.col("^.*sha256.*$").str.slice(0, 16)), caption="Outputs"))

# %% [markdown]
# ## Validation verdicts
# Every table is validated again here, on materialised data, against its pandera model; then the
# cross-table rules run over all tables together.

# %%
names = catalog.tables(source)
frames = {name: pl.read_parquet(catalog.path(name, source)) for name in names}
verdicts = []
for name, frame in frames.items():
    result = validate(frame, name)
    verdicts.append({"table": name, "level": get_model(name).Config.metadata["level"], "rows": frame.height,
                     "verdict": "valid" if result.valid else "INVALID", "errors": len(result.errors),
                     "warnings": len(result.warnings)})
relational = check_relations(frames)
verdict_table = pl.DataFrame(verdicts)
display(plots.table(verdict_table, caption="Model validation of every table"))
relational_table = pl.DataFrame(
    [{"table": p.table, "severity": p.severity, "rule": p.rule, "rows": p.n_rows, "message": p.message}
     for p in relational],
    schema={"table": pl.String, "severity": pl.String, "rule": pl.String, "rows": pl.Int64, "message": pl.String},
)
display(plots.table(relational_table, caption="Cross-table rules") if relational_table.height else Markdown("All cross-table rules pass."))

# %% [markdown]
# ## Coverage by municipality and year

# %%
kommune_year_tables = [n for n in names if {"kommune_nr", "year"} <= set(frames[n].columns)
                       and get_model(n).Config.metadata["level"] == "aggregate"]
coverage = pl.concat([
    frames[n].group_by("year").agg(pl.col("kommune_nr").n_unique().alias("municipalities")).with_columns(
        pl.lit(n).alias("table")) for n in kommune_year_tables
]).pivot(on="table", index="year", values="municipalities").sort("year") if kommune_year_tables else pl.DataFrame()
display(plots.table(coverage, caption="Municipalities with a row, by table and year"))

# %% [markdown]
# ## Missing and suppressed cells
# A null with a status symbol is a cell the source withheld (`:` suppressed, `.` not applicable, `..`
# missing); a null without a symbol is a cell the source did not provide at all.

# %%
missing_rows = []
for n in kommune_year_tables:
    frame = frames[n]
    for column in frame.columns:
        if column.endswith("_symbol") or f"{column}_symbol" not in frame.columns:
            continue
        symbols = frame[f"{column}_symbol"]
        missing_rows.append({
            "table": n, "column": column, "rows": frame.height,
            "null": frame[column].null_count(),
            "suppressed (:)": int((symbols == ":").sum()),
            "other symbol": int((symbols.is_not_null() & (symbols != ":")).sum()),
        })
missing = pl.DataFrame(missing_rows)
display(plots.table(missing.filter(pl.col("null") > 0), caption="Missing cells by column") if missing.height else Markdown("No symbol columns."))

# %%
if missing.height:
    shown = missing.filter(pl.col("null") > 0).with_columns((pl.col("table") + "." + pl.col("column")).alias("cell"))
    if shown.height:
        fig, ax = plt.subplots(figsize=(8, 0.35 * shown.height + 1.5))
        ax.barh(shown["cell"], shown["null"] / shown["rows"])
        plots.finish(ax, title="Share of cells missing, by column", xlabel="Share of rows (0–1)", ylabel="",
                     source=source)
        plt.show()

# %% [markdown]
# ## Verdict

# %%
n_invalid = verdict_table.filter(pl.col("verdict") != "valid").height
n_rel_errors = sum(p.severity == "error" for p in relational)
display(Markdown(
    f"**{'PASS' if not n_invalid and not n_rel_errors else 'FAIL'}** — {verdict_table.height} tables, "
    f"{n_invalid} invalid; {n_rel_errors} cross-table errors and "
    f"{sum(p.severity == 'warning' for p in relational)} warnings."
))
save_results({
    "source": source, "tables": verdicts, "invalid_tables": n_invalid,
    "relational_errors": n_rel_errors,
    "relational_warnings": [p.rule for p in relational if p.severity == "warning"],
})
