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
# # National overview: settlement 2009–2014
#
# **Question.** How many refugees were settled each year, how quickly, and how did the municipalities
# answer IMDi's requests — as requested, fewer, declined, or no decision at all?
#
# **Data.** The municipality-year settlement table (`kommune_settlement_year`) and the published
# national series (`national_settlement_year`, IMDi annual reports via Fafo 2015). With
# `source="imdi"` the national figures are computed from the municipality rows of the real IMDi files
# and set against IMDi's own national row (fylke 00) of the same files.

# %% tags=["parameters"]
source = "synthetic"
first_year = "2009"
last_year = "2014"

# %%
import polars as pl
from IPython.display import Markdown, display

from settlement_research import load
from settlement_research import sdc
from settlement_research.analysis import overview, plots
from settlement_research.analysis.profile import year_limits
from settlement_research.pages import lineage
from settlement_research.reports.results import save_results
from settlement_research.pages.tables import format_value

plots.set_theme()
lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
years = (int(first_year), int(last_year))
settlement_year = load("kommune_settlement_year", source=source).filter(pl.col("year").is_between(*years))
try:
    national = load("national_settlement_year", source=source)
except (FileNotFoundError, KeyError):
    national = None

# %% [markdown]
# ## Method
# Sums over municipalities per year; missing and suppressed cells are *not* zeros, so the number of
# municipalities with a known value stands beside each sum. The decision status is derived from the
# requested and decided numbers (null decided = no decision, 0 = declined, below requested = fewer).

# %%
sums = overview.national_from_municipalities(settlement_year)
if national is not None:
    comparison = overview.compare_with_published(settlement_year, national).filter(
        pl.col("year").is_between(*years)
    )
else:
    comparison = sums
status = overview.decision_status_counts(settlement_year)
# Readable headers with units; shares shown as % (a share of 0.77 is "77.0", not "0.8").
COMPARISON_LABELS = {
    "municipalities": "municipalities", "requested_sum": "requested (sum)", "decided_sum": "decided (sum)",
    "settled_sum": "settled (sum)", "requested_known": "requested known (municipalities)",
    "decided_known": "decided known (municipalities)", "settled_known": "settled known (municipalities)",
    "settled_published": "settled, published national figure", "settled_within_6m_share": "settled within 6 months, %",
    "months_permit_to_settlement": "months from permit to settlement", "relative_gap": "gap to published, %",
}
PERCENT = [c for c in ("settled_within_6m_share", "relative_gap") if c in comparison.columns]
# Where each number comes from: sums and counts pool every municipality's row of the year; the
# published figures are cells of the national series; the gap is computed from both.
by_year = {"by": {"year": "year"}, "pool": {"kommune_nr": ""}}
comparison_cells = {
    **lineage.rows("kommune_settlement_year", {f"{m}_sum": m for m in ("requested", "decided", "settled")},
                   how="sum over municipalities", **by_year),
    **lineage.rows("kommune_settlement_year", {f"{m}_known": m for m in ("requested", "decided", "settled")},
                   how="municipalities with a known value", **by_year),
    **lineage.rows("kommune_settlement_year", {"municipalities": "kommune_nr"}, how="municipalities with a row",
                   **by_year),
    **lineage.rows("national_settlement_year", {"settled_published": "settled",
                                                 "months_permit_to_settlement": "months_permit_to_settlement"},
                   by={"year": "year"}),
    **lineage.rows("national_settlement_year", {"settled_within_6m_share": "settled_within_6m_share"},
                   by={"year": "year"}, how="share x 100"),
    **lineage.constant(["relative_gap"], "(sum over municipalities - published national figure) / published x 100"),
}
display(plots.table(comparison.with_columns(pl.col(c) * 100 for c in PERCENT),
                    caption="Refugees per year: sum over municipalities and published national figures",
                    labels=COMPARISON_LABELS, units={c: "percent" for c in PERCENT},
                    digits={"months_permit_to_settlement": 1}, lineage=(lin, "comparison", comparison_cells)))
# Municipalities per decision status: counts of municipalities by a published status, not persons.
STATUS_LABELS = {"as_requested": "as requested", "fewer": "fewer than requested", "declined": "declined",
                 "no_decision": "no decision"}
shown_status = status.rename({c: label for c, label in STATUS_LABELS.items() if c in status.columns})
display(lin.table(sdc.to_html(shown_status, public={c: "decision_status" for c in shown_status.columns if c != "year"},
                              caption="How municipalities answered IMDi's requests (municipalities per year and status)"),
                  shown_status, "decision_status",
                  lineage.rows("kommune_settlement_year", {c: "decision_status" for c in shown_status.columns if c != "year"},
                               how="municipalities with this decision status", **by_year)))

# %%
ax = None
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots()
ax.plot(sums["year"], sums["settled_sum"], marker="o", label="sum over municipalities", color=plots.color("settled"))
if national is not None and "settled_published" in comparison.columns:
    ax.plot(comparison["year"], comparison["settled_published"], marker="s", ls="--", label="published national series", color=plots.color("published"))
ax.set_xlim(*year_limits(sums["year"].to_list() or list(years)))  # the data's years, never autoscaled
ax.legend()
plots.finish(ax, title="Refugees settled per year", xlabel="Year", ylabel="Persons settled", source=source)
plt.show()

# %%
fig, ax = plt.subplots()
bottom = None
for column in ["as_requested", "fewer", "declined", "no_decision"]:
    values = status[column].to_numpy()
    ax.bar(status["year"], values, bottom=bottom, label=STATUS_LABELS[column])
    bottom = values if bottom is None else bottom + values
ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
plots.finish(ax, title="How municipalities answered IMDi's request", xlabel="Year",
             ylabel="Municipalities", source=source)
plt.show()

# %% [markdown]
# ## Result

# %%
last = comparison.filter(pl.col("year") == years[1]).row(0, named=True)
status_last = status.filter(pl.col("year") == years[1]).row(0, named=True)
gap = last.get("relative_gap")
if last["settled_sum"] is None:  # no edition publishes settled for the year: say so, never 0
    text = f"In {years[1]}, no municipality has a published number of settled refugees"
else:
    text = (
        f"In {years[1]}, municipalities settled **{format_value(last['settled_sum'], 'count')}** refugees "
        f"({last['settled_known']} of {last['municipalities']} municipalities with a known number)"
    )
if gap is not None:
    text += f"; the national figure is {format_value(last['settled_published'], 'count')} (gap {gap:+.1%})."
else:
    text += "."
text += (
    f" {status_last['as_requested']} municipalities decided as requested, {status_last['fewer']} fewer, "
    f"{status_last['declined']} declined and {status_last['no_decision']} made no decision."
)
display(Markdown(text))

# %% [markdown]
# ## Caveats
# - Municipality sums fall short of national totals where cells are suppressed (`:`) or missing, and
#   where the national row counts persons whose municipality is unknown (IMDi's county 99).
# - Years outside the data are simply absent, and a year in which no municipality has a known value
#   has no sum (empty), not 0. In IMDi's files, settled is published from 2012 on (the 2015 edition:
#   2012–2014; the 2022-09 export: 2012–2022, its 2022 column to 30 September only), requested and
#   decided from 1995 (2022-09 export).
# - Settled above decided is allowed (carry-over, multi-year decisions); it is flagged, not corrected.
# - With `source="synthetic"` every number comes from the generator and only shows the method.

# %%
lin.save()  # NAME.lineage.json beside the page (when rendered by run-notebook or report)
save_results({
    "source": source,
    "years": list(years),
    "data_years": sums["year"].to_list(),
    "settled_by_year": dict(zip(map(str, sums["year"]), sums["settled_sum"].to_list(), strict=True)),
    "municipalities_by_year": dict(zip(map(str, sums["year"]), sums["municipalities"].to_list(), strict=True)),
    "national_settled_by_year": (
        dict(zip(map(str, comparison["year"]), comparison["settled_published"].to_list(), strict=True))
        if "settled_published" in comparison.columns else None
    ),
    "relative_gap_by_year": (
        dict(zip(map(str, comparison["year"]), comparison["relative_gap"].to_list(), strict=True))
        if "relative_gap" in comparison.columns else None
    ),
    "decision_status_last_year": status_last,
})
