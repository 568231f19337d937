"""The shipped code history tested against independent real sources (skipped without ../shared/real_data).

regtools groups every code valid 1994-2024 to its 2024 municipality; FHI's csdata chains codes
forward; KLASS lists the codes of 2020-2023. Our table was written independently; here they meet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from settlement_research.geo import codes
from settlement_research.geo.changes import ChangeTable, klass_code_list, read_fhi, shipped_changes
from settlement_research.sources.klass import parse_codes

pytestmark = pytest.mark.real_data

REGTOOLS = "misc/regtools_kommuner_1994-2024_grouped_to_2024.xlsx"
FHI = "misc/fhi_csdata_norway_locations.xlsx"
KLASS_2020_2023 = "misc/klass131_kommuner_codes_2020-2023.json"
# 2024 codes of the municipalities formed in 2020 from split ones (Snillfjord, Tysfjord): regtools
# groups all their parts as 'K.Rest' because no earlier grouping of them is comparable over time.
SPLIT_2020_TARGETS = {"5055", "5056", "5059", "1806", "1875"}


def _real(real_data: Path, name: str) -> Path:
    path = real_data / name
    if not path.is_file():
        pytest.skip(f"{name} is not present")
    return path


@pytest.fixture(scope="module")
def regtools(real_data: Path) -> pl.DataFrame:
    """KODE (historic code; '0716u' = 0716 Våle), group (2024 code or Rest/21-22/23), label years."""
    df = pl.read_excel(_real(real_data, REGTOOLS), infer_schema_length=0)
    years = pl.col("TEKST").str.extract_groups(r"\((?<start>\d{4})?\s*-\s*(?<end>\d{4})\)\s*$")
    return df.select(
        pl.col("KODE").alias("code"), pl.col("GRUPPEKODE").str.strip_prefix("K.").alias("group"),
        pl.col("TEKST").alias("label"),
        years.struct.field("start").cast(pl.Int16).alias("start"), years.struct.field("end").cast(pl.Int16).alias("end"),
    )


@pytest.fixture(scope="module")
def fhi(real_data: Path) -> ChangeTable:
    return read_fhi(_real(real_data, FHI))


def _classification(code: str, end: int | None) -> tuple[str, int]:
    """The code as data would carry it, and its last classification year."""
    if code == "0716u":  # regtools' name for 0716 Våle, whose code Re kept
        return "0716", 2001
    return code, end if end is not None else 2024


def test_every_regtools_code_maps_to_its_2024_group(regtools: pl.DataFrame) -> None:
    ct = shipped_changes()
    checked = 0
    for raw, group, label, _start, end in regtools.iter_rows():
        code, year = _classification(raw, end)
        if group in ("21-22", "23") or code == "9999":
            assert not codes.is_municipality(code), label
            continue
        m = ct.mapping(year, 2024, codes=[code])
        got = dict(m.select("new_code", "weight").iter_rows())
        if group == "Rest":
            assert set(got) <= SPLIT_2020_TARGETS, (label, got)
            continue
        if m["split_method"].is_not_null().any():
            # 1507 Ålesund (2020-2023) was split in 2024: regtools groups it with 1508, data in
            # 1507 need weights (flagged); its parts of 2019 map exactly (below and in the tests)
            assert raw == "1507" and group in got and sum(got.values()) == pytest.approx(1.0), label
            continue
        assert got == {group: 1.0}, (raw, label, got)
        checked += 1
    assert checked > 800  # 862 rows, less Svalbard/Jan Mayen/shelf, 9999 and the 2020 split areas


def test_regtools_labels_agree_with_the_code_list(regtools: pl.DataFrame) -> None:
    created = {(n, int(y)) for n, y in shipped_changes().changes.select("new_code", "year").iter_rows()}
    for raw, _group, label, start, end in regtools.iter_rows():
        code, _ = _classification(raw, end)
        if not codes.is_municipality(code):
            continue
        name = re.sub(r"\s*\(.*\)\s*$", "", label)
        periods = codes.periods(code)
        assert periods, label
        if end is None:  # still valid in 2024
            assert codes.valid_in(code, 2024), label
            continue
        period = next((p for p in periods if p[1] == end), None)
        assert period is not None, (label, periods)
        if start is not None and start >= 1992 and period[0] != start:
            # a new name, not a new code: 0701 Borre took the name Horten in 2002
            assert codes.valid_in(code, start - 1) and (code, start) not in created, (label, period)
        assert name.split(" - ")[-1] in period[2] or period[2] in name, (label, period)


def test_the_code_list_holds_exactly_regtools_codes_from_1994(regtools: pl.DataFrame) -> None:
    ours = {c for y in range(1994, 2025) for c in codes.codes_at(y)}
    theirs = {_classification(c, None)[0] for c in regtools["code"]} - {"9999"}
    theirs = {c for c in theirs if codes.is_municipality(c)}
    assert ours == theirs


def test_fhi_chains_agree(fhi: ChangeTable) -> None:
    ours = shipped_changes()
    for from_year in range(2008, 2024):
        fhi_codes = fhi.codes_at(from_year)
        assert fhi_codes == codes.codes_at(from_year), from_year
        for to_year in sorted({2017, 2018, 2020, 2023, 2024} - set(range(from_year + 1))):
            a = fhi.mapping(from_year, to_year, codes=fhi_codes).sort("old_code", "new_code")
            b = ours.mapping(from_year, to_year, codes=fhi_codes).sort("old_code", "new_code")
            assert a.select("old_code", "new_code").equals(b.select("old_code", "new_code")), (from_year, to_year)
            # where neither is an estimate the weights agree; FHI's split weights are its own guesses
            both = a.join(b, on=["old_code", "new_code"], suffix="_ours").filter(
                pl.col("split_method").is_null() & pl.col("split_method_ours").is_null())
            assert (both["weight"] == both["weight_ours"]).all(), (from_year, to_year)


def test_fhi_and_ours_differ_only_where_fhi_guesses(fhi: ChangeTable) -> None:
    """FHI splits 1507 Ålesund 0.5/0.5; our table knows Haram 2024 is Haram 2019 (1534)."""
    raw = fhi.changes.filter(pl.col("old_code") == "1507")
    assert dict(raw.select("new_code", "weight").iter_rows()) == {"1508": 0.5, "1580": 0.5}
    ours = shipped_changes().mapping(2019, 2024, codes=["1534", "1504"])
    assert ours.select("old_code", "new_code", "weight").rows() == [("1504", "1508", 1.0), ("1534", "1580", 1.0)]


def test_klass_code_list_2020_2023(real_data: Path) -> None:
    payload = json.loads(_real(real_data, KLASS_2020_2023).read_text("utf-8"))
    listed = klass_code_list(parse_codes(payload, 131))
    assert listed.height == 356  # 9999 is not a municipality
    klass = set(listed["code"])
    for year in range(2020, 2024):
        assert set(codes.codes_at(year)) == klass, year
    # the KLASS list feeds a ChangeTable like the shipped one
    ct = ChangeTable(shipped_changes().changes, codes=listed)
    assert ct.codes_at(2022) == codes.codes_at(2022)
