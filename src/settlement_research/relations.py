"""Cross-table rules: what no single model can see because it needs two or more tables.

One explicit layer over the validated tables. Every rule is vectorised polars (joins and window
functions), because it runs on register extracts of about a million persons. A rule whose tables
are absent is skipped, so the same call works on aggregate-only and person-only builds.

Errors name the table and every failing 0-based row index (``Problem.rows``) so the build can
quarantine exactly those rows; warnings flag things that are plausible but worth a look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from settlement_research.problems import Problem, Severity

MAX_EXAMPLES = 20
_ROW = "__row"
OPEN_END = 9999  # valid_to null = still valid

# Tables with a municipality code, and the year the code must be valid in.
KOMMUNE_YEAR: dict[str, pl.Expr] = {
    "kommune_settlement_year": pl.col("classification_year"),
    "kommune_housing_year": pl.col("classification_year"),
    "kommune_intro_year": pl.col("classification_year"),
    "kommune_context_year": pl.col("classification_year"),
    "settlement": pl.col("settlement_date").dt.year(),
    "housing_spell": pl.col("start_date").dt.year(),
    "intro_spell": pl.col("start_date").dt.year(),
    "outcome_year": pl.col("year"),
}
PERSON_REFERENCES = ["settlement", "housing_spell", "intro_spell", "outcome_year", "household_member"]


@dataclass(frozen=True)
class Rule:
    """A cross-table rule as documentation (the codebook lists these)."""

    name: str
    tables: tuple[str, ...]
    severity: Severity
    description: str


RULES: list[Rule] = [
    Rule(
        "kommune_valid_in_year", ("kommune", *KOMMUNE_YEAR), "error",
        "every kommune_nr exists in `kommune` with valid_from <= year <= valid_to (null = still "
        "valid); the year is classification_year in municipality-year tables, the year of "
        "settlement_date / start_date / year in person-level tables",
    ),
    Rule(
        "person_exists", ("person", *PERSON_REFERENCES), "error",
        "every person_id in settlement, housing_spell, intro_spell, outcome_year and "
        "household_member exists in `person`",
    ),
    Rule(
        "household_exists", ("household", "household_member"), "error",
        "every household_member.household_id exists in `household`",
    ),
    Rule(
        "one_household_per_person", ("household_member",), "error",
        "a person is a member of exactly one household (no more)",
    ),
    Rule(
        "person_has_household", ("person", "household_member"), "error",
        "every person is a member of a household (no less)",
    ),
    Rule(
        "household_size_matches_members", ("household", "household_member"), "error",
        "household.size equals the number of its members",
    ),
    Rule(
        "housing_spells_do_not_overlap", ("housing_spell",), "error",
        "housing spells of a person do not overlap (a spell may start on the day the previous "
        "one ends: moving day)",
    ),
    Rule(
        "one_open_housing_spell", ("housing_spell",), "error",
        "a person has at most one open housing spell (null end_date)",
    ),
    Rule(
        "first_housing_spell_at_settlement", ("housing_spell", "settlement"), "error",
        "the first housing spell (spell_no 1) starts on the settlement date",
    ),
    Rule(
        "intro_spells_do_not_overlap", ("intro_spell",), "error",
        "introduction-programme spells of a person do not overlap",
    ),
    Rule(
        "national_sum_reconciles", ("kommune_settlement_year", "national_settlement_year"), "warning",
        "per year and measure (settled, requested, decided), the clean table's municipalities plus the "
        "unknown-municipality row equal the national row of the edition the year's figures come from "
        "exactly when no municipal cell is suppressed; with suppressed (':') cells the gap must lie in "
        "[0, cells x the largest suppressed count]. A clean table mixing editions in one year, a key "
        "lost or a municipality counted twice shows as a gap (imdi_edition_value, where present, names "
        "the editions the year's cells come from)",
    ),
    Rule(
        "partial_year_marked", ("kommune_settlement_year",), "warning",
        "a year whose figures end before 31 December (period_end, e.g. the 2022 column of the export "
        "per 2022-09) is named, so it is never summed with full years unnoticed",
    ),
    Rule(
        "settled_within_decided", ("kommune_settlement_year",), "warning",
        "settled above decided is plausible (carry-over, multi-year decisions) but flagged",
    ),
]


# Suppressed (':') counts lie in 1..SUPPRESSED_MAX: IMDi and SSB hide small counts below 5 (SSB's own
# rule is below 3, so 4 bounds both).
SUPPRESSED_MAX = 4


def check_relations(
    tables: Mapping[str, pl.DataFrame], *, national_tolerance: float = 0.0
) -> list[Problem]:
    """All cross-table problems of ``tables`` (name -> collected, model-valid frame).

    Rules whose tables are missing are skipped. ``national_tolerance``: relative difference allowed
    between the municipalities' sum and the national figure beyond what suppressed cells explain
    (default 0: exact).
    """
    if national_tolerance < 0:
        raise ValueError(f"national_tolerance must be >= 0, got {national_tolerance}")
    checks: list[Callable[[Mapping[str, pl.DataFrame]], list[Problem]]] = [
        _kommune_valid_in_year,
        _ids_resolve,
        _household_membership,
        _housing_spells,
        _intro_spells,
        lambda t: _national_sum(t, national_tolerance),
        _settled_within_decided,
        _partial_years,
    ]
    problems: list[Problem] = []
    for check in checks:
        problems.extend(check(tables))
    return problems


# --- helpers -------------------------------------------------------------------------------------


def _indexed(frame: pl.DataFrame) -> pl.LazyFrame:
    return frame.lazy().with_row_index(_ROW)


def _problem(
    failing: pl.DataFrame,
    *,
    rule: str,
    table: str,
    message: str,
    severity: Severity = "error",
    column: str | None = None,
    hint: str | None = None,
) -> list[Problem]:
    """One Problem from the failing rows (``__row`` plus example columns), or none if empty.

    ``rows`` are 0-based positions (for quarantine); example ``row`` numbers are 1-based, as in
    every other report a reviewer reads.
    """
    if failing.height == 0:
        return []
    failing = failing.unique(_ROW, keep="first").sort(_ROW)
    examples = (
        failing.head(MAX_EXAMPLES)
        .with_columns(pl.col(pl.Date).cast(pl.String), (pl.col(_ROW).cast(pl.Int64) + 1).alias("row"))
        .drop(_ROW)
        .select("row", pl.all().exclude("row"))
        .to_dicts()
    )
    return [
        Problem(
            rule=rule, message=f"{message} ({failing.height} rows)", table=table, severity=severity,
            column=column, n_rows=failing.height, rows=failing[_ROW].to_list(), examples=examples,
            hint=hint,
        )
    ]


def _present(tables: Mapping[str, pl.DataFrame], *names: str) -> bool:
    return all(name in tables for name in names)


# --- rules ---------------------------------------------------------------------------------------


def _kommune_valid_in_year(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    if "kommune" not in tables:
        return []
    versions = tables["kommune"].lazy().select(
        "kommune_nr",
        pl.col("valid_from").cast(pl.Int32),
        pl.col("valid_to").cast(pl.Int32).fill_null(OPEN_END),
    )
    known = versions.select("kommune_nr").unique().with_columns(pl.lit(True).alias("code_known"))
    problems: list[Problem] = []
    for table, year in KOMMUNE_YEAR.items():
        if table not in tables:
            continue
        rows = (
            _indexed(tables[table])
            .filter(pl.col("kommune_nr").is_not_null())
            .select(_ROW, "kommune_nr", year.cast(pl.Int32).alias("year"))
        )
        if not _any_invalid_pair(rows, versions):
            continue
        valid = (
            rows.join(versions, on="kommune_nr", how="inner")
            .filter((pl.col("valid_from") <= pl.col("year")) & (pl.col("year") <= pl.col("valid_to")))
            .select(_ROW)
        )
        failing = (
            rows.join(valid, on=_ROW, how="anti")
            .join(known, on="kommune_nr", how="left")
            .with_columns(pl.col("code_known").fill_null(False))
            .collect()
        )
        problems += _problem(
            failing, rule="kommune_valid_in_year", table=table, column="kommune_nr",
            message=f"{table}: kommune_nr not valid in the row's year according to `kommune` "
            "(valid_from <= year <= valid_to)",
            hint="harmonise codes to the classification year, or add the missing kommune version",
        )
    return problems


def _any_invalid_pair(rows: pl.LazyFrame, versions: pl.LazyFrame) -> bool:
    """Whether any (kommune_nr, year) of ``rows`` lacks a valid version: a few thousand distinct
    pairs are checked instead of joining millions of rows (those run only when one fails)."""
    pairs = rows.select("kommune_nr", "year").unique()
    valid = (
        pairs.join(versions, on="kommune_nr", how="inner")
        .filter((pl.col("valid_from") <= pl.col("year")) & (pl.col("year") <= pl.col("valid_to")))
        .select("kommune_nr", "year")
    )
    bad = pairs.join(valid, on=["kommune_nr", "year"], how="anti", nulls_equal=True)
    return bool(bad.select(pl.len()).collect().item())


def _any_missing(frame: pl.DataFrame, column: str, known: pl.LazyFrame) -> bool:
    """Whether any value of ``column`` is absent from ``known`` (a null counts as absent).

    Repeats next to each other are dropped first (register tables are sorted by id, so eight
    million outcome rows shrink to about a million persons); the row-level join runs only when
    something is missing.
    """
    c = pl.col(column)
    values = frame.lazy().select(column).filter(c.ne_missing(c.shift(1)) | (pl.int_range(pl.len()) == 0))
    return bool(values.join(known, on=column, how="anti").select(pl.len()).collect().item())


def _ids_resolve(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    problems: list[Problem] = []
    if "person" in tables:
        persons = tables["person"].lazy().select("person_id")  # an anti join needs no unique()
        for table in PERSON_REFERENCES:
            if table not in tables or not _any_missing(tables[table], "person_id", persons):
                continue
            failing = (
                _indexed(tables[table]).select(_ROW, "person_id")
                .join(persons, on="person_id", how="anti").collect()
            )
            problems += _problem(
                failing, rule="person_exists", table=table, column="person_id",
                message=f"{table}: person_id not found in `person`",
            )
    if _present(tables, "household", "household_member"):
        households = tables["household"].lazy().select("household_id")
        if not _any_missing(tables["household_member"], "household_id", households):
            return problems
        failing = (
            _indexed(tables["household_member"]).select(_ROW, "household_id", "person_id")
            .join(households, on="household_id", how="anti").collect()
        )
        problems += _problem(
            failing, rule="household_exists", table="household_member", column="household_id",
            message="household_member: household_id not found in `household`",
        )
    return problems


def _household_membership(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    if "household_member" not in tables:
        return []
    members = tables["household_member"]
    problems: list[Problem] = []
    failing = (  # is_duplicated picks the same rows as a count over person_id, without a window
        _indexed(members)
        .filter(pl.col("person_id").is_duplicated())
        .select(_ROW, "person_id", "household_id", pl.len().over("person_id").alias("households"))
        .collect()
    )
    problems += _problem(
        failing, rule="one_household_per_person", table="household_member", column="person_id",
        message="household_member: person belongs to more than one household",
    )
    if "person" in tables:
        failing = (
            _indexed(tables["person"]).select(_ROW, "person_id")
            .join(members.lazy().select("person_id"), on="person_id", how="anti").collect()
        )
        problems += _problem(
            failing, rule="person_has_household", table="person", column="person_id",
            message="person: not a member of any household",
        )
    if "household" in tables:
        counts = members.lazy().group_by("household_id").agg(pl.len().alias("members"))
        failing = (
            _indexed(tables["household"]).select(_ROW, "household_id", "size")
            .join(counts, on="household_id", how="left")
            .with_columns(pl.col("members").fill_null(0))
            .filter(pl.col("size").cast(pl.Int64) != pl.col("members").cast(pl.Int64))
            .collect()
        )
        problems += _problem(
            failing, rule="household_size_matches_members", table="household", column="size",
            message="household: size differs from the number of members in household_member",
        )
    return problems


def _overlapping_spells(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of spells that overlap another spell of the same person (both partners flagged).

    Sorted by start, a spell overlaps an earlier one if it starts before the latest end so far,
    and overlaps a later one if it ends after the next start. Open spells end at +infinity. A
    spell may start on the day the previous one ends.

    Extracts usually come sorted by person and start already, so the sort is skipped when the
    rows are in that order; the per-person running maximum and the neighbours are computed on the
    sorted rows with shifts at person boundaries (no group-by windows).
    """
    far = pl.lit(9999 * 366, dtype=pl.Int32)  # days, later than any date
    start = pl.col("start_date").cast(pl.Int32)
    end = pl.col("end_date").cast(pl.Int32).fill_null(far)
    spells = _indexed(frame).select(
        _ROW, "person_id", "spell_no", "start_date", "end_date", start.alias("_s"), end.alias("_e")
    )
    if not _in_order(frame.lazy().select("person_id", start.alias("_s"), "spell_no")):
        spells = spells.sort("person_id", "_s", "spell_no")
    first = pl.col("person_id").ne_missing(pl.col("person_id").shift(1))  # a person's first spell
    last = first.shift(-1, fill_value=True)
    group = first.cum_sum().cast(pl.Int64)
    # running maximum of the end within a person: offset each person above all earlier ones
    offset = group * (1 << 32) + pl.col("_e").cast(pl.Int64) + (1 << 31)
    max_end = offset.cum_max() - group * (1 << 32) - (1 << 31)
    return (
        spells
        .with_columns(
            pl.when(~first).then(max_end.shift(1)).alias("_prev_max_end"),
            pl.when(~last).then(pl.col("_s").shift(-1)).alias("_next_start"),
        )
        .filter((pl.col("_s") < pl.col("_prev_max_end")) | (pl.col("_e") > pl.col("_next_start")))
        .select(_ROW, "person_id", "spell_no", "start_date", "end_date")
        .collect()
    )


def _in_order(columns: pl.LazyFrame) -> bool:
    """True if the rows are sorted by the columns (lexicographically, ascending, no nulls)."""
    names = columns.collect_schema().names()
    after = pl.lit(False)  # row is after the previous one on an earlier column
    same = pl.lit(True)
    for name in names:
        c, prev = pl.col(name), pl.col(name).shift(1)
        after = after | (same & (c > prev))
        same = same & (c == prev)
    ok = (after | same).slice(1).fill_null(False).all()
    nulls = pl.any_horizontal([pl.col(n).is_null().any() for n in names])
    out = columns.select(ok.alias("ok"), nulls.alias("nulls")).collect()
    return bool(out["ok"][0]) and not bool(out["nulls"][0])


def _housing_spells(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    if "housing_spell" not in tables:
        return []
    spells = tables["housing_spell"]
    problems = _problem(
        _overlapping_spells(spells), rule="housing_spells_do_not_overlap", table="housing_spell",
        message="housing_spell: spells of a person overlap", column="start_date",
    )
    failing = (  # open spells whose person has another open spell
        _indexed(spells)
        .filter(pl.col("end_date").is_null())
        .filter(pl.col("person_id").is_duplicated())
        .select(_ROW, "person_id", "spell_no", "start_date")
        .collect()
    )
    problems += _problem(
        failing, rule="one_open_housing_spell", table="housing_spell", column="end_date",
        message="housing_spell: person has more than one open spell (null end_date)",
    )
    if "settlement" in tables:
        failing = (
            _indexed(spells).filter(pl.col("spell_no") == 1)
            .select(_ROW, "person_id", "start_date")
            .join(tables["settlement"].lazy().select("person_id", "settlement_date"), on="person_id", how="inner")
            .filter(pl.col("start_date") != pl.col("settlement_date"))
            .collect()
        )
        problems += _problem(
            failing, rule="first_housing_spell_at_settlement", table="housing_spell", column="start_date",
            message="housing_spell: first spell (spell_no 1) does not start on the settlement date",
        )
    return problems


def _intro_spells(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    if "intro_spell" not in tables:
        return []
    return _problem(
        _overlapping_spells(tables["intro_spell"]), rule="intro_spells_do_not_overlap",
        table="intro_spell", column="start_date",
        message="intro_spell: programme spells of a person overlap",
    )


_NATIONAL_MEASURES = ("settled", "requested", "decided")


def _municipal_cells(tables: Mapping[str, pl.DataFrame]) -> pl.LazyFrame:
    """(year, measure, value, symbol) of every cell of the clean municipal table."""
    kom = tables["kommune_settlement_year"].lazy()
    present = kom.collect_schema().names()
    return pl.concat([
        kom.select(
            pl.col("year").cast(pl.Int32), pl.lit(m).alias("measure"),
            pl.col(m).cast(pl.Float64).alias("value"),
            (pl.col(f"{m}_symbol") if f"{m}_symbol" in present else pl.lit(None, pl.String)).alias("symbol"),
        )
        for m in _NATIONAL_MEASURES if m in present
    ])


def _cell_editions(tables: Mapping[str, pl.DataFrame]) -> dict[tuple[int, str], str]:
    """(year, measure) -> the editions the clean table's cells come from (imdi_edition_value)."""
    ev = tables.get("imdi_edition_value")
    if ev is None:
        return {}
    used = (
        ev.lazy().filter(pl.col("chosen") & (pl.col("table") == "kommune_settlement_year")
                         & pl.col("measure").is_in(list(_NATIONAL_MEASURES)))
        .group_by(pl.col("year").cast(pl.Int32), "measure").agg(pl.col("edition").unique().sort().str.join("+"))
        .collect()
    )
    return {(int(y), m): e for y, m, e in used.iter_rows()}


def _national_sum(tables: Mapping[str, pl.DataFrame], tolerance: float) -> list[Problem]:
    if not _present(tables, "kommune_settlement_year", "national_settlement_year"):
        return []
    nat = tables["national_settlement_year"].lazy()
    ncols = nat.collect_schema().names()
    edition = pl.col("edition") if "edition" in ncols else pl.lit(None, pl.String)
    national = pl.concat([
        nat.select(
            pl.col("year").cast(pl.Int32), pl.lit(m).alias("measure"),
            pl.col(m).cast(pl.Int64).alias("national"),
            (pl.col(f"{m}_unknown_kommune") if f"{m}_unknown_kommune" in ncols else pl.lit(None, pl.Int32))
            .cast(pl.Int64).fill_null(0).alias("unknown_kommune"),
            edition.alias("edition"),
        )
        for m in _NATIONAL_MEASURES if m in ncols
    ]).filter(pl.col("national").is_not_null())
    sums = (
        _municipal_cells(tables).group_by("year", "measure")
        .agg(
            pl.col("value").cast(pl.Int64).sum().alias("municipal_sum"),
            (pl.col("symbol") == ":").sum().cast(pl.Int64).alias("suppressed_cells"),
        )
    )
    join_on = ["year", "measure"]
    cell_editions = _cell_editions(tables)
    gap = pl.col("national") - pl.col("municipal_sum") - pl.col("unknown_kommune")
    slack = (pl.col("national").abs() * tolerance).floor().cast(pl.Int64)
    compared = (
        national.join(sums, on=join_on, how="inner", nulls_equal=True)
        .with_columns(gap.alias("gap"), (pl.col("suppressed_cells") * SUPPRESSED_MAX).alias("gap_max"))
        .filter((pl.col("gap") < -slack) | (pl.col("gap") > pl.col("gap_max") + slack))
        .sort("year", "measure")
        .collect()
    )
    problems = []
    for row in compared.iter_rows(named=True):  # one row per year and measure, a few dozen at most
        from_editions = cell_editions.get((row["year"], row["measure"]))
        mixed = f" (its cells come from {from_editions})" if from_editions else ""
        problems.append(
            Problem(
                rule="national_sum_reconciles",
                message=(
                    f"year {row['year']} {row['measure']}: the clean table's municipalities{mixed} sum to "
                    f"{row['municipal_sum']} "
                    f"plus {row['unknown_kommune']} with no municipality, the national row "
                    f"{'of edition ' + row['edition'] + ' ' if row['edition'] else ''}says "
                    f"{row['national']} (gap {row['gap']}; {row['suppressed_cells']} suppressed cells "
                    f"allow 0..{row['gap_max']})"
                ),
                table="kommune_settlement_year",
                severity="warning",
                column=row["measure"],
                examples=[row],
                hint="a gap beyond the suppressed cells means a municipality is missing or counted twice",
            )
        )
    return problems


def _partial_years(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    kom = tables.get("kommune_settlement_year")
    if kom is None or "period_end" not in kom.columns:
        return []
    partial = (
        kom.lazy().filter(pl.col("period_end") < pl.date(pl.col("year"), 12, 31))
        .group_by("year").agg(pl.col("period_end").min(), pl.len().alias("rows")).sort("year").collect()
    )
    return [
        Problem(
            rule="partial_year_marked",
            message=(f"year {row['year']}: {row['rows']} rows cover only up to {row['period_end']} "
                     "(year to date); do not sum or compare them with full years"),
            table="kommune_settlement_year", severity="warning", column="period_end", examples=[row],
            hint="filter on period_end, or compare like with like",
        )
        for row in partial.iter_rows(named=True)
    ]


def _settled_within_decided(tables: Mapping[str, pl.DataFrame]) -> list[Problem]:
    if "kommune_settlement_year" not in tables:
        return []
    failing = (
        _indexed(tables["kommune_settlement_year"])
        .filter(pl.col("settled") > pl.col("decided"))
        .select(_ROW, "kommune_nr", "year", "decided", "settled")
        .collect()
    )
    return _problem(
        failing, rule="settled_within_decided", table="kommune_settlement_year", column="settled",
        severity="warning",
        message="kommune_settlement_year: settled above decided (carry-over or multi-year decisions?)",
    )


__all__ = ["RULES", "Rule", "check_relations", "KOMMUNE_YEAR", "MAX_EXAMPLES"]
