"""The performance shortcuts give exactly what the straightforward computation gives.

Each fast path (sorted-key tests, one-pass column checks, windowless spell overlaps, integer-day
aggregation, row-table draws, digit-string parsing) is compared with a plain reference on random
data, sorted and unsorted, with and without rule breaks.
"""

from __future__ import annotations

import copy
import datetime as dt
import random

import numpy as np
import polars as pl
import pytest

from settlement_research import derive, relations, validation
from settlement_research.model import get_model
from settlement_research.sources.synthetic import generator, reader

SEEDS = range(40)


# --- validation ------------------------------------------------------------------------------


def _keys_frame(rng: random.Random, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"a": [f"P{rng.randint(0, 5)}" for _ in range(n)], "b": [rng.randint(0, 3) for _ in range(n)]},
        schema={"a": pl.String, "b": pl.Int16},
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_strictly_increasing_means_no_duplicates(seed: int) -> None:
    rng = random.Random(seed)
    frame = _keys_frame(rng, rng.randint(0, 12))
    if seed % 2:
        frame = frame.sort("a", "b")
    fast = validation._strictly_increasing(frame, ["a", "b"])
    duplicated = bool(frame.is_duplicated().any())
    rows = frame.rows()
    assert fast == (frame.height < 2 or all(x < y for x, y in zip(rows, rows[1:], strict=False)))
    if fast:
        assert not duplicated


def test_strictly_increasing_rejects_ties_and_nulls() -> None:
    assert not validation._strictly_increasing(pl.DataFrame({"a": ["1", "2", "2"]}), ["a"])
    assert not validation._strictly_increasing(pl.DataFrame({"a": ["1", None, "3"]}), ["a"])
    assert validation._strictly_increasing(pl.DataFrame({"a": ["1", "1"], "b": [1, 2]}), ["a", "b"])


def _column_schema(table: str) -> object:
    schema = copy.copy(get_model(table).to_schema())
    schema.checks = []
    schema.unique = None
    return schema


def _household(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "household_id": [f"H{i:08d}" for i in range(n)],
        "household_type": ["single"] * n,
        "size": pl.Series([1] * n, dtype=pl.Int16),
    })


@pytest.mark.parametrize(
    ("change", "passes"),
    [
        (lambda f: f, True),
        (lambda f: f.with_columns(pl.lit(99, pl.Int16).alias("size")), False),  # above le=20
        (lambda f: f.with_columns(pl.lit("castle").alias("household_type")), False),  # not in set
        (lambda f: f.with_columns(pl.lit(None, pl.String).alias("household_type")), False),  # null
        (lambda f: f.with_columns(pl.col("size").cast(pl.Int32)), False),  # wrong dtype
    ],
)
def test_columns_pass_agrees_with_pandera(change: object, passes: bool) -> None:
    frame = change(_household(30))  # type: ignore[operator]
    schema = _column_schema("household")
    assert validation._columns_pass(schema, frame) is passes
    try:
        schema.validate(frame, lazy=True)  # type: ignore[attr-defined]
        pandera_passes = True
    except Exception:
        pandera_passes = False
    assert pandera_passes is passes


def test_validate_still_reports_duplicates_in_unsorted_and_sorted_keys() -> None:
    frame = _household(6)
    twice = pl.concat([frame, frame.head(1)])
    for data in (twice, twice.sort("household_id")):
        result = validation.validate(data, "household")
        assert not result.valid
        assert any(p.rule == "unique_key" for p in result.errors)
    assert validation.validate(frame, "household").valid


def test_split_without_errors_matches_the_joined_split() -> None:
    frame = _household(5).with_columns(pl.lit("x").alias("reason"))
    valid, failing = validation._split(frame, frame, [], frame.height)
    assert valid.equals(frame)
    assert failing.height == 0
    assert failing.columns == ["row_nr", *frame.rename({"reason": "reason_input"}).columns, "reason"]
    assert failing.schema["row_nr"] == pl.Int64 and failing.schema["reason"] == pl.String


# --- relations ------------------------------------------------------------------------------


def _reference_overlaps(frame: pl.DataFrame) -> set[int]:
    """Rows overlapping another spell of the same person: every pair compared (n^2)."""
    far = dt.date(9999, 12, 31)
    rows = list(enumerate(frame.iter_rows(named=True)))
    bad = set()
    for i, a in rows:
        for j, b in rows:
            if i == j or a["person_id"] != b["person_id"]:
                continue
            ea, eb = a["end_date"] or far, b["end_date"] or far
            if a["start_date"] < eb and b["start_date"] < ea:
                bad.add(i)
    return bad


def _spells(rng: random.Random, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        start = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 60))
        end = None if rng.random() < 0.2 else start + dt.timedelta(days=rng.randint(0, 30))
        rows.append((f"P{rng.randint(0, 5)}", i + 1, start, end))
    return pl.DataFrame(
        rows, schema={"person_id": pl.String, "spell_no": pl.Int16, "start_date": pl.Date, "end_date": pl.Date},
        orient="row",
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_overlapping_spells_match_pairwise_reference(seed: int) -> None:
    rng = random.Random(seed)
    frame = _spells(rng, rng.randint(0, 25))
    if seed % 2:
        frame = frame.sort("person_id", "start_date", "spell_no")
    found = set(relations._overlapping_spells(frame)["__row"].to_list())
    # the rule's definition (sorted neighbours) equals the pairwise test when spells end >= start
    assert found == _reference_overlaps(frame)


@pytest.mark.parametrize("seed", SEEDS)
def test_membership_and_id_rules_match_plain_counts(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 20)
    members = pl.DataFrame({
        "household_id": [f"H{rng.randint(0, 4)}" for _ in range(n)],
        "person_id": [f"P{rng.randint(0, 9)}" for _ in range(n)],
    })
    person = pl.DataFrame({"person_id": [f"P{i}" for i in range(0, 10, 2)]})
    household = pl.DataFrame({"household_id": ["H0", "H1", "H2"], "size": pl.Series([1, 2, 3], dtype=pl.Int16)})
    spells = _spells(rng, n).with_columns(pl.Series("person_id", members["person_id"]))
    tables = {"household_member": members, "person": person, "household": household, "housing_spell": spells}
    problems = relations.check_relations(tables)
    by_rule = {(p.rule, p.table): sorted(p.rows) for p in problems}
    counts = members["person_id"].value_counts()
    dup = set(counts.filter(pl.col("count") > 1)["person_id"])
    expect_dup = [i for i, p in enumerate(members["person_id"]) if p in dup]
    assert by_rule.get(("one_household_per_person", "household_member"), []) == expect_dup
    known = set(person["person_id"])
    expect_missing = [i for i, p in enumerate(members["person_id"]) if p not in known]
    assert by_rule.get(("person_exists", "household_member"), []) == expect_missing
    expect_no_household = [i for i, h in enumerate(members["household_id"]) if h not in {"H0", "H1", "H2"}]
    assert by_rule.get(("household_exists", "household_member"), []) == expect_no_household
    open_count = spells.filter(pl.col("end_date").is_null())["person_id"].value_counts()
    many = set(open_count.filter(pl.col("count") > 1)["person_id"])
    expect_open = [i for i, r in enumerate(spells.iter_rows(named=True)) if r["end_date"] is None and r["person_id"] in many]
    assert by_rule.get(("one_open_housing_spell", "housing_spell"), []) == expect_open


def test_kommune_year_rule_still_finds_invalid_rows() -> None:
    kommune = pl.DataFrame({
        "kommune_nr": ["0301", "1103"], "valid_from": pl.Series([2009, 2009], dtype=pl.Int16),
        "valid_to": pl.Series([None, 2015], dtype=pl.Int16),
    })
    outcome = pl.DataFrame({
        "person_id": ["1", "2", "3", "4"], "year": pl.Series([2014, 2016, 2014, 2014], dtype=pl.Int16),
        "kommune_nr": ["0301", "1103", "9999", "1103"],
    })
    problems = relations.check_relations({"kommune": kommune, "outcome_year": outcome})
    [p] = [p for p in problems if p.rule == "kommune_valid_in_year"]
    assert p.rows == [1, 2]
    assert not relations.check_relations({"kommune": kommune, "outcome_year": outcome.slice(0, 1)})


# --- derive ---------------------------------------------------------------------------------


def _reference_housing(spells: pl.DataFrame, as_of: dt.date) -> dict[tuple[str, int], tuple[int, float]]:
    """(distinct persons, person-years) per municipality-year, spell by spell in Python."""
    persons: dict[tuple[str, int], set[str]] = {}
    years: dict[tuple[str, int], float] = {}
    for r in spells.iter_rows(named=True):
        end = min(r["end_date"] or as_of, as_of)
        if r["start_date"] > end:
            continue
        for y in range(r["start_date"].year, end.year + 1):
            lo, hi = max(r["start_date"], dt.date(y, 1, 1)), min(end, dt.date(y, 12, 31))
            key = (r["kommune_nr"], y)
            persons.setdefault(key, set()).add(r["person_id"])
            length = (dt.date(y, 12, 31) - dt.date(y, 1, 1)).days + 1
            years[key] = years.get(key, 0.0) + ((hi - lo).days + 1) / length
    return {k: (len(persons[k]), years[k]) for k in persons}


@pytest.mark.parametrize("seed", range(15))
def test_housing_aggregation_matches_spell_by_spell_reference(seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randint(1, 40)):
        start = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
        end = None if rng.random() < 0.3 else start + dt.timedelta(days=rng.randint(0, 900))
        rows.append((f"P{rng.randint(0, 8)}", rng.choice(["0301", "1103", "5001"]), start, end,
                     rng.choice(["municipal_rental", "owner", "private_rental", "temporary"])))
    spells = pl.DataFrame(
        rows, orient="row",
        schema={"person_id": pl.String, "kommune_nr": pl.String, "start_date": pl.Date, "end_date": pl.Date,
                "tenure": pl.String},
    )
    if seed % 2:
        spells = spells.sort("person_id")
    as_of = dt.date(2016, 6, 30)
    out = derive.housing_by_kommune_year(spells, as_of=as_of)
    ref = _reference_housing(spells, as_of)
    got = {(r["kommune_nr"], r["year"]): r for r in out.iter_rows(named=True)}
    assert set(got) == set(ref)
    for key, (n, years) in ref.items():
        assert got[key]["refugees_housed"] == n
        parts = ["municipal_rental_share", "private_rental_share", "owner_share", "temporary_share"]
        assert sum(got[key][c] for c in parts) == pytest.approx(1.0, rel=1e-12)
        assert years > 0


def test_housing_aggregation_is_bit_reproducible() -> None:
    rng = random.Random(7)
    spells = pl.DataFrame({
        "person_id": [f"P{i // 3}" for i in range(3000)],
        "kommune_nr": [rng.choice(["0301", "1103"]) for _ in range(3000)],
        "start_date": [dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 3000)) for _ in range(3000)],
        "end_date": [None] * 3000,
        "tenure": [rng.choice(["municipal_rental", "owner"]) for _ in range(3000)],
    }, schema_overrides={"end_date": pl.Date})
    first = derive.housing_by_kommune_year(spells, as_of=dt.date(2019, 12, 31))
    for _ in range(3):
        assert derive.housing_by_kommune_year(spells.sample(fraction=1.0, shuffle=True, seed=1),
                                              as_of=dt.date(2019, 12, 31)).equals(first)


def test_person_number_on_sorted_ids_equals_dense_rank() -> None:
    frame = pl.DataFrame({"person_id": ["a", "a", "b", "d", "d", "e"]})
    fast = frame.select(derive._person_number(frame.lazy())).to_series()
    assert fast.to_list() == frame.select(pl.col("person_id").rank("dense")).to_series().to_list()
    unsorted = pl.DataFrame({"person_id": ["b", "a", "b"]})
    assert unsorted.select(derive._person_number(unsorted.lazy())).to_series().to_list() == [2, 1, 2]


# --- synthetic generator and reader -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_pick_rows_draws_what_pick_draws(seed: int) -> None:
    table = np.random.default_rng(seed).dirichlet(np.ones(4), size=5)
    rows = np.random.default_rng(seed + 1).integers(0, 5, 1000)
    a = generator._pick(np.random.default_rng(seed), table[rows])
    b = generator._pick_rows(np.random.default_rng(seed), table, rows)
    assert np.array_equal(a, b)


def test_blocks_and_inverse_permutation() -> None:
    perm = np.random.default_rng(3).permutation(50).astype(np.int64) + 1000
    assert np.array_equal(generator._inverse_permutation(perm, 1000), np.argsort(perm, kind="stable"))
    starts, lengths = np.array([5, 0, 9]), np.array([2, 3, 0])
    assert generator._blocks(starts, lengths).tolist() == [5, 6, 0, 1, 2]


def test_whole_numbers_parse_as_the_general_path_does() -> None:
    values = ["5", "+5", "05", " 5", "5 ", "-0", "1e3", "9007199254740993", "-9007199254740993",
              ".", "..", ":", "Inf", "-", "...", None, "1,5", "1.0", "-12", "0", "3,0"]
    frame = pl.DataFrame({"X": values})
    fast = frame.select(reader._number("X", pl.Int16).alias("v"))
    general = frame.select(reader._general_number(pl.col("X")).cast(pl.Float64).cast(pl.Int64).alias("v"))
    assert fast.equals(general, null_equal=True)
    with pytest.raises(pl.exceptions.InvalidOperationError, match="x"):
        pl.DataFrame({"X": ["1", "x"]}).select(reader._number("X", pl.Int16))
