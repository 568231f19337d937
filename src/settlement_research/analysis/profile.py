"""Municipality profiles (notebooks/municipality_profile.py): one short note per municipality.

In the spirit of the Fafo report's case histories: what the municipality was asked, what it
decided and settled, where the refugees lived, how the introduction programme went, how it compares
with its county, the country and its peers, and which agency offices it deals with.

Why a module and not notebook cells: 428 profiles are rendered in one batch. Everything that does
not depend on the municipality (loading and validating the tables, county and national aggregates,
the per-municipality totals the peer table is drawn from) is computed once per worker by
:func:`profile_data` (memoised through ``reports.results.memo``); each report then only filters.

Disclosure control: settled, the housing mix and the programme counts are derived from person-level
data. The 428 profiles and the public national totals together form one kommune x year table per
count (with the window total of settled as a shown row total), so suppression is done ONCE on that
whole table in :func:`profile_data` (``sdc.suppress_panel``: primary, secondary over row,
national and — where county shares are shown — county totals, and an audit that no hidden cell
follows from a chain of totals). ``ProfileData`` holds only those suppressed counts (suppressed
cells are null with ':' in ``<col>_symbol``), so the own table, the summary, the peer table and the
county comparison of every profile show or hide the same cell the same way. County and national
comparisons are shown as rounded shares only, never as counts.

Text from data (municipality, county and office names) is untrusted: :func:`summary` and
:func:`heading` escape it for Markdown and :func:`chart_label` for matplotlib (``textsafe``); tables
go through ``sdc.to_html``, which escapes every cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from settlement_research import readlog, sdc
from settlement_research.analysis.classified import kommune_at, on_classification
from settlement_research.geo import centrality
from settlement_research.regions import HUSBANKEN_OFFICES, IMDI_OFFICES, coordination_index
from settlement_research.textsafe import escape_mathtext

NOT_AVAILABLE = ".."  # SSB's symbol for "data not available"
STATUS_WORDS = {
    "as_requested": "decided as requested", "fewer": "decided fewer than requested",
    "declined": "declined", "no_decision": "made no decision",
}
HOUSING_SHARES = {
    "municipal_rental_share": "municipal rental, %", "private_rental_share": "private rental, %",
    "owner_share": "owner, %", "temporary_share": "temporary, %",
}


@dataclass(frozen=True)
class ProfileData(readlog.Tracked):
    """The municipality-independent inputs of a profile, for one source and window of years.

    Made by :func:`profile_data` (a ``readlog.derived`` function): a report rendering logs the rows
    it takes (``data.rows("settlement", kommune_nr=...)``) or, for a field read directly, the whole
    field; the report cache re-renders a profile only when those rows change.
    """

    _untracked = frozenset({"source", "first_year", "last_year"})

    source: str
    first_year: int
    last_year: int
    kommune: pl.DataFrame
    settlement: pl.DataFrame
    housing: pl.DataFrame | None
    intro: pl.DataFrame | None
    population: pl.DataFrame  # kommune_nr, population (latest known in the window), population_year
    intro_areas: pl.DataFrame | None  # area (fylke_nr | "Norway"), year (null = pooled), share (suppressed)
    housing_national: dict[str, float | None] | None  # tenure shares and throughput, Norway, pooled
    totals: pl.DataFrame  # per municipality over the window: requested, decided, settled (suppressed)
    coordination: pl.DataFrame  # husbanken_region, imdi_region, coordination_index, rank
    intro_pooled: pl.DataFrame | None = None  # kommune_nr, share, share_symbol: all leavers of the window
    centrality_version: str | None = None  # geo.centrality.version_key(last_year) when the class is SSB's

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))


def _load_optional(name: str, source: str) -> pl.DataFrame | None:
    from settlement_research.catalog import CatalogError, load

    try:
        return load(name, source=source)
    except (CatalogError, FileNotFoundError):
        return None


def _in_window(frame: pl.DataFrame | None, first: int, last: int) -> pl.DataFrame | None:
    return None if frame is None else frame.filter(pl.col("year").is_between(first, last))


def _classified(frame: pl.DataFrame | None, year: int, table: str) -> pl.DataFrame | None:
    """``frame`` on the codes of classification ``year`` (a table without classification_year, as
    a test's hand-made frame, is taken as it is)."""
    if frame is None or "classification_year" not in frame.columns:
        return frame
    return on_classification(frame, year, table)


def _work_education_share(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Pooled share in work or education per ``by`` group; suppressed when the in-work count or
    its complement (not in work or education) is disclosive, since either identifies someone.
    Only rows with both the count and its base are pooled: an unknown count is not 0 (IMDi's
    2015 edition publishes the base and a rounded share, not the count)."""
    pooled = (
        frame.drop_nulls(["work_education_base", "work_education_count"])
        .group_by(by)
        .agg(pl.col("work_education_count").sum().alias("count"), pl.col("work_education_base").sum().alias("base"))
        .with_columns((pl.col("base") - pl.col("count")).alias("rest"))
        .sort(by)
    )
    if pooled.height == 0:  # suppress() leaves an empty frame as it is: give it the symbol column
        pooled = pooled.with_columns(pl.lit(None, pl.String).alias("count_symbol"))
    shown = sdc.suppress(pooled, ["count", "rest"], by=by, dependent={"base": "count"})
    # Rounded so that neither the count nor its complement can be worked back from the share (a
    # full-precision 0.536723163841808 is 95/177); hidden when even a coarse share would tell.
    share = pl.struct("count", "base").map_elements(
        lambda r: sdc.safe_share(r["count"], r["base"]), return_dtype=pl.Float64, skip_nulls=False)
    return shown.with_columns(share.alias("share")).with_columns(
        pl.when(pl.col("share").is_null() & pl.col("count").is_not_null() & (pl.col("base") > 0))
        .then(pl.lit(sdc.SUPPRESSED)).otherwise(pl.col("count_symbol")).alias("share_symbol"),
    )


SETTLEMENT_COLUMNS = ("kommune_nr", "year", "requested", "decided", "decision_status", "settled",
                      "requested_symbol", "decided_symbol", "settled_symbol")
HOUSING_COLUMNS = ("kommune_nr", "year", "municipal_dwellings", "refugees_housed", *HOUSING_SHARES,
                   "municipal_exits", "municipal_dwelling_years", "throughput")
INTRO_COLUMNS = ("kommune_nr", "year", "participants", "leavers", "work_education_base", "work_education_count",
                 "participants_symbol", "leavers_symbol")
PUBLISHED_INTRO = ("work_education_share",)  # a source's own published share, kept where it has one


def suppress_across_profiles(
    settlement: pl.DataFrame, housing: pl.DataFrame | None, intro: pl.DataFrame | None,
    fylke: Mapping[str, str], years: Sequence[int],
) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame | None, pl.DataFrame]:
    """Every person-derived count a profile shows, suppressed as one kommune x year table per count.

    Returns settlement, housing and intro reduced to the columns a profile shows, with suppressed
    cells null and ':' in ``<col>_symbol``, and the window totals of settled (``kommune_nr``,
    ``settled``, ``settled_symbol``, ``settled_known_years``). Settled carries its window total as a
    shown cell; the status after the programme (in work or education, and its complement behind the
    shown share) is also protected within each county, since county shares are shown.
    """
    settlement, window = sdc.suppress_panel(
        settlement.select(SETTLEMENT_COLUMNS), ["settled"], years=years, window_totals=["settled"])
    if housing is not None:
        housing, _ = sdc.suppress_panel(
            # No total of either count is published (Norway's tenure mix and throughput are ratios).
            housing.select(HOUSING_COLUMNS), ["refugees_housed", "municipal_exits"], years=years, published=[],
            dependent={**{c: "refugees_housed" for c in HOUSING_SHARES}, "municipal_dwelling_years": "refugees_housed",
                       "throughput": ("municipal_exits", "refugees_housed")})
    if intro is not None:
        intro, _ = sdc.suppress_panel(
            intro.select(*INTRO_COLUMNS, *[c for c in PUBLISHED_INTRO if c in intro.columns]).with_columns(
                (pl.col("work_education_base") - pl.col("work_education_count")).alias("_rest")),
            ["participants", "leavers", "work_education_count", "_rest"], years=years, groups=fylke,
            group_totals=["work_education_count", "_rest"], tied=[("work_education_count", "_rest")],
            # participants and leavers are shown per year only; the status counts stand behind the
            # county and national shares per year, taken as exact totals (stricter than rounding). The
            # municipality's pooled share is rounded by sdc.safe_share to a step no count can be read
            # from, so its pooled counts are no public total.
            published=["work_education_count", "_rest"], row_totals=[],
            dependent={"work_education_base": "work_education_count",
                       **{c: "work_education_count" for c in PUBLISHED_INTRO if c in intro.columns}})
        intro = intro.drop("_rest", "_rest_symbol")
    return settlement, housing, intro, window


def _hide_pooled_beside_hidden(pooled: pl.DataFrame, intro: pl.DataFrame) -> pl.DataFrame:
    """Hide a municipality's pooled share when any of its yearly status counts is hidden.

    Why: even rounded, the pooled share bounds the sum of the years, and the years' shown counts
    and published leavers bound the rest; an attacker's LP then proved hidden in-work counts below
    the threshold (and pinned some). Without the pooled share those cells keep their interval.
    """
    hidden = intro.filter(pl.col("work_education_count_symbol") == sdc.SUPPRESSED)["kommune_nr"].unique()
    behind = pl.col("kommune_nr").is_in(hidden.implode())
    return pooled.with_columns(
        pl.when(behind).then(None).otherwise(pl.col("share")).alias("share"),
        pl.when(behind).then(pl.lit(sdc.SUPPRESSED)).otherwise(pl.col("share_symbol")).alias("share_symbol"),
    )


def _hide_lone_areas(areas: pl.DataFrame, intro: pl.DataFrame, fylke: Mapping[str, str]) -> pl.DataFrame:
    """Hide a county's (or Norway's) yearly share where exactly one municipality's status counts
    are hidden: there the area's share would give that municipality away (Oslo is a county alone)."""
    hidden = intro.filter(pl.col("work_education_count_symbol") == sdc.SUPPRESSED).with_columns(
        pl.col("kommune_nr").replace_strict(fylke, default=pl.col("kommune_nr").str.slice(0, 2)).alias("area"))
    lone = pl.concat([
        hidden.group_by("area", "year").len(),
        hidden.group_by("year").len().with_columns(pl.lit("Norway").alias("area")).select("area", "year", "len"),
    ]).filter(pl.col("len") == 1).select("area", "year", pl.lit(True).alias("_lone"))
    return areas.join(lone, on=["area", "year"], how="left").with_columns(
        pl.when(pl.col("_lone")).then(None).otherwise(pl.col("share")).alias("share"),
        pl.when(pl.col("_lone")).then(pl.lit(sdc.SUPPRESSED)).otherwise(pl.col("share_symbol")).alias("share_symbol"),
    ).drop("_lone")


@readlog.derived
def profile_data(source: str, first_year: int, last_year: int) -> ProfileData:
    """Load and aggregate everything a profile needs that does not depend on the municipality.

    Aggregates over many municipalities (county and national shares) are taken from the raw
    counts; everything per municipality is kept only as globally suppressed counts.
    """
    from settlement_research.catalog import load

    # One classification year, that of the window's last year: a real source mixes editions
    # published under different codes (analysis.classified).
    kommune = kommune_at(load("kommune", source=source), last_year)
    settlement = _classified(_in_window(load("kommune_settlement_year", source=source), first_year, last_year),
                             last_year, "kommune_settlement_year")
    assert settlement is not None
    housing = _classified(_in_window(_load_optional("kommune_housing_year", source), first_year, last_year),
                          last_year, "kommune_housing_year")
    intro = _classified(_in_window(_load_optional("kommune_intro_year", source), first_year, last_year),
                        last_year, "kommune_intro_year")
    context = _classified(_load_optional("kommune_context_year", source), last_year, "kommune_context_year")

    if context is not None:
        population = (
            context.filter(pl.col("year") <= last_year).drop_nulls("population").sort("year")
            .group_by("kommune_nr").agg(pl.col("population").last(), pl.col("year").last().alias("population_year"))
        )
    else:
        population = pl.DataFrame(schema={"kommune_nr": pl.String, "population": pl.Int32, "population_year": pl.Int16})

    intro_areas = None
    if intro is not None and intro.height:
        with_county = intro.join(kommune.select("kommune_nr", "fylke_nr"), on="kommune_nr", how="left")
        county = _work_education_share(with_county, ["fylke_nr", "year"])
        national = _work_education_share(with_county.with_columns(pl.lit("Norway").alias("fylke_nr")), ["fylke_nr", "year"])
        county_all = _work_education_share(with_county.with_columns(pl.lit(None, pl.Int16).alias("year")), ["fylke_nr", "year"])
        national_all = _work_education_share(
            with_county.with_columns(pl.lit("Norway").alias("fylke_nr"), pl.lit(None, pl.Int16).alias("year")),
            ["fylke_nr", "year"],
        )
        intro_areas = pl.concat([county, national, county_all, national_all]).select(
            pl.col("fylke_nr").alias("area"), "year", "share", "share_symbol"
        )

    housing_national = None
    if housing is not None and housing.height:
        # Shares are of person-years; refugees_housed is the nearest weight the table has.
        weight = pl.col("refugees_housed").cast(pl.Float64)
        housing_national = housing.select(
            *[((pl.col(c) * weight).sum() / weight.filter(pl.col(c).is_not_null()).sum()).alias(c)
              for c in HOUSING_SHARES],
            (pl.col("municipal_exits").sum() / pl.col("municipal_dwelling_years").sum()).alias("throughput"),
        ).row(0, named=True)

    intro_pooled = None
    if intro is not None:
        intro_pooled = _work_education_share(
            intro.with_columns(pl.lit(None, pl.Int16).alias("year")), ["kommune_nr", "year"]
        ).select("kommune_nr", "share", "share_symbol")

    years = list(range(first_year, last_year + 1))
    fylke = dict(zip(kommune["kommune_nr"].to_list(), kommune["fylke_nr"].to_list(), strict=True))
    settlement, housing, intro, window = suppress_across_profiles(settlement, housing, intro, fylke, years)
    if intro is not None and intro_areas is not None:
        intro_areas = _hide_lone_areas(intro_areas, intro, fylke)
    if intro is not None and intro_pooled is not None:
        intro_pooled = _hide_pooled_beside_hidden(intro_pooled, intro)

    totals = (
        settlement.group_by("kommune_nr")
        .agg(*[pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c) for c in ("requested", "decided")])
        .join(window.select("kommune_nr", "settled", "settled_symbol", pl.col("settled_known_years").alias("settled_known")),
              on="kommune_nr", how="full", coalesce=True)
        .join(kommune.select("kommune_nr", "kommune_name", "fylke_name", "centrality"), on="kommune_nr", how="right")
        .join(population, on="kommune_nr", how="left")
        .with_columns(pl.col("settled_known").fill_null(0))
        .with_columns(pl.when(pl.col("settled_known") == 0).then(pl.lit(NOT_AVAILABLE))
                      .otherwise(pl.col("settled_symbol")).alias("settled_symbol"))
    )
    coordination = coordination_index().with_columns(
        pl.col("coordination_index").rank("min", descending=True).cast(pl.Int32).alias("rank")
    )
    return ProfileData(source, first_year, last_year, kommune, settlement, housing, intro, population,
                       intro_areas, housing_national, totals, coordination, intro_pooled,
                       _centrality_version(source, last_year))


def _centrality_version(source: str, year: int) -> str | None:
    """Which SSB version the source's centrality class is (``geo.centrality``), when the source says
    its class is SSB's (IMDi's import summary names the shipped list); None otherwise (synthetic)."""
    from settlement_research import catalog

    if "import_summary" not in catalog.json_sidecars(source):
        return None
    summary = catalog.load_json("import_summary", source)
    declared = isinstance(summary, dict) and isinstance(summary.get("centrality"), dict)
    return centrality.version_key(year) if declared else None


# ------------------------------------------------------------------------------ one municipality


def facts(data: ProfileData, kommune_nr: str) -> dict[str, Any]:
    """Who the municipality is: name, county, centrality, population, agency offices and their pair."""
    rows = data.rows("kommune", kommune_nr=kommune_nr)
    assert rows is not None
    if rows.height == 0:
        raise KeyError(f"no municipality {kommune_nr!r} in the kommune table of source {data.source!r}")
    row = rows.row(0, named=True)
    pop = data.rows("population", kommune_nr=kommune_nr)
    assert pop is not None
    pair = data.coordination.filter(
        (pl.col("husbanken_region") == row["husbanken_region"]) & (pl.col("imdi_region") == row["imdi_region"])
    )
    return {
        **row,
        "population": pop["population"][0] if pop.height else None,
        "population_year": pop["population_year"][0] if pop.height else None,
        "imdi_office": IMDI_OFFICES.get(row["imdi_region"], row["imdi_region"]),
        "husbanken_office": HUSBANKEN_OFFICES.get(row["husbanken_region"], row["husbanken_region"]),
        "coordination_index": pair["coordination_index"][0] if pair.height else None,
        "coordination_rank": pair["rank"][0] if pair.height else None,
        "coordination_pairs": data.coordination.height,
        "centrality_version": data.centrality_version,
        "centrality_split": (data.centrality_version is not None and row["centrality"] is None
                             and centrality.split_across_classes(kommune_nr, data.last_year)),
    }


def settlement_years(data: ProfileData, kommune_nr: str) -> pl.DataFrame:
    """Per year of the window: requested, decided, status and settled (suppressed across profiles).

    A year without a row is shown as not available ('..'), never as 0.
    """
    mine = data.rows("settlement", kommune_nr=kommune_nr)
    assert mine is not None
    grid = pl.DataFrame({"year": pl.Series(data.years, dtype=pl.Int16)})
    out = grid.join(mine.select("year", "requested", "decided", "decision_status", "settled",
                                "requested_symbol", "decided_symbol", "settled_symbol"), on="year", how="left")
    missing = pl.col("decision_status").is_null()
    out = out.with_columns(
        *[pl.when(missing | pl.col(f"{c}_symbol").is_in(NO_DATA_SYMBOLS)).then(pl.lit(NOT_AVAILABLE))
          .otherwise(pl.col(f"{c}_symbol")).alias(f"{c}_symbol") for c in ("requested", "decided", "settled")],
    )
    return no_data(out, ("requested", "decided", "settled")).sort("year")


def window_settled(data: ProfileData, kommune_nr: str) -> dict[str, Any]:
    """The municipality's window total of settled as every report shows it (suppressed across
    profiles: the same value, or ':', in its own summary and in every peer table)."""
    row = data.rows("totals", kommune_nr=kommune_nr)
    if row is None or row.height == 0:
        return {"settled": None, "settled_symbol": NOT_AVAILABLE, "settled_known_years": 0}
    r = row.row(0, named=True)
    return {"settled": r["settled"], "settled_symbol": r["settled_symbol"], "settled_known_years": int(r["settled_known"])}


def settlement_totals(years: pl.DataFrame, window: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Window totals. Settled: ``window`` (from :func:`window_settled`) when given, which a profile
    must use; without it the yearly numbers must be raw (summed, then ``safe_count``)."""
    asked = years.filter(~((pl.col("decision_status") == "no_decision") & (pl.col("requested").fill_null(0) == 0)))
    status = asked["decision_status"].drop_nulls().value_counts()  # no decision is expected without a request
    counts = dict(zip(status["decision_status"].to_list(), status["count"].to_list(), strict=True))
    if window is None and (years["settled_symbol"] == sdc.SUPPRESSED).any():
        raise ValueError("settlement_totals: the yearly settled are suppressed; pass window=window_settled(...)")
    settled_known = years["settled"].drop_nulls()
    if window is None:
        settled = sdc.safe_count(int(settled_known.sum())) if settled_known.len() else None
        known_years = int(settled_known.len())
    else:
        settled, known_years = window["settled"], int(window["settled_known_years"])
    return {
        "requested": years["requested"].sum() if years["requested"].drop_nulls().len() else None,
        "requested_years": int(years.filter(pl.col("requested") > 0).height),
        "decided": years["decided"].sum() if years["decided"].drop_nulls().len() else None,
        "decided_known_years": int(years["decided"].drop_nulls().len()),
        "settled": settled,
        "settled_known_years": known_years,
        "years": years.height,
        "status": {s: int(counts.get(s, 0)) for s in STATUS_WORDS},
    }


def settlement_table(years: pl.DataFrame, words: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The yearly table as shown: settled suppressed (with the others' years, since the total is shown).

    A year in which IMDi asked for nobody is "no request", not "made no decision": no decision is
    expected without a request. ``words`` maps statuses (and ``no_request``) to the page's language.
    """
    words = {**STATUS_WORDS, "no_request": "no request"} if words is None else words
    shown = sdc.suppress(years, ["settled"])  # keeps '..' where a year has no data
    no_request = (pl.col("decision_status") == "no_decision") & (pl.col("requested").fill_null(0) == 0) \
        & pl.col("requested_symbol").is_null()
    return shown.with_columns(
        pl.when(no_request).then(pl.lit(words["no_request"]))
        .otherwise(pl.col("decision_status").replace_strict(dict(words), default=None)).alias("decision_status"),
    )


def housing_table(data: ProfileData, kommune_nr: str) -> pl.DataFrame | None:
    """Refugees housed, tenure mix (% of person-years) and throughput of municipal rental, suppressed."""
    mine = data.rows("housing", kommune_nr=kommune_nr)
    if mine is None:
        return None
    grid = pl.DataFrame({"year": pl.Series(data.years, dtype=pl.Int16)})
    frame = grid.join(mine.drop("kommune_nr").with_columns(pl.lit(True).alias("_row")), on="year", how="left")
    frame = _mark_missing(_safe_shares(frame, list(HOUSING_SHARES), "refugees_housed"),
                          ["refugees_housed", "municipal_exits", *HOUSING_SHARES, "throughput"])
    frame = sdc.suppress(frame, ["refugees_housed"], secondary=False,
                                dependent={**{c: "refugees_housed" for c in HOUSING_SHARES},
                                           "municipal_dwelling_years": "refugees_housed"})
    return sdc.suppress(frame, ["municipal_exits"], secondary=False, dependent={"throughput": "municipal_exits"})


def _safe_shares(frame: pl.DataFrame, shares: Sequence[str], base: str) -> pl.DataFrame:
    """Shares (fractions) as % rounded to ``sdc.share_step`` of their base (persons), so no count
    behind a share can be read back from it; hidden (':') when even the coarsest step would tell."""
    bases = frame[base].to_list()
    steps = [sdc.share_step(b) if b is not None else None for b in bases]
    out = frame
    for c in shares:
        values = [None if v is None or step is None else sdc.rules.round_to(v, step) * 100
                  for v, step in zip(frame[c].to_list(), steps, strict=True)]
        hidden = [v is not None and step is None for v, step in zip(frame[c].to_list(), steps, strict=True)]
        symbol = frame[f"{c}_symbol"].to_list() if f"{c}_symbol" in frame.columns else [None] * frame.height
        out = out.with_columns(
            pl.Series(c, values, dtype=pl.Float64),
            pl.Series(f"{c}_symbol", [sdc.SUPPRESSED if h else s for h, s in zip(hidden, symbol, strict=True)],
                      dtype=pl.String),
        )
    return out


def _mark_missing(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Years without a row (``_row`` null) get '..' in the columns' symbols: no data is not 0, and a
    suppressed cell (null with ':') is not missing either."""
    missing = pl.col("_row").is_null()
    return frame.with_columns(
        pl.when(missing).then(pl.lit(NOT_AVAILABLE)).otherwise(
            pl.col(f"{c}_symbol") if f"{c}_symbol" in frame.columns else pl.lit(None, pl.String)
        ).alias(f"{c}_symbol")
        for c in columns
    ).drop("_row")


def intro_table(data: ProfileData, kommune_nr: str) -> pl.DataFrame | None:
    """Participants, leavers and the leavers' status one year after, suppressed.

    The share is hidden when the number in work or education *or* the number not in work or
    education is below the threshold.
    """
    mine = data.rows("intro", kommune_nr=kommune_nr)
    if mine is None:
        return None
    grid = pl.DataFrame({"year": pl.Series(data.years, dtype=pl.Int16)})
    frame = grid.join(mine.drop("kommune_nr").with_columns(pl.lit(True).alias("_row")), on="year", how="left")
    frame = _mark_missing(frame, ["participants", "leavers", "work_education_count", "work_education_base"])
    frame = frame.with_columns(
        (pl.col("work_education_base") - pl.col("work_education_count")).alias("_rest"),
        (pl.col("work_education_count") / pl.col("work_education_base") * 100).alias("share_work_education"),
        pl.col("work_education_count_symbol").alias("share_work_education_symbol"),
    )
    frame = sdc.suppress(frame, ["participants", "leavers"], secondary=False)
    frame = sdc.suppress(frame, ["work_education_count", "_rest"], by=["year"],
                                dependent={"work_education_base": "work_education_count",
                                           "share_work_education": "work_education_count"})
    frame = _published_share(frame)
    return no_data(frame.drop("_rest", "_rest_symbol"), INTRO_SHOWN)


INTRO_SHOWN = ("participants", "leavers", "work_education_base", "work_education_count", "share_work_education")
NO_DATA_SYMBOLS = (".", "~")  # IMDi's "no data" and the package's "not in this edition": both '..' on a page


def no_data(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Every null cell of ``columns`` that is not suppressed (':') carries '..': a value that no
    edition publishes is shown as missing, never as an empty cell that reads like 0."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns(
        pl.when(pl.col(c).is_null() & (pl.col(f"{c}_symbol").fill_null("") != sdc.SUPPRESSED))
        .then(pl.lit(NOT_AVAILABLE)).otherwise(pl.col(f"{c}_symbol")).alias(f"{c}_symbol")
        if f"{c}_symbol" in frame.columns else
        pl.when(pl.col(c).is_null()).then(pl.lit(NOT_AVAILABLE)).otherwise(pl.lit(None, pl.String)).alias(f"{c}_symbol")
        for c in present
    )


def _published_share(frame: pl.DataFrame) -> pl.DataFrame:
    """Where the count is unknown but the source publishes the share itself (IMDi's 2015 edition
    gives base and share of the 2012 cohort, not the count), show the published share."""
    if "work_education_share" not in frame.columns:
        return frame
    use = (pl.col("share_work_education").is_null() & pl.col("work_education_count").is_null()
           & (pl.col("work_education_count_symbol").fill_null("") != sdc.SUPPRESSED)
           & pl.col("work_education_share").is_not_null())
    return frame.with_columns(
        pl.when(use).then(pl.col("work_education_share") * 100).otherwise(pl.col("share_work_education"))
        .alias("share_work_education"),
        pl.when(use).then(pl.lit(None, pl.String)).otherwise(pl.col("share_work_education_symbol"))
        .alias("share_work_education_symbol"),
    )


def intro_pooled(data: ProfileData, kommune_nr: str) -> dict[str, float | None]:
    """Share in work or education over all leavers of the window: municipality, county, Norway."""
    fylke = kommune_nr[:2]
    mine = data.rows("intro_pooled", kommune_nr=kommune_nr)
    pooled = data.rows("intro_areas", area=[fylke, "Norway"], year=None)  # the two pooled aggregates it shows
    if mine is None or pooled is None:  # both None exactly when the source has no intro table
        return {"kommune": None, "county": None, "norway": None}

    def share(area: str) -> float | None:
        rows = pooled.filter(pl.col("area") == area)
        return rows["share"][0] if rows.height else None

    return {"kommune": mine["share"][0] if mine.height else None, "county": share(fylke), "norway": share("Norway")}


def intro_comparison(data: ProfileData, kommune_nr: str, intro: pl.DataFrame) -> pl.DataFrame | None:
    """Per year: the municipality's share in work or education (from the suppressed table) beside
    the county's and Norway's (suppressed the same way), in %."""
    fylke = kommune_nr[:2]
    areas = data.rows("intro_areas", area=[fylke, "Norway"])  # its county's and Norway's aggregates
    if areas is None:
        return None
    areas = areas.filter(pl.col("year").is_not_null())

    def column(area: str, name: str) -> pl.DataFrame:
        return areas.filter(pl.col("area") == area).select(
            "year", (pl.col("share") * 100).alias(name), pl.col("share_symbol").alias(f"{name}_symbol"))

    out = intro.select("year", pl.col("share_work_education").alias("municipality"),
                       pl.col("share_work_education_symbol").fill_null(pl.col("work_education_count_symbol"))
                       .alias("municipality_symbol"))
    out = out.join(column(fylke, "county"), on="year", how="left").join(column("Norway", "Norway"), on="year", how="left")
    return no_data(out.sort("year"), ("municipality", "county", "Norway"))


def peer_table(data: ProfileData, kommune_nr: str, n: int = 5) -> pl.DataFrame:
    """The municipality and the ``n`` of the same centrality class closest in population, with
    window totals; settled as suppressed across profiles (no total over peers is shown).
    ``population_year``: the year each population is of (its public mark names it), not shown."""
    me = data.rows("totals", kommune_nr=kommune_nr)
    if me is None or me.height == 0:
        raise KeyError(kommune_nr)
    centrality, population = me["centrality"][0], me["population"][0]
    # Peers are chosen on centrality and population of every municipality; only the chosen rows'
    # counts are read (so a change elsewhere re-renders this profile only if it changes the choice).
    candidates = data.rows("totals", columns=["kommune_nr", "centrality", "population"])
    assert candidates is not None
    same = candidates.filter(pl.col("centrality") == centrality) if centrality is not None else candidates
    if population is not None and population > 0:
        distance = (pl.col("population").cast(pl.Float64).log() - math.log(population)).abs()
    else:
        distance = pl.lit(0.0)
    chosen = (
        same.filter((pl.col("kommune_nr") != kommune_nr) & pl.col("population").is_not_null())
        .with_columns(distance.alias("_d")).sort("_d", "kommune_nr").head(n)["kommune_nr"].to_list()
    )
    peer_rows = data.rows("totals", kommune_nr=chosen)
    assert peer_rows is not None
    order = pl.DataFrame({"kommune_nr": chosen, "_order": list(range(len(chosen)))},
                         schema={"kommune_nr": me.schema["kommune_nr"], "_order": pl.Int64})
    peers = peer_rows.join(order, on="kommune_nr").sort("_order").drop("_order")
    frame = pl.concat([me, peers], how="vertical_relaxed").with_columns(
        pl.when(pl.col("population") > 0).then(pl.col("settled") / pl.col("population") * 1000)
        .alias("settled_per_1000"),
        *[pl.when(pl.col(c).is_null()).then(pl.lit(NOT_AVAILABLE)).alias(f"{c}_symbol") for c in ("requested", "decided")],
        pl.when(pl.col("settled_known") == 0).then(pl.lit(NOT_AVAILABLE)).otherwise(pl.col("settled_symbol"))
        .alias("settled_symbol"),
    ).with_columns(pl.col("settled_symbol").alias("settled_per_1000_symbol"))
    frame = sdc.suppress(frame, ["settled"], secondary=False, dependent={"settled_per_1000": "settled"})
    frame = no_data(frame, ("centrality", "population"))  # no class (Tysfjord 1850 in 2014) or population: '..'
    return frame.select("kommune_nr", "kommune_name", "fylke_name", "centrality", "centrality_symbol",
                        "population", "population_symbol", "population_year", "requested",
                        "requested_symbol", "decided", "decided_symbol", "settled", "settled_symbol", "settled_per_1000", "settled_per_1000_symbol")


def has_values(frame: pl.DataFrame | None, columns: Sequence[str]) -> bool:
    """Whether any of ``columns`` holds a known value (a section or chart of symbols only is left
    out with one line instead of drawn as zeros)."""
    return frame is not None and any(c in frame.columns and frame[c].drop_nulls().len() > 0 for c in columns)


def year_limits(years: Sequence[int]) -> tuple[float, float]:
    """x-axis limits of a chart over ``years``: the data's own range, half a year either side
    (matplotlib's autoscaling of one point or of none ran the axis from 1925 to 2100)."""
    known = [int(y) for y in years if y is not None]
    if not known:
        raise ValueError("year_limits: no years to draw")
    return min(known) - 0.5, max(known) + 0.5


FIGSIZE = (8.0, 3.6)
FIG_DPI = 96  # display pixels per inch: the figure is shown 768 px wide
MARGINS = {"left": 0.09, "right": 0.985, "top": 0.86, "bottom": 0.27}


def new_figure() -> tuple[Any, Any]:
    """A figure with fixed margins (no tight layout: hundreds of reports draw these)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=FIG_DPI)
    fig.subplots_adjust(**MARGINS)
    return fig, ax


def show_figure(fig: Any) -> None:
    """Display a figure as SVG with its text as text (the gate reads it; text at least
    ``plots.MIN_FONT_PT``) and close it: one draw, no tight bounding box pass."""
    from settlement_research.analysis.plots import show_svg

    show_svg(fig)


def housing_national_text(data: ProfileData, lang: str = "en") -> str:
    """One sentence with the country's tenure mix and throughput over the window (shares only)."""
    from settlement_research.analysis import profile_text

    return profile_text.housing_national_text(data.housing_national, data.first_year, data.last_year, lang)


def labelled(frame: pl.DataFrame, labels: Mapping[str, str]) -> pl.DataFrame:
    """Rename columns to readable headers, taking each ``<col>_symbol`` along; drops the others."""
    keep: dict[str, str] = {}
    for col, label in labels.items():
        keep[col] = label
        if f"{col}_symbol" in frame.columns:
            keep[f"{col}_symbol"] = f"{label}_symbol"
    return frame.select([pl.col(c).alias(label) for c, label in keep.items() if c in frame.columns])


# ----------------------------------------------------------------------------------------- words


# One word table and one sentence builder for both languages live in ``profile_text``; these keep
# the English entry points.


def heading(f: Mapping[str, Any], span: str, lang: str = "en") -> str:
    """The profile's Markdown heading; the name from the data is escaped."""
    from settlement_research.analysis import profile_text

    return profile_text.heading(f, span, lang)


def chart_label(text: Any) -> str:
    """A name from the data as a matplotlib label (no mathtext; a leading '_' would hide it)."""
    label = escape_mathtext(text)
    return f"\u200b{label}" if label.startswith("_") else label


def coordination_text(f: Mapping[str, Any], lang: str = "en") -> str:
    """The sentence naming the municipality's two agency offices (Markdown, names escaped)."""
    from settlement_research.analysis import profile_text

    return profile_text.coordination_text(f, lang)


def summary(f: Mapping[str, Any], totals: Mapping[str, Any], pooled: Mapping[str, float | None],
            first: int, last: int, lang: str = "en") -> str:
    """The opening paragraph in words (Markdown; ``profile_text.summary``). Suppressed numbers are
    written as ':'; every string from the data is escaped."""
    from settlement_research.analysis import profile_text

    return profile_text.summary(f, totals, pooled, first, last, lang)


__all__ = [
    "ProfileData", "chart_label", "has_values", "no_data", "year_limits", "coordination_text", "facts", "heading", "housing_national_text", "suppress_across_profiles", "window_settled", "housing_table", "intro_comparison", "intro_pooled",
    "intro_table", "labelled", "new_figure", "peer_table", "profile_data", "settlement_table", "settlement_totals", "settlement_years", "show_figure", "summary",
]
