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
from settlement_research.pages import banner
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


def show(frame: pl.DataFrame, name: str, **kwargs: object) -> None:
    """A suppressed table and, under it, the same table as CSV (same cells, symbols as shown)."""
    digits = int(kwargs.get("float_digits", 1))
    display(sdc.to_html(frame, **kwargs))
    display(HTML(tx.download_link(frame, f"{stem}-{name}.csv", lang, digits)))
    shown_tables[name], shown_captions[name] = (frame, digits), str(kwargs.get("caption") or "")


# %%
display(Markdown(f"## {w['h_settlement']}"))
shown_years = pr.settlement_table(settlement_years, tx.status_words(lang))
show(pr.labelled(shown_years, {"year": w["year"], "requested": w["requested"], "decided": w["decided"],
                               "decision_status": w["decision"], "settled": w["settled"]}),
     "settlement", caption=banner.caption(w["cap_settlement"].format(span=span), info, lang),
     controlled=[w["settled"]],
     public={w["requested"]: "requested", w["decided"]: "decided"})  # IMDi's published figures
shown_symbols = [s for c in shown_years.columns if c.endswith("_symbol") for s in shown_years[c].to_list()]
display(Markdown(tx.legend(lang, t, shown_symbols)))  # the symbols, beside the first table that uses them
fig, ax = pr.new_figure()
x = shown_years["year"].to_numpy()
top = max([v for c in ("requested", "decided", "settled") for v in shown_years[c].to_list() if v is not None] + [t])
for offset, column, label in ((-0.27, "requested", w["requested"]), (0.0, "decided", w["decided"]),
                              (0.27, "settled", w["chart_settled_label"])):
    symbols = shown_years[f"{column}_symbol"].to_list() if f"{column}_symbol" in shown_years.columns else [None] * shown_years.height
    plots.count_bars(ax, list(x + offset), shown_years[column].to_list(), symbols, width=0.27, series=column,
                     label=label, placeholder=top * 0.08)
ax.set_xticks(x, [str(v) for v in x])
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
    show(pr.labelled(housing, tx.labels(lang, "year", "municipal_dwellings", "refugees_housed", *pr.HOUSING_SHARES,
                                        "municipal_exits", "throughput")),
         "housing", caption=banner.caption(w["cap_housing"].format(span=span), info, lang),
         public={w["municipal_dwellings"]: "municipal_dwellings"}, t=t)
    display(Markdown(w["housing_note"] + " " + pr.housing_national_text(data, lang)))

# %%
display(Markdown(f"## {w['h_intro']}"))
intro = pr.intro_table(data, kommune_nr)
if intro is None:
    comparison = None
    display(Markdown(w["no_intro"]))
else:
    show(pr.labelled(intro, tx.labels(lang, "year", "participants", "leavers", "work_education_base",
                                      "work_education_count", "share_work_education")),
         "intro", caption=banner.caption(w["cap_intro"].format(span=span), info, lang))
    comparison = pr.intro_comparison(data, kommune_nr, intro)
    show(pr.labelled(comparison, {"year": w["year_leaving"], "municipality": facts["kommune_name"],
                                  "county": facts["fylke_name"], "Norway": w["norway"]}),
         "intro-comparison", caption=banner.caption(w["cap_intro_comparison"], info, lang), float_digits=0)
    fig, ax = pr.new_figure()
    for column, label, style in (("municipality", facts["kommune_name"], "o-"),
                                 ("county", facts["fylke_name"], "s--"), ("Norway", w["norway"], "^:")):
        ax.plot(comparison["year"], comparison[column], style, label=pr.chart_label(label), color=plots.color(column))
    ax.set_ylim(0, 100)
    ax.set_xticks(comparison["year"].to_list(), [str(v) for v in comparison["year"].to_list()])
    ax.legend(ncols=3, frameon=False, loc="lower left")
    plots.finish(ax, title=w["chart_intro"], xlabel=w["axis_year_leaving"], ylabel=w["axis_percent"], source=source,
                 note=w["note_suppressed_left_out"], tight=False, lang=lang)
    pr.show_figure(fig)

# %%
display(Markdown(f"## {w['h_peers']}"))
peers = pr.peer_table(data, kommune_nr)
show(pr.labelled(peers, {"kommune_nr": w["code"], "kommune_name": w["municipality"], "fylke_name": w["county"],
                         "centrality": w["centrality"], "population": w["population"], "requested": w["requested"],
                         "decided": w["decided"], "settled": w["settled"], "settled_per_1000": w["settled_per_1000"]}),
     "peers", caption=banner.caption(w["cap_peers"].format(name=facts["kommune_name"], span=span), info, lang),
     controlled=[w["settled"], w["settled_per_1000"]],
     public={w["centrality"]: "centrality", w["population"]: "population",
             w["requested"]: "requested", w["decided"]: "decided"})  # published figures

# %%
display(Markdown(f"## {w['h_coordination']}"))
pairs = data.coordination.with_columns(
    pl.when((pl.col("husbanken_region") == facts["husbanken_region"]) & (pl.col("imdi_region") == facts["imdi_region"]))
    .then(pl.lit("◀ " + w["this_pair"])).otherwise(pl.lit("")).alias(" "),
    # the offices by name, as in the sentence above (the region ids are field values, not words)
    pl.col("husbanken_region").replace_strict(pr.HUSBANKEN_OFFICES, default=pl.col("husbanken_region")),
    pl.col("imdi_region").replace_strict(pr.IMDI_OFFICES, default=pl.col("imdi_region")),
).sort("coordination_index", descending=True)
display(Markdown(pr.coordination_text(facts, lang)))
show(pairs.select(pl.col("husbanken_region").alias(w["husbanken_office"]), pl.col("imdi_region").alias(w["imdi_office"]),
                  pl.col("coordination_index").alias(w["coordination_index"]), " "),
     "coordination", caption=banner.caption(w["cap_coordination"], info, lang),
     float_digits=2, public={w["coordination_index"]: "region_pair_coordination.level"})  # Fafo 2015, published

# %%
display(Markdown(f"## {w['h_caveats']}\n\n{w['caveats']}"))
# Every table above in one workbook: the same frames, the same symbols, the same decimals.
display(HTML(tx.xlsx_link(shown_tables, f"{stem}.xlsx", lang, shown_captions)))

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
    "settled_symbol": window["settled_symbol"],
    "lang": lang,
    "data": info,
    "settled_by_year": dict(zip(map(str, shown_years["year"]), shown_years["settled"].to_list(), strict=True)),
    "settled_symbols": {str(y): s for y, s in zip(shown_years["year"], shown_years["settled_symbol"], strict=True) if s},
}, sdc_keys=["settled", "settled_by_year", "work_education_share"])
