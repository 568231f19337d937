"""Harmonisation against independent real sources (skipped when ../shared/real_data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.harmonize import (
    FLAG_COL,
    FLAG_COLUMNS,
    ChangeTable,
    harmonize,
)
from settlement_research.model import get_model
from settlement_research.model.settlement import decision_status_expr
from settlement_research.validation import conform

pytestmark = pytest.mark.real_data

CROSSWALK = "misc/kommunenummer_crosswalk_vestfold_telemark_2019_2023_2024.csv"
KLASS_2020_2023 = "misc/klass131_kommuner_codes_2020-2023.json"


def single_target(ct: ChangeTable, from_year: int, to_year: int, codes: list[str]) -> dict[str, str]:
    m = ct.mapping(from_year, to_year, codes=codes)
    assert (m["weight"] == 1.0).all(), m.filter(pl.col("weight") < 1)
    return dict(m.select("old_code", "new_code").iter_rows())


@pytest.fixture(scope="module")
def crosswalk(real_data: Path) -> pl.DataFrame:
    raw = pl.read_csv(real_data / CROSSWALK, separator=";", infer_schema=False, encoding="utf8")
    raw = raw.rename({c: c.lstrip("\ufeff") for c in raw.columns})
    # The file's 2019 codes lost their leading zero ('701'); its NummerOgNavn_19 column keeps it.
    code19 = pl.col("NummerOgNavn_19").str.slice(0, 4)
    assert raw.select((code19.str.strip_chars_start("0") == pl.col("Kommunenummer_19")).all()).item()
    return raw.select(code19.alias("c19"), pl.col("Kommunenummer_23").alias("c23"),
                      pl.col("Kommunenummer_24").alias("c24"))


@pytest.mark.parametrize("which", ["shipped", "fhi"])
def test_vestfold_telemark_crosswalk(crosswalk: pl.DataFrame, which: str, request: pytest.FixtureRequest) -> None:
    ct: ChangeTable = request.getfixturevalue(which)
    assert crosswalk.height >= 20
    c19, c23, c24 = (crosswalk[c].to_list() for c in ("c19", "c23", "c24"))
    assert single_target(ct, 2019, 2023, c19) == dict(zip(c19, c23, strict=True))
    assert single_target(ct, 2019, 2024, c19) == dict(zip(c19, c24, strict=True))
    assert single_target(ct, 2023, 2024, c23) == dict(zip(c23, c24, strict=True))


@pytest.mark.parametrize("which", ["shipped", "fhi"])
def test_klass_2020_2023_codes(real_data: Path, fhi: ChangeTable, which: str, request: pytest.FixtureRequest) -> None:
    ct: ChangeTable = request.getfixturevalue(which)
    payload = json.loads((real_data / KLASS_2020_2023).read_text("utf-8"))
    klass = {c["code"] for c in payload["codes"]} - {"9999"}  # 9999 = 'Uoppgitt' (unknown)
    assert len(klass) == 356
    codes_2014 = fhi.codes_at(2014)  # a realistic list of the 428 municipalities of 2014
    assert len(codes_2014) == 428
    for to_year in range(2020, 2024):
        assert set(ct.mapping(2014, to_year, codes=codes_2014)["new_code"]) == klass, to_year
        assert set(ct.codes_at(to_year)) == klass


def _imdi_settlement_2014(real_data: Path) -> pl.DataFrame:
    """IMDi's 2012-2014 requested/decided/settled for the 428 municipalities (2014 codes).

    The symbol '.' (no data) occurs in vedtak (decided): null value plus decided_symbol.
    """
    raw = pl.read_csv(real_data / "imdi_2015_flat/bosatt_anmodede.csv", infer_schema=False)
    persons = raw.filter(
        pl.col("kommune_nr").str.contains(r"^\d{4}$") & (pl.col("bydel_nr") == "NULL")
        & (pl.col("enhet") == "personer")
    )
    wide = persons.pivot("bosetting", index=["kommune_nr", "aar"], values="tabellvariabel")
    number = r"^\d+$"
    cols = {"anmodning": "requested", "vedtak": "decided", "bosatt": "settled"}
    df = wide.select(
        "kommune_nr", pl.col("aar").cast(pl.Int16).alias("year"), pl.lit(2014, pl.Int16).alias("classification_year"),
        *[pl.when(pl.col(src).str.contains(number)).then(pl.col(src)).cast(pl.Int32).alias(dst)
          for src, dst in cols.items()],
        *[pl.when(~pl.col(src).str.contains(number)).then(pl.col(src)).alias(f"{dst}_symbol")
          for src, dst in cols.items()],
    )
    return df.with_columns(decision_status_expr().alias("decision_status"))


def test_imdi_settlement_2012_2014_to_2024(real_data: Path, shipped: ChangeTable) -> None:
    df = _imdi_settlement_2014(real_data)
    assert df.height == 3 * 428 and df["decided_symbol"].drop_nulls().unique().to_list() == ["."]
    out = harmonize(df, 2024, table="kommune_settlement_year", partial="null")
    assert out.height == 3 * 357
    totals_in = df.group_by("year").agg(pl.col("requested", "settled").sum()).sort("year")
    totals_out = out.group_by("year").agg(pl.col("requested", "settled").sum()).sort("year")
    assert totals_in.equals(totals_out)
    assert out.filter(pl.col("kommune_nr") == "3103")["harmonized_from"].unique().to_list() == ["0104+0136"]
    # decided with partial="null": a merge with a '.' part is null with '.' and flagged. Against
    # the same data with '.' read as 0 (complete, so totals are kept): every cell is either equal
    # or null-and-flagged.
    partial = out.filter(pl.col(FLAG_COL).str.contains("partial:decided"))
    assert partial.height > 0
    assert partial["decided"].null_count() == partial.height and set(partial["decided_symbol"]) == {"."}
    zeros = df.with_columns(pl.col("decided").fill_null(0), pl.lit(None, pl.String).alias("decided_symbol"))
    full = harmonize(zeros, 2024, table="kommune_settlement_year")
    assert full["decided"].sum() == df["decided"].sum()
    both = out.join(full, on=["kommune_nr", "year"], suffix="_full")
    differs = both.filter(pl.col("decided").ne_missing(pl.col("decided_full")))
    assert differs["decided"].null_count() == differs.height
    assert differs["decided_symbol"].eq(".").all()
    # either a flagged merge with a '.' part, or a municipality whose every part had '.'
    flagged = differs[FLAG_COL].str.contains("partial:decided").fill_null(False)
    assert (flagged | differs["decided_full"].eq(0)).all()
    assert flagged.sum() == partial.height
    get_model("kommune_settlement_year").validate(conform(out.drop(FLAG_COLUMNS), "kommune_settlement_year"))
    # the default partial="sum" keeps every national total, decided included
    summed = harmonize(df, 2024, table="kommune_settlement_year")
    cols = ["requested", "decided", "settled"]
    assert df.group_by("year").agg(pl.col(cols).sum()).sort("year").equals(
        summed.group_by("year").agg(pl.col(cols).sum()).sort("year"))


def _by_hand_2014(real_data: Path) -> dict[str, dict[str, int]]:
    """kommune_nr -> {anmodning, vedtak, bosatt} persons of 2014, read with the csv module only."""
    import csv

    out: dict[str, dict[str, int]] = {}
    with (real_data / "imdi_2015_flat/bosatt_anmodede.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if (row["aar"] == "2014" and row["enhet"] == "personer" and row["bydel_nr"] == "NULL"
                    and len(row["kommune_nr"]) == 4 and row["kommune_nr"].isdigit()
                    and row["tabellvariabel"].isdigit()):
                out.setdefault(row["kommune_nr"], {})[row["bosetting"]] = int(row["tabellvariabel"])
    return out


def test_haram_2014_in_2024_codes_is_haram_exactly(real_data: Path) -> None:
    """Haram 2024 (1580) follows Haram's pre-2020 border (1534): no 50/50 split of Ålesund."""
    hand = _by_hand_2014(real_data)
    assert hand["1534"] == {"anmodning": 30, "vedtak": 24, "bosatt": 24}
    # the raw wide export of 2014 says the same: '1534 Haram;1534;Haram;30;100;24;80;24;80,00'
    wide = (real_data / "imdi_2015_raw/09_1-bosatt_anmodede-kommune-2014.csv").read_bytes().decode("latin-1")
    haram = next(line.split(";") for line in wide.splitlines() if line.startswith("1534 Haram;"))
    assert (haram[3], haram[5], haram[7]) == ("30", "24", "24")  # anmodning, bosatt, vedtak

    out = harmonize(_imdi_settlement_2014(real_data), 2024, table="kommune_settlement_year")
    got = out.filter(pl.col("year") == 2014).select("kommune_nr", "requested", "decided", "settled",
                                                    FLAG_COL, "harmonized_from")
    h = got.filter(pl.col("kommune_nr") == "1580").row(0, named=True)
    assert (h["requested"], h["decided"], h["settled"]) == (30, 24, 24)
    assert h[FLAG_COL] is None and h["harmonized_from"] == "1534"
    a = got.filter(pl.col("kommune_nr") == "1508").row(0, named=True)
    parts = ["1504", "1523", "1529", "1546"]
    assert a["harmonized_from"] == "+".join(parts) and a[FLAG_COL] is None
    for col, key in (("requested", "anmodning"), ("settled", "bosatt")):
        assert a[col] == sum(hand[p].get(key, 0) for p in parts), col
    # national totals of 2014 by hand (every 4-digit municipality row) equal the harmonised ones
    for col, key in (("requested", "anmodning"), ("decided", "vedtak"), ("settled", "bosatt")):
        assert got[col].sum() == sum(v.get(key, 0) for v in hand.values()), col
    # and IMDi's national row less its unknown-municipality row (fylke 99): 7 784 - 65 settled
    assert got["settled"].sum() == 7784 - 65
    # only the 2020 splits that follow no older border are estimates
    flagged = set(got.filter(pl.col(FLAG_COL).str.contains("split"))["kommune_nr"])
    assert flagged == {"1806", "1875", "5055", "5056", "5059"}
