"""Which IMDi indicator cell becomes which model column (and which do not, and why).

Every layout is first turned into the same long records: ``indicator`` (IMDi's tabell_navn, e.g.
``bosatt_anmodede``), ``dims`` (the breakdowns, canonical 'key=value;key=value' sorted by key,
e.g. ``bosetting=anmodning``), ``enhet`` (personer, prosent, kroner, promille) and a value. This
module is the single mapping from that triple to a model column. Anything not listed here is
reported as rejected with reason "indicator not mapped to any model column".

Counts stay counts; a percentage becomes a ``_share`` (value / 100) only where the model has that
share. Percentages the model has no column for (e.g. settled as % of request) are not imported:
they can be recomputed from the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "share", "nok"]

SETTLEMENT = "kommune_settlement_year"
INTRO = "kommune_intro_year"
CONTEXT = "kommune_context_year"
NATIONAL = "national_settlement_year"


@dataclass(frozen=True)
class Target:
    table: str
    column: str
    kind: Kind


# (indicator, dims, enhet) -> target, for municipality rows.
KOMMUNE_MEASURES: dict[tuple[str, str, str], Target] = {}
for _ind in ("bosatt_anmodede", "bosatt_vedtak", "bosetting"):
    KOMMUNE_MEASURES[(_ind, "bosetting=anmodning", "personer")] = Target(SETTLEMENT, "requested", "count")
    KOMMUNE_MEASURES[(_ind, "bosetting=vedtak", "personer")] = Target(SETTLEMENT, "decided", "count")
    KOMMUNE_MEASURES[(_ind, "bosetting=bosatt", "personer")] = Target(SETTLEMENT, "settled", "count")
    # newer exports: the first request, before IMDi revised it ("requested" is the revised one)
    KOMMUNE_MEASURES[(_ind, "bosetting=opprinnelig_anmodning", "personer")] = Target(
        SETTLEMENT, "requested_original", "count"
    )

KOMMUNE_MEASURES.update({
    ("intro_deltakere", "kjonn=alle", "personer"): Target(INTRO, "participants", "count"),
    ("intro_avslutning_direkte", "avslutning_arsak_8=alle;kjonn=alle", "personer"): Target(
        INTRO, "leavers", "count"
    ),
    # status one year after leaving (cohort = year of leaving; see COHORT_INDICATORS)
    ("intro_status_arbutd", "avslutning_status_4=alle;kjonn=alle", "personer"): Target(
        INTRO, "work_education_base", "count"
    ),
    ("intro_status_arbutd", "avslutning_status_4=arbutd;kjonn=alle", "prosent"): Target(
        INTRO, "work_education_share", "share"
    ),
    ("befolkning_hovedgruppe", "innvkat_5=alle;kjonn=alle", "personer"): Target(
        CONTEXT, "population", "count"
    ),
    ("befolkning_hovedgruppe", "innvkat_5=innvandrere;kjonn=alle", "personer"): Target(
        CONTEXT, "immigrants", "count"
    ),
    ("befolkning_innvandringsgrunn", "innvgrunn_5=flukt;kjonn=alle", "personer"): Target(
        CONTEXT, "refugees", "count"
    ),
    ("flyktning_botid_flytting", "botid_3=0_4;forste_bosettingskommune=alle", "personer"): Target(
        CONTEXT, "refugees_short_residence", "count"
    ),
    ("vedvarende_lavinntekt", "innvkat_3=alle;vreg_3=alle", "prosent"): Target(
        CONTEXT, "persistent_low_income_share", "share"
    ),
    # integreringstilskudd years 1-5, the grant the model column describes (not 'totalt', which
    # adds Norwegian-tuition, elderly, disability and other grants)
    ("tilskudd", "tilskudd_til_kommuner=inttilsk_1_5", "kroner"): Target(CONTEXT, "imdi_grants_nok", "nok"),
})

# Indicators deliberately not mapped, with the reason the rejected list gives (else UNMAPPED).
NOT_MAPPED: dict[str, str] = {
    "sosialhjelp": (
        "not mapped: sosialhjelp percentages are the composition of recipients (alle = 100 %), not "
        "the share of inhabitants 18+ that social_assistance_share means; recipient counts have no "
        "model column"
    ),
    "sysselsatte_innvandringsgrunn": "not mapped: employment by reason for immigration has no model column",
    "norsk_prover": "not mapped: Norwegian test results have no model column",
    "befolkning_botid": (
        "not mapped: immigrants by length of residence and world region have no model column "
        "(refugees' residence comes from flyktning_botid_flytting)"
    ),
    "bosatt_befolkning": "not mapped: settled per 1000 inhabitants is a ratio of model counts",
}

# National rows (fylke_nr '00'): settled, requested and decided.
NATIONAL_MEASURES: dict[tuple[str, str, str], Target] = {
    (ind, f"bosetting={b}", "personer"): Target(NATIONAL, col, "count")
    for ind in ("bosatt_anmodede", "bosatt_vedtak", "bosetting")
    for b, col in (("bosatt", "settled"), ("anmodning", "requested"), ("vedtak", "decided"))
}

# Indicators broken down by cohort: the row's year becomes the cohort (year of leaving) and the
# window is measurement year - cohort. Only SSB's 1-year window is kept (the model holds one window
# per municipality-year, and mixing windows would make the share incomparable).
COHORT_INDICATORS = {"intro_status_arbutd": "kohort"}
KEPT_WINDOW_YEARS = 1

# Newer wide export (2022): header labels -> the 2015 vocabulary.
WIDE_2022_MEASURES = {
    "Bosetting: Anmodning om bosetting": ("bosatt_anmodede", "bosetting=anmodning"),
    "Bosetting: Opprinnelig anmodning": ("bosatt_anmodede", "bosetting=opprinnelig_anmodning"),
    "Bosetting: Faktisk bosetting": ("bosatt_anmodede", "bosetting=bosatt"),
    "Bosetting: Faktisk bosetting (sammenslått for tidligere fylker)": (
        "bosatt_anmodede", "bosetting=bosatt_sammenslatt_tidligere_fylker",
    ),
    "Bosetting: Vedtak om bosetting": ("bosatt_anmodede", "bosetting=vedtak"),
}

# Newer wide export of refugees by length of residence and secondary migration (4 header rows:
# residence, migration, unit, year) -> the 2015 vocabulary of flyktning_botid_flytting.
_BOTID = {"0-4 år": "0_4", "5+ år": "5+", "Alle": "alle"}
_FLYTTING = {"Alle": "alle", "Bosatt her": "ja", "Flyttet hit": "nei", "Uoppgitt": "uoppgitt"}
for _b, _bv in _BOTID.items():
    for _f, _fv in _FLYTTING.items():
        WIDE_2022_MEASURES[f"Botid i Norge: {_b} | Sekundærflytting: {_f}"] = (
            "flyktning_botid_flytting", f"botid_3={_bv};forste_bosettingskommune={_fv}",
        )


def target_for(indicator: str, dims: str, enhet: str, national: bool = False) -> Target | None:
    table = NATIONAL_MEASURES if national else KOMMUNE_MEASURES
    return table.get((indicator, dims, enhet))
