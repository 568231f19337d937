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
# # Arrival conditions and outcomes: a dispersal-policy design
#
# **Question.** Does the municipality a refugee is settled in — its municipal housing stock at
# arrival — change how stable their housing is and whether they are in work or education after the
# introduction programme?
#
# **Design.** Refugees settled on the ordinary route do not choose their municipality: IMDi places
# them where councils have agreed to settle. Conditional on what IMDi uses when placing (settlement
# year; household type and other traits known at placement), the conditions of the arrival
# municipality vary independently of the person. This is the spatial-dispersal design of Edin,
# Fredriksson & Åslund (2003, Sweden) and Damm (2009, Denmark); in Norway, local labour markets at
# arrival have been linked to refugees' later earnings in the same way. Refugees who found their own
# housing (agreed self-settlement) chose where to live, so for them the same comparison is an
# association that mixes the effect with who chooses which place: they are the contrast.
#
# **Data.** `person`, `household`, `household_member`, `settlement`, `housing_spell`, `intro_spell`,
# `outcome_year` and the municipal housing table `kommune_housing_year` (KOSTRA: municipal dwellings
# per 1000 inhabitants in the settlement year).

# %% tags=["parameters"]
source = "synthetic"
window_months = "24"

# %%
import polars as pl
from IPython.display import Markdown, display

from settlement_research import catalog, load
from settlement_research.analysis import indicators, models, plots, sensitivity
from settlement_research.analysis import plan as analysis_plan
from settlement_research.pages import lineage
from settlement_research.reports.results import save_results
from settlement_research.pages.tables import format_value

plots.set_theme()
page_lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
FAMILY = lineage.constant(["p (one-sided)", "p Holm", "p BH"], "the plan's confirmatory family (analysis/plan.py): "
                          "one-sided p of the estimates above, Holm and Benjamini-Hochberg adjusted")
window = int(window_months)
if window not in (12, 24, 36):
    raise ValueError("window_months must be 12, 24 or 36")
PERSON_TABLES = ["person", "household", "household_member", "settlement", "housing_spell", "intro_spell", "outcome_year"]
not_applicable = catalog.needs_note(PERSON_TABLES + ["kommune_housing_year"], source,
                                    "person-level register or no municipal housing table")
usable = not_applicable is None
if not usable:
    display(Markdown(not_applicable))

# %%
if usable:
    tables = {name: load(name, source=source) for name in PERSON_TABLES}
    frame = indicators.person_frame(tables, window_months=window)
    housing = load("kommune_housing_year", source=source).select(
        "kommune_nr", pl.col("year").alias("settlement_year"), pl.col("municipal_dwellings_per_1000").alias("arrival_dwellings"))
    persons = (
        frame.join(housing, on=["kommune_nr", "settlement_year"], how="left")
        .filter(pl.col("age_at_settlement") >= 18)
        .with_columns(((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"))
    )
    outcome = persons.filter(pl.col("in_work_or_education").is_not_null()).with_columns(
        pl.col("in_work_or_education").cast(pl.Int8).alias("y"))
    stability = persons.filter(pl.col(f"moves_{window}m").is_not_null())
    display(Markdown(f"{format_value(persons.height, 'count')} adults settled; {format_value(outcome.height, 'count')} programme leavers with the outcome observed; "
                     f"{format_value(stability.height, 'count')} with a complete {window}-month moves window."))
    display(plots.table(
        persons.drop_nulls("arrival_dwellings").group_by("route")
        .agg(pl.col("arrival_dwellings").mean().alias("mean dwellings per 1000 at arrival"),
             pl.col("arrival_dwellings").std().alias("sd"))
        .sort("route"), caption="Arrival conditions by settlement route",
        lineage=(page_lin, "arrival", lineage.computed(["mean dwellings per 1000 at arrival", "sd"],
                                                  how="mean and standard deviation over adults settled by the route",
                                                  tables=[*PERSON_TABLES, "kommune_housing_year"]))))

# %% [markdown]
# ## Method
# For each route separately: a logit of being in work or education one year after the programme on
# the arrival municipality's municipal dwellings per 1000 inhabitants, with settlement-year dummies
# (placement changes from year to year) and traits fixed before placement (age and its square,
# education, household type, sex) for precision — never anything measured after arrival (moves,
# tenure), which would block part of the effect. Reported as the average marginal effect per dwelling
# per 1000 (percentage points), standard errors clustered by the arrival municipality (the level the
# exposure varies at), the interval conditional on the sample's covariates (the effect averaged over
# the persons analysed, as Stata's `margins` default; `ame_vce` in `results.json`). Housing stability: a linear model of moves in the first months, same
# regressors. For the ordinary route this estimates the **effect** of arrival conditions, under the
# assumption that placement is as good as random given the year and the traits IMDi sees; for the
# self-settled it is an **association**.

# %%
controls = "C(settlement_year) + age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)"
fits: dict[str, dict] = {}
if usable:
    for route in ("ordinary", "agreed_self"):
        data = outcome.filter(pl.col("route") == route)
        work = models.logit_ame(data, f"y ~ arrival_dwellings + {controls}",
                                confounders=["settlement_year", "age", "education", "household_type", "sex"])
        moves_fit = models.feols(stability.filter(pl.col("route") == route),
                                 f"moves_{window}m ~ arrival_dwellings + {controls}")
        fits[route] = {"work": work, "moves": moves_fit}
    rows = []
    for route, f in fits.items():
        w, mv = f["work"].term("arrival_dwellings"), f["moves"].term("arrival_dwellings")
        rows.append({"route": route, "outcome": "work or education (pp per dwelling per 1000)",
                     "estimate": w["estimate"] * 100, "ci_low": w["ci_low"] * 100, "ci_high": w["ci_high"] * 100,
                     "n": f["work"].n_obs})
        rows.append({"route": route, "outcome": f"moves in {window} months (per dwelling per 1000)",
                     "estimate": mv["estimate"], "ci_low": mv["ci_low"], "ci_high": mv["ci_high"], "n": f["moves"].n_obs})
    row_fits = {(plots.CODE_WORDS.get(route, route), o): f[key] for route, f in fits.items()
                for key, o in (("work", "work or education (pp per dwelling per 1000)"),
                               ("moves", f"moves in {window} months (per dwelling per 1000)"))}
    display(plots.table(pl.DataFrame(rows), caption="Arrival municipality's municipal dwellings per 1000 and later outcomes",
                        lineage=(page_lin, "arrival_effects", lineage.estimated_rows(
                            ["estimate", "ci_low", "ci_high", "n"], row_fits, ["route", "outcome"],
                            [*PERSON_TABLES, "kommune_housing_year"]))))

# %% [markdown]
# ## Result

# %%
gt = catalog.load_json("ground_truth", source) if usable and "ground_truth" in catalog.json_sidecars(source) else None
arrival_truth = (gt or {}).get("effects", {}).get("arrival_dwellings_on_work_or_education", {}).get("by_route", {})
sens = evalue = oster_lin = None
if usable:
    w = fits["ordinary"]["work"].term("arrival_dwellings")
    contrast = fits["agreed_self"]["work"].term("arrival_dwellings")
    text = (f"For refugees placed on the ordinary route, one more municipal dwelling per 1000 inhabitants in the arrival "
            f"municipality raises the probability of being in work or education one year after the programme by "
            f"**{w['estimate'] * 100:+.2f} percentage points** (95 % CI {w['ci_low'] * 100:+.2f} to {w['ci_high'] * 100:+.2f}; "
            f"{format_value(fits['ordinary']['work'].n_obs, 'count')} persons in {fits['ordinary']['work'].n_clusters} municipalities), an effect "
            f"under the placement assumption. Among the self-settled, who chose where to live, the association is "
            f"{contrast['estimate'] * 100:+.2f} points ({contrast['ci_low'] * 100:+.2f} to {contrast['ci_high'] * 100:+.2f}). "
            + models.interval_sentence(fits["ordinary"]["work"], "arrival_dwellings"))
    truth_ord = arrival_truth.get("ordinary", {})
    if truth_ord.get("direct_ame") is not None:
        covered = w["ci_low"] <= truth_ord["direct_ame"] <= w["ci_high"]
        text += (f" The effect injected into the synthetic register for this group is {truth_ord['direct_ame'] * 100:+.2f} "
                 f"points per dwelling per 1000: the interval {'covers' if covered else 'does NOT cover'} it.")
    fit_lin = models.feols(outcome.filter(pl.col("route") == "ordinary"), f"y ~ arrival_dwellings + {controls}")
    lin = fit_lin.term("arrival_dwellings")
    sens = sensitivity.summary(lin["estimate"], lin["std_error"], fit_lin.n_obs - len(fit_lin.table) - 1)
    oster_lin = sensitivity.oster(outcome.filter(pl.col("route") == "ordinary"), "y", "arrival_dwellings",
                                  controls=controls)
    evalue = sensitivity.evalues_risk_difference(
        w["estimate"], w["ci_low"], w["ci_high"],
        baseline=float(outcome.filter(pl.col("route") == "ordinary")["y"].mean()))
    display(Markdown(text))
    display(Markdown(sensitivity.sentence("arrival dwellings on the ordinary route (linear probability model)", sens)
                     + " " + sensitivity.oster_sentence("the same model", oster_lin)
                     + "\n\n" + sensitivity.evalue_sentence(
                         "one more municipal dwelling per 1000 at arrival (ordinary route, logit AME)", evalue)))

# %% [markdown]
# ## Multiplicity
# The confirmatory hypothesis of this notebook (its family in `docs/hypotheses.md`) gets a one-sided
# p-value in the pre-specified direction, adjusted with Holm's method; the moves and self-settled
# results are exploratory and carry no adjusted p-value.

# %%
family = None
if usable:
    family = analysis_plan.adjust_family("05_dispersal_policy", {
        "H-arrival-work": fits["ordinary"]["work"].term("arrival_dwellings"),
        "H-arrival-moves": fits["ordinary"]["moves"].term("arrival_dwellings"),
        "H-arrival-self-settled": fits["agreed_self"]["work"].term("arrival_dwellings"),
    })
    display(plots.table(pl.DataFrame(analysis_plan.family_table(family)), caption="Confirmatory family: adjusted p-values",
                        lineage=(page_lin, "family", FAMILY)))

# %% [markdown]
# ## Caveats
# - The design rests on placement being unrelated to the person given the year and the traits IMDi
#   sees. IMDi does match on needs (health, family ties) that the register may not record; the
#   robustness value above says how strong such a factor would have to be.
# - Municipal dwellings stand for a bundle of conditions (size, centrality, labour market); the
#   estimate is the effect of arriving in a municipality with more of them, not of building one more.
# - Secondary migration after arrival does not change the exposure (intention to treat: the arrival
#   municipality), which is what a dispersal policy controls.

# %%
def _effect(row: dict) -> dict:
    return {k: row[k] for k in ("estimate", "std_error", "ci_low", "ci_high", "p_value")}


page_lin.save()  # NAME.lineage.json beside the page (when rendered by run-notebook or report)
save_results({
    "source": source,
    "window_months": window,
    "identification": "effect for the ordinary route under as-good-as-random placement; association for the self-settled",
    "ordinary_work_effect": ({**_effect(fits["ordinary"]["work"].term("arrival_dwellings")), "n": fits["ordinary"]["work"].n_obs,
                              "ame_vce": fits["ordinary"]["work"].vce,
                              "std_error_unconditional": models.ame_table_with(fits["ordinary"]["work"], "unconditional")
                              .filter(pl.col("term") == "arrival_dwellings")["std_error"][0],
                              "truth": arrival_truth.get("ordinary", {}).get("direct_ame"),
                              "model_truth": arrival_truth.get("ordinary", {}).get("design_logit_ame")} if usable else None),
    "self_settled_work_association": ({**_effect(fits["agreed_self"]["work"].term("arrival_dwellings")),
                                       "n": fits["agreed_self"]["work"].n_obs} if usable else None),
    "ordinary_moves_effect": (_effect(fits["ordinary"]["moves"].term("arrival_dwellings")) if usable else None),
    "sensitivity": {"ordinary_work_lpm": sens, "oster_ordinary_work_lpm": oster_lin, "evalue_ordinary_work": evalue},
    "multiplicity": family,
})
