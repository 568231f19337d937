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
# # Municipal factors: housing, size and capacity to settle (H7, H8, H11)
#
# **Question.** Do municipalities with more municipal dwellings, more throughput in them and more
# start-up loans decide to settle more of what IMDi asks (H7, H8)? Do size and centrality matter for
# how many they settle per inhabitant (H11)?
#
# **Data.** A municipality-year panel built from `kommune_settlement_year`, `kommune_context_year`,
# `kommune_housing_year` and `kommune`, harmonised to one classification year of municipality codes
# (the latest the inputs use). With `source="imdi"` (IMDi's 2015 exports) there is no housing table
# unless SSB data were fetched: only size, population and settled per 1000 can be examined.

# %% tags=["parameters"]
source = "synthetic"
first_year = "2009"
last_year = "2014"

# %%
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from IPython.display import Markdown, display

from settlement_research import catalog, load, sdc
from settlement_research.analysis import indicators, models, plots, sensitivity
from settlement_research.analysis import plan as analysis_plan
from settlement_research.harmonize import FLAG_COLUMNS, harmonize
from settlement_research.pages import lineage
from settlement_research.reports.results import save_results
from settlement_research.pages.tables import format_value, is_year_column

NOTEBOOK = "03_municipal_factors"
plots.set_theme()
lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
FAMILY = lineage.constant(["p (one-sided)", "p Holm", "p BH"], "the plan's confirmatory family (analysis/plan.py): "
                          "one-sided p of the estimates above, Holm and Benjamini-Hochberg adjusted")
years = (int(first_year), int(last_year))
available = set(catalog.tables(source))


def optional(name: str) -> pl.DataFrame | None:
    # one year before the first: H7's exposures are measured in the year before the decision
    return load(name, source=source).filter(pl.col("year").is_between(years[0] - 1, years[1])) if name in available else None


inputs = {
    "kommune_settlement_year": load("kommune_settlement_year", source=source).filter(pl.col("year").is_between(*years)),
    **{name: optional(name) for name in ("kommune_context_year", "kommune_housing_year", "kommune_intro_year")},
}
inputs = {name: frame for name, frame in inputs.items() if frame is not None and frame.height}
# Real exports mix classification years (IMDi states older years in older codes): move every table
# to the latest one, summing counts over merges and recomputing shares, never averaging them.
classifications = sorted({int(y) for f in inputs.values() for y in f["classification_year"].unique()})
to_year = classifications[-1]
if len(classifications) > 1:
    inputs = {name: harmonize(frame, to_year, table=name).drop(FLAG_COLUMNS) for name, frame in inputs.items()}
panel = indicators.kommune_year_frame(
    inputs["kommune_settlement_year"], inputs.get("kommune_context_year"), inputs.get("kommune_housing_year"),
    inputs.get("kommune_intro_year"), load("settlement", source=source) if "settlement" in available else None,
)
kommune = load("kommune", source=source).filter(
    (pl.col("valid_from") <= to_year) & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= to_year))
).select("kommune_nr", "centrality").unique("kommune_nr")
# the panel's unit is the municipality-year of kommune_settlement_year; the other tables are joined to it
PANEL = [*inputs, "kommune", *(["settlement"] if "settlement" in available else [])]
moved = f"; inputs harmonised to the municipality codes of {to_year} (harmonize.py)" if len(classifications) > 1 else ""
panel = panel.join(kommune, on="kommune_nr", how="left").with_columns(
    pl.col("population").log().alias("log_population") if "population" in panel.columns else pl.lit(None, pl.Float64).alias("log_population"),
)
display(Markdown(f"{panel['kommune_nr'].n_unique()} municipalities (codes of {to_year}; inputs classified in "
                 f"{', '.join(map(str, classifications))}), years {', '.join(map(str, sorted(panel['year'].unique())))}."))
# Means and spreads over all municipality-years only: a minimum, maximum or quartile is one
# municipality's number, and some of these columns are counts from person-level data.
# Years (and classification years) are labels: a mean year is no statistic, and 2014 is never "2 014".
numeric = [c for c, t in panel.schema.items() if t.is_numeric() and not c.endswith("_symbol")
           and not is_year_column(c) and panel[c].drop_nulls().len()]
overview = panel.select(numeric).describe().filter(pl.col("statistic").is_in(["mean", "std"]))
readable = {c: c.replace("_", " ") for c in overview.columns}
shown_overview = overview.rename(readable)
display(lin.table(sdc.to_html(shown_overview, controlled=[readable[c] for c in numeric], counts=[], float_digits=2,
                              caption="Mean and standard deviation over municipality-years"),
                  shown_overview, "overview", lineage.computed(
                      [readable[c] for c in numeric], how="mean and standard deviation over the panel's "
                      f"municipality-years{moved}", tables=PANEL, rows=panel.height)))

# %% [markdown]
# ## Method
# Linear models of the decided/requested ratio (municipality-years with a request; the ratio is null,
# not zero or infinite, without one) with year fixed effects; then municipality **and** year fixed
# effects, which use only changes within a municipality over time. Standard errors are clustered by
# municipality. Confounders named in each model: size (log population), centrality class and
# unemployment. **Exposures come before the decision:** municipal dwellings are the stock of the
# decision year; H7's startlån and throughput are taken from the year before. Throughput of the same
# year is never a control: it is computed from the refugees housed that year, so it depends on the
# outcome (a municipality that declines houses no one, and its throughput is missing). A municipality
# with no refugees in municipal housing last year gets throughput 0 and an indicator, not a dropped row.
# Reverse causation is still likely: a municipality that plans to settle many may acquire dwellings.

# %%
def varies(column: str) -> bool:
    return column in panel.columns and panel[column].drop_nulls().n_unique() > 1


key = ["kommune_nr", "year"]
lagged = [c for c in ("startlan_per_1000", "throughput") if varies(c)]
if lagged:
    prev = panel.select(*key, *lagged).with_columns((pl.col("year") + 1).cast(pl.Int16).alias("year"))
    panel = panel.join(prev.rename({c: f"{c}_prev_year" for c in lagged}), on=key, how="left")
    if "throughput" in lagged:
        panel = panel.with_columns(
            pl.col("throughput_prev_year").is_null().cast(pl.Int8).alias("no_refugees_housed_prev_year"),
            pl.col("throughput_prev_year").fill_null(0.0))
panel = panel.filter(pl.col("year").is_between(*years))
controls = [c for c in ("log_population", "unemployment_share") if varies(c)]
# centrality is unknown for some sources (IMDi's files carry none): then it cannot be a confounder
centrality = " + C(centrality)" if varies("centrality") else ""
sample = panel.filter(pl.col("requested") > 0)
h8_terms = [c for c in ("municipal_dwellings_per_1000",) if varies(c)]
rhs = " + ".join(h8_terms + controls) or "1"
specs = {
    "year FE": models.feols(sample, f"decided_requested_ratio ~ {rhs}{centrality} | year",
                            confounders=controls + (["centrality"] if centrality else [])),
}
if h8_terms or controls:  # a within-municipality model needs a regressor that varies over time
    specs["municipality + year FE"] = models.feols(
        sample, f"decided_requested_ratio ~ {rhs} | kommune_nr + year", confounders=controls)
h7_startlan = h7_throughput = None
if "startlan_per_1000" in lagged:
    h7_startlan = models.feols(
        sample, f"decided_requested_ratio ~ startlan_per_1000_prev_year + {' + '.join(h8_terms + controls) or '1'}{centrality} | year",
        confounders=controls + h8_terms + (["centrality"] if centrality else []))
    specs["H7: startlån of the previous year, year FE"] = h7_startlan
if "throughput" in lagged:
    h7_throughput = models.feols(
        sample, "decided_requested_ratio ~ throughput_prev_year + no_refugees_housed_prev_year + "
        f"{' + '.join(h8_terms + controls) or '1'}{centrality} | year",
        confounders=controls + h8_terms + (["centrality"] if centrality else []))
    specs["H7 (exploratory): throughput of the previous year, year FE"] = h7_throughput
for label, fit in specs.items():
    display(Markdown(f"**{label}** — {format_value(fit.n_obs, 'count')} municipality-years, {fit.n_clusters} municipalities, "
                     f"{fit.n_dropped} rows dropped for missing values"))
    display(plots.table(fit.table, lineage=(lin, label.replace(":", ""), lineage.estimated(lineage.numeric(fit.table), fit, PANEL))))

# %%
h11_terms = [c for c in ("log_population", "unemployment_share") if c in controls]
h11 = None
if varies("settled_per_1000") and h11_terms:
    h11 = models.feols(panel, f"settled_per_1000 ~ {' + '.join(h11_terms)}{centrality} | year",
                       confounders=["year"])
    display(Markdown("**H11: settled per 1000 inhabitants**"))
    display(plots.table(h11.table, lineage=(lin, "H11", lineage.estimated(lineage.numeric(h11.table), h11, PANEL))))

# %%
# Size: settled per 1000 inhabitants by population quintile (sums within the group, not mean ratios)
by_size = None
if varies("settled_per_1000"):
    sized = panel.drop_nulls(["population", "settled"]).with_columns(
        pl.format("Q{}", (pl.col("population").rank("min") - 1) * 5 // pl.len() + 1).alias("size_group"))
    by_size = (
        sized.group_by("size_group")
        .agg(pl.len().alias("municipality_years"),
             pl.col("population").median().alias("median_population"),
             (pl.col("settled").sum() / pl.col("population").sum() * 1000).alias("settled_per_1000"),
             (pl.col("requested").sum() / pl.col("population").sum() * 1000).alias("requested_per_1000"))
        .sort("size_group")
    )
    display(plots.table(by_size, caption="Settled and requested per 1000 inhabitants by population quintile",
                        labels={"size_group": "size group", "municipality_years": "municipality-years",
                                "median_population": "median population"}, units={"median_population": "count"},
                        lineage=(lin, "by_size", lineage.computed(
                            lineage.numeric(by_size), how=f"sums and medians within population quintiles{moved}",
                            tables=PANEL, rows=sized.height))))
    fig, ax = plt.subplots()
    ax.scatter(sized["population"], sized["settled_per_1000"], s=6, alpha=0.3)
    ax.set_xscale("log")
    plots.finish(ax, title="Settled per 1000 inhabitants against size", xlabel="Population (log scale)",
                 ylabel="Settled per 1000 inhabitants", source=source)
    plt.show()

# %%
if "municipal_dwellings_per_1000" in panel.columns:
    fig, ax = plt.subplots()
    shown = sample.drop_nulls(["municipal_dwellings_per_1000", "decided_requested_ratio"])
    ax.scatter(shown["municipal_dwellings_per_1000"], shown["decided_requested_ratio"].clip(0, 2), s=6, alpha=0.3)
    plots.finish(ax, title="Decided per requested against municipal housing", xlabel="Municipal dwellings per 1000 inhabitants",
                 ylabel="Decided / requested (clipped at 2)", source=source)
    plt.show()

# %% [markdown]
# ## Result

# %%
truth = None
if source == "synthetic" and "ground_truth" in catalog.json_sidecars(source):
    from settlement_research.analysis.truth import dwellings_effect

    truth = dwellings_effect(catalog.load_json("ground_truth", source))
primary = None
if "municipal_dwellings_per_1000" in h8_terms and "municipality + year FE" in specs:
    primary = specs["year FE"].term("municipal_dwellings_per_1000")
    within = specs["municipality + year FE"].term("municipal_dwellings_per_1000")
    text = (f"**H8.** One more municipal dwelling per 1000 inhabitants goes with **{primary['estimate']:+.4f}** in "
            f"decided/requested (95 % CI {primary['ci_low']:+.4f} to {primary['ci_high']:+.4f}) between "
            f"municipalities, and {within['estimate']:+.4f} (CI {within['ci_low']:+.4f} to {within['ci_high']:+.4f}) "
            "within municipalities over time.")
    if truth is not None:
        covered = primary["ci_low"] <= truth <= primary["ci_high"]
        text += (f" The injected effect in the synthetic register (same estimand: municipality-years with a request "
                 f"and a decision) is {truth:+.4f}; the between-municipality interval {'covers' if covered else 'does NOT cover'} it.")
    text += " These are associations: dwellings are not assigned at random."
    display(Markdown(text))
else:
    display(Markdown("This source has no municipal housing data; only size and context can be examined."))
h7_rows = {}
if h7_startlan is not None:
    h7_rows["H7-startlan"] = h7_startlan.term("startlan_per_1000_prev_year")
if h7_throughput is not None:
    h7_rows["H7-throughput"] = h7_throughput.term("throughput_prev_year")
if h7_rows:
    parts = []
    if "H7-startlan" in h7_rows:
        r = h7_rows["H7-startlan"]
        parts.append(f"one more startlån per 1000 inhabitants in the previous year goes with **{r['estimate']:+.4f}** in "
                     f"decided/requested (95 % CI {r['ci_low']:+.4f} to {r['ci_high']:+.4f})")
    if "H7-throughput" in h7_rows:
        r = h7_rows["H7-throughput"]
        parts.append(f"(exploratory) one more exit per municipal dwelling-year in the previous year goes with "
                     f"{r['estimate']:+.4f} (95 % CI {r['ci_low']:+.4f} to {r['ci_high']:+.4f})")
    conclusive = "H7-startlan" in h7_rows and (h7_rows["H7-startlan"]["ci_low"] > 0)
    display(Markdown("**H7.** Holding municipal dwellings, size, unemployment and centrality fixed, " + "; ".join(parts)
                     + ". " + ("The data support the claim that startlån go with more capacity to settle (an association)."
                               if conclusive else "These data do not show that startlån or throughput raise the capacity "
                               "to settle: the intervals include no association.")))
else:
    display(Markdown("**H7.** This source has no startlån or throughput data: H7 cannot be answered here."))
family = analysis_plan.adjust_family(NOTEBOOK, {
    "H8": primary, **h7_rows, "H11": (h11.term("log_population") if h11 is not None else None),
})
display(plots.table(pl.DataFrame(analysis_plan.family_table(family)), caption="Confirmatory family: adjusted p-values",
                    lineage=(lin, "family", FAMILY)))
sens = None
if primary is not None:
    fit8 = specs["year FE"]
    sens = sensitivity.summary(primary["estimate"], primary["std_error"], fit8.n_obs - len(fit8.table) - 1)
    display(Markdown(sensitivity.sentence("municipal dwellings per 1000 (H8)", sens)))
if by_size is not None:
    small, large = by_size.row(0, named=True), by_size.row(-1, named=True)
    text = (f"The smallest fifth of municipalities (median {format_value(small['median_population'], 'count', 0)} inhabitants) settled "
            f"**{small['settled_per_1000']:.2f}** refugees per 1000 inhabitants a year, the largest fifth (median "
            f"{format_value(large['median_population'], 'count', 0)}) **{large['settled_per_1000']:.2f}**.")
    if h11 is not None:
        t = h11.term("log_population")
        text += (f" Across municipality-years, doubling the population goes with {t['estimate'] * np.log(2):+.3f} "
                 f"settled per 1000 (95 % CI {t['ci_low'] * np.log(2):+.3f} to {t['ci_high'] * np.log(2):+.3f}).")
    display(Markdown(text))

# %% [markdown]
# ## Caveats
# - Municipal housing changes slowly, so the within-municipality estimate rests on little variation.
# - Decisions answer requests that IMDi set knowing each municipality's capacity: requests are not random.
# - The ratio is undefined without a request; such municipality-years are left out, not set to zero.
# - Harmonised merged municipalities with a suppressed part have a null count (not the known parts' sum);
#   they drop out of ratios and models rather than entering with an undercount.

# %%
def _term(fit: models.FitResult | None, name: str) -> dict | None:
    if fit is None or name not in fit.table["term"].to_list():
        return None
    row = fit.term(name)
    return {k: (None if isinstance(row[k], float) and np.isnan(row[k]) else row[k])
            for k in ("estimate", "ci_low", "ci_high", "p_value", "std_error")}


lin.save()  # NAME.lineage.json beside the page (when rendered by run-notebook or report)
save_results({
    "source": source,
    "years": list(years),
    "classification_year": to_year,
    "municipalities": panel["kommune_nr"].n_unique(),
    "panel_years": sorted(panel["year"].unique().to_list()),
    "settled_per_1000_by_size": by_size.to_dicts() if by_size is not None else None,
    "n_obs": specs["year FE"].n_obs,
    "primary_effect": ({**_term(specs["year FE"], "municipal_dwellings_per_1000"), "truth": truth}
                       if primary is not None else None),
    "within_effect": _term(specs.get("municipality + year FE"), "municipal_dwellings_per_1000"),
    "h11_log_population": _term(h11, "log_population"),
    "h7_startlan_effect": _term(h7_startlan, "startlan_per_1000_prev_year"),
    "h7_throughput_effect": _term(h7_throughput, "throughput_prev_year"),
    "identification": "association",
    "sensitivity": {"h8_dwellings": sens},
    "multiplicity": family,
})
