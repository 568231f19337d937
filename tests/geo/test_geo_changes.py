"""geo.changes: one parser for every change table, and the shipped history 1992-2025."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.geo import codes
from settlement_research.geo.changes import (
    SPLIT_EQUAL,
    SPLIT_POPULATION,
    ChangeTable,
    HarmonizeError,
    klass_code_list,
    load_changes,
    normalise,
    read_klass_cache,
    read_klass_changes,
    shipped_changes,
    with_fetched,
)
from settlement_research.sources.klass import parse_changes, parse_codes

# The 2020 merger into Ålesund and its 2024 split, as KLASS publishes them (no exact parts, no kinds).
KLASS_CHANGES = {"codeChanges": [
    {"oldCode": c, "oldName": n, "newCode": "1507", "newName": "Ålesund", "changeOccurred": "2020-01-01"}
    for c, n in [("1504", "Ålesund"), ("1523", "Ørskog"), ("1529", "Skodje"), ("1534", "Haram"), ("1546", "Sandøy")]
] + [
    {"oldCode": "1507", "oldName": "Ålesund", "newCode": "1508", "newName": "Ålesund", "changeOccurred": "2024-01-01"},
    {"oldCode": "1507", "oldName": "Ålesund", "newCode": "1580", "newName": "Haram", "changeOccurred": "2024-01-01"},
    {"oldCode": "0104", "oldName": "Moss", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
    {"oldCode": "0136", "oldName": "Rygge", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
    {"oldCode": "3002", "oldName": "Moss", "newCode": "3103", "newName": "Moss", "changeOccurred": "2024-01-01"},
]}


def edges(ct: ChangeTable) -> set[tuple[str, str, int]]:
    return {(o, n, int(y)) for o, n, y in ct.changes.select("old_code", "new_code", "year").iter_rows()}


def targets(ct: ChangeTable, code: str, from_year: int, to_year: int) -> dict[str, float]:
    m = ct.mapping(from_year, to_year, codes=[code])
    return {r["new_code"]: round(r["weight"], 6) for r in m.iter_rows(named=True)}


def _write_klass_cache(folder: Path, payload: dict, kind: str, name: str, extra: dict) -> None:
    """A response as ``fetch`` caches it: the body and its provenance side file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(payload), encoding="utf-8")
    prov = {"file": f"{name}.json", "classification": 131, "kind": kind, "retrieved_at": "2026-01-01T00:00:00Z",
            **extra}
    (folder / f"{name}.json.provenance.json").write_text(json.dumps(prov), encoding="utf-8")


def test_every_format_goes_through_one_parser(tmp_path: Path) -> None:
    expected = {(c["oldCode"], c["newCode"], int(c["changeOccurred"][:4])) for c in KLASS_CHANGES["codeChanges"]}
    path = tmp_path / "changes.json"
    path.write_text(json.dumps(KLASS_CHANGES), encoding="utf-8")
    csv = tmp_path / "changes.csv"
    csv.write_text("# hand-made\nyear;old_code;new_code\n" + "".join(f"{y};{o};{n}\n" for o, n, y in sorted(expected)),
                   encoding="utf-8")
    cache = tmp_path / "data_raw" / "klass"
    _write_klass_cache(cache, KLASS_CHANGES, "changes", "klass131_changes", {"from": "2019-01-01", "to": "2024-12-31"})
    tables = {
        "KLASS file": load_changes(path),
        "KLASS payload": read_klass_changes(KLASS_CHANGES),
        "KLASS frame (sources.klass)": load_changes(parse_changes(json.dumps(KLASS_CHANGES))),
        "fetch cache folder": load_changes(tmp_path / "data_raw"),
        "CSV": load_changes(csv),
    }
    for where, ct in tables.items():
        assert edges(ct) == expected, where
        assert ct.changes.columns == tables["KLASS file"].changes.columns, where
        assert targets(ct, "0136", 2019, 2024) == {"3103": 1.0}, where
    # KLASS data get the shipped exact parts of the 2024 split; a hand-made CSV says what it says
    for where in ("KLASS file", "KLASS payload", "KLASS frame (sources.klass)", "fetch cache folder"):
        assert targets(tables[where], "1534", 2019, 2024) == {"1580": 1.0}, where
        assert targets(tables[where], "1504", 2019, 2024) == {"1508": 1.0}, where
    assert targets(tables["CSV"], "1534", 2019, 2024) == {"1508": 0.5, "1580": 0.5}
    # the same result as the shipped table for these codes
    for code in ("1504", "1523", "1529", "1534", "1546", "0104", "0136"):
        assert targets(tables["KLASS file"], code, 2019, 2024) == targets(shipped_changes(), code, 2019, 2024)


def test_fetched_klass_code_lists_feed_the_code_list(tmp_path: Path) -> None:
    codes_payload = {"codes": [
        {"code": "1507", "name": "Ålesund", "validFrom": "2020-01-01", "validTo": "2024-01-01"},
        {"code": "1580", "name": "Haram", "validFrom": "2024-01-01", "validTo": None},
        {"code": "9999", "name": "Uoppgitt", "validFrom": "2020-01-01", "validTo": None},
    ]}
    listed = klass_code_list(parse_codes(json.dumps(codes_payload), 131))
    assert listed.rows() == [("1507", "Ålesund", 2020, 2023), ("1580", "Haram", 2024, None)]
    cache = tmp_path / "klass"
    _write_klass_cache(cache, KLASS_CHANGES, "changes", "changes", {})
    for day, present in (("2023-01-01", ["1507"]), ("2024-01-01", ["1508", "1580"])):
        payload = {"codes": [{"code": c, "name": c} for c in present]}
        _write_klass_cache(cache, payload, "codesAt", f"codesAt_{day}", {"date": day})
    ct = read_klass_cache(cache)
    assert ct.codes is not None
    assert ct.codes_at(2023) == ["1507"] and ct.codes_at(2024) == ["1508", "1580"]
    with pytest.raises(HarmonizeError, match="no cached KLASS"):
        read_klass_cache(tmp_path / "empty")


def test_bad_rows_are_refused_with_the_rule() -> None:
    base = {"old_code": ["1507"], "new_code": ["1580"], "year": ["2024"]}
    with pytest.raises(HarmonizeError, match="4 digits"):
        normalise(pl.DataFrame({**base, "exact_from": ["534"]}))
    with pytest.raises(HarmonizeError, match="kinds"):
        normalise(pl.DataFrame({**base, "kind": ["dissolved"]}))
    with pytest.raises(HarmonizeError, match="4 digits"):
        normalise(pl.DataFrame({**base, "old_code": ["\u0661\u0665\u0660\u0667"]}))


def test_exact_parts_follow_the_lineage_of_the_data() -> None:
    ct = shipped_changes()
    # Haram of 1995 (1534) is Haram of 2024; every other part of Ålesund 2020-2023 is Ålesund 2024
    assert targets(ct, "1534", 1995, 2024) == {"1580": 1.0}
    assert all(targets(ct, c, 2010, 2024) == {"1508": 1.0} for c in ("1504", "1523", "1529", "1546"))
    # data already in 1507 need weights: population when given, flagged
    pop = pl.DataFrame({"kommune_nr": ["1508", "1580"], "year": [2024, 2024], "population": [60_000, 10_000]})
    m = ct.mapping(2021, 2024, codes=["1507"], weights=pop)
    assert dict(m.select("new_code", "weight").iter_rows()) == pytest.approx({"1508": 6 / 7, "1580": 1 / 7})
    assert set(m["split_method"]) == {SPLIT_POPULATION}
    assert set(ct.mapping(2021, 2024, codes=["1507"])["split_method"]) == {SPLIT_EQUAL}


@pytest.mark.parametrize(
    ("code", "from_year", "to_year", "expected"),
    [
        ("0718", 2001, 2002, "0716"), ("0718", 1995, 2024, "3905"),  # Ramnes -> Re -> Tønsberg
        ("0716", 1995, 2002, "0716"),  # Våle kept its code as Re
        ("1214", 2001, 2002, "1159"), ("1214", 1995, 2006, "1160"), ("1159", 2002, 2024, "1160"),
        ("1154", 2005, 2006, "1160"),  # Vindafjord + Ølen
        ("1842", 2004, 2005, "1804"), ("1842", 1995, 2024, "1804"),  # Skjerstad into Bodø
        ("1569", 2005, 2006, "1576"), ("1572", 2005, 2024, "1576"),  # Aure + Tustna
        ("1503", 2007, 2008, "1505"), ("1556", 2007, 2024, "1505"),  # Kristiansund + Frei
        ("0102", 1991, 2024, "3105"), ("0103", 1993, 2024, "3107"),  # Sarpsborg 1992, Fredrikstad 1994
        ("1723", 2011, 2012, "1756"), ("1756", 2017, 2018, "5053"),  # Inderøy
        ("1915", 2012, 2013, "1903"), ("1903", 2013, 2024, "5503"),  # Harstad
        ("0720", 2016, 2017, "0710"), ("0710", 2017, 2024, "3907"),  # Sandefjord
        ("1662", 1995, 2017, "1662"), ("1662", 1995, 2018, "5030"), ("1662", 1995, 2019, "5030"),
        ("1662", 1995, 2020, "5001"),  # Klæbu joined Trondheim in 2020, not before
        ("1567", 2018, 2019, "5061"),  # Rindal moved to Trøndelag in 2019
    ],
)
def test_history_chains(code: str, from_year: int, to_year: int, expected: str) -> None:
    assert targets(shipped_changes(), code, from_year, to_year) == {expected: 1.0}


def test_shipped_changes_agree_with_the_shipped_code_list() -> None:
    """Every change leaves a code valid the year before for one valid in its year, and every code
    that ends or starts after 1994 does so through a change (the two tables tell one story)."""
    ct = shipped_changes()
    for old, new, year in ct.changes.select("old_code", "new_code", "year").iter_rows():
        assert codes.valid_in(old, year - 1), (old, year)
        assert codes.valid_in(new, year), (new, year)
    olds = {(o, int(y)) for o, y in ct.changes.select("old_code", "year").iter_rows()}
    news = {(n, int(y)) for n, y in ct.changes.select("new_code", "year").iter_rows()}
    for code, first, last in codes.code_list().select("code", "valid_from", "valid_to").iter_rows():
        reused = any(first == last + 1 for first, _, _ in codes.periods(code)) if last is not None else False
        if last is not None and last >= 1991 and not reused:  # 0716 Våle went on as 0716 Re
            assert (code, last + 1) in olds, f"{code} ends in {last} without a change"
        if first >= 1992:
            assert (code, first) in news, f"{code} starts in {first} without a change"


def test_renumberings_are_told_from_merges() -> None:
    ren = shipped_changes().renumberings
    assert ren[("1601", 2018)] == "5001" and ren[("0101", 2020)] == "3001" and ren[("1214", 2002)] == "1159"
    for merged in [("0104", 2020), ("0718", 2002), ("1842", 2005), ("2001", 1992), ("1662", 2020), ("1534", 2020)]:
        assert merged not in ren, merged
    # without kinds (KLASS), a successor that existed the year before absorbed the old code
    frame = pl.DataFrame({"old_code": ["0718", "1601"], "new_code": ["0716", "5001"], "year": [2002, 2018]})
    klass_like = ChangeTable(normalise(frame), codes=codes.code_list().select("code", "name", "valid_from", "valid_to"))
    assert klass_like.renumberings == {("1601", 2018): "5001"}


def test_fetched_klass_extends_the_shipped_table_or_disagrees_loudly(tmp_path: Path) -> None:
    raw = tmp_path / "data_raw"
    assert with_fetched(raw) is shipped_changes()  # nothing fetched: the shipped table
    future = {"codeChanges": [
        {"oldCode": "1580", "oldName": "Haram", "newCode": "1581", "newName": "Haram",
         "changeOccurred": "2026-01-01"},
    ]}
    _write_klass_cache(raw / "klass", future, "changes", "future", {"from": "2026-01-01", "to": "2026-12-31"})
    ct = with_fetched(raw)
    assert ct.coverage == (1992, 2026)
    assert targets(ct, "1534", 2019, 2026) == {"1581": 1.0}  # the exact 2024 part, then the new change
    wrong = {"codeChanges": [
        {"oldCode": "1534", "oldName": "Haram", "newCode": "1580", "newName": "Haram",
         "changeOccurred": "2020-01-01"},
    ]}
    _write_klass_cache(raw / "klass", wrong, "changes", "wrong", {"from": "2020-01-01", "to": "2020-12-31"})
    with pytest.raises(HarmonizeError, match="disagree"):
        with_fetched(raw)


def test_build_refuses_fetched_klass_changes_that_disagree(tmp_path: Path) -> None:
    from settlement_research.build import BuildError, _check_fetched_changes

    raw = tmp_path / "data_raw"
    said: list[str] = []
    agree = {"codeChanges": [{"oldCode": "1580", "oldName": "Haram", "newCode": "1581", "newName": "Haram",
                              "changeOccurred": "2026-01-01"}]}
    _write_klass_cache(raw / "klass", agree, "changes", "future", {"from": "2026-01-01", "to": "2026-12-31"})
    _check_fetched_changes(raw / "klass", said.append)
    assert "agree" in said[-1]
    wrong = {"codeChanges": [{"oldCode": "1534", "oldName": "Haram", "newCode": "1580", "newName": "Haram",
                              "changeOccurred": "2020-01-01"}]}
    _write_klass_cache(raw / "klass", wrong, "changes", "wrong", {"from": "2020-01-01", "to": "2020-12-31"})
    with pytest.raises(BuildError, match="disagree with the shipped code history"):
        _check_fetched_changes(raw / "klass", said.append)
