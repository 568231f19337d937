"""The words of a municipality profile in English and Norwegian (bokmål), and its downloads.

Why a module: municipal staff read the profile in Norwegian, researchers in English; every fixed
text (headings, table labels, captions, legends, caveats) lives here once per language so the
notebook has no language branches. Names from the data are escaped where they are used
(``profile.heading``/``summary``, ``textsafe``); nothing here is data.

Downloads carry exactly the table the page shows: the suppressed frame after ``profile.labelled``,
with each suppressed or missing cell written as its symbol (':' or '..'), never as a number.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import polars as pl

from settlement_research.textsafe import escape_html

LANGS = ("en", "nb")

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
                   "out) · `..` no data · an empty share is a share of nobody. None of them is zero."),
        "download": "Download this table (CSV)",
        "year": "year", "requested": "requested", "decided": "decided", "decision": "decision",
        "settled": "settled", "persons": "persons",
        "cap_settlement": "Refugees requested by IMDi, decided by the council and settled, {span}",
        "chart_settlement": "Requested, decided and settled", "chart_settled_label": "settled (hatched ':' = suppressed)",
        "axis_year": "Year", "axis_persons": "Persons",
        "no_housing": "No housing data for this source.",
        "no_intro": "No introduction-programme data for this source.",
        "no_intro_here": "No introduction-programme figures for this municipality in {span} in this source.",
        "no_settlement_here": "No settlement figures for this municipality in {span} in this source.",
        "cap_peers_any": ("{name} (first row) and the five municipalities closest in population (the source has "
                          "no centrality class), totals {span}"),
        "cap_peers": "{name} (first row) and five peers of the same centrality class closest in population, totals {span}",
        "code": "code", "municipality": "municipality", "county": "county", "centrality": "centrality",
        "population": "population", "settled_per_1000": "settled per 1000 inhabitants",
        "caveats": ("- Settled counts refugees settled through IMDi (ordinary and agreed self-settlement); settled "
                    "above decided happens (carry-over, multi-year decisions) and is shown as it is.\n"
                    "- *No request* means IMDi did not ask the municipality that year; *made no decision* means "
                    "it was asked and no council decision is registered.\n"
                    "- The coordination index has nine values in all: it describes the office pair, not the municipality."),
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
                   "· `..` tall mangler · en tom andel er en andel av ingen. Ingen av dem betyr null."),
        "download": "Last ned tabellen (CSV)",
        "year": "år", "requested": "anmodet", "decided": "vedtatt", "decision": "vedtak",
        "settled": "bosatt", "persons": "personer",
        "cap_settlement": "Flyktninger anmodet av IMDi, vedtatt av kommunestyret og bosatt, {span}",
        "chart_settlement": "Anmodet, vedtatt og bosatt", "chart_settled_label": "bosatt (skravert ':' = skjult)",
        "axis_year": "År", "axis_persons": "Personer",
        "no_housing": "Ingen boligdata for denne kilden.",
        "no_intro": "Ingen data om introduksjonsprogrammet for denne kilden.",
        "no_intro_here": "Ingen tall om introduksjonsprogrammet for denne kommunen i {span} i denne kilden.",
        "no_settlement_here": "Ingen bosettingstall for denne kommunen i {span} i denne kilden.",
        "cap_peers_any": ("{name} (første rad) og de fem kommunene nærmest i folketall (kilden har ingen "
                          "sentralitetsklasse), sum {span}"),
        "cap_peers": "{name} (første rad) og fem kommuner med samme sentralitet og nærmest i folketall, sum {span}",
        "code": "kommunenr.", "municipality": "kommune", "county": "fylke", "centrality": "sentralitet",
        "population": "folketall", "settled_per_1000": "bosatt per 1000 innbyggere",
        "caveats": ("- Bosatt teller flyktninger bosatt gjennom IMDi (ordinær og avtalt selvbosetting); flere bosatt "
                    "enn vedtatt forekommer (overheng, flerårige vedtak) og vises som det er.\n"
                    "- *Ingen anmodning* betyr at IMDi ikke anmodet kommunen det året; *ikke vedtak* betyr at "
                    "kommunen ble anmodet, men at det ikke er registrert noe vedtak.\n"
                    "- Samarbeidsindeksen har bare ni verdier: den beskriver kontorparet, ikke kommunen."),
    },
}

STATUS = {
    "en": {"as_requested": "decided as requested", "fewer": "decided fewer than requested", "declined": "declined",
           "no_decision": "made no decision", "no_request": "no request"},
    "nb": {"as_requested": "vedtok som anmodet", "fewer": "vedtok færre enn anmodet", "declined": "avslo",
           "no_decision": "ikke vedtak", "no_request": "ingen anmodning"},
}


def words(lang: str) -> dict[str, str]:
    """The profile's fixed texts in ``lang`` ('en' or 'nb')."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return WORDS[lang]


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
    rounded = frame.with_columns(pl.col(c).round(digits) for c, t in frame.schema.items() if t.is_float())
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


def nav_html(lang: str, kommune_nr: str, other_href: str | None) -> str:
    """Link back to the index (and to the other language's profile when it is in the same folder)."""
    w = words(lang)
    parts = [f'<a href="index.html">{escape_html(w["back"])}</a>']
    if other_href:
        parts.append(f'<a href="{escape_html(other_href)}" hreflang="{"en" if lang == "nb" else "nb"}">'
                     f"{escape_html(w['other_lang'])}</a>")
    return '<nav class="profile-nav" style="margin:.3rem 0 .8rem">' + " · ".join(parts) + "</nav>"


def status_words(lang: str) -> Mapping[str, str]:
    return STATUS[lang]


__all__ = ["LANGS", "STATUS", "WORDS", "csv_text", "download_link", "nav_html", "shown_values", "status_words", "summary_nb", "words"]




def _pct_nb(value: float | None) -> str:
    import math

    return "ikke tilgjengelig" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}".replace("%", " %")


def summary_nb(f: Mapping[str, Any], totals: Mapping[str, Any], pooled: Mapping[str, float | None],
               first: int, last: int) -> str:
    """The opening paragraph in bokmål (Markdown); the same facts as ``profile.summary``, names escaped."""
    from settlement_research.analysis.profile import _n
    from settlement_research.textsafe import escape_markdown as e

    span = f"{first}–{last}"
    centrality = f"sentralitet {e(f['centrality'])}" if f.get("centrality") is not None else "ukjent sentralitet"
    who = (f"**{e(f['kommune_name'])}** ({e(f['kommune_nr'])}; {e(f['fylke_name'])}, {centrality}, "
           f"IMDi-region {e(f['imdi_office'])} / Husbanken-region {e(f['husbanken_office'])})")
    if not totals["requested"]:
        text = f"{who} ble ikke anmodet av IMDi om å bosette flyktninger i {span}"
        if totals["decided"]:
            text += f", men kommunestyret vedtok å bosette {_n(totals['decided'], 'decided')}"
    else:
        text = (f"{who} ble anmodet om å bosette {_n(totals['requested'], 'requested')} flyktninger i {span} "
                f"(anmodning i {totals['requested_years']} av {totals['years']} år)")
        if totals["decided"] is None:
            text += ", men ingen vedtak er registrert"
        else:
            text += f", vedtok {_n(totals['decided'], 'decided')}"
            if totals["decided_known_years"] < totals["years"]:
                text += f" (ikke registrert vedtak i {totals['years'] - totals['decided_known_years']} år)"
    if totals["settled_known_years"] == 0:
        text += "; hvor mange som ble bosatt er ukjent."
    elif totals["settled"] is None:
        # never "fewer than t": a hidden total may be hidden to protect another cell (see profile.summary)
        text += " og bosatte et antall som ikke vises (':')."
    else:
        text += f" og bosatte {_n(totals['settled']) if totals['settled'] else 'ingen'}."
    if totals["requested"]:
        words_nb = STATUS["nb"]
        parts = [f"{words_nb[s]} i {k} år" for s, k in totals["status"].items() if k]
        text += " Kommunen " + ", ".join(parts[:-1]) + (" og " if len(parts) > 1 else "") + parts[-1] + "."
    if pooled.get("kommune") is not None:
        text += (f" Av dem som avsluttet introduksjonsprogrammet, var {_pct_nb(pooled['kommune'])} i arbeid eller "
                 f"utdanning ett år etter ({e(f['fylke_name'])}: {_pct_nb(pooled.get('county'))}, "
                 f"Norge: {_pct_nb(pooled.get('norway'))}).")
    elif pooled.get("norway") is not None:
        text += (" Status etter introduksjonsprogrammet kan ikke vises, for få eller ingen "
                 f"(Norge: {_pct_nb(pooled.get('norway'))}).")
    if f.get("coordination_index") is not None:
        text += (f" Kontorparet Husbanken–IMDi har samarbeidsindeks {f['coordination_index']:.2f}".replace(".", ",")
                 + f" (nr. {f['coordination_rank']} av {f['coordination_pairs']}).")
    return text
