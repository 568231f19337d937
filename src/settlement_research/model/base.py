"""Shared building blocks of the data model: column metadata, code patterns and categories.

Every column is declared with ``col()`` so that its Norwegian term, English meaning and unit travel
with the schema. The codebook and datapackage.json are generated from here and nowhere else.
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl

# [0-9], never \d: polars (Rust) and Python regexes match any Unicode digit with \d, so '٠٣٠١'
# (Arabic-Indic) or '０３０１' (full-width) would pass as a municipality code
KOMMUNE_NR_PATTERN = r"^[0-9]{4}$"
FYLKE_NR_PATTERN = r"^[0-9]{2}$"
PERSON_ID_PATTERN = r"^[A-Za-z0-9_-]{4,32}$"

MIN_YEAR = 1990
MAX_YEAR = 2035

# Status symbols used by SSB and IMDi for missing cells. A symbol means the value is null, never 0.
# NOT_PUBLISHED is the package's own symbol: the chosen edition has no figure for the key (absent
# from its export, or its record was rejected on import - see the import's rejected list).
NOT_PUBLISHED = "~"
SYMBOLS = [".", "..", "...", ":", "-", "Inf", NOT_PUBLISHED]
SYMBOL_MEANING = {
    NOT_PUBLISHED: "not in this edition (package symbol: no figure published for the key, or rejected on import)",
    ".": "not applicable / no data",
    "..": "missing",
    "...": "not yet available",
    ":": "suppressed (confidential)",
    "-": "nil",
    "Inf": "division by zero in the source",
}

DECISION_STATUS = ["as_requested", "fewer", "declined", "no_decision"]
IMDI_REGIONS = ["ost", "indre_ost", "sor", "vest", "midt_norge", "nord"]
HUSBANKEN_REGIONS = ["ost", "sor", "vest", "midt_norge", "bodo", "hammerfest"]
SEX = ["female", "male"]
COUNTRY_GROUPS = [
    "syria", "eritrea", "afghanistan", "somalia", "iraq", "iran", "ethiopia", "sudan",
    "myanmar", "congo", "other",
]
EDUCATION = ["none", "primary", "secondary", "tertiary", "unknown"]
HOUSEHOLD_TYPES = ["single", "couple", "family_with_children", "single_parent"]
MEMBER_ROLES = ["adult", "child"]
ROUTES = ["ordinary", "agreed_self", "own"]
TENURES = [
    "municipal_rental", "private_sublet_by_municipality", "private_rental", "owner_startlan",
    "owner", "shared_housing", "temporary",
]
INTRO_END_REASONS = ["completed", "interrupted", "ongoing"]
OUTCOME_STATUS = ["work", "education", "work_and_education", "unemployed", "other"]


FINITE_CHECK = "finite_numbers"
FULL_YEAR_CHECK = "four_digit_years"
MIN_DATE_YEAR = 1000  # a date before this was written with an incomplete year ('13-01-20')


def float_columns(schema: pl.Schema) -> list[str]:
    return [n for n, t in schema.items() if t.is_float()]


def date_columns(schema: pl.Schema) -> list[str]:
    return [n for n, t in schema.items() if t == pl.Date or isinstance(t, pl.Datetime)]


class Model(pa.DataFrameModel):
    """The base of every table model: rules that hold for every table.

    * numbers are finite: NaN and ±inf are errors in every float column (null is how a value is
      missing; NaN or inf in a file means something upstream went wrong);
    * dates have 4-digit years (a date of year 13 is '13-01-20' misread, not Roman history).

    ``validation.validate`` reports both per column; here they guard every ``Model.validate``.
    """

    @pa.dataframe_check(name=FINITE_CHECK, error="numbers must be finite: NaN and ±inf are not values")
    def finite_numbers(cls, data: pa.PolarsData) -> pl.LazyFrame:
        floats = float_columns(data.lazyframe.collect_schema())
        if not floats:
            return data.lazyframe.select(pl.lit(True).alias("ok"))
        return data.lazyframe.select(
            pl.all_horizontal([pl.col(c).is_finite().fill_null(True) for c in floats]).alias("ok")
        )

    @pa.dataframe_check(name=FULL_YEAR_CHECK, error="dates must have a 4-digit year")
    def four_digit_years(cls, data: pa.PolarsData) -> pl.LazyFrame:
        dates = date_columns(data.lazyframe.collect_schema())
        if not dates:
            return data.lazyframe.select(pl.lit(True).alias("ok"))
        return data.lazyframe.select(
            pl.all_horizontal([(pl.col(c).dt.year() >= MIN_DATE_YEAR).fill_null(True) for c in dates])
            .alias("ok")
        )


def col(no: str, en: str, unit: str, *, identifier: bool = False, public: bool = False, **kwargs: Any) -> Any:
    """A pandera Field carrying the Norwegian term, the English meaning and the unit.

    Disclosure control reads two flags from here (``model.identifier_columns``, ``public_columns``):
    ``identifier`` — the column identifies a person or household (never shown, and every rendered
    report is scanned for its values); ``public`` — the column is a published statistic (IMDi's
    requests and decisions, population), so a small number in it may be shown.
    """
    metadata: dict[str, Any] = {"no": no, "en": en, "unit": unit}
    if identifier:
        metadata["identifier"] = True
    if public:
        metadata["public"] = True
    return pa.Field(description=f"{no} — {en}" if no else en, metadata=metadata, **kwargs)


def id_col(no: str, en: str, **kwargs: Any) -> Any:
    """A pseudonymised identifier column (person, household, any future id): declared as such, so
    the disclosure gate collects its values and withholds any report that shows one."""
    return col(no, en, "id", identifier=True, str_matches=PERSON_ID_PATTERN, **kwargs)


def kommune_nr_col(**kwargs: Any) -> Any:
    return col(
        "kommunenummer",
        "municipality code, 4 characters with leading zero (0301 Oslo)",
        "code",
        str_matches=KOMMUNE_NR_PATTERN,
        **kwargs,
    )


def year_col(no: str = "år", en: str = "calendar year", **kwargs: Any) -> Any:
    return col(no, en, "year", ge=MIN_YEAR, le=MAX_YEAR, **kwargs)


def classification_year_col() -> Any:
    return col(
        "klassifikasjonsår",
        "year of the municipality classification (KLASS 131 version) the code belongs to",
        "year",
        ge=MIN_YEAR,
        le=MAX_YEAR,
    )


def count_col(no: str, en: str, unit: str = "persons", **kwargs: Any) -> Any:
    kwargs.setdefault("nullable", True)
    return col(no, en, unit, ge=0, **kwargs)


def share_col(no: str, en: str, **kwargs: Any) -> Any:
    kwargs.setdefault("nullable", True)
    return col(no, en, "share (0-1)", ge=0.0, le=1.0, **kwargs)


def symbol_col(of: str) -> Any:
    """Companion column: which status symbol stood in the source where ``of`` is null."""
    return col(
        "symbol",
        f"status symbol from the source where `{of}` is missing ({', '.join(SYMBOLS)}); null = value present",
        "symbol",
        nullable=True,
        isin=SYMBOLS,
    )


def table_config(
    name: str, title: str, description: str, primary_key: list[str], level: str
) -> type:
    """The Config class of a model: name, docs, primary key (enforced unique) and level.

    ``level`` is ``aggregate`` (public statistics) or ``person`` (register data: disclosure control
    applies to everything derived from it).
    """
    return type(
        "Config",
        (),
        {
            "name": name,
            "title": title,
            "description": description,
            "unique": list(primary_key),
            "metadata": {"primary_key": list(primary_key), "level": level},
            "strict": True,
            "coerce": False,
        },
    )


def symbol_consistency(data: Any, columns: list[str]) -> pl.LazyFrame:
    """Row rule: where a symbol is given, the value must be null (a symbol is never a 0)."""
    exprs = [
        pl.col(f"{c}_symbol").is_null() | pl.col(c).is_null() for c in columns
    ]
    return data.lazyframe.select(pl.all_horizontal(exprs).alias("ok"))


def nulls_have_symbols(data: Any, columns: list[str], when: pl.Expr | None = None) -> pl.LazyFrame:
    """Row rule: a null value says why - its symbol column is set (null symbol = value present).

    ``when``: the rows the rule applies to (default all).
    """
    exprs = [pl.col(c).is_not_null() | pl.col(f"{c}_symbol").is_not_null() for c in columns]
    ok = pl.all_horizontal(exprs)
    return data.lazyframe.select((ok if when is None else ~when | ok).alias("ok"))


def spell_order(data: Any, start: str = "start_date", end: str = "end_date") -> pl.LazyFrame:
    """Row rule: a spell never ends before it starts (open spells have a null end)."""
    return data.lazyframe.select(
        (pl.col(end).is_null() | (pl.col(start) <= pl.col(end))).alias("ok")
    )
