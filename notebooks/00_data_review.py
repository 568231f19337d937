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

from settlement_research import catalog, sdc
from settlement_research.analysis import plots
from settlement_research.model import get_model, primary_key
from settlement_research.pages import lineage
from settlement_research.pages.tables import format_value
from settlement_research.paths import data_clean_dir
from settlement_research.relations import check_relations
from settlement_research.reports.results import save_results
from settlement_research.textsafe import escape_markdown
from settlement_research.validation import validate

plots.set_theme()
lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
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


ROW_COUNTS = ("rows", "input rows", "quarantined rows", "input_rows", "quarantined_rows", "quarantined")
# Headers for readers, not the manifest's field names; file times are left out (they say when a
# file was written on one machine, nothing about the data).
REVIEW_LABELS = {"path": "file", "size": "size (bytes)", "input_rows": "input rows",
                 "quarantined_rows": "quarantined rows", "derived_columns": "derived columns",
                 "sha256": "sha256 (first 16)"}
LEFT_OUT = ("mtime_ns", "mtime")


def small_record_counts(tables: dict[str, int]) -> set[str]:
    """Person-level tables with 1 to t-1 records quarantined or breaking a cross-table rule."""
    t = sdc.threshold()
    return {n for n, k in tables.items() if 0 < k < t and get_model(n).Config.metadata["level"] != "aggregate"}


def review_table(frame: pl.DataFrame, caption: str, hidden_tables: set[str] = frozenset(), *, name: str,
                 origin: str | dict = "") -> object:
    """A table about files, rules and coverage. Its numbers count tables, rules, cells and
    municipalities, not persons with a trait, so the disclosure gate sees them as labels; every
    record count of a person-level table with a few quarantined or rule-breaking records is shown as
    ':' (its total too, so the few cannot be had by subtraction).

    ``origin``: where the numbers come from, as one sentence for every number column, or a
    ``pages.lineage`` cell spec per column; each number gets a hover and a line in the page's
    lineage file (``name``: the table's name there)."""
    counts = [c for c in ROW_COUNTS if c in frame.columns]
    hide = pl.col("table").is_in(sorted(hidden_tables)) if hidden_tables and "table" in frame.columns else pl.lit(False)
    frame = frame.with_columns(
        pl.when(hide).then(pl.lit(sdc.SUPPRESSED)).otherwise(
            pl.col(c).map_elements(lambda v: format_value(v, "count"), return_dtype=pl.String)).alias(c)
        for c in counts
    )  # counts with the page's one thousands separator, like every other number on it
    frame = frame.drop([c for c in LEFT_OUT if c in frame.columns]).with_columns(
        pl.col(c).list.join(", ") for c, t in frame.schema.items() if isinstance(t, pl.List) and t.inner == pl.String
    )  # a list of names as text, not a Python list with quotes
    numbers = [c for c in frame.columns if c in counts or frame.schema[c].is_numeric()]
    cells = lineage.constant(numbers, origin) if isinstance(origin, str) else origin
    frame = frame.rename({c: label for c, label in REVIEW_LABELS.items() if c in frame.columns})
    cells = {REVIEW_LABELS.get(c, c): spec for c, spec in cells.items()}
    return lin.table(sdc.to_html(frame, labels=list(frame.columns), caption=caption, float_digits=0), frame, name, cells)


md = escape_markdown  # the manifest is a file: its strings are shown as text, never as markup
display(Markdown(f"Built {md(section.get('built_at', section.get('time', 'unknown time')))} with package "
                 f"{md(manifest.get('package_version', section.get('package_version', '?')))}, schema "
                 f"{md(manifest.get('schema_version', section.get('schema_version', '?')))}."))

def _files(entries: object) -> pl.DataFrame:
    frame = pl.DataFrame(_rows(entries))
    return frame.select(pl.all().exclude("^.*sha256.*$"), pl.col("^.*sha256.*$").str.slice(0, 16))


out_frame = _files(outputs) if outputs else pl.DataFrame()
quarantined = {}
if out_frame.height and {"table", "quarantined rows"} <= set(out_frame.columns):
    quarantined = {k: int(v or 0) for k, v in out_frame.select("table", "quarantined rows").iter_rows() if k}
for name in ("quarantined_rows", "quarantined"):
    if out_frame.height and {"table", name} <= set(out_frame.columns):
        quarantined = {k: int(v or 0) for k, v in out_frame.select("table", name).iter_rows() if k}

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
rule_rows: dict[str, int] = {}
for p in relational:
    rule_rows[p.table] = min(rule_rows.get(p.table, p.n_rows), p.n_rows)
hidden = small_record_counts(quarantined) | small_record_counts(rule_rows)
FROM_MANIFEST = "data_clean/MANIFEST.json: the build's record of the files it read and wrote"
if inputs:
    display(review_table(_files(inputs), "Inputs", hidden, name="inputs", origin=FROM_MANIFEST))
if out_frame.height:
    display(review_table(out_frame, "Outputs", hidden, name="outputs", origin=FROM_MANIFEST))
verdict_table = pl.DataFrame(verdicts)
display(review_table(verdict_table, "Model validation of every table", hidden, name="validation",
                     origin="rows of data_clean/<source>/<table>.parquet (the table named in the row) and the "
                            "findings of validation.validate against its model"))
relational_table = pl.DataFrame(
    [{"table": p.table, "severity": p.severity, "rule": p.rule, "rows": p.n_rows, "message": p.message}
     for p in relational],
    schema={"table": pl.String, "severity": pl.String, "rule": pl.String, "rows": pl.Int64, "message": pl.String},
)
display(review_table(relational_table, "Cross-table rules", hidden, name="relations",
                     origin="rows breaking the rule, found by relations.check_relations over every clean table")
        if relational_table.height else Markdown("All cross-table rules pass."))

# %% [markdown]
# ## Coverage by municipality and year

# %%
kommune_year_tables = [n for n in names if {"kommune_nr", "year"} <= set(frames[n].columns)
                       and get_model(n).Config.metadata["level"] == "aggregate"]
coverage = pl.concat([
    frames[n].group_by("year").agg(pl.col("kommune_nr").n_unique().alias("municipalities")).with_columns(
        pl.lit(n).alias("table")) for n in kommune_year_tables
]).pivot(on="table", index="year", values="municipalities").sort("year") if kommune_year_tables else pl.DataFrame()
coverage_cells = {}
for n in kommune_year_tables:  # each count pools the table's rows of the year
    coverage_cells |= lineage.rows(n, {n: "kommune_nr"}, by={"year": "year"}, how="municipalities with a row",
                                   pool={c: "" for c in primary_key(n) if c != "year"})
display(review_table(coverage, "Municipalities with a row, by table and year", name="coverage", origin=coverage_cells))

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
display(review_table(missing.filter(pl.col("null") > 0), "Missing cells by column", name="missing",
                     origin="nulls and status symbols counted in data_clean/<source>/<table>.parquet, column "
                            "named in the row") if missing.height else Markdown("No symbol columns."))

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
n_rel_warnings = sum(p.severity == "warning" for p in relational)
display(Markdown(
    f"**{'PASS' if not n_invalid and not n_rel_errors else 'FAIL'}** — {verdict_table.height} tables, "
    f"{n_invalid} invalid; {n_rel_errors} cross-table error{'' if n_rel_errors == 1 else 's'} and "
    f"{n_rel_warnings} warning{'' if n_rel_warnings == 1 else 's'}."
))
lin.save()  # NAME.lineage.json beside the page (when rendered by run-notebook or report)
save_results({
    "source": source, "tables": verdicts, "invalid_tables": n_invalid,
    "relational_errors": n_rel_errors,
    "relational_warnings": [p.rule for p in relational if p.severity == "warning"],
})
