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
lang = "en"

# %%
import polars as pl
from IPython.display import HTML, Markdown, display

from settlement_research import sdc
from settlement_research.analysis import plots
from settlement_research.analysis import profile as pr
from settlement_research.analysis import profile_text as tx
from settlement_research.pages import banner, lineage
from settlement_research.reports.results import memo, save_results
from settlement_research.textsafe import escape_markdown

if not isinstance(kommune_nr, str) or len(kommune_nr) != 4 or not kommune_nr.isdigit():
    raise ValueError(f"kommune_nr must be a 4-digit string such as '0301', got {kommune_nr!r}")
w = tx.words(lang)  # refuses anything but 'en' and 'nb'
years = (int(first_year), int(last_year))
span = f"{years[0]}–{years[1]}"
# Loading, validation and the county/national/peer aggregates: once per worker, not per report.
data = memo(f"municipality_profile:{source}:{years[0]}-{years[1]}", lambda: pr.profile_data(source, *years))
t = sdc.threshold()
plots.set_theme()
info = banner.data_info(source)
display(HTML(banner.banner_html(info, lang)))  # the rendered page keeps this one banner at the top
# A batch over both languages (--grid kommune_nr=... lang=en,nb) names the pages
# kommune_nr-0301__lang-en.html and kommune_nr-0301__lang-nb.html: each links the other.
other = f"kommune_nr-{kommune_nr}__lang-{'en' if lang == 'nb' else 'nb'}.html"
display(HTML(tx.nav_html(lang, kommune_nr, other)))
stem = f"{kommune_nr}-{'profil' if lang == 'nb' else 'profile'}"
lin = lineage.PageLineage(source)  # every number's origin: a hover on the page and NAME.lineage.json
window_years = {"year": list(range(years[0], years[1] + 1))}

facts = pr.facts(data, kommune_nr)
settlement_years = pr.settlement_years(data, kommune_nr)
window = pr.window_settled(data, kommune_nr)
totals = pr.settlement_totals(settlement_years, window=window)
pooled = pr.intro_pooled(data, kommune_nr)
# Names come from data files: the heading, summaries and pr.coordination_text escape them.
heading = (f"# {escape_markdown(facts['kommune_name'])} ({escape_markdown(kommune_nr)}): "
           f"{w['title']} {escape_markdown(span)}")
text = (tx.summary_nb if lang == "nb" else pr.summary)(facts, totals, pooled, *years)
display(Markdown(heading + "\n\n" + text + "\n\n" + w["intro"] + "\n\n" + w["about"]))


def show(frame: pl.DataFrame, name: str, cells: dict | None = None, **kwargs: object) -> None:
    """A suppressed table (numbers carry their lineage, ``cells``) and, under it, the same table as
    CSV (same cells, symbols as shown)."""
    display(lin.table(sdc.to_html(frame, **kwargs), frame, name, cells))
    display(HTML(tx.download_link(frame, f"{stem}-{name}.csv", lang, int(kwargs.get("float_digits", 1)))))


# %%
display(Markdown(f"## {w['h_settlement']}"))
shown_years = pr.settlement_table(settlement_years, tx.status_words(lang))
show(pr.labelled(shown_years, {"year": w["year"], "requested": w["requested"], "decided": w["decided"],
                               "decision_status": w["decision"], "settled": w["settled"]}),
     "settlement", caption=banner.caption(w["cap_settlement"].format(span=span), info, lang),
     controlled=[w["settled"]],
     public={w["requested"]: "requested", w["decided"]: "decided"},  # IMDi's published figures
     cells=lineage.rows("kommune_settlement_year", {w["requested"]: "requested", w["decided"]: "decided",
                                                    w["settled"]: "settled"},
                        fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}))
display(Markdown(w["legend"].format(t=t)))  # the symbols, beside the first table that uses them
if not pr.has_values(shown_years, ("requested", "decided", "settled")):
    display(Markdown(w["no_settlement_here"].format(span=span)))
fig, ax = pr.new_figure()
x = shown_years["year"].to_numpy()
top = max([v for c in ("requested", "decided", "settled") for v in shown_years[c].to_list() if v is not None] + [t])
for offset, column, label in ((-0.27, "requested", w["requested"]), (0.0, "decided", w["decided"]),
                              (0.27, "settled", w["chart_settled_label"])):
    symbols = shown_years[f"{column}_symbol"].to_list() if f"{column}_symbol" in shown_years.columns else [None] * shown_years.height
    plots.count_bars(ax, list(x + offset), shown_years[column].to_list(), symbols, width=0.27, series=column,
                     label=label, placeholder=top * 0.08)
ax.set_xticks(x, [str(v) for v in x])
chart_x = [pr.year_limits(x.tolist())]  # every chart's year axis, in results.json for the tests
ax.set_xlim(*chart_x[-1])
ax.set_ylim(0, top * 1.3)  # room for the legend above the bars
ax.legend(ncols=3, frameon=False, loc="upper left")
plots.finish(ax, title=w["chart_settlement"], xlabel=w["axis_year"], ylabel=w["axis_persons"], source=source, tight=False)
pr.show_figure(fig)

# %%
display(Markdown(f"## {w['h_housing']}"))
housing = pr.housing_table(data, kommune_nr)
if housing is None:
    display(Markdown(w["no_housing"]))
else:
    show(pr.labelled(housing, {"year": w["year"], "municipal_dwellings": "municipal dwellings",
                               "refugees_housed": "refugees housed", **pr.HOUSING_SHARES,
                               "municipal_exits": "exits from municipal rental",
                               "throughput": "exits per dwelling-year"}),
         "housing", caption=banner.caption(f"Refugees' housing: tenure as % of person-years, and throughput of municipal rental, {span}", info, lang),
         public={"municipal dwellings": "municipal_dwellings"}, t=t,
         cells={**lineage.rows("kommune_housing_year", {"municipal dwellings": "municipal_dwellings",
                                                        "refugees housed": "refugees_housed",
                                                        "exits from municipal rental": "municipal_exits",
                                                        "exits per dwelling-year": "throughput"},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}),
                **lineage.rows("kommune_housing_year", {label: c for c, label in pr.HOUSING_SHARES.items()},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}, how="share x 100")})
    display(Markdown("Municipal dwellings is the municipality's stock (KOSTRA, public). Throughput is exits "
                     "from municipal rental per dwelling-year refugees lived there: higher means dwellings "
                     "are freed for the next household sooner. " + pr.housing_national_text(data)))

# %%
display(Markdown(f"## {w['h_intro']}"))
intro = pr.intro_table(data, kommune_nr)
if intro is None:
    comparison = None
    display(Markdown(w["no_intro"]))
elif not pr.has_values(intro, pr.INTRO_SHOWN):
    comparison = None
    display(Markdown(w["no_intro_here"].format(span=span)))
else:
    show(pr.labelled(intro, {"year": w["year"], "participants": "participants", "leavers": "leavers",
                             "work_education_base": "leavers with known status",
                             "work_education_count": "in work or education",
                             "share_work_education": "in work or education, %"}),
         "intro", caption=banner.caption(f"Introduction programme: participants, leavers and their status a year after leaving, {span}", info, lang),
         cells={**lineage.rows("kommune_intro_year", {"participants": "participants", "leavers": "leavers",
                                                      "leavers with known status": "work_education_base",
                                                      "in work or education": "work_education_count"},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}),
                **lineage.rows("kommune_intro_year", {"in work or education, %": "work_education_share"},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"},
                               how="in work or education / leavers with known status x 100")})
    comparison = pr.intro_comparison(data, kommune_nr, intro)
    # Oslo is a municipality and a county of one name: the two columns need two labels.
    county_label = facts["fylke_name"] if facts["fylke_name"] != facts["kommune_name"] else f"{facts['fylke_name']} ({w['county']})"
    show(pr.labelled(comparison, {"year": "year leaving", "municipality": facts["kommune_name"],
                                  "county": county_label, "Norway": "Norway"}),
         "intro-comparison", caption=banner.caption("Share in work or education a year after leaving the programme, %", info, lang),
         float_digits=0,
         cells={**lineage.rows("kommune_intro_year", {facts["kommune_name"]: "work_education_share"},
                               fixed={"kommune_nr": kommune_nr}, by={"year leaving": "year"}, how="share x 100"),
                **lineage.rows("kommune_intro_year", {county_label: "work_education_share"},
                               by={"year leaving": "year"}, pool={"kommune_nr": kommune_nr[:2]},
                               how="share of the county's leavers (sums of counts and bases) x 100"),
                **lineage.rows("kommune_intro_year", {"Norway": "work_education_share"},
                               by={"year leaving": "year"}, pool={"kommune_nr": ""},
                               how="share of all leavers in Norway (sums of counts and bases) x 100")})
    lines = [(c, label, style) for c, label, style in (
        ("municipality", facts["kommune_name"], "o-"), ("county", county_label, "s--"), ("Norway", "Norway", "^:"))
        if pr.has_values(comparison, (c,))]  # a line without any value is not drawn (nor put in the legend)
    if lines:
        fig, ax = pr.new_figure()
        for column, label, style in lines:
            ax.plot(comparison["year"], comparison[column], style, label=pr.chart_label(label), color=plots.color(column))
        ax.set_ylim(0, 100)
        ax.set_xticks(comparison["year"].to_list(), [str(v) for v in comparison["year"].to_list()])
        chart_x.append(pr.year_limits(comparison["year"].to_list()))
        ax.set_xlim(*chart_x[-1])
        ax.legend(ncols=3, frameon=False, loc="lower left")
        plots.finish(ax, title="In work or education one year after the programme", xlabel="Year of leaving",
                     ylabel="%", source=source, note="Years without data or suppressed left out", tight=False)
        pr.show_figure(fig)

# %%
display(Markdown(f"## {w['h_peers']}"))
peers = pr.peer_table(data, kommune_nr)
show(pr.labelled(peers, {"kommune_nr": w["code"], "kommune_name": w["municipality"], "fylke_name": w["county"],
                         "centrality": w["centrality"], "population": w["population"], "requested": w["requested"],
                         "decided": w["decided"], "settled": w["settled"], "settled_per_1000": w["settled_per_1000"]}),
     "peers", caption=banner.caption(w["cap_peers" if facts["centrality"] is not None else "cap_peers_any"]
                                     .format(name=facts["kommune_name"], span=span), info, lang),
     controlled=[w["settled"], w["settled_per_1000"]],
     public={w["centrality"]: "centrality", w["population"]: "population",
             w["requested"]: "requested", w["decided"]: "decided"},  # published figures
     cells={**lineage.rows("kommune_settlement_year", {w["requested"]: "requested", w["decided"]: "decided",
                                                       w["settled"]: "settled"},
                           by={w["code"]: "kommune_nr"}, over=window_years, how="sum over the window"),
            **lineage.rows("kommune_settlement_year", {w["settled_per_1000"]: "settled"}, by={w["code"]: "kommune_nr"},
                           over=window_years, how="window total per 1000 inhabitants (kommune_context_year.population)"),
            **lineage.rows("kommune_context_year", {w["population"]: "population"}, by={w["code"]: "kommune_nr"},
                           over=window_years, how="the latest year with a value in the window"),
            **lineage.rows("kommune", {w["centrality"]: "centrality"}, by={w["code"]: "kommune_nr"})})

# %%
display(Markdown(f"## {w['h_coordination']}"))
pairs = data.coordination.with_columns(
    pl.when((pl.col("husbanken_region") == facts["husbanken_region"]) & (pl.col("imdi_region") == facts["imdi_region"]))
    .then(pl.lit("◀")).otherwise(pl.lit("")).alias(" ")
).sort(["coordination_index", "husbanken_region", "imdi_region"], descending=[True, False, False])  # ties in a fixed order
display(Markdown(pr.coordination_text(facts)))
show(pairs.select(pl.col("husbanken_region").alias("Husbanken"), pl.col("imdi_region").alias("IMDi"),
                  pl.col("coordination_index").alias("coordination index"), " "),
     "coordination", caption=banner.caption("Coordination index of the nine Husbanken–IMDi office pairs", info, lang),
     float_digits=2, public={"coordination index": "region_pair_coordination.level"},  # Fafo 2015, published
     cells=lineage.constant(["coordination index"], "Fafo 2015, table of Husbanken-IMDi cooperation "
                            "(settlement_research.regions.coordination_index)"))

# %%
display(Markdown(f"## {w['h_caveats']}\n\n{w['caveats']}"))

# %%
lin.save()  # NAME.lineage.json beside the page (when rendered by the runner)
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
    "settled_symbol": window["settled_symbol"],
    "lang": lang,
    "data": info,
    "chart_year_axes": [list(limits) for limits in chart_x],
    "settled_by_year": dict(zip(map(str, shown_years["year"]), shown_years["settled"].to_list(), strict=True)),
    "settled_symbols": {str(y): s for y, s in zip(shown_years["year"], shown_years["settled_symbol"], strict=True) if s},
    # the intro table's status counts, as shown: the whole-set audit sets the pooled share against them
    "work_education_by_year": {} if intro is None else dict(zip(map(str, intro["year"]), intro["work_education_count"].to_list(), strict=True)),
    "work_education_base_by_year": {} if intro is None else dict(zip(map(str, intro["year"]), intro["work_education_base"].to_list(), strict=True)),
    "work_education_symbols": {} if intro is None else {
        str(y): s for y, s in zip(intro["year"], intro["work_education_count_symbol"], strict=True) if s},
}, sdc_keys=["settled", "settled_by_year", "work_education_share", "work_education_by_year", "work_education_base_by_year"],
   public_keys=["requested", "decided"])
