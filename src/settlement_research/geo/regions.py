"""Counties of 2014 and the two agencies' regions (DESIGN §3), as data in code (part of ``geo``).

IMDi and Husbanken cut the country differently; the mismatch is part of the coordination story, so
both regions are assigned per municipality (Troms is split between two Husbanken offices).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# fylke_nr -> (name, number of municipalities in 2014, IMDi region, Husbanken region)
COUNTIES_2014: dict[str, tuple[str, int, str, str]] = {
    "01": ("Østfold", 18, "ost", "ost"),
    "02": ("Akershus", 22, "ost", "ost"),
    "03": ("Oslo", 1, "ost", "ost"),
    "04": ("Hedmark", 22, "indre_ost", "ost"),
    "05": ("Oppland", 26, "indre_ost", "ost"),
    "06": ("Buskerud", 21, "indre_ost", "sor"),
    "07": ("Vestfold", 14, "ost", "sor"),
    "08": ("Telemark", 18, "sor", "sor"),
    "09": ("Aust-Agder", 15, "sor", "sor"),
    "10": ("Vest-Agder", 15, "sor", "sor"),
    "11": ("Rogaland", 26, "vest", "vest"),
    "12": ("Hordaland", 33, "vest", "vest"),
    "14": ("Sogn og Fjordane", 26, "vest", "vest"),
    "15": ("Møre og Romsdal", 36, "midt_norge", "midt_norge"),
    "16": ("Sør-Trøndelag", 25, "midt_norge", "midt_norge"),
    "17": ("Nord-Trøndelag", 23, "midt_norge", "midt_norge"),
    "18": ("Nordland", 44, "nord", "bodo"),
    "19": ("Troms", 24, "nord", "bodo"),
    "20": ("Finnmark", 19, "nord", "hammerfest"),
}

# Counties after the 2020 and 2024 reforms: (name, IMDi region, Husbanken region).
LATER_COUNTIES: dict[str, tuple[str, str, str]] = {
    "30": ("Viken", "ost", "ost"), "31": ("Østfold", "ost", "ost"), "32": ("Akershus", "ost", "ost"),
    "33": ("Buskerud", "indre_ost", "sor"), "34": ("Innlandet", "indre_ost", "ost"),
    "38": ("Vestfold og Telemark", "sor", "sor"), "39": ("Vestfold", "ost", "sor"),
    "40": ("Telemark", "sor", "sor"), "42": ("Agder", "sor", "sor"), "46": ("Vestland", "vest", "vest"),
    "50": ("Trøndelag", "midt_norge", "midt_norge"), "54": ("Troms og Finnmark", "nord", "hammerfest"),
    "55": ("Troms", "nord", "bodo"), "56": ("Finnmark", "nord", "hammerfest"),
}

# Troms municipalities (2014 codes) served by Husbanken Hammerfest: Nord-Troms, Balsfjord, Tromsø.
TROMS_TO_HAMMERFEST = {"1902", "1933", "1936", "1938", "1939", "1940", "1941", "1942", "1943"}

IMDI_OFFICES = {
    "ost": "Øst (Oslo)", "indre_ost": "Indre Øst (Gjøvik)", "sor": "Sør (Kristiansand)",
    "vest": "Vest (Bergen)", "midt_norge": "Midt-Norge (Trondheim)", "nord": "Nord (Narvik)",
}
HUSBANKEN_OFFICES = {
    "ost": "Øst (Oslo)", "sor": "Sør (Arendal/Drammen)", "vest": "Vest (Bergen)",
    "midt_norge": "Midt-Norge (Trondheim)", "bodo": "Bodø", "hammerfest": "Hammerfest",
}


def imdi_region(fylke_nr: str) -> str:
    """IMDi region of a 2014 county."""
    return COUNTIES_2014[fylke_nr][2]


def husbanken_region(kommune_nr: str) -> str:
    """Husbanken region of a 2014 municipality (Troms is split by municipality)."""
    if kommune_nr in TROMS_TO_HAMMERFEST:
        return "hammerfest"
    return COUNTIES_2014[kommune_nr[:2]][3]


# Fafo 2015, June 2014: (husbanken, imdi) -> the eight dimensions' original wording.
DIMENSIONS = ["agreement", "plan", "directors", "programmes", "arenas", "joint_meetings", "sharing", "informal"]
_PAIRS: dict[tuple[str, str], list[str]] = {
    ("ost", "ost"): ["no", "no", "yes", "yes", "yes", "some", "some", "little"],
    ("ost", "indre_ost"): ["no", "no", "yes", "no", "yes", "little", "some", "little"],
    ("sor", "sor"): ["yes", "yes", "yes", "no", "yes", "little", "large", "little"],
    ("sor", "indre_ost"): ["no", "no", "yes", "no", "yes", "little", "some", "little"],
    ("sor", "ost"): ["no", "no", "yes", "no", "yes, little", "little", "little", "little"],
    ("vest", "vest"): ["no", "no", "yes", "yes", "yes", "large", "large", "high"],
    ("midt_norge", "midt_norge"): ["yes", "yes", "yes", "yes, large", "yes, large", "large", "large", "high"],
    ("bodo", "nord"): ["yes", "yes", "yes", "yes", "yes", "little", "some", "little"],
    ("hammerfest", "nord"): ["yes", "yes", "yes", "yes", "yes", "little", "little", "little"],
}
# Ordinal coding of the wording: 0 none/no, 1 little, 2 some/yes, 3 large/high.
LEVEL_OF_LABEL = {
    "no": 0, "little": 1, "yes, little": 1, "some": 2, "yes": 2, "large": 3, "high": 3, "yes, large": 3,
}


def coordination_table() -> pl.DataFrame:
    """DESIGN §3's coordination table in the ``region_pair_coordination`` model's shape."""
    rows = [
        {
            "husbanken_region": hb, "imdi_region": imdi, "dimension": dim,
            "level": LEVEL_OF_LABEL[label], "label": label, "observed_on": dt.date(2014, 6, 1),
        }
        for (hb, imdi), labels in _PAIRS.items()
        for dim, label in zip(DIMENSIONS, labels, strict=True)
    ]
    return pl.DataFrame(rows).with_columns(pl.col("level").cast(pl.Int8))


def coordination_index() -> pl.DataFrame:
    """One index per office pair: mean ordinal level over the eight dimensions, scaled to 0–1."""
    return (
        coordination_table()
        .group_by("husbanken_region", "imdi_region")
        .agg((pl.col("level").cast(pl.Float64).mean() / 3).alias("coordination_index"))
        .sort("coordination_index", descending=True)
    )


__all__ = [
    "COUNTIES_2014", "DIMENSIONS", "HUSBANKEN_OFFICES", "IMDI_OFFICES", "LATER_COUNTIES", "LEVEL_OF_LABEL",
    "TROMS_TO_HAMMERFEST", "coordination_index", "coordination_table", "husbanken_region", "imdi_region",
]
