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

# %% tags=["parameters"]
kommune_nr = "0301"
first_year = "2009"
last_year = "2014"
source = "synthetic"

# %%
import polars as pl
from IPython.display import HTML, Markdown, display

from settlement_research.analysis import disclosure, plots
from settlement_research.analysis import profile as pr
from settlement_research.pages import banner
from settlement_research.reports.results import memo, save_results

if not isinstance(kommune_nr, str) or len(kommune_nr) != 4 or not kommune_nr.isdigit():
    raise ValueError(f"kommune_nr must be a 4-digit string such as '0301', got {kommune_nr!r}")
years = (int(first_year), int(last_year))
span = f"{years[0]}–{years[1]}"
# Loading, validation and the county/national/peer aggregates: once per worker, not per report.
data = memo(f"municipality_profile:{source}:{years[0]}-{years[1]}", lambda: pr.profile_data(source, *years))
t = disclosure.threshold()
plots.set_theme()
info = banner.data_info(source)
display(HTML(banner.banner_html(info)))  # the rendered page keeps this one banner at the top

facts = pr.facts(data, kommune_nr)
settlement_years = pr.settlement_years(data, kommune_nr)
totals = pr.settlement_totals(settlement_years, window=pr.window_settled(data, kommune_nr))
pooled = pr.intro_pooled(data, kommune_nr)
# Names come from data files: pr.heading, pr.summary and pr.coordination_text escape them.
display(Markdown(pr.heading(facts, span) + "\n\n" + pr.summary(facts, totals, pooled, *years)))

# %% [markdown]
# **Question.** What was the municipality asked to do, what did it decide and do, where did the
# refugees live, and how did they fare in the introduction programme, against its county, the
# country and municipalities like it?
#
# **Data.** IMDi requests and council decisions (`kommune_settlement_year`), settled refugees, their
# housing (`kommune_housing_year`) and the introduction programme (`kommune_intro_year`), all three
# derived from person-level register data; population (`kommune_context_year`); the agencies'
# regions and the coordination index of each office pair (Fafo 2015, June 2014).
#
# **Method.** Counts from person-level data are suppressed below the threshold and shown as `:`.
# Suppression is done once for all municipalities together, with the national (and, for the
# programme, county) totals and each municipality's window total in view, so that no hidden number
# can be worked out from this profile, the others and the national figures, and a number is shown
# or hidden the same way in every profile. `..` means no data, never zero. County and national
# comparisons are shares only.

# %% [markdown]
# ## Requested, decided and settled

# %%
shown_years = pr.settlement_table(settlement_years)
display(disclosure.to_html(
    pr.labelled(shown_years, {"year": "year", "requested": "requested", "decided": "decided",
                              "decision_status": "decision", "settled": "settled"}),
    caption=banner.caption(f"Refugees requested by IMDi, decided by the council and settled, {span}", info),
    controlled=["settled"],  # requests and decisions are IMDi's published figures
))
fig, ax = pr.new_figure()
x = shown_years["year"].to_numpy()
ax.bar(x - 0.27, shown_years["requested"].fill_null(0).to_numpy(), width=0.27, label="requested")
ax.bar(x, shown_years["decided"].fill_null(0).to_numpy(), width=0.27, label="decided")
ax.bar(x + 0.27, shown_years["settled"].fill_null(0).to_numpy(), width=0.27, label="settled (':' left out)")
ax.set_xticks(x)
ax.legend(ncols=3, fontsize=8, frameon=False)
plots.finish(ax, title="Requested, decided and settled", xlabel="Year", ylabel="Persons", source=source, tight=False)
pr.show_figure(fig)

# %% [markdown]
# ## Housing of settled refugees

# %%
housing = pr.housing_table(data, kommune_nr)
if housing is None:
    display(Markdown(f"No housing data for source `{source}`."))
else:
    display(disclosure.to_html(
        pr.labelled(housing, {"year": "year", "municipal_dwellings": "municipal dwellings",
                              "refugees_housed": "refugees housed", **pr.HOUSING_SHARES,
                              "municipal_exits": "exits from municipal rental",
                              "throughput": "exits per dwelling-year"}),
        caption=banner.caption(f"Refugees' housing: tenure as % of person-years, and throughput of municipal rental, {span}", info),
        t=t,
    ))
    display(Markdown("Municipal dwellings is the municipality's stock (KOSTRA, public). Throughput is exits "
                     "from municipal rental per dwelling-year refugees lived there: higher means dwellings "
                     "are freed for the next household sooner. " + pr.housing_national_text(data)))

# %% [markdown]
# ## Introduction programme: in work or education one year after

# %%
intro = pr.intro_table(data, kommune_nr)
if intro is None:
    comparison = None
    display(Markdown(f"No introduction-programme data for source `{source}`."))
else:
    display(disclosure.to_html(
        pr.labelled(intro, {"year": "year", "participants": "participants", "leavers": "leavers",
                            "work_education_base": "leavers with known status",
                            "work_education_count": "in work or education",
                            "share_work_education": "in work or education, %"}),
        caption=banner.caption(f"Introduction programme: participants, leavers and their status a year after leaving, {span}", info),
    ))
    comparison = pr.intro_comparison(data, kommune_nr, intro)
    display(disclosure.to_html(
        pr.labelled(comparison, {"year": "year leaving", "municipality": facts["kommune_name"],
                                 "county": facts["fylke_name"], "Norway": "Norway"}),
        caption=banner.caption("Share in work or education a year after leaving the programme, %", info), float_digits=0,
    ))
    fig, ax = pr.new_figure()
    for column, label, style in (("municipality", facts["kommune_name"], "o-"),
                                 ("county", facts["fylke_name"], "s--"), ("Norway", "Norway", "^:")):
        ax.plot(comparison["year"], comparison[column], style, label=pr.chart_label(label))
    ax.set_ylim(0, 100)
    ax.legend(ncols=3, fontsize=8, frameon=False, loc="lower left")
    plots.finish(ax, title="In work or education one year after the programme", xlabel="Year of leaving",
                 ylabel="%", source=source, note="Suppressed years left out", tight=False)
    pr.show_figure(fig)

# %% [markdown]
# ## Peers: same centrality class, closest in population

# %%
peers = pr.peer_table(data, kommune_nr)
display(disclosure.to_html(
    pr.labelled(peers, {"kommune_nr": "code", "kommune_name": "municipality", "fylke_name": "county",
                        "centrality": "centrality", "population": "population", "requested": "requested",
                        "decided": "decided", "settled": "settled", "settled_per_1000": "settled per 1000"}),
    caption=banner.caption(f"{facts['kommune_name']} (first row) and five peers, totals {span}", info),
    controlled=["settled", "settled per 1000"],  # requests and decisions are IMDi's published figures
))

# %% [markdown]
# ## Agency regions and coordination

# %%
pairs = data.coordination.with_columns(
    pl.when((pl.col("husbanken_region") == facts["husbanken_region"]) & (pl.col("imdi_region") == facts["imdi_region"]))
    .then(pl.lit("◀ this municipality")).otherwise(pl.lit("")).alias(" ")
).sort("coordination_index", descending=True)
display(Markdown(pr.coordination_text(facts)))
display(disclosure.to_html(
    pairs.select(pl.col("husbanken_region").alias("Husbanken"), pl.col("imdi_region").alias("IMDi"),
                 pl.col("coordination_index").alias("coordination index"), " "),
    caption=banner.caption("Coordination index of the nine Husbanken–IMDi office pairs", info), float_digits=2,
))

# %% [markdown]
# ## Caveats
# - `:` = fewer than the disclosure threshold (or hidden so that such a cell cannot be worked out);
#   `..` = no data; an empty share is a share of nobody (nothing to divide). None of them is zero.
# - Settled counts refugees settled through IMDi (ordinary and agreed self-settlement); settled above
#   decided happens (carry-over, multi-year decisions) and is shown as it is.
# - Tenure shares are of person-years in the year; the status after the programme is measured in
#   November the year after leaving (SSB's definition).
# - The coordination index has nine values in all: it describes the office pair, not the municipality.
# - With `source="synthetic"` every number comes from the generator and only shows the method.

# %%
save_results({
    "kommune_nr": kommune_nr,
    "kommune_name": facts["kommune_name"],
    "fylke": facts["fylke_name"],
    "centrality": facts["centrality"],
    "requested": totals["requested"],
    "decided": totals["decided"],
    "settled": totals["settled"],
    "work_education_share": pooled["kommune"],
    "work_education_share_county": pooled["county"],
    "work_education_share_norway": pooled["norway"],
    "coordination_index": facts["coordination_index"],
    "first_year": first_year,
    "last_year": last_year,
    "source": source,
    "data": info,
    "settled_by_year": dict(zip(map(str, shown_years["year"]), shown_years["settled"].to_list(), strict=True)),
}, sdc_keys=["settled", "settled_by_year"])
