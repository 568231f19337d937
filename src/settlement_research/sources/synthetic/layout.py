"""The raw layout of the synthetic register extract: file names, column names and codes.

The generator writes, and the reader parses, what an extract would deliver (upper-case Norwegian
column names, ``;`` separated, dates ``YYYYMMDD``, decimal commas, coded categories, status symbols
for missing cells), not the clean model names. Writer and reader share this one description.
"""

from __future__ import annotations

SEPARATOR = ";"
DATE_FORMAT = "%Y%m%d"

# file -> (model table, {RAW_COLUMN: model column}); columns in file order.
FILES: dict[str, tuple[str, dict[str, str]]] = {
    "kommunekatalog.csv": ("kommune", {
        "KOMMNR": "kommune_nr", "KOMMNAVN": "kommune_name", "FYLKENR": "fylke_nr",
        "FYLKENAVN": "fylke_name", "IMDI_REGION": "imdi_region", "HUSBANKEN_REGION": "husbanken_region",
        "SENTRALITET": "centrality", "GYLDIG_FRA": "valid_from", "GYLDIG_TIL": "valid_to",
    }),
    "register_person.csv": ("person", {
        "LOPENR": "person_id", "FODSELSAAR": "birth_year", "KJONN": "sex", "LANDKODE": "country_group",
        "NUS_NIVAA": "education", "ANKOMSTDATO": "arrival_date", "VEDTAKSDATO_UDI": "permit_date",
        "ENSLIG_MINDREAARIG": "unaccompanied_minor", "UTVANDRINGSDATO": "emigration_date",
    }),
    "register_husholdning.csv": ("household", {
        "HUSHNR": "household_id", "HUSHTYPE": "household_type", "ANTALL_PERSONER": "size",
    }),
    "register_husholdningsmedlem.csv": ("household_member", {
        "HUSHNR": "household_id", "LOPENR": "person_id", "ROLLE": "role",
    }),
    "register_bosetting.csv": ("settlement", {
        "LOPENR": "person_id", "BOSETTINGSDATO": "settlement_date", "KOMMNR": "kommune_nr",
        "BOSETTINGSVEI": "route", "VENTETID_MND": "months_waited",
    }),
    "register_boforhold.csv": ("housing_spell", {
        "LOPENR": "person_id", "BOFORHOLD_NR": "spell_no", "KOMMNR": "kommune_nr", "FRA_DATO": "start_date",
        "TIL_DATO": "end_date", "DISPOSISJONSFORM": "tenure", "NY_ADRESSE": "new_address", "ANTALL_ROM": "rooms",
        "ANTALL_PERSONER": "persons",
    }),
    "register_introduksjonsprogram.csv": ("intro_spell", {
        "LOPENR": "person_id", "DELTAKELSE_NR": "spell_no", "KOMMNR": "kommune_nr", "STARTDATO": "start_date",
        "SLUTTDATO": "end_date", "AVSLUTNINGSAARSAK": "end_reason",
    }),
    "register_status_november.csv": ("outcome_year", {
        "LOPENR": "person_id", "AARGANG": "year", "HOVEDSTATUS": "status", "BOKOMMNR": "kommune_nr",
    }),
    "imdi_bosetting_kommune.csv": ("kommune_settlement_year", {
        "KOMMNR": "kommune_nr", "AAR": "year", "ANMODET": "requested", "VEDTATT": "decided",
        "BOSATT": "settled", "BOSATT_EM": "settled_unaccompanied_minors",
        "FAMILIEGJENFORENTE": "family_reunified",
    }),
    "imdi_bosetting_nasjonalt.csv": ("national_settlement_year", {
        "AAR": "year", "BOSATTE": "settled", "BOSETTINGSKLARE_I_MOTTAK": "waiting_in_reception",
        "BOSATT_INNEN_6MND_PROSENT": "settled_within_6m_share", "LENGEVENTENDE": "long_waiting",
        "VENTETID_MND": "months_permit_to_settlement", "REFERANSEDATO": "reference_date", "KILDE": "source",
    }),
    "kostra_bolig.csv": ("kommune_housing_year", {
        "KOMMNR": "kommune_nr", "AAR": "year", "KOMMUNALT_DISP_BOLIGER": "municipal_dwellings",
        "KOMMUNALE_BOLIGER_PER_1000": "municipal_dwellings_per_1000", "VENTELISTE": "waiting_list",
        "ANDEL_AVSLAG_PROSENT": "refused_share", "STARTLAAN_ANTALL": "startlan_count",
        "STARTLAAN_PER_1000": "startlan_per_1000", "STARTLAAN_1000KR": "startlan_nok",
        "TILSKUDD_UTLEIEBOLIG_1000KR": "rental_grant_nok",
    }),
    "ssb_kommune_kontekst.csv": ("kommune_context_year", {
        "KOMMNR": "kommune_nr", "AAR": "year", "FOLKEMENGDE": "population", "INNVANDRERE": "immigrants",
        "FLYKTNINGER": "refugees", "FLYKTNINGER_BOTID_U5": "refugees_short_residence",
        "ARBEIDSLEDIGE_PROSENT": "unemployment_share", "VEDVARENDE_LAVINNTEKT_PROSENT": "persistent_low_income_share",
        "SOSIALHJELP_PROSENT": "social_assistance_share", "INTEGRERINGSTILSKUDD_1000KR": "imdi_grants_nok",
    }),
}

TABLE_FILE = {table: name for name, (table, _cols) in FILES.items()}

# Raw columns given in percent (the model wants shares) and in 1000 NOK (the model wants NOK).
PERCENT_COLUMNS = {
    "BOSATT_INNEN_6MND_PROSENT", "ANDEL_AVSLAG_PROSENT", "ARBEIDSLEDIGE_PROSENT",
    "VEDVARENDE_LAVINNTEKT_PROSENT", "SOSIALHJELP_PROSENT",
}
THOUSAND_NOK_COLUMNS = {"STARTLAAN_1000KR", "TILSKUDD_UTLEIEBOLIG_1000KR", "INTEGRERINGSTILSKUDD_1000KR"}

# Codes -------------------------------------------------------------------------------------------
SEX_CODES = {"1": "male", "2": "female"}
# SSB country codes of the largest refugee groups; any other code is "other".
COUNTRY_CODES = {
    "475": "syria", "241": "eritrea", "404": "afghanistan", "283": "somalia", "452": "iraq",
    "456": "iran", "246": "ethiopia", "276": "sudan", "420": "myanmar", "144": "congo",
}
OTHER_COUNTRY_CODES = ["990", "139", "148", "356", "424"]
# NUS level (first digit): 0 none, 1-2 primary, 3-5 secondary, 6-8 tertiary, 9 unknown.
NUS_LEVELS = {
    "0": "none", "1": "primary", "2": "primary", "3": "secondary", "4": "secondary", "5": "secondary",
    "6": "tertiary", "7": "tertiary", "8": "tertiary", "9": "unknown",
}
NUS_OF_EDUCATION = {"none": ["0"], "primary": ["1", "2"], "secondary": ["3", "4", "5"],
                    "tertiary": ["6", "7", "8"], "unknown": ["9"]}
YES_NO = {"J": True, "N": False}
HOUSEHOLD_CODES = {"1": "single", "2": "couple", "3": "family_with_children", "4": "single_parent"}
ROLE_CODES = {"V": "adult", "B": "child"}
ROUTE_CODES = {"1": "ordinary", "2": "agreed_self", "3": "own"}
TENURE_CODES = {
    "KU": "municipal_rental", "KF": "private_sublet_by_municipality", "PL": "private_rental",
    "ES": "owner_startlan", "EI": "owner", "BF": "shared_housing", "MB": "temporary",
}
INTRO_END_CODES = {"F": "completed", "A": "interrupted", "P": "ongoing"}
STATUS_CODES = {"1": "work", "2": "education", "3": "work_and_education", "4": "unemployed", "5": "other"}


def inverse(codes: dict[str, str]) -> dict[str, str]:
    """Model value -> raw code (first code wins)."""
    out: dict[str, str] = {}
    for code, value in codes.items():
        out.setdefault(value, code)
    return out
