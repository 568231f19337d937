"""The words of a municipality profile in English and Norwegian (bokmål), and its downloads.

Why a module: municipal staff read the profile in Norwegian, researchers in English. Every fixed
text of the page (headings, table labels, captions, legends, chart titles and axes, the summary's
sentences, caveats) lives here once per language in one word table, and every sentence is built by
one function for both languages, so the notebook has no language branches and the two pages
cannot drift apart. Names from the data are escaped where they are used (``textsafe``); nothing
in the tables is data.

Downloads carry exactly the tables the page shows: the suppressed frames after
``profile.labelled``, with each suppressed or missing cell written as its symbol (':' or '..'),
never as a number — as CSV per table and as one Excel workbook of all tables.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from settlement_research.textsafe import escape_html, escape_markdown

LANGS = ("en", "nb")
THIN = "\u202f"  # the pages' one thousands separator (pages.tables.THIN)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "back": "← All profiles",
        "other_lang": "Norsk (bokmål)",
        "intro": ("**Question.** What was the municipality asked to do, what did it decide and do, where did the "
                  "refugees live, and how did they fare in the introduction programme, against its county, the "
                  "country and municipalities of similar size and centrality?"),
        "about": ("**Data.** IMDi requests and council decisions, settled refugees, their housing and the "
                  "introduction programme (the last three derived from person-level register data); population; "
                  "the agencies' regions and the coordination index of each office pair (Fafo 2015, June 2014).\n\n"
                  "**Method.** Counts from person-level data are suppressed below the threshold and shown as `:`, "
                  "once for all municipalities together, so that no hidden number can be worked out from this "
                  "profile, the others and the national figures. County and national comparisons are shares only."),
        "title": "municipality profile",
        "h_settlement": "Requested, decided and settled",
        "h_housing": "Housing of settled refugees",
        "h_intro": "Introduction programme: in work or education one year after",
        "h_peers": "Peers: same centrality class, closest in population",
        "h_coordination": "Agency regions and coordination",
        "h_caveats": "Caveats",
        "legend": ("**Symbols.** `:` suppressed (fewer than {t}, or hidden so that such a number cannot be worked "
                   "out) · `..` no data{more} · an empty share is a share of nobody. None of them is zero."),
        "download": "Download this table (CSV)",
        "download_xlsx": "Download every table of this profile (Excel)",
        "year": "year", "requested": "requested", "decided": "decided", "decision": "decision",
        "settled": "settled", "persons": "persons",
        "cap_settlement": "Refugees requested by IMDi, decided by the council and settled, {span}",
        "chart_settlement": "Requested, decided and settled", "chart_settled_label": "settled (hatched ':' = suppressed)",
        "axis_year": "Year", "axis_persons": "Persons",
        "no_housing": "No housing data for this source.",
        "no_intro": "No introduction-programme data for this source.",
        "no_intro_here": "No introduction-programme figures for this municipality in {span} in this source.",
        "no_settlement_here": "No settlement figures for this municipality in {span} in this source.",
        "municipal_dwellings": "municipal dwellings", "refugees_housed": "refugees housed",
        "municipal_rental_share": "municipal rental, %", "private_rental_share": "private rental, %",
        "owner_share": "owner, %", "temporary_share": "temporary, %",
        "municipal_exits": "exits from municipal rental", "throughput": "exits per dwelling-year",
        "cap_housing": "Refugees' housing: tenure as % of person-years, and throughput of municipal rental, {span}",
        "housing_note": ("Municipal dwellings is the municipality's stock (KOSTRA, public). Throughput is exits "
                         "from municipal rental per dwelling-year refugees lived there: higher means dwellings "
                         "are freed for the next household sooner."),
        "housing_national": ("Across Norway in {span}, refugees spent {municipal} of their person-years in municipal "
                             "rental, {private} in private rental, {owner} as owners and {temporary} in temporary "
                             "accommodation; municipal rental saw {throughput} exits per dwelling-year."),
        "participants": "participants", "leavers": "leavers", "work_education_base": "leavers with known status",
        "work_education_count": "in work or education", "share_work_education": "in work or education, %",
        "cap_intro": "Introduction programme: participants, leavers and their status a year after leaving, {span}",
        "year_leaving": "year leaving", "norway": "Norway",
        "cap_intro_comparison": "Share in work or education a year after leaving the programme, %",
        "chart_intro": "In work or education one year after the programme", "axis_year_leaving": "Year of leaving",
        "axis_percent": "%", "note_suppressed_left_out": "Suppressed years left out",
        "cap_peers_any": ("{name} (first row) and the five municipalities closest in population (it has no "
                          "centrality class in this source), totals {span}"),
        "cent_note": "Centrality class: {version} (Statistics Norway, KLASS); 1 most central, 6 least central.",
        "cent_before_2020": ("SSB's centrality index of 2020, the class of the 2024 municipality that contains it "
                             "(no index of {year} is shipped)"),
        "cent_2020": "SSB's centrality index of 2020",
        "cent_2024": "SSB's centrality index of 2020 on the 2024 municipalities",
        "cent_split": "No class: its parts lie in 2024 municipalities of different classes.",
        "cap_peers": "{name} (first row) and five peers of the same centrality class closest in population, totals {span}",
        "code": "code", "municipality": "municipality", "county": "county", "centrality": "centrality",
        "population": "population", "settled_per_1000": "settled per 1000 inhabitants",
        "coordination_text": ("{name} deals with IMDi **{imdi}** and Husbanken **{husbanken}**. How closely the two "
                              "offices worked together (eight dimensions, Fafo 2015, scaled 0–1) is a property of "
                              "the office pair, shared by every municipality in it."),
        "husbanken_office": "Husbanken office", "imdi_office": "IMDi office", "coordination_index": "coordination index",
        "this_pair": "this municipality's pair",
        "cap_coordination": "Coordination index of the nine Husbanken–IMDi office pairs",
        "caveats": ("- Settled counts refugees settled through IMDi (ordinary and agreed self-settlement); settled "
                    "above decided happens (carry-over, multi-year decisions) and is shown as it is.\n"
                    "- *No request* means IMDi did not ask the municipality that year; *made no decision* means "
                    "it was asked and no council decision is registered.\n"
                    "- The coordination index has nine values in all: it describes the office pair, not the municipality."),
        "sheet_contents": "contents", "sheet": "sheet", "table": "table",
    },
    "nb": {
        "back": "← Alle kommuneprofiler",
        "other_lang": "English",
        "intro": ("**Spørsmål.** Hvor mange ble kommunen anmodet om å bosette, hva vedtok den og hvor mange ble "
                  "bosatt, hvordan bodde flyktningene, og hvordan gikk det etter introduksjonsprogrammet — "
                  "sammenlignet med fylket, landet og kommuner med lignende størrelse og sentralitet?"),
        "about": ("**Data.** IMDis anmodninger og kommunestyrenes vedtak, bosatte flyktninger, deres boforhold og "
                  "introduksjonsprogrammet (de tre siste fra personopplysninger i registre); folketall; etatenes "
                  "regioner og samarbeidsindeksen for hvert kontorpar (Fafo 2015, juni 2014).\n\n"
                  "**Metode.** Tall fra personopplysninger under terskelen skjules og vises som `:`, samlet for alle "
                  "kommuner, slik at ingen skjulte tall kan regnes ut fra denne profilen, de andre og landstallene. "
                  "Fylket og landet sammenlignes bare som andeler."),
        "title": "kommuneprofil",
        "h_settlement": "Anmodet, vedtatt og bosatt",
        "h_housing": "Boforhold for bosatte flyktninger",
        "h_intro": "Introduksjonsprogrammet: i arbeid eller utdanning ett år etter",
        "h_peers": "Sammenlignbare kommuner: samme sentralitet, nærmest i folketall",
        "h_coordination": "Regioner og samarbeid mellom IMDi og Husbanken",
        "h_caveats": "Forbehold",
        "legend": ("**Symboler.** `:` skjult (færre enn {t}, eller skjult slik at et slikt tall ikke kan regnes ut) "
                   "· `..` tall mangler{more} · en tom andel er en andel av ingen. Ingen av dem betyr null."),
        "download": "Last ned tabellen (CSV)",
        "download_xlsx": "Last ned alle tabellene i profilen (Excel)",
        "year": "år", "requested": "anmodet", "decided": "vedtatt", "decision": "vedtak",
        "settled": "bosatt", "persons": "personer",
        "cap_settlement": "Flyktninger anmodet av IMDi, vedtatt av kommunestyret og bosatt, {span}",
        "chart_settlement": "Anmodet, vedtatt og bosatt", "chart_settled_label": "bosatt (skravert ':' = skjult)",
        "axis_year": "År", "axis_persons": "Personer",
        "no_housing": "Ingen boligdata for denne kilden.",
        "no_intro": "Ingen data om introduksjonsprogrammet for denne kilden.",
        "no_intro_here": "Ingen tall om introduksjonsprogrammet for denne kommunen i {span} i denne kilden.",
        "no_settlement_here": "Ingen bosettingstall for denne kommunen i {span} i denne kilden.",
        "municipal_dwellings": "kommunale boliger", "refugees_housed": "flyktninger i bolig",
        "municipal_rental_share": "kommunal utleie, %", "private_rental_share": "privat leie, %",
        "owner_share": "eier, %", "temporary_share": "midlertidig bolig, %",
        "municipal_exits": "utflyttinger fra kommunal bolig", "throughput": "utflyttinger per boligår",
        "cap_housing": "Flyktningers boforhold: disposisjonsform i % av personår, og gjennomstrømning i kommunale boliger, {span}",
        "housing_note": ("Kommunale boliger er kommunens boligmasse (KOSTRA, offentlig). Gjennomstrømning er "
                         "utflyttinger fra kommunal bolig per boligår flyktninger bodde der: høyere betyr at "
                         "boligene raskere blir ledige for neste husstand."),
        "housing_national": ("I hele landet i {span} bodde flyktninger {municipal} av personårene i kommunal "
                             "utleiebolig, {private} i privat leid bolig, {owner} i eid bolig og {temporary} i "
                             "midlertidig bolig; kommunale boliger hadde {throughput} utflyttinger per boligår."),
        "participants": "deltakere", "leavers": "avsluttet", "work_education_base": "avsluttet med kjent status",
        "work_education_count": "i arbeid eller utdanning", "share_work_education": "i arbeid eller utdanning, %",
        "cap_intro": "Introduksjonsprogrammet: deltakere, avsluttede og deres status ett år etter, {span}",
        "year_leaving": "år avsluttet", "norway": "Norge",
        "cap_intro_comparison": "Andel i arbeid eller utdanning ett år etter avsluttet program, %",
        "chart_intro": "I arbeid eller utdanning ett år etter programmet", "axis_year_leaving": "Avslutningsår",
        "axis_percent": "%", "note_suppressed_left_out": "Skjulte år er utelatt",
        "cap_peers_any": ("{name} (første rad) og de fem kommunene nærmest i folketall (den har ingen "
                          "sentralitetsklasse i denne kilden), sum {span}"),
        "cent_note": "Sentralitet: {version} (Statistisk sentralbyrå, KLASS); 1 mest sentral, 6 minst sentral.",
        "cent_before_2020": ("SSBs sentralitetsindeks fra 2020, klassen til 2024-kommunen den ligger i "
                             "(ingen indeks for {year} er med)"),
        "cent_2020": "SSBs sentralitetsindeks fra 2020",
        "cent_2024": "SSBs sentralitetsindeks fra 2020 for 2024-kommunene",
        "cent_split": "Ingen klasse: delene ligger i 2024-kommuner med ulik klasse.",
        "cap_peers": "{name} (første rad) og fem kommuner med samme sentralitet og nærmest i folketall, sum {span}",
        "code": "kommunenr.", "municipality": "kommune", "county": "fylke", "centrality": "sentralitet",
        "population": "folketall", "settled_per_1000": "bosatt per 1000 innbyggere",
        "coordination_text": ("{name} hører til IMDi **{imdi}** og Husbanken **{husbanken}**. Hvor godt de to "
                              "kontorene samarbeidet (åtte dimensjoner, Fafo 2015, skala 0–1) er en egenskap ved "
                              "kontorparet og gjelder alle kommunene i det."),
        "husbanken_office": "Husbanken-kontor", "imdi_office": "IMDi-kontor", "coordination_index": "samarbeidsindeks",
        "this_pair": "kommunens kontorpar",
        "cap_coordination": "Samarbeidsindeksen for de ni kontorparene Husbanken–IMDi",
        "caveats": ("- Bosatt teller flyktninger bosatt gjennom IMDi (ordinær og avtalt selvbosetting); flere bosatt "
                    "enn vedtatt forekommer (overheng, flerårige vedtak) og vises som det er.\n"
                    "- *Ingen anmodning* betyr at IMDi ikke anmodet kommunen det året; *ikke vedtak* betyr at "
                    "kommunen ble anmodet, men at det ikke er registrert noe vedtak.\n"
                    "- Samarbeidsindeksen har bare ni verdier: den beskriver kontorparet, ikke kommunen."),
        "sheet_contents": "innhold", "sheet": "ark", "table": "tabell",
    },
}

STATUS = {
    "en": {"as_requested": "decided as requested", "fewer": "decided fewer than requested", "declined": "declined",
           "no_decision": "made no decision", "no_request": "no request"},
    "nb": {"as_requested": "vedtok som anmodet", "fewer": "vedtok færre enn anmodet", "declined": "avslo",
           "no_decision": "ikke vedtak", "no_request": "ingen anmodning"},
}

# The source's other symbols (model.base.SYMBOL_MEANING), named in the legend when the page shows them.
SYMBOL_WORDS = {
    "en": {".": "not applicable", "...": "not yet available", "-": "nil", "~": "not in this edition"},
    "nb": {".": "ikke aktuelt", "...": "tall ikke tilgjengelig ennå", "-": "null", "~": "ikke i denne utgaven"},
}


def legend(lang: str, t: int, symbols: Iterable[str | None] = ()) -> str:
    """The symbol legend (Markdown) for threshold ``t``: ':' and '..' always, and every other symbol
    in ``symbols`` (the ones the page's tables show), so no symbol on the page goes unexplained."""
    text = words(lang)["legend"]  # refuses a language it has no words for
    named = SYMBOL_WORDS[lang]
    seen = sorted({s for s in symbols if s in named}, key=list(named).index)
    return text.format(t=t, more="".join(f" · `{s}` {named[s]}" for s in seen))


# The opening paragraph, one template per fact; :func:`summary` picks and joins them the same way
# for every language.
SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "centrality": "centrality class {c}", "centrality_unknown": "centrality class unknown",
        "who": "**{name}** ({nr}; {county}, {centrality}, IMDi region {imdi} / Husbanken region {husbanken})",
        "not_asked": "{who} was not asked by IMDi to settle refugees in {span}",
        "decided_anyway": ", but its council decided to settle {decided}",
        "asked": "{who} was asked to settle {requested} refugees in {span} (a request in {k} of {n} years)",
        "no_decision": ", but no council decision is registered",
        "decided": ", decided {decided}", "decided_gaps": " (no decision registered in {k} years)",
        "settled_unknown": "; how many it settled is not known.",
        "settled_hidden": " and settled a number that is not shown (':').",
        "settled": " and settled {settled}.", "none": "none",
        "status": " It {parts}.", "status_part": "{status} in {k} {years}", "year": "year", "years": "years",
        "and": " and ",
        "pooled": (" Of those who left the introduction programme, {share} were in work or education a year later "
                   "({county}: {county_share}, Norway: {norway_share})."),
        "pooled_hidden": (" Its leavers' status after the introduction programme cannot be shown, too few or none "
                          "(Norway: {norway_share})."),
        "coordination": " Its Husbanken–IMDi office pair has a coordination index of {index} (rank {rank} of {pairs}).",
        "not_available": "not available",
    },
    "nb": {
        "centrality": "sentralitet {c}", "centrality_unknown": "ukjent sentralitet",
        "who": "**{name}** ({nr}; {county}, {centrality}, IMDi-region {imdi} / Husbanken-region {husbanken})",
        "not_asked": "{who} ble ikke anmodet av IMDi om å bosette flyktninger i {span}",
        "decided_anyway": ", men kommunestyret vedtok å bosette {decided}",
        "asked": "{who} ble anmodet om å bosette {requested} flyktninger i {span} (anmodning i {k} av {n} år)",
        "no_decision": ", men ingen vedtak er registrert",
        "decided": ", vedtok {decided}", "decided_gaps": " (ikke registrert vedtak i {k} år)",
        "settled_unknown": "; hvor mange som ble bosatt er ukjent.",
        "settled_hidden": " og bosatte et antall som ikke vises (':').",
        "settled": " og bosatte {settled}.", "none": "ingen",
        "status": " Kommunen {parts}.", "status_part": "{status} i {k} {years}", "year": "år", "years": "år",
        "and": " og ",
        "pooled": (" Av dem som avsluttet introduksjonsprogrammet, var {share} i arbeid eller utdanning ett år etter "
                   "({county}: {county_share}, Norge: {norway_share})."),
        "pooled_hidden": (" Status etter introduksjonsprogrammet kan ikke vises, for få eller ingen "
                          "(Norge: {norway_share})."),
        "coordination": " Kontorparet Husbanken–IMDi har samarbeidsindeks {index} (nr. {rank} av {pairs}).",
        "not_available": "ikke tilgjengelig",
    },
}


def words(lang: str) -> dict[str, str]:
    """The profile's fixed texts in ``lang`` ('en' or 'nb')."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return WORDS[lang]


def status_words(lang: str) -> Mapping[str, str]:
    """Decision statuses (and ``no_request``) in ``lang``."""
    words(lang)
    return STATUS[lang]


# ------------------------------------------------------------------------------ numbers in text


def count_text(value: float | None, public: str | None = None, years: tuple[int, int] | None = None) -> str:
    """A count in a sentence: one thousands separator; ':' when hidden (None). ``public``: the
    declared public column it comes from (IMDi's requests and decisions), written with the
    disclosure API's signed mark so the gate lets a small public figure through; a count of people
    from the register is never marked. ``years``: the window a public total covers (written into the
    mark; the gate allows a small public number only as that window's value)."""
    if value is None:
        return ":"
    if public is not None:
        from settlement_research import sdc

        return sdc.shown(int(value), public=public, years=years)
    return f"{int(value):,}".replace(",", THIN)


def decimal_text(value: float, digits: int, lang: str) -> str:
    """A decimal number in a sentence: '0.46' in English, '0,46' in bokmål."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "nb" else text


def percent_text(value: float | None, lang: str) -> str:
    """A share (0-1) as a whole percentage: '49%' in English, '49 %' in bokmål; None as words."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SENTENCES[lang]["not_available"]
    text = f"{value:.0%}"
    return text.replace("%", f"{THIN}%") if lang == "nb" else text


# ------------------------------------------------------------------------------ sentences


def heading(f: Mapping[str, Any], span: str, lang: str) -> str:
    """The profile's Markdown heading; the name from the data is escaped."""
    return (f"# {escape_markdown(f['kommune_name'])} ({escape_markdown(f['kommune_nr'])}): "
            f"{words(lang)['title']} {escape_markdown(span)}")


def summary(f: Mapping[str, Any], totals: Mapping[str, Any], pooled: Mapping[str, float | None],
            first: int, last: int, lang: str = "en") -> str:
    """The opening paragraph in ``lang`` (Markdown). Suppressed numbers are written as ':'.

    Every string from the data is escaped (``textsafe.escape_markdown``): a name holding markup or
    Markdown link syntax is shown as text. A hidden window total is never written as "fewer than
    t": it may be hidden to protect another cell.
    """
    words(lang)
    s, e = SENTENCES[lang], escape_markdown
    span = f"{first}–{last}"
    centrality = (s["centrality"].format(c=e(f["centrality"])) if f.get("centrality") is not None
                  else s["centrality_unknown"])
    who = s["who"].format(name=e(f["kommune_name"]), nr=e(f["kommune_nr"]), county=e(f["fylke_name"]),
                          centrality=centrality, imdi=e(f["imdi_office"]), husbanken=e(f["husbanken_office"]))
    if not totals["requested"]:
        text = s["not_asked"].format(who=who, span=span)
        if totals["decided"]:
            text += s["decided_anyway"].format(decided=count_text(totals["decided"], "decided", (first, last)))
    else:
        text = s["asked"].format(who=who, requested=count_text(totals["requested"], "requested", (first, last)),
                                 span=span,
                                 k=totals["requested_years"], n=totals["years"])
        if totals["decided"] is None:
            text += s["no_decision"]
        else:
            text += s["decided"].format(decided=count_text(totals["decided"], "decided", (first, last)))
            if totals["decided_known_years"] < totals["years"]:
                text += s["decided_gaps"].format(k=totals["years"] - totals["decided_known_years"])
    if totals["settled_known_years"] == 0:
        text += s["settled_unknown"]
    elif totals["settled"] is None:
        text += s["settled_hidden"]
    else:
        text += s["settled"].format(settled=count_text(totals["settled"]) if totals["settled"] else s["none"])
    if totals["requested"]:
        parts = [s["status_part"].format(status=STATUS[lang][status], k=k, years=s["year"] if k == 1 else s["years"])
                 for status, k in totals["status"].items() if k]
        if parts:
            text += s["status"].format(parts=", ".join(parts[:-1]) + (s["and"] if len(parts) > 1 else "") + parts[-1])
    if pooled.get("kommune") is not None:
        text += s["pooled"].format(share=percent_text(pooled["kommune"], lang), county=e(f["fylke_name"]),
                                   county_share=percent_text(pooled.get("county"), lang),
                                   norway_share=percent_text(pooled.get("norway"), lang))
    elif pooled.get("norway") is not None:
        text += s["pooled_hidden"].format(norway_share=percent_text(pooled.get("norway"), lang))
    if f.get("coordination_index") is not None:
        text += s["coordination"].format(index=decimal_text(f["coordination_index"], 2, lang),
                                         rank=f["coordination_rank"], pairs=f["coordination_pairs"])
    return text


def coordination_text(f: Mapping[str, Any], lang: str = "en") -> str:
    """The sentence naming the municipality's two agency offices (Markdown, names escaped)."""
    return words(lang)["coordination_text"].format(
        name=escape_markdown(f["kommune_name"]), imdi=escape_markdown(f["imdi_office"]),
        husbanken=escape_markdown(f["husbanken_office"]))


def housing_national_text(national: Mapping[str, float | None] | None, first: int, last: int, lang: str = "en") -> str:
    """One sentence with the country's tenure mix and throughput over the window (shares only)."""
    if not national or national.get("municipal_rental_share") is None:
        return ""
    throughput = national.get("throughput")
    return words(lang)["housing_national"].format(
        span=f"{first}–{last}", municipal=percent_text(national["municipal_rental_share"], lang),
        private=percent_text(national.get("private_rental_share"), lang),
        owner=percent_text(national.get("owner_share"), lang),
        temporary=percent_text(national.get("temporary_share"), lang),
        throughput=SENTENCES[lang]["not_available"] if throughput is None or math.isnan(throughput)
        else decimal_text(throughput, 2, lang))


def labels(lang: str, *keys: str) -> dict[str, str]:
    """Column -> header in ``lang`` for the given word keys (the column names of the profile's
    frames are the keys)."""
    w = words(lang)
    return {k: w[k] for k in keys}


# ------------------------------------------------------------------------------ downloads


def shown_values(frame: pl.DataFrame) -> pl.DataFrame:
    """The table as shown: each ``<col>_symbol`` folded into its column as text (':' or '..' where
    the page shows a symbol), symbol columns dropped. Numbers stay numbers where shown."""
    out = []
    for c in frame.columns:
        if c.endswith("_symbol") and c[: -len("_symbol")] in frame.columns:
            continue
        sym = f"{c}_symbol"
        if sym in frame.columns:
            out.append(pl.when(pl.col(c).is_null() & pl.col(sym).is_not_null()).then(pl.col(sym))
                       .otherwise(pl.col(c).cast(pl.String)).alias(c))
        else:
            out.append(pl.col(c))
    return frame.select(out)


def csv_text(frame: pl.DataFrame, lang: str, digits: int = 1) -> str:
    """CSV of the shown table, decimals as on the page (``digits``, the table's ``float_digits``):
    ',' separated for English; ';' with decimal comma for Norwegian spreadsheets."""
    # NaN (a share of nobody, 0/0) is an empty cell on the page: empty here too, never "NaN"
    rounded = frame.with_columns(pl.col(c).fill_nan(None).round(digits) for c, t in frame.schema.items() if t.is_float())
    # A name from the data starting with = + - @ would be a formula in a spreadsheet: quote it.
    rounded = rounded.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.String and not c.endswith("_symbol"))
    shown = shown_values(rounded)
    buffer = io.StringIO()
    if lang == "nb":
        shown = shown.with_columns(pl.col(c).cast(pl.String).str.replace(".", ",", literal=True)
                                   for c, t in shown.schema.items() if t.is_float())
        folded = [c for c in shown.columns if f"{c}_symbol" in frame.columns and frame.schema[c].is_float()]
        shown = shown.with_columns(pl.col(c).str.replace(r"^(-?\d+)\.(\d+)$", "${1},${2}") for c in folded)  # not '..'
        shown.write_csv(buffer, separator=";", float_precision=digits)
    else:
        shown.write_csv(buffer, float_precision=digits)
    return buffer.getvalue()


def download_link(frame: pl.DataFrame, filename: str, lang: str, digits: int = 1) -> str:
    """An HTML link that downloads the shown table as CSV (works offline: a data: URI)."""
    data = base64.b64encode(("\ufeff" + csv_text(frame, lang, digits)).encode("utf-8")).decode("ascii")
    return (f'<p class="download"><a download="{escape_html(filename)}" href="data:text/csv;charset=utf-8;base64,{data}">'
            f"{escape_html(words(lang)['download'])}</a></p>")


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_name(name: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    base = name.translate(_SHEET_BAD).strip()[:31] or "sheet"
    out, n = base, 2
    while out.lower() in taken:
        out = f"{base[:28]} {n}"
        n += 1
    taken.add(out.lower())
    return out


def xlsx_bytes(tables: Mapping[str, tuple[pl.DataFrame, int]], lang: str,
               captions: Mapping[str, str] | None = None) -> bytes:
    """One workbook with a sheet per shown table (``name -> (frame, float_digits)``).

    Cells are what the page shows: numbers as numbers, rounded to the page's decimals and formatted
    with them; a suppressed or missing cell as its symbol (':' or '..') in text, never a number;
    names as text (``write_string``: never a formula). The file is byte-stable (fixed creation date).
    """
    import xlsxwriter

    words(lang)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"created": dt.datetime(2000, 1, 1), "title": words(lang)["title"]})
    bold = book.add_format({"bold": True, "bottom": 1})
    formats = {d: book.add_format({"num_format": "#,##0" if d == 0 else "#,##0." + "0" * d}) for d in range(4)}
    right = book.add_format({"align": "right"})
    taken: set[str] = set()
    for name, (frame, digits) in tables.items():
        sheet = book.add_worksheet(_sheet_name(name, taken))
        row0 = 0
        if captions and captions.get(name):
            sheet.write_string(0, 0, captions[name])
            row0 = 2
        columns = [c for c in frame.columns if not (c.endswith("_symbol") and c[: -len("_symbol")] in frame.columns)]
        for j, c in enumerate(columns):
            sheet.write_string(row0, j, c, bold)
            sheet.set_column(j, j, max(10, min(40, len(c) + 2)))
        for i, row in enumerate(frame.iter_rows(named=True), start=row0 + 1):
            for j, c in enumerate(columns):
                value, symbol = row[c], row.get(f"{c}_symbol")
                if value is None:
                    if symbol:
                        sheet.write_string(i, j, symbol, right)
                elif isinstance(value, bool):
                    sheet.write_boolean(i, j, value)
                elif isinstance(value, float):
                    if math.isfinite(value):
                        sheet.write_number(i, j, round(value, digits), formats[min(digits, 3)])
                elif isinstance(value, int) and not _is_label(c, frame.schema[c]):
                    sheet.write_number(i, j, value, formats[0])
                else:  # years, codes and names are labels: text, as on the page
                    sheet.write_string(i, j, str(value))
        sheet.freeze_panes(row0 + 1, 0)
    book.close()
    return buffer.getvalue()


def _is_label(column: str, dtype: pl.DataType) -> bool:
    from settlement_research.pages.tables import LABEL_UNITS, unit_of

    return unit_of(column, dtype) in LABEL_UNITS


def xlsx_link(tables: Mapping[str, tuple[pl.DataFrame, int]], filename: str, lang: str,
              captions: Mapping[str, str] | None = None) -> str:
    """An HTML link that downloads every shown table as one Excel workbook (a data: URI)."""
    data = base64.b64encode(xlsx_bytes(tables, lang, captions)).decode("ascii")
    return (f'<p class="download"><a download="{escape_html(filename)}" href="data:{XLSX_MIME};base64,{data}">'
            f"{escape_html(words(lang)['download_xlsx'])}</a></p>")


def nav_html(lang: str, kommune_nr: str, other_href: str | None) -> str:
    """Link back to the index (and to the other language's profile when it is in the same folder)."""
    w = words(lang)
    parts = [f'<a href="index.html">{escape_html(w["back"])}</a>']
    if other_href:
        parts.append(f'<a href="{escape_html(other_href)}" hreflang="{"en" if lang == "nb" else "nb"}">'
                     f"{escape_html(w['other_lang'])}</a>")
    return '<nav class="profile-nav" style="margin:.3rem 0 .8rem">' + " · ".join(parts) + "</nav>"


__all__ = [
    "LANGS", "SENTENCES", "STATUS", "WORDS", "coordination_text", "count_text", "csv_text", "decimal_text",
    "download_link", "heading", "legend", "housing_national_text", "labels", "nav_html", "percent_text", "shown_values",
    "status_words", "summary", "words", "xlsx_bytes", "xlsx_link",
]
