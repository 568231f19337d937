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
# # Housing stability and outcomes after the introduction programme (H1, H2, H14)
#
# **Question.** Refugees who move often in their first two years, or who stay long in temporary
# housing, are said to do worse in the introduction programme and afterwards (H1). Self-found private
# rentals are said to bring instability for young singles (H2), and ownership to keep people in the
# municipality (H14). How large are these associations once we account for who moves?
#
# **Pre-specified.** Hypotheses, estimands, exposure windows, models, confounders and directions are
# fixed in the analysis plan (`docs/hypotheses.md`, read below from `analysis/plan.toml`); the
# confirmatory ones are adjusted for multiplicity together.
#
# **Data.** Person-level register tables: `person`, `household`, `household_member`, `settlement`,
# `housing_spell`, `intro_spell`, `outcome_year`. Every count shown is disclosure-controlled.

# %% tags=["parameters"]
source = "synthetic"
window_months = "24"
migration_years = "2"
alternative_windows = "12,36"

# %%
import matplotlib.pyplot as plt
import polars as pl
from IPython.display import Markdown, display

from settlement_research import catalog, load
from settlement_research import sdc
from settlement_research.analysis import indicators, models, plots, sensitivity, truth
from settlement_research.analysis import plan as analysis_plan
from settlement_research.pages import lineage
from settlement_research.reports.results import save_results
from settlement_research.pages.tables import format_value

NOTEBOOK = "02_housing_stability_and_outcomes"
plots.set_theme()
lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
FAMILY = lineage.constant(["p (one-sided)", "p Holm", "p BH"], "the plan's confirmatory family (analysis/plan.py): "
                          "one-sided p of the estimates above, Holm and Benjamini-Hochberg adjusted")
window = int(window_months)
years_after = int(migration_years)
if window not in (12, 24, 36) or not 1 <= years_after <= 5:
    raise ValueError("window_months must be 12, 24 or 36 and migration_years 1-5")
PERSON_TABLES = ["person", "household", "household_member", "settlement", "housing_spell", "intro_spell", "outcome_year"]
not_applicable = catalog.needs_note(PERSON_TABLES, source, "person-level register")
if not_applicable:  # e.g. IMDi's published statistics: say so in one line and stop (exit 0, as 05)
    save_results({"source": source, "not_applicable": not_applicable})
    raise catalog.NotApplicable(not_applicable)
tables = {name: load(name, source=source) for name in PERSON_TABLES}
frame = indicators.person_frame(tables, window_months=window, migration_years=years_after).with_columns(
    ((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"))
moves = f"moves_{window}m"
temporary = f"months_temporary_{window}m"


def outcome_sample(w: int) -> tuple[pl.DataFrame, int, int]:
    """The landmark sample of window ``w``: outcome after the window and the tenure point."""
    data = frame if w == window else indicators.person_frame(tables, window_months=w, migration_years=years_after).with_columns(
        ((pl.col("age_at_settlement") - 30) ** 2).alias("age_sq"))
    kept, left_out = indicators.landmark_sample(data, window_months=w)
    kept = kept.with_columns(pl.col("in_work_or_education").cast(pl.Int8).alias("y"))
    collapsed = models.collapse_rare(kept, "tenure_1y", min_count=50)
    return collapsed, left_out, kept.height - collapsed.height


analysis, n_before_landmark, n_rare_dropped = outcome_sample(window)
plan = analysis_plan.load_plan()


def persons(n: int) -> str:
    """A count of people in prose: below the disclosure threshold it is never written out."""
    return f"fewer than {sdc.threshold()}" if sdc.is_disclosive(n) else format_value(n, "count")


display(Markdown(
    f"{format_value(frame.height, 'count')} settled persons. **Landmark design:** the outcome (status in November one year after "
    f"leaving the programme) must come after both the moves window ({window} months) and the tenure point (1 "
    f"year), so every exposure is measured before the outcome. {format_value(analysis.height, 'count')} programme leavers form the "
    f"analysis sample; {persons(n_before_landmark)} leavers whose outcome came before the landmark (or whose window "
    f"was cut by emigration) are left out, not counted as stayers"
    + (f"; {persons(n_rare_dropped)} persons in tenures held by too few to estimate are left out." if n_rare_dropped else ".")))
display(plots.table(pl.DataFrame([{"id": h.id, "status": h.status, "direction": h.direction, "outcome": h.outcome,
                                   "exposure": h.exposure} for h in plan.for_notebook(NOTEBOOK)]),
                    caption="Pre-specified hypotheses of this notebook (docs/hypotheses.md)"))

# %% [markdown]
# ## Descriptives
# Persons by number of moves (changes of address) in the window and status one year after the
# programme (counts below the disclosure threshold are shown as `:`; so are cells that would let
# them be recovered from totals).

# %%
moves_label = f"moves (first {window} months)"
described = analysis.with_columns(
    pl.col(moves).clip(upper_bound=3).cast(pl.String).replace({"3": "3+"}).alias(moves_label),
    pl.when(pl.col("y") == 1).then(pl.lit("in work or education")).otherwise(pl.lit("not")).alias("status"),
)
table = sdc.count_table(described, moves_label, "status")
display(lin.table(sdc.to_html(table, caption="Persons by moves and status one year after the programme"), table,
                  "moves_status", lineage.computed(lineage.numeric(table), how="persons of the analysis sample by "
                                                   "moves and status", tables=PERSON_TABLES)))
shares = (
    described.group_by(moves_label)
    .agg((pl.col("y").mean() * 100).alias("percent"), pl.len().alias("n"))
    .sort(moves_label)
)
shares = sdc.suppress(shares, ["n"], dependent={"percent": "n"})
fig, ax = plt.subplots()
ax.bar(shares[moves_label], shares["percent"].fill_null(0))
plots.finish(ax, title="In work or education one year after the programme", xlabel=f"Moves in the first {window} months",
             ylabel="Percent", source=source, note="Suppressed cells are left out")
plt.show()

# %% [markdown]
# ## Method
# The outcome is being in work or education in November one year after leaving the programme.
# Exposures: changes of address in the first months after settlement (a new tenure in the same
# dwelling is not a move), months in temporary housing in the same window, and the tenure held one
# year after settlement. Tenure categories held by fewer than 50 persons are merged.
# **Confounders** named and adjusted for: age at settlement (and its square), education, household
# type and sex; tenure and moves adjust for each other. Standard errors are clustered by the
# settlement municipality; rows with missing values are dropped explicitly. The primary estimate is a
# logit reported as an average marginal effect (percentage points), its interval conditional on the
# sample's covariates (the effect averaged over the persons analysed, as Stata's `margins` default;
# `results.json` records this as `ame_vce`); a linear probability model with
# municipality and settlement-year fixed effects is the first robustness check. Nothing here is
# randomised: the estimates are **associations** adjusted for the named confounders.

# %%
controls = "age_at_settlement + age_sq + C(education) + C(household_type) + C(sex)"
confounders = ["age_at_settlement", "education", "household_type", "sex", "tenure_1y"]
gt = catalog.load_json("ground_truth", source) if "ground_truth" in catalog.json_sidecars(source) else None
naive = models.feols(analysis, f"y ~ {moves}", confounders=[])
adjusted = models.logit_ame(analysis, f"y ~ {moves} + C(tenure_1y) + {controls}", confounders=confounders)
fe = models.feols(analysis, f"y ~ {moves} + C(tenure_1y) + {controls} | kommune_nr + settlement_year",
                  confounders=confounders)
specifications = {"naive (no adjustment)": naive, "adjusted logit, AME": adjusted,
                  "adjusted LPM, municipality + year FE": fe}
truths = {"naive (no adjustment)": truth.moves_naive(gt, window) if gt else None,
          "adjusted logit, AME": truth.moves_effect(gt, window) if gt else None,
          "adjusted LPM, municipality + year FE": (truth.moves_truth(gt, window) or {}).get("adjusted_lpm") if gt else None}
alt_results = {}
for alt in [int(w) for w in alternative_windows.split(",") if w.strip() and int(w) != window]:
    alt_data, _left, _rare = outcome_sample(alt)
    res = models.logit_ame(alt_data.rename({f"moves_{alt}m": "moves_alt"}), f"y ~ moves_alt + C(tenure_1y) + {controls}")
    res.table = res.table.with_columns(pl.col("term").replace({"moves_alt": moves}))
    label = f"adjusted logit, moves in {alt} months"
    specifications[label] = res
    truths[label] = truth.moves_effect(gt, alt) if gt else None
    alt_results[alt] = res
temp = models.logit_ame(analysis, f"y ~ {temporary} + C(tenure_1y) + {controls}", confounders=confounders)
robustness = models.compare(specifications, moves).with_columns(
    pl.Series("truth_model_limit", [truths.get(s) for s in models.compare(specifications, moves)["specification"]],
              dtype=pl.Float64))
for label, res in specifications.items():
    for note in res.notes:
        display(Markdown(f"*Note on {label}: {note}.*"))
shown = robustness.with_columns((pl.col(c) * 100).round(2) for c in ("estimate", "ci_low", "ci_high", "truth_model_limit"))
display(plots.table(shown, caption=f"One more move and being in work or education (percentage points; each row "
                                   "its own window and landmark sample; truth_model_limit: what that model converges "
                                   "to on that sample in the synthetic register)",
                    lineage=(lin, "robustness", {
                        **lineage.estimated_rows(lineage.numeric(shown, skip=["truth_model_limit"]), specifications,
                                                 "specification", PERSON_TABLES),
                        **lineage.constant(["truth_model_limit"], "the synthetic register's ground truth "
                                           "(ground_truth.json, analysis/truth.py) for that model and sample")})))

# %%
truth_primary = truths["adjusted logit, AME"]
plots.coefficient_plot(robustness.with_columns((pl.col(c) * 100) for c in ("estimate", "ci_low", "ci_high")),
                       title="One more move and work or education", xlabel="Percentage points per move",
                       source=source, truth=truth_primary * 100 if truth_primary is not None else None)
plt.show()

# %% [markdown]
# ## Months in temporary housing (H1)

# %%
temp_row = temp.term(temporary)
temp_groups = analysis.with_columns(
    pl.when(pl.col(temporary) == 0).then(pl.lit("none"))
    .when(pl.col(temporary) <= 3).then(pl.lit("up to 3 months"))
    .otherwise(pl.lit("more than 3 months")).alias("months in temporary housing"))
temp_table = sdc.count_table(temp_groups.with_columns(
    pl.when(pl.col("y") == 1).then(pl.lit("in work or education")).otherwise(pl.lit("not")).alias("status")),
    "months in temporary housing", "status")
display(lin.table(sdc.to_html(temp_table, caption=f"Persons by months in temporary housing (first {window} months) and status"),
                  temp_table, "temporary_status", lineage.computed(
                      lineage.numeric(temp_table), how="persons of the analysis sample by months in temporary "
                      "housing and status", tables=PERSON_TABLES)))
display(Markdown(
    f"One more month in temporary housing in the first {window} months goes with **{temp_row['estimate'] * 100:+.2f} "
    f"percentage points** in the probability of being in work or education one year after the programme (95 % CI "
    f"{temp_row['ci_low'] * 100:+.2f} to {temp_row['ci_high'] * 100:+.2f}; adjusted logit, same confounders, "
    f"{format_value(temp.n_obs, 'count')} persons). This is an association."))

# %% [markdown]
# ## Tenure one year after settlement (H1)

# %%
tenure_terms = adjusted.table.filter(pl.col("term").str.contains("tenure_1y"))
display(plots.table(tenure_terms.with_columns((pl.col(c) * 100).round(2) for c in ("estimate", "std_error", "ci_low", "ci_high")),
                    caption="Tenure one year after settlement vs municipal rental (average contrasts, percentage points)",
                    lineage=(lin, "tenure", lineage.estimated(lineage.numeric(tenure_terms), adjusted, PERSON_TABLES))))

# %% [markdown]
# ## H14: does ownership keep people in the municipality?
# Landmark one year after settlement: the sample is everyone observed and still living in the first
# municipality then; the exposure is the tenure held at that date, and the outcome is leaving the
# municipality in the following years (emigration censors). Tenure measured after a departure would
# otherwise describe the new municipality, not the reason for leaving.

# %%
left_col = f"left_first_kommune_{years_after}y_after_1y"
h14 = models.collapse_rare(
    frame.filter(pl.col(left_col).is_not_null() & pl.col("tenure_1y").is_not_null()
                 & (pl.col("age_at_settlement") >= 18))
    .with_columns(pl.col(left_col).cast(pl.Int8).alias("left")), "tenure_1y", min_count=50)
h14_fit = models.feols(h14, f"left ~ C(tenure_1y) + {controls} | settlement_year",
                       confounders=["age_at_settlement", "education", "household_type", "sex"])
display(plots.table(h14_fit.table.filter(pl.col("term").str.contains("tenure_1y"))
                    .with_columns((pl.col(c) * 100).round(2) for c in ("estimate", "std_error", "ci_low", "ci_high")),
                    caption=f"Leaving the first municipality within {years_after} years after the 1-year landmark "
                            "(linear probability, percentage points vs municipal rental)",
                    lineage=(lin, "h14", lineage.estimated(lineage.numeric(h14_fit.table), h14_fit, PERSON_TABLES))))
h14_term = "C(tenure_1y)[T.owner_startlan]"
h14_row = h14_fit.term(h14_term) if h14_term in h14_fit.table["term"].to_list() else None
base_rate = h14.filter(pl.col("tenure_1y") == "municipal_rental")["left"].mean()
if h14_row is not None:
    display(Markdown(
        f"**H14.** Among {format_value(h14_fit.n_obs, 'count')} adults still in their first municipality one year after settlement, those "
        f"owning with startlån then differed in the share leaving within the next {years_after} years by "
        f"**{h14_row['estimate'] * 100:+.1f} percentage points** from those in municipal rental (95 % CI {h14_row['ci_low'] * 100:+.1f} to "
        f"{h14_row['ci_high'] * 100:+.1f}; {base_rate * 100:.1f} % of municipal renters left). "
        + ("The data are consistent with ownership going with staying (an association: owners differ in ways the "
           "confounders may not capture)." if h14_row["ci_high"] < 0 else
           "The interval does not exclude no difference: these data do not show that ownership keeps people in "
           "the municipality.")))
else:
    display(Markdown("**H14.** Too few owners with startlån one year after settlement to estimate the contrast."))

# %% [markdown]
# ## H2: settlement route, young singles and moves
# Adults only (18 or older at settlement): children move with their household and say nothing about
# young singles' own choices. Sample: single adults under 30 settled through IMDi, with a complete
# moves window; the same comparison among other adults is shown beside it.

# %%
adults = frame.filter((pl.col("age_at_settlement") >= 18) & pl.col(moves).is_not_null()
                      & pl.col("route").is_in(["ordinary", "agreed_self"])).with_columns(
    (pl.col("route") == "agreed_self").cast(pl.Int8).alias("self_found"),
    ((pl.col("household_type") == "single") & (pl.col("age_at_settlement") < 30)).alias("young_single"))
h2_fit = models.feols(adults.filter(pl.col("young_single")), f"{moves} ~ self_found + age_at_settlement + C(education) | settlement_year",
                      confounders=["education", "settlement_year", "age_at_settlement"])
h2_other = models.feols(adults.filter(~pl.col("young_single")), f"{moves} ~ self_found + age_at_settlement + C(education) | settlement_year",
                        confounders=["education", "settlement_year", "age_at_settlement"])
h2_row, h2_other_row = h2_fit.term("self_found"), h2_other.term("self_found")
display(plots.table(pl.DataFrame([{"group": "single adults under 30", **{k: h2_row[k] for k in ("estimate", "ci_low", "ci_high", "p_value")}, "n": h2_fit.n_obs},
                                  {"group": "other adults", **{k: h2_other_row[k] for k in ("estimate", "ci_low", "ci_high", "p_value")}, "n": h2_other.n_obs}]),
                    caption=f"Moves in the first {window} months: agreed self-settlement minus ordinary route",
                    lineage=(lin, "h2", lineage.estimated_rows(
                        ["estimate", "ci_low", "ci_high", "p_value", "n"],
                        {"single adults under 30": h2_fit, "other adults": h2_other}, "group", PERSON_TABLES))))
display(Markdown(
    f"**H2.** Young single adults who found their own housing (agreed self-settlement) made **{h2_row['estimate']:+.2f} "
    f"moves** more in the first {window} months than young single adults settled on the ordinary route (95 % CI "
    f"{h2_row['ci_low']:+.2f} to {h2_row['ci_high']:+.2f}; {format_value(h2_fit.n_obs, 'count')} persons); among other adults the "
    f"difference is {h2_other_row['estimate']:+.2f} ({h2_other_row['ci_low']:+.2f} to {h2_other_row['ci_high']:+.2f}). "
    + ("Self-found housing goes with more moves" if h2_row["ci_low"] > 0 else "The data do not show more moves after self-found housing")
    + (" for young singles, and not more so than for other adults: instability follows the route, not youth."
       if h2_row["ci_low"] > 0 and h2_other_row["ci_low"] > 0 and abs(h2_row["estimate"] - h2_other_row["estimate"]) < 2 * max(h2_row["std_error"], h2_other_row["std_error"])
       else ".")
    + " An association: people who choose to find their own housing differ from those who wait for an offer."))

# %% [markdown]
# ## Sensitivity to hidden confounding
# Motivation, health or networks could drive both moving and work. How strong would such a hidden
# confounder have to be to explain the association away? Three scales: the Cinelli-Hazlett robustness
# value of the linear models (share of residual variance, partial R²), Oster's δ for the same models
# (how much more the unobservables would have to select on the exposure than the observed controls
# do, with R²max = 1.3 × the model's R²) and the E-value of the binary-outcome contrasts
# (VanderWeele & Ding 2017: the risk-ratio association a confounder would need with both the
# exposure and the outcome).

# %%
fe_row = fe.term(moves)
fe_dof = fe.n_obs - len(fe.table) - 1
sens_moves = sensitivity.summary(fe_row["estimate"], fe_row["std_error"], fe_dof)
sens_h14 = (sensitivity.summary(h14_row["estimate"], h14_row["std_error"], h14_fit.n_obs - len(h14_fit.table) - 1)
            if h14_row is not None else None)
# Oster's delta: short regression on the exposure alone (for H14 with the other tenures kept in both, so
# the short regression is the same contrast against municipal rental), long = the linear model above
oster_moves = sensitivity.oster(analysis, "y", moves, controls=f"C(tenure_1y) + {controls}",
                                fixed_effects="kommune_nr + settlement_year")
oster_h14 = (sensitivity.oster(
    h14.with_columns((pl.col("tenure_1y") == "owner_startlan").cast(pl.Int8).alias("owner_startlan"),
                     pl.when(pl.col("tenure_1y") == "owner_startlan").then(pl.lit("municipal_rental"))
                     .otherwise(pl.col("tenure_1y")).alias("other_tenure")),
    "left", "owner_startlan", controls=controls, baseline="C(other_tenure)", fixed_effects="settlement_year")
    if h14_row is not None else None)
# E-values: the same question on the risk-ratio scale, for the binary-outcome contrasts (the risk of
# the comparison group is the baseline: everyone's share for one more move, municipal renters' for tenure)
primary_row = adjusted.term(moves)
evalue_moves = sensitivity.evalues_risk_difference(primary_row["estimate"], primary_row["ci_low"], primary_row["ci_high"],
                                                   baseline=float(analysis["y"].mean()))
evalue_h14 = (sensitivity.evalues_risk_difference(h14_row["estimate"], h14_row["ci_low"], h14_row["ci_high"],
                                                  baseline=float(base_rate))
              if h14_row is not None and 0 < base_rate < 1 else None)
display(Markdown(sensitivity.sentence("one more move (LPM with fixed effects)", sens_moves)
                 + " " + sensitivity.oster_sentence("the same model", oster_moves)
                 + "\n\n" + sensitivity.evalue_sentence("one more move (adjusted logit, AME)", evalue_moves)
                 + ("\n\n" + sensitivity.sentence("owning with startlån on leaving (H14)", sens_h14) if sens_h14 else "")
                 + (" " + sensitivity.oster_sentence("the same H14 model", oster_h14) if oster_h14 else "")
                 + ("\n\n" + sensitivity.evalue_sentence("owning with startlån on leaving (H14)", evalue_h14)
                    if evalue_h14 else "")))

# %% [markdown]
# ## Multiplicity
# The confirmatory hypotheses of this notebook form one family; their one-sided p-values (in the
# pre-specified direction) are adjusted together with Holm's method (Benjamini-Hochberg beside it).
# Exploratory results are labelled and carry no adjusted p-value.

# %%
primary = adjusted.term(moves)
tenure_term = "C(tenure_1y)[T.owner_startlan]"
tenure_row = adjusted.term(tenure_term) if tenure_term in adjusted.table["term"].to_list() else None
family = analysis_plan.adjust_family(NOTEBOOK, {
    "H1-moves": primary, "H1-temporary": temp_row, "H2": h2_row, "H14": h14_row, "H1-tenure": tenure_row,
}, plan)
display(plots.table(pl.DataFrame(analysis_plan.family_table(family)), caption="Confirmatory family: adjusted p-values",
                    lineage=(lin, "family", FAMILY)))

# %% [markdown]
# ## Result

# %%
naive_row = naive.term(moves)
text = (
    f"One more move in the first {window} months goes with **{primary['estimate'] * 100:+.1f} percentage points** "
    f"in the probability of being in work or education one year after the programme (95 % CI "
    f"{primary['ci_low'] * 100:+.1f} to {primary['ci_high'] * 100:+.1f}; Holm-adjusted one-sided p = "
    f"{family['hypotheses']['H1-moves']['p_holm']:.3g}; {format_value(adjusted.n_obs, 'count')} persons in {adjusted.n_clusters} "
    f"municipalities). Without adjustment the slope is {naive_row['estimate'] * 100:+.1f} points. This is an "
    "association adjusted for the named confounders, not a causal effect. " + models.interval_sentence(adjusted, moves)
)
compare_truth = compare_label = None
if gt is not None:
    model_truth, causal_truth = truth.moves_effect(gt, window), truth.moves_causal(gt, window)
    if causal_truth is not None:
        compare_truth, compare_label = causal_truth, f"causal_ame, window {window} months, landmark sample"
        covered = primary["ci_low"] <= causal_truth <= primary["ci_high"]
        text += (f" In the synthetic register the injected causal effect for this estimand ({window}-month window, "
                 f"this landmark sample) is {causal_truth * 100:+.2f} points: the interval "
                 f"{'covers' if covered else 'does NOT cover'} it.")
        if model_truth is not None:
            text += (f" What adjustment for the observed confounders can recover here is {model_truth * 100:+.2f} "
                     "points (the model's limit on this sample)"
                     + ("; the gap to the causal effect is the bias the sensitivity analysis asks about." if
                        abs(model_truth - causal_truth) > primary["std_error"] else "."))
    elif model_truth is not None:
        compare_truth, compare_label = model_truth, f"adjusted_logit_ame, window {window} months, landmark sample"
        covered = primary["ci_low"] <= model_truth <= primary["ci_high"]
        text += (f" The injected causal effect is not one number for a {window}-month window (moves after month 24 "
                 "have no effect in the generator), so the estimate is compared with what this adjusted model "
                 f"converges to on this sample instead: {model_truth * 100:+.2f} points; the interval "
                 f"{'covers' if covered else 'does NOT cover'} it.")
    else:
        text += f" The synthetic register records no truth for a {window}-month window: no comparison is made."
    if gt.get("switches"):
        on = [k.replace("_", " ") for k, v in gt["switches"].items() if v["strength"]]
        text += f" This register was generated with {', '.join(on)} switched on (see ground_truth.json)."
display(Markdown(text))

# %% [markdown]
# ## Caveats
# - **Reverse causation.** A job lets people move up the housing ladder (and move house). The landmark
#   design measures moves before the outcome, but anticipation (moving for a job offer) remains.
# - Unobserved motivation, health and networks may drive both stability and work; the estimates are
#   associations adjusted for the named confounders (see the sensitivity analysis), not causal effects.
# - The landmark sample excludes those whose outcome came before the window closed (mostly early
#   leavers of the programme) and emigrants: results describe those still here and followed.
# - Other windows move the numbers (see the robustness table, each row against its own truth).

# %%
def _effect(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"estimate": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "p_value": row["p_value"],
            "std_error": row["std_error"]}


lin.save()  # NAME.lineage.json beside the page (when rendered by run-notebook or report)
save_results({
    "source": source,
    "window_months": window,
    "migration_years": years_after,
    "n_analysis": adjusted.n_obs,
    "n_clusters": adjusted.n_clusters,
    "n_left_out_by_landmark": n_before_landmark,
    "identification": "association",
    "primary_effect": {**_effect(primary), "term": moves, "model": adjusted.model, "ame_vce": adjusted.vce,
                       "std_error_unconditional": models.ame_table_with(adjusted, "unconditional")
                       .filter(pl.col("term") == moves)["std_error"][0],
                       "truth": compare_truth, "truth_estimand": compare_label,
                       "causal_truth": truth.moves_causal(gt, window) if gt else None,
                       "model_truth": truth.moves_effect(gt, window) if gt else None},
    "naive_effect": {**_effect(naive_row), "truth": truth.moves_naive(gt, window) if gt else None},
    "fixed_effects_effect": {**_effect(fe_row), "truth_lpm": (truth.moves_truth(gt, window) or {}).get("adjusted_lpm") if gt else None},
    "alternative_windows": {str(w): {**_effect(r.term(moves)), "n": r.n_obs, "truth": truth.moves_effect(gt, w) if gt else None}
                            for w, r in alt_results.items()},
    "months_temporary_effect": _effect(temp_row),
    "tenure_owner_startlan_effect": (
        {**_effect(tenure_row), "truth": truth.tenure_effect(gt, "owner_startlan", window, kind="causal_ame") if gt else None,
         "model_truth": truth.tenure_effect(gt, "owner_startlan", window) if gt else None}
        if tenure_row is not None else None
    ),
    "h2_effect": {**_effect(h2_row), "n": h2_fit.n_obs, "other_adults": _effect(h2_other_row)},
    "h14_effect": {**_effect(h14_row), "n": h14_fit.n_obs} if h14_row is not None else None,
    "sensitivity": {"moves_fixed_effects": sens_moves, "h14": sens_h14,
                    "oster_moves_fixed_effects": oster_moves, "oster_h14": oster_h14,
                    "evalue_moves": evalue_moves, "evalue_h14": evalue_h14},
    "multiplicity": family,
    "robustness": robustness.to_dicts(),
})
