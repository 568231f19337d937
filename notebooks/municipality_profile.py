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
# A batch over both languages (--grid kommune_nr=... lang=en,nb) adds the link to the page in the
# other language once both exist (reports.index.link_languages): only the batch knows its file name.
display(HTML(tx.nav_html(lang, kommune_nr, None)))
stem = f"{kommune_nr}-{'profil' if lang == 'nb' else 'profile'}"
lin = lineage.PageLineage(source, lang=lang)  # every number's origin: a hover on the page and NAME.lineage.json
window_years = {"year": list(range(years[0], years[1] + 1))}

facts = pr.facts(data, kommune_nr)
settlement_years = pr.settlement_years(data, kommune_nr)
window = pr.window_settled(data, kommune_nr)
totals = pr.settlement_totals(settlement_years, window=window)
pooled = pr.intro_pooled(data, kommune_nr)
# Names come from data files: the heading, summaries and pr.coordination_text escape them.
text = tx.summary(facts, totals, pooled, *years, lang=lang)
display(Markdown(tx.heading(facts, span, lang) + "\n\n" + text + "\n\n" + w["intro"] + "\n\n" + w["about"]))
shown_tables: dict[str, tuple[pl.DataFrame, int]] = {}  # every table as shown, for the Excel download
shown_captions: dict[str, str] = {}


def show(frame: pl.DataFrame, name: str, cells: dict | None = None, **kwargs: object) -> None:
    """A suppressed table (numbers carry their lineage, ``cells``) and, under it, the same table as
    CSV (same cells, symbols as shown); kept for the Excel workbook at the end."""
    digits = int(kwargs.get("float_digits", 1))
    display(lin.table(sdc.to_html(frame, **kwargs), frame, name, cells))
    display(HTML(tx.download_link(frame, f"{stem}-{name}.csv", lang, digits)))
    shown_tables[name], shown_captions[name] = (frame, digits), str(kwargs.get("caption") or "")


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
shown_symbols = [s for c in shown_years.columns if c.endswith("_symbol") for s in shown_years[c].to_list()]
display(Markdown(tx.legend(lang, t, shown_symbols)))  # the symbols, beside the first table that uses them
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
plots.finish(ax, title=w["chart_settlement"], xlabel=w["axis_year"], ylabel=w["axis_persons"], source=source,
             tight=False, lang=lang)
pr.show_figure(fig)

# %%
display(Markdown(f"## {w['h_housing']}"))
housing = pr.housing_table(data, kommune_nr)
if housing is None:
    display(Markdown(w["no_housing"]))
else:
    hl = tx.labels(lang, "year", "municipal_dwellings", "refugees_housed", *pr.HOUSING_SHARES,
                   "municipal_exits", "throughput")
    show(pr.labelled(housing, hl),
         "housing", caption=banner.caption(w["cap_housing"].format(span=span), info, lang),
         public={w["municipal_dwellings"]: "municipal_dwellings"}, t=t,
         cells={**lineage.rows("kommune_housing_year", {hl[c]: c for c in ("municipal_dwellings", "refugees_housed",
                                                                             "municipal_exits", "throughput")},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}),
                **lineage.rows("kommune_housing_year", {hl[c]: c for c in pr.HOUSING_SHARES},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}, how="share x 100")})
    display(Markdown(w["housing_note"] + " " + pr.housing_national_text(data, lang)))

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
    il = tx.labels(lang, "year", "participants", "leavers", "work_education_base", "work_education_count",
                   "share_work_education")
    show(pr.labelled(intro, il),
         "intro", caption=banner.caption(w["cap_intro"].format(span=span), info, lang),
         cells={**lineage.rows("kommune_intro_year", {il[c]: c for c in ("participants", "leavers", "work_education_base",
                                                                         "work_education_count")},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"}),
                **lineage.rows("kommune_intro_year", {il["share_work_education"]: "work_education_share"},
                               fixed={"kommune_nr": kommune_nr}, by={w["year"]: "year"},
                               how="in work or education / leavers with known status x 100")})
    comparison = pr.intro_comparison(data, kommune_nr, intro)
    # Oslo is a municipality and a county of one name: the two columns need two labels.
    county_label = facts["fylke_name"] if facts["fylke_name"] != facts["kommune_name"] else f"{facts['fylke_name']} ({w['county']})"
    show(pr.labelled(comparison, {"year": w["year_leaving"], "municipality": facts["kommune_name"],
                                  "county": county_label, "Norway": w["norway"]}),
         "intro-comparison", caption=banner.caption(w["cap_intro_comparison"], info, lang), float_digits=0,
         cells={**lineage.rows("kommune_intro_year", {facts["kommune_name"]: "work_education_share"},
                               fixed={"kommune_nr": kommune_nr}, by={w["year_leaving"]: "year"}, how="share x 100"),
                **lineage.rows("kommune_intro_year", {county_label: "work_education_share"},
                               by={w["year_leaving"]: "year"}, pool={"kommune_nr": kommune_nr[:2]},
                               how="share of the county's leavers (sums of counts and bases) x 100"),
                **lineage.rows("kommune_intro_year", {w["norway"]: "work_education_share"},
                               by={w["year_leaving"]: "year"}, pool={"kommune_nr": ""},
                               how="share of all leavers in Norway (sums of counts and bases) x 100")})
    lines = [(c, label, style) for c, label, style in (
        ("municipality", facts["kommune_name"], "o-"), ("county", county_label, "s--"), ("Norway", w["norway"], "^:"))
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
        plots.finish(ax, title=w["chart_intro"], xlabel=w["axis_year_leaving"], ylabel=w["axis_percent"], source=source,
                     note=w["note_suppressed_left_out"], tight=False, lang=lang)
        pr.show_figure(fig)

# %%
display(Markdown(f"## {w['h_peers']}"))
peers = pr.peer_table(data, kommune_nr)
population_years = peers["population_year"].to_list()  # a public number names the years it covers
peers = peers.drop("population_year")
show(pr.labelled(peers, {"kommune_nr": w["code"], "kommune_name": w["municipality"], "fylke_name": w["county"],
                         "centrality": w["centrality"], "population": w["population"], "requested": w["requested"],
                         "decided": w["decided"], "settled": w["settled"], "settled_per_1000": w["settled_per_1000"]}),
     "peers", caption=banner.caption(w["cap_peers" if facts["centrality"] is not None else "cap_peers_any"]
                                     .format(name=facts["kommune_name"], span=span), info, lang),
     controlled=[w["settled"], w["settled_per_1000"]],
     public={w["centrality"]: "centrality", w["population"]: "population",
             w["requested"]: "requested", w["decided"]: "decided"},  # published figures
     public_years={w["requested"]: years, w["decided"]: years, w["population"]: population_years},
     cells={**lineage.rows("kommune_settlement_year", {w["requested"]: "requested", w["decided"]: "decided",
                                                       w["settled"]: "settled"},
                           by={w["code"]: "kommune_nr"}, over=window_years, how="sum over the window"),
            **lineage.rows("kommune_settlement_year", {w["settled_per_1000"]: "settled"}, by={w["code"]: "kommune_nr"},
                           over=window_years, how="window total per 1000 inhabitants (kommune_context_year.population)"),
            **lineage.rows("kommune_context_year", {w["population"]: "population"}, by={w["code"]: "kommune_nr"},
                           over=window_years, how="the latest year with a value in the window"),
            **lineage.rows("kommune", {w["centrality"]: "centrality"}, by={w["code"]: "kommune_nr"})})
if facts["centrality_version"]:  # the class is SSB's: say which version (geo.centrality)
    display(Markdown(w["cent_note"].format(version=w[f"cent_{facts['centrality_version']}"].format(year=years[1]))
                     + (" " + w["cent_split"] if facts["centrality_split"] else "")))

# %%
display(Markdown(f"## {w['h_coordination']}"))
pairs = data.coordination.with_columns(
    pl.when((pl.col("husbanken_region") == facts["husbanken_region"]) & (pl.col("imdi_region") == facts["imdi_region"]))
    .then(pl.lit("◀ " + w["this_pair"])).otherwise(pl.lit("")).alias(" "),
    # the offices by name, as in the sentence above (the region ids are field values, not words)
    pl.col("husbanken_region").replace_strict(pr.HUSBANKEN_OFFICES, default=pl.col("husbanken_region")),
    pl.col("imdi_region").replace_strict(pr.IMDI_OFFICES, default=pl.col("imdi_region")),
).sort(["coordination_index", "husbanken_region", "imdi_region"], descending=[True, False, False])  # ties in a fixed order
display(Markdown(pr.coordination_text(facts, lang)))
show(pairs.select(pl.col("husbanken_region").alias(w["husbanken_office"]), pl.col("imdi_region").alias(w["imdi_office"]),
                  pl.col("coordination_index").alias(w["coordination_index"]), " "),
     "coordination", caption=banner.caption(w["cap_coordination"], info, lang),
     float_digits=2, public={w["coordination_index"]: "region_pair_coordination.level"},  # Fafo 2015, published
     cells=lineage.constant([w["coordination_index"]], "Fafo 2015, table of Husbanken-IMDi cooperation "
                            "(settlement_research.regions.coordination_index)"))

# %%
display(Markdown(f"## {w['h_caveats']}\n\n{w['caveats']}"))
# Every table above in one workbook: the same frames, the same symbols, the same decimals.
display(HTML(tx.xlsx_link(shown_tables, f"{stem}.xlsx", lang, shown_captions)))

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
   public_keys={"requested": years, "decided": years})  # window totals: they name their window
