"""The change table: readers and the (code, year) -> codes-at-to_year mapping."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.harmonize import (
    SPLIT_EQUAL,
    SPLIT_POPULATION,
    SPLIT_TABLE_WEIGHT,
    UNKNOWN_CODE,
    ChangeTable,
    HarmonizeError,
    _webster,
    load_changes,
)
from settlement_research.sources.klass import parse_changes


def targets(ct: ChangeTable, code: str, from_year: int, to_year: int, **kw: object) -> dict[str, float]:
    m = ct.mapping(from_year, to_year, codes=[code], **kw)  # type: ignore[arg-type]
    return {r["new_code"]: round(r["weight"], 6) for r in m.iter_rows(named=True)}


# --- the shipped table: chains, merges, splits, year semantics --------------------------------

def test_renumbering_chain_moss(shipped: ChangeTable) -> None:
    assert targets(shipped, "0104", 2019, 2020) == {"3002": 1.0}
    assert targets(shipped, "0104", 2019, 2023) == {"3002": 1.0}
    assert targets(shipped, "0104", 2014, 2024) == {"3103": 1.0}
    assert targets(shipped, "3002", 2020, 2024) == {"3103": 1.0}


def test_trondheim_2018_then_klaebu_merge(shipped: ChangeTable) -> None:
    assert targets(shipped, "1601", 2017, 2018) == {"5001": 1.0}
    assert targets(shipped, "1601", 2014, 2024) == {"5001": 1.0}
    assert targets(shipped, "5001", 2018, 2024) == {"5001": 1.0}
    assert targets(shipped, "1662", 2014, 2020) == {"5001": 1.0}  # Klæbu, via 5030 in 2018
    # Klæbu is its own municipality until 2019: 1662 to 2017, 5030 in 2018-2019.
    assert targets(shipped, "1662", 1995, 2017) == {"1662": 1.0}
    assert targets(shipped, "1662", 1995, 2019) == {"5030": 1.0}
    assert shipped.stable_until("1662", 1995) == 2017 and shipped.stable_until("5030", 2018) == 2019


def test_change_applies_from_its_effective_year_only(shipped: ChangeTable) -> None:
    # 2020 reform: data classified 2019 still uses 0104; the change applies when moving to 2020.
    assert targets(shipped, "0104", 2014, 2019) == {"0104": 1.0}
    assert targets(shipped, "1507", 2020, 2023) == {"1507": 1.0}
    assert set(targets(shipped, "1507", 2023, 2024)) == {"1508", "1580"}


def test_merge_moss_rygge(shipped: ChangeTable) -> None:
    m = shipped.mapping(2019, 2020, codes=["0104", "0136"])
    assert m["new_code"].to_list() == ["3002", "3002"]
    assert m["weight"].to_list() == [1.0, 1.0]
    assert m["split_method"].null_count() == 2


def test_splits_follow_older_borders_exactly_else_equal_and_flagged(shipped: ChangeTable) -> None:
    # 2024: Haram (1580) is Haram of 2019 (1534) exactly; Ålesund (1508) is the rest of 1507.
    assert targets(shipped, "1534", 2014, 2024) == {"1580": 1.0}
    for part in ("1504", "1523", "1529", "1546"):
        assert targets(shipped, part, 2019, 2024) == {"1508": 1.0}
    assert shipped.mapping(2014, 2024, codes=["1534", "1504"])["split_method"].null_count() == 2
    # Data already in 1507 (2020-2023) cannot be split exactly: no weights in the table -> equal, flagged.
    assert targets(shipped, "1507", 2023, 2024) == {"1508": 0.5, "1580": 0.5}
    assert set(shipped.mapping(2023, 2024, codes=["1507"])["split_method"]) == {SPLIT_EQUAL}
    snillfjord = targets(shipped, "5012", 2019, 2020)
    assert set(snillfjord) == {"5055", "5056", "5059"}
    assert sum(snillfjord.values()) == pytest.approx(1.0, abs=1e-5)
    m = shipped.mapping(2019, 2020, codes=["5012"])
    assert set(m["split_method"]) == {SPLIT_EQUAL}
    # 1613 Snillfjord (2014) reaches the same three via 5012: a chain into a split.
    assert set(targets(shipped, "1613", 2014, 2024)) == {"5055", "5056", "5059"}


def test_table_weights_are_used_when_given(make_changes) -> None:
    ct = make_changes([("5012", "5055", 2020, 0.35), ("5012", "5056", 2020, 0.35), ("5012", "5059", 2020, 0.3)])
    assert targets(ct, "5012", 2019, 2020) == {"5055": 0.35, "5056": 0.35, "5059": 0.3}
    assert set(ct.mapping(2019, 2020, codes=["5012"])["split_method"]) == {SPLIT_TABLE_WEIGHT}


def test_split_with_population_weights(shipped: ChangeTable) -> None:
    pop = pl.DataFrame({"kommune_nr": ["1508", "1580"], "year": [2024, 2024],
                        "classification_year": [2024, 2024], "population": [58_000, 9_500]})
    got = targets(shipped, "1507", 2023, 2024, weights=pop)
    assert got == {"1508": round(58_000 / 67_500, 6), "1580": round(9_500 / 67_500, 6)}
    m = shipped.mapping(2023, 2024, codes=["1507"], weights=pop)
    assert set(m["split_method"]) == {SPLIT_POPULATION}
    # a population frame that lacks one part falls back to the table weight
    m2 = shipped.mapping(2023, 2024, codes=["1507"], weights=pop.head(1))
    assert set(m2["split_method"]) == {SPLIT_EQUAL}


def test_equal_split_without_any_weight_is_marked(make_changes) -> None:
    ct = make_changes([("1507", "1508", 2024), ("1507", "1580", 2024)])
    m = ct.mapping(2023, 2024, codes=["1507"])
    assert m["weight"].to_list() == [0.5, 0.5]
    assert set(m["split_method"]) == {SPLIT_EQUAL}


def test_population_weights_only_while_the_new_code_means_the_same_unit(make_changes) -> None:
    # X splits into A and B in 2020; C merges into A in 2022, so A's 2022+ population is not A's part.
    ct = make_changes([("0001", "0002", 2020), ("0001", "0003", 2020), ("0004", "0002", 2022)])
    pop = pl.DataFrame({
        "kommune_nr": ["0002", "0003", "0002", "0003"], "year": [2020, 2020, 2023, 2023],
        "classification_year": [2020, 2020, 2023, 2023], "population": [100, 300, 10_000, 300],
    })
    assert targets(ct, "0001", 2019, 2020, weights=pop) == {"0002": 0.25, "0003": 0.75}
    only_late = pop.filter(pl.col("year") == 2023)
    m = ct.mapping(2019, 2020, codes=["0001"], weights=only_late)
    assert set(m["split_method"]) == {SPLIT_EQUAL}


def test_reused_code_resolved_by_code_and_year(make_changes) -> None:
    # 0716 Re merges into 3803 in 2020; later 0716 is given to another unit (3001 in 2024).
    ct = make_changes([("0716", "3803", 2020), ("0704", "3803", 2020), ("3001", "0716", 2024)])
    assert targets(ct, "0716", 2019, 2024) == {"3803": 1.0}
    assert targets(ct, "3001", 2023, 2024) == {"0716": 1.0}
    assert targets(ct, "0716", 2024, 2024) == {"0716": 1.0}


def test_real_0716_re_goes_to_tonsberg(shipped: ChangeTable) -> None:
    assert targets(shipped, "0716", 2014, 2020) == {"3803": 1.0}
    assert targets(shipped, "0716", 2014, 2024) == {"3905": 1.0}


def test_codes_not_valid_in_their_year_are_reported(shipped: ChangeTable) -> None:
    m = shipped.mapping(2014, 2024, codes=["3002", "0104", "9999"])
    unknown = m.filter(pl.col("split_method") == UNKNOWN_CODE)
    assert sorted(unknown["old_code"]) == ["3002", "9999"]
    assert unknown["new_code"].null_count() == 2


def test_code_counts_per_year(shipped: ChangeTable) -> None:
    counts = {y: len(shipped.codes_at(y)) for y in (2014, 2017, 2018, 2020, 2023, 2024)}
    assert counts == {2014: 428, 2017: 426, 2018: 422, 2020: 356, 2023: 356, 2024: 357}


@pytest.mark.parametrize("to_year", [2017, 2018, 2019, 2020, 2023, 2024])
def test_mapping_from_2014_lands_exactly_on_the_codes_of_to_year(shipped: ChangeTable, to_year: int) -> None:
    m = shipped.mapping(2014, to_year)
    assert m["split_method"].ne(UNKNOWN_CODE).all()
    assert set(m["new_code"]) == set(shipped.codes_at(to_year))
    sums = m.group_by("old_code").agg(pl.col("weight").sum())
    assert sums.height == 428
    assert (sums["weight"] - 1).abs().max() < 1e-12


def test_backwards_and_uncovered_spans_raise(shipped: ChangeTable) -> None:
    with pytest.raises(HarmonizeError, match="backwards"):
        shipped.mapping(2024, 2019, codes=["3103"])
    with pytest.raises(HarmonizeError, match="records changes effective 1992"):
        shipped.mapping(1985, 2024, codes=["0104"])


# --- readers -----------------------------------------------------------------------------------

def test_klass_json_file(tmp_path: Path) -> None:
    payload = {"codeChanges": [
        {"oldCode": "0104", "oldName": "Moss", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
        {"oldCode": "0136", "oldName": "Rygge", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
        {"oldCode": "3002", "oldName": "Moss", "newCode": "3103", "newName": "Moss", "changeOccurred": "2024-01-01"},
        {"oldCode": "1507", "oldName": "Ålesund", "newCode": "1508", "newName": "Ålesund", "changeOccurred": "2024-01-01"},
        {"oldCode": "1507", "oldName": "Ålesund", "newCode": "1580", "newName": "Haram", "changeOccurred": "2024-01-01"},
        {"oldCode": "5001", "oldName": "Trondheim", "newCode": "5001", "newName": "Trondheim", "changeOccurred": "2020-01-01"},
    ]}
    path = tmp_path / "changes.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    ct = load_changes(path)
    assert ct.changes.height == 5  # the identity row carries no change
    assert targets(ct, "0136", 2019, 2024) == {"3103": 1.0}
    m = ct.mapping(2023, 2024, codes=["1507"])
    assert set(m["split_method"]) == {SPLIT_EQUAL}
    # the same payload through the KLASS source module's frame (change_date as Date)
    frame = parse_changes(json.dumps(payload))
    assert frame.schema["change_date"] == pl.Date
    assert load_changes(frame).changes.equals(ct.changes.with_columns(pl.lit(None, pl.String).alias("note")))


def test_csv_with_comments_and_weights(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"
    path.write_text("# hand-made\nold_code,new_code,year,weight\n1507,1508,2024,0.8\n1507,1580,2024,0.2\n",
                    encoding="utf-8")
    assert targets(load_changes(path), "1507", 2023, 2024) == {"1508": 0.8, "1580": 0.2}


def test_three_digit_codes_are_refused_not_padded(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"
    path.write_text("old_code,new_code,year\n104,3002,2020\n", encoding="utf-8")
    with pytest.raises(HarmonizeError, match="4 digits"):
        load_changes(path)
    with pytest.raises(HarmonizeError, match="4 digits"):
        load_changes().mapping(2019, 2020, codes=["104"])


def test_change_not_on_first_of_january_is_refused() -> None:
    frame = pl.DataFrame({"old_code": ["0104"], "new_code": ["3002"], "change_date": ["2020-07-01"]})
    with pytest.raises(HarmonizeError, match="1 January"):
        load_changes(frame)


def test_shipped_table_documents_its_provenance() -> None:
    from importlib import resources

    text = (resources.files("settlement_research.geo") / "data" / "kommune_changes.csv").read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "KLASS 131" in header and "exact_from" in header
    ct = load_changes()
    assert ct.coverage == (1992, 2025)
    assert set(ct.changes["year"]) == {1992, 1994, 2002, 2005, 2006, 2008, 2012, 2013, 2017, 2018, 2019, 2020, 2024}
    # no weights are shipped: where a split follows no older border, weights come from population data
    assert ct.changes["weight"].null_count() == ct.changes.height
    assert set(ct.changes.filter(pl.col("exact_from").is_not_null())["old_code"]) == {"1507"}


# --- integer apportionment -------------------------------------------------------------------------

@pytest.mark.parametrize("weights", [[0.5, 0.5], [0.35, 0.35, 0.3], [0.86, 0.14], [0.1, 0.2, 0.3, 0.4]])
def test_webster_is_exact_and_house_monotone(weights: list[float]) -> None:
    previous = [0] * len(weights)
    for total in range(0, 400):
        alloc = _webster(total, weights)
        assert sum(alloc) == total
        assert all(a >= p for a, p in zip(alloc, previous, strict=True)), (total, alloc, previous)
        assert all(abs(a - total * w) < 1 for a, w in zip(alloc, weights, strict=True))
        previous = alloc
