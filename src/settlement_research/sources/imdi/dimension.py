"""The ``kommune`` dimension of an IMDi import, complete for the classification years it uses.

Why: the flat exports carry codes but no names, yet the build's relational rule "kommune_nr exists
in `kommune` for the row's classification year" needs a dimension. IMDi files alone cannot give
one, so it comes from the package's shipped KLASS 131 code list (settlement_research/geo/data/
kommune_codes.csv, see ``settlement_research.geo``). Documented rules:

* rows: every code version of the shipped list valid in some classification year between the
  earliest and the latest the import uses (so a flat-only import gets all 428 municipalities of
  2014 plus the four older codes IMDi still uses for 2011-2012); validity is KLASS's
  (valid_from..valid_to), not the years the files happen to cover;
* a used code the list does not know (ended before 2011, seen in the 2022 wide export) gets a
  version from the files' own evidence: the classification years it was seen in, narrowed by the
  label's markers, and the label's name. Without a name it cannot be a dimension row: its records
  are rejected with ``NO_DIMENSION`` instead of leaving the dimension incomplete;
* name: the name the IMDi files give the code where they give one (most frequent), else KLASS's;
  a reused code's earlier unit always KLASS's (IMDi's label names the last unit: 0716 'Re', not Våle);
* county: the code's first two digits (the model's rule); its name from the 2014 counties, else
  the shipped list (counties of 2018/2020/2024);
* centrality: SSB's class from the shipped list (``geo.centrality.for_periods``): the class in the
  version's last valid classification year, capped at 2024; before 2020 the class of the 2024
  municipality that contains it, through the change table (which version applies to which years:
  ``geo.centrality``); null where the parts lie in 2024 municipalities of different classes
  (1613 Snillfjord, 1850 Tysfjord);
* agency regions (IMDi and Husbanken offices, DESIGN §3, defined on the 2014 counties): a code of
  a 2014 county gets them from ``regions``; a later code (Viken 30xx, Trøndelag 50xx, 2024 codes,
  ...) takes those of its 2014 predecessors through the shipped change table. When predecessors
  disagree, the predecessor that carries the new code's name wins, else the lowest code
  (``REGION_RULE``); none of the real reforms needs this fallback today.
"""

from __future__ import annotations

import polars as pl

from settlement_research.geo import centrality
from settlement_research.harmonize import shipped_changes, shipped_code_list
from settlement_research.regions import COUNTIES_2014, husbanken_region, imdi_region

NO_DIMENSION = (
    "municipality code not in the shipped KLASS code list for its classification year and the file "
    "gives no name: no kommune dimension row possible"
)
NOT_VALID = "municipality code not valid in its classification year by the shipped KLASS code list"
NO_COUNTY = "municipality code unknown to the shipped code list and not of a 2014 county: no agency regions"
REGION_RULE = (
    "agency regions of a post-2014 code: those of its 2014 predecessors (shipped change table); if "
    "they disagree, the namesake predecessor's, else the lowest code's"
)
REGIONS_FROM = 2014

_SKIPPED_SCHEMA = {"kommune_nr": pl.String, "classification_year": pl.Int32, "why": pl.String}


def _regions_2014(code: str) -> tuple[str, str]:
    return imdi_region(code[:2]), husbanken_region(code)


def _later_regions(codes: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """Agency regions of codes outside the 2014 counties, from their 2014 predecessors."""
    ct = shipped_changes()
    names_2014 = dict(
        shipped_code_list().filter(
            (pl.col("valid_from") <= REGIONS_FROM)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= REGIONS_FROM))
        ).select("code", "name").iter_rows()
    )
    out: dict[str, tuple[str, str]] = {}
    for (first,), group in codes.group_by(["valid_from"]):
        mapping = ct.mapping(REGIONS_FROM, max(int(first), REGIONS_FROM))  # type: ignore[arg-type]
        for code, name in group.select("kommune_nr", "kommune_name").iter_rows():
            preds = sorted(mapping.filter(pl.col("new_code") == code)["old_code"].to_list())
            if not preds:
                continue
            regions = {p: _regions_2014(p) for p in preds}
            if len(set(regions.values())) == 1:
                out[code] = regions[preds[0]]
                continue
            namesake = [p for p in preds if names_2014.get(p) == name]
            out[code] = regions[(namesake or preds)[0]]
    return out


def _imdi_names(records: pl.DataFrame) -> pl.DataFrame:
    named = records.filter(pl.col("kommune_nr").is_not_null() & pl.col("clean_name").is_not_null())
    return (
        named.group_by("kommune_nr", "clean_name").agg(
            pl.len().alias("n"), pl.col("label_start").max(), pl.col("label_end").max()
        )
        .sort("kommune_nr", "n", "clean_name", descending=[False, True, False])
        .group_by("kommune_nr", maintain_order=True)
        .agg(pl.col("clean_name").first().alias("imdi_name"),
             pl.col("label_start").max(), pl.col("label_end").max())
    )


def kommune_dimension(records: pl.DataFrame) -> tuple[pl.DataFrame | None, pl.DataFrame]:
    """(kommune rows in model column names, uncovered (code, classification_year) with why).

    ``records``: the import's records; those with a null ``reason`` are the ones used.
    """
    used_records = records.filter(pl.col("reason").is_null() & pl.col("kommune_nr").is_not_null()
                                  & pl.col("classification_year").is_not_null())
    used = used_records.select("kommune_nr", pl.col("classification_year").cast(pl.Int32)).unique()
    if used.is_empty():
        return None, pl.DataFrame(schema=_SKIPPED_SCHEMA)
    lo, hi = int(used["classification_year"].min()), int(used["classification_year"].max())  # type: ignore[arg-type]
    shipped = shipped_code_list().rename({"code": "kommune_nr", "name": "klass_name"})
    base = shipped.filter(
        (pl.col("valid_from") <= hi) & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= lo))
    )
    inside = (pl.col("valid_from") <= pl.col("classification_year")) & (
        pl.col("valid_to").is_null() | (pl.col("classification_year") <= pl.col("valid_to"))
    )
    covered = used.join(base, on="kommune_nr", how="inner").filter(inside).select(used.columns)
    uncovered = used.join(covered, on=used.columns, how="anti")
    names = _imdi_names(records)

    # Codes the list does not know at all: a version from the files' evidence, if they name it.
    unknown = uncovered.join(shipped.select("kommune_nr"), on="kommune_nr", how="anti")
    extra = (
        unknown.group_by("kommune_nr").agg(
            pl.col("classification_year").min().alias("valid_from"),
            pl.col("classification_year").max().alias("valid_to"),
        )
        .join(names, on="kommune_nr", how="left")
        .with_columns(
            pl.max_horizontal("valid_from", "label_start").alias("valid_from"),
            pl.max_horizontal("valid_to", "label_end").alias("valid_to"),
        )
    )
    in_2014_county = pl.col("kommune_nr").str.slice(0, 2).is_in(list(COUNTIES_2014))
    extra_ok = extra.filter(pl.col("imdi_name").is_not_null() & in_2014_county)
    skipped = (
        uncovered.join(extra_ok.select("kommune_nr"), on="kommune_nr", how="anti")
        .join(extra.select("kommune_nr", "imdi_name"), on="kommune_nr", how="left")
        .select(
            "kommune_nr", "classification_year",
            pl.when(pl.col("kommune_nr").is_in(shipped["kommune_nr"].implode()))
            .then(pl.lit(NOT_VALID))
            .when(pl.col("imdi_name").is_null()).then(pl.lit(NO_DIMENSION))
            .otherwise(pl.lit(NO_COUNTY)).alias("why"),
        )
        .cast(_SKIPPED_SCHEMA)  # type: ignore[arg-type]
        .sort("kommune_nr", "classification_year")
    )

    latest = shipped.group_by("kommune_nr").agg(pl.col("valid_from").max().alias("_latest"))
    rows = pl.concat([
        base.join(names.select("kommune_nr", "imdi_name"), on="kommune_nr", how="left")
        .join(latest, on="kommune_nr", how="left")
        .with_columns(  # IMDi's label names a reused code's last unit ('Re'), not Våle (0716 to 2001)
            pl.when(pl.col("valid_from") == pl.col("_latest")).then(pl.col("imdi_name")).alias("imdi_name")
        ).select(
            "kommune_nr", pl.coalesce("imdi_name", "klass_name").alias("kommune_name"),
            "valid_from", "valid_to", "county_name",
        ),
        extra_ok.select(
            "kommune_nr", pl.col("imdi_name").alias("kommune_name"),
            pl.col("valid_from").cast(pl.Int16), pl.col("valid_to").cast(pl.Int16),
            pl.lit(None, pl.String).alias("county_name"),
        ),
    ]).with_columns(pl.col("kommune_nr").str.slice(0, 2).alias("fylke_nr"))
    later = _later_regions(rows.filter(~pl.col("fylke_nr").is_in(list(COUNTIES_2014))))
    regions = {
        code: _regions_2014(code) if code[:2] in COUNTIES_2014 else later.get(code)
        for code in rows["kommune_nr"].unique().to_list()
    }
    no_region = sorted(c for c, r in regions.items() if r is None)
    if no_region:  # a later code with no 2014 predecessor: the shipped tables are inconsistent
        raise ValueError(f"no 2014 predecessor for {no_region[:10]}: cannot assign agency regions")
    county_2014 = {f: c[0] for f, c in COUNTIES_2014.items()}
    dim = rows.with_columns(
        pl.col("fylke_nr").replace_strict(county_2014, default=pl.col("county_name"), return_dtype=pl.String)
        .alias("fylke_name"),
        pl.col("kommune_nr").replace_strict({c: r[0] for c, r in regions.items() if r}).alias("imdi_region"),
        pl.col("kommune_nr").replace_strict({c: r[1] for c, r in regions.items() if r})
        .alias("husbanken_region"),
    )
    dim = centrality.for_periods(dim)
    from settlement_research.model import cast_to_model

    return cast_to_model(dim, "kommune").sort("kommune_nr", "valid_from"), skipped


def region_disagreements() -> list[str]:
    """Post-2014 codes whose 2014 predecessors lie in different agency regions (for review)."""
    ct = shipped_changes()
    out: set[str] = set()
    for to_year in (2017, 2018, 2019, 2020, 2024):
        m = ct.mapping(REGIONS_FROM, to_year)
        for (code,), group in m.group_by(["new_code"]):
            if str(code)[:2] not in COUNTIES_2014 and len({_regions_2014(p) for p in group["old_code"]}) > 1:
                out.add(str(code))
    return sorted(out)


__all__ = ["NO_COUNTY", "NO_DIMENSION", "NOT_VALID", "REGION_RULE", "kommune_dimension", "region_disagreements"]
