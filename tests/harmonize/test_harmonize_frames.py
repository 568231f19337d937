"""harmonize(): counts summed and split, shares recomputed, symbols kept honest, flags, CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research import cli
from settlement_research.harmonize import (
    FLAG_COL,
    FLAG_COLUMNS,
    FROM_COL,
    ChangeTable,
    HarmonizeError,
    harmonize,
)
from settlement_research.model import get_model
from settlement_research.model.settlement import SETTLEMENT_MEASURES


def row(out: pl.DataFrame, code: str, **keys: object) -> dict[str, object]:
    sel = out.filter(pl.col("kommune_nr") == code, *[pl.col(k) == v for k, v in keys.items()])
    assert sel.height == 1, sel
    return sel.row(0, named=True)


def flags(r: dict[str, object]) -> set[str]:
    return set(str(r[FLAG_COL]).split(";")) if r[FLAG_COL] else set()


def test_merge_sums_counts_and_recomputes_decision_status(make_settlement) -> None:
    df = make_settlement([
        {"kommune_nr": "0104", "requested": 10, "decided": 10, "settled": 8},
        {"kommune_nr": "0136", "requested": 10, "decided": 0, "settled": 0},
        {"kommune_nr": "0301", "requested": 100, "decided": 90, "settled": 95},
    ])
    out = harmonize(df, 2020)
    moss = row(out, "3002")
    assert (moss["requested"], moss["decided"], moss["settled"]) == (20, 10, 8)
    assert moss["decision_status"] == "fewer"  # as_requested + declined merge to 10 of 20
    assert moss["classification_year"] == 2020 and moss[FROM_COL] == "0104+0136"
    assert moss[FLAG_COL] is None  # a merge of complete counts is exact
    oslo = row(out, "0301")
    assert (oslo["settled"], oslo["decision_status"], oslo[FROM_COL]) == (95, "fewer", "0301")
    get_model("kommune_settlement_year").validate(out.drop(FLAG_COLUMNS))


def test_chain_to_2024(make_settlement) -> None:
    df = make_settlement([{"kommune_nr": "0104", "settled": 3}, {"kommune_nr": "0136", "settled": 4}])
    out = harmonize(df, 2024)
    assert out["kommune_nr"].to_list() == ["3103"] and out["settled"].to_list() == [7]


def test_split_with_population_weights(make_settlement, shipped: ChangeTable) -> None:
    df = make_settlement([{"kommune_nr": "1507", "year": 2023, "classification_year": 2023,
                           "requested": 40, "settled": 27, "settled_unaccompanied_minors": 5}])
    pop = pl.DataFrame({"kommune_nr": ["1508", "1580"], "year": [2024, 2024],
                        "classification_year": [2024, 2024], "population": [60_000, 10_000]})
    out = harmonize(df, 2024, weights=pop)
    a, h = row(out, "1508"), row(out, "1580")
    assert a["settled"] + h["settled"] == 27 and a["requested"] + h["requested"] == 40
    assert (a["settled"], h["settled"]) == (23, 4)  # 27 * 6/7 = 23.1, 27 * 1/7 = 3.9
    assert (a["requested"], h["requested"]) == (34, 6)
    assert flags(a) == {"split_population"} and flags(h) == {"split_population"}
    assert "1507*0.8571" in a[FROM_COL]
    assert a["settled_unaccompanied_minors"] <= a["settled"] and h["settled_unaccompanied_minors"] <= h["settled"]
    get_model("kommune_settlement_year").validate(out.drop(FLAG_COLUMNS))


def test_equal_split_is_flagged(make_settlement, make_changes) -> None:
    ct = make_changes([("1507", "1508", 2024), ("1507", "1580", 2024)])
    df = make_settlement([{"kommune_nr": "1507", "year": 2023, "classification_year": 2023, "settled": 9}])
    out = harmonize(df, 2024, changes=ct)
    assert sorted(out["settled"].to_list()) == [4, 5]
    assert set(out[FLAG_COL]) == {"split_equal"}


def test_shares_are_recomputed_not_averaged() -> None:
    # Moss: 9 of 10 former participants in work/education; Rygge: 1 of 90. The merged share is
    # 10/100 = 0.10; the average of the two shares would be 0.456.
    df = pl.DataFrame({
        "kommune_nr": ["0104", "0136"], "year": [2019, 2019], "classification_year": [2019, 2019],
        "participants": [30, 120], "work_education_count": [9, 1], "work_education_base": [10, 90],
        "work_education_share": [0.9, 1 / 90], "window_years": [1, 1],
    }, schema_overrides={"year": pl.Int16, "classification_year": pl.Int16, "participants": pl.Int32,
                         "work_education_count": pl.Int32, "work_education_base": pl.Int32,
                         "window_years": pl.Int8})
    out = harmonize(df, 2020)
    moss = row(out, "3002")
    assert moss["work_education_share"] == pytest.approx(0.10)
    assert moss["work_education_share"] != pytest.approx(df["work_education_share"].mean())
    assert (moss["participants"], moss["window_years"], moss[FLAG_COL]) == (150, 1, None)


def test_settled_share_of_requested_via_share_defs(make_settlement) -> None:
    df = make_settlement([{"kommune_nr": "0104", "requested": 10, "settled": 10},
                          {"kommune_nr": "0136", "requested": 30, "settled": 0}])
    df = df.with_columns((pl.col("settled") / pl.col("requested")).alias("settled_share"))
    out = harmonize(df, 2020, table="kommune_settlement_year",
                    share_defs={"settled_share": ("settled", "requested")})
    assert row(out, "3002")["settled_share"] == pytest.approx(0.25)  # not (1.0 + 0.0) / 2


def test_share_without_definition_becomes_null_and_flagged() -> None:
    df = pl.DataFrame({
        "kommune_nr": ["0104", "0136", "0301"], "year": [2019] * 3, "classification_year": [2019] * 3,
        "population": [32_000, 15_000, 680_000], "unemployment_share": [0.03, 0.02, 0.04],
    }, schema_overrides={"year": pl.Int16, "classification_year": pl.Int16, "population": pl.Int32})
    out = harmonize(df, 2020)
    moss, oslo = row(out, "3002"), row(out, "0301")
    assert moss["population"] == 47_000 and moss["unemployment_share"] is None
    assert flags(moss) == {"share_not_recomputable:unemployment_share"}
    assert oslo["unemployment_share"] == 0.04 and oslo[FLAG_COL] is None


def test_conflicting_attribute_is_nulled_and_flagged() -> None:
    df = pl.DataFrame({
        "kommune_nr": ["0104", "0136"], "year": [2019, 2019], "classification_year": [2019, 2019],
        "participants": [3, 4], "window_years": [1, 3],
    }, schema_overrides={"year": pl.Int16, "classification_year": pl.Int16, "participants": pl.Int32,
                         "window_years": pl.Int8})
    moss = row(harmonize(df, 2020), "3002")
    assert moss["window_years"] is None and "conflict:window_years" in flags(moss)


def test_suppressed_part_is_flagged_and_summed_or_nulled(make_settlement) -> None:
    df = make_settlement([
        {"kommune_nr": "0104", "settled": 5, "requested": 5, "family_reunified": 2},
        {"kommune_nr": "0136", "settled_symbol": ":", "requested": 4, "family_reunified_symbol": "-"},
        {"kommune_nr": "0101", "settled_symbol": ":", "requested_symbol": ".."},
        {"kommune_nr": "0211", "settled_symbol": ":", "requested_symbol": "."},
        {"kommune_nr": "0213", "settled_symbol": "..", "requested_symbol": ".."},
        {"kommune_nr": "0217", "settled_symbol": ":", "requested_symbol": ".."},
    ])
    out = harmonize(df, 2020, partial="null")
    moss = row(out, "3002")
    assert moss["settled"] is None and moss["settled_symbol"] == ":"  # with partial="null": no undercount
    assert "partial:settled" in flags(moss)
    summed = row(harmonize(df, 2020), "3002")  # default partial="sum": the known part, flagged
    assert (summed["settled"], summed["settled_symbol"]) == (5, None) and "partial:settled" in flags(summed)
    assert (moss["requested"], moss["requested_symbol"]) == (9, None)
    assert (moss["family_reunified"], moss["family_reunified_symbol"]) == (2, None)  # '-' is a zero
    halden = row(out, "3001")  # renumbered alone: symbols carried over untouched
    assert (halden["settled_symbol"], halden["requested_symbol"], halden[FLAG_COL]) == (":", "..", None)
    nordre_follo = row(out, "3020")  # 0213 Ski + 0217 Oppegård: both missing, different symbols
    assert nordre_follo["settled_symbol"] == ":" and "mixed_symbols:settled" in flags(nordre_follo)
    assert nordre_follo["requested_symbol"] == ".."
    get_model("kommune_settlement_year").validate(out.drop(FLAG_COLUMNS))


def test_all_428_municipalities_of_2014_to_2024_keep_every_total(shipped: ChangeTable) -> None:
    codes = shipped.codes_at(2014)
    n = len(codes)
    df = pl.DataFrame({
        "kommune_nr": codes * 2, "year": [2013] * n + [2014] * n, "classification_year": [2014] * (2 * n),
        "population": [(i * 7919) % 60_000 + 200 for i in range(2 * n)],
        "immigrants": [(i * 104_729) % 9_000 + 3 for i in range(2 * n)],
        "refugees": [(i * 31) % 997 for i in range(2 * n)],
        "imdi_grants_nok": [((i * 2_654_435_761) % 10**8) / 7 for i in range(2 * n)],
    }, schema_overrides={"year": pl.Int16, "classification_year": pl.Int16, "population": pl.Int32,
                         "immigrants": pl.Int32, "refugees": pl.Int32})
    out = harmonize(df, 2024, table="kommune_context_year")
    assert out.height == 2 * 357 and out["kommune_nr"].n_unique() == 357
    assert set(out["kommune_nr"]) == set(shipped.codes_at(2024))
    for year in (2013, 2014):
        before, after = df.filter(pl.col("year") == year), out.filter(pl.col("year") == year)
        for c in ("population", "immigrants", "refugees"):
            assert after[c].sum() == before[c].sum(), c
        assert after["imdi_grants_nok"].sum() == pytest.approx(before["imdi_grants_nok"].sum(), rel=1e-12)
    assert out.schema["population"] == pl.Int32 and out["classification_year"].unique().to_list() == [2024]
    flagged = out.filter(pl.col(FLAG_COL).is_not_null())
    # 2014 codes reach 1508/1580 exactly (the 2024 split follows Haram's 2019 border); the 2020
    # splits of Tysfjord and Snillfjord follow no older border and are estimates.
    assert sorted(flagged["kommune_nr"].unique()) == ["1806", "1875", "5055", "5056", "5059"]
    assert out.filter(pl.col("kommune_nr") == "1580")[FROM_COL].unique().to_list() == ["1534"]


def test_unknown_codes_raise_keep_or_drop(make_settlement) -> None:
    df = make_settlement([{"kommune_nr": "0104", "settled": 1}, {"kommune_nr": "9999", "settled": 2}])
    with pytest.raises(HarmonizeError, match="9999"):
        harmonize(df, 2020)
    kept = harmonize(df, 2020, unknown="keep")
    assert row(kept, "9999")[FLAG_COL] == "unknown_code"
    assert harmonize(df, 2020, unknown="drop")["kommune_nr"].to_list() == ["3002"]


def test_double_counting_across_classification_years_raises(make_settlement) -> None:
    df = make_settlement([
        {"kommune_nr": "0104", "settled": 1},
        {"kommune_nr": "3002", "classification_year": 2020, "settled": 1},  # same year 2019, 2020 codes
    ])
    with pytest.raises(HarmonizeError, match="double counting"):
        harmonize(df, 2020)


def test_mixed_classification_years_in_one_frame(make_settlement) -> None:
    df = make_settlement([
        {"kommune_nr": "0104", "year": 2019, "classification_year": 2019, "settled": 1},
        {"kommune_nr": "0136", "year": 2019, "classification_year": 2019, "settled": 2},
        {"kommune_nr": "3002", "year": 2021, "classification_year": 2021, "settled": 5},
    ])
    out = harmonize(df, 2024)
    assert out.select("kommune_nr", "year", "settled").rows() == [("3103", 2019, 3), ("3103", 2021, 5)]


def test_counts_must_be_known_without_a_model() -> None:
    df = pl.DataFrame({"kommune_nr": ["0104", "0136"], "year": [2019, 2019], "x": [1, 2]})
    with pytest.raises(HarmonizeError, match="count"):
        harmonize(df, 2020)
    out = harmonize(df, 2020, count_cols=["x"])
    assert out.select("kommune_nr", "x", "classification_year").rows() == [("3002", 3, 2020)]


def test_cli_harmonize(tmp_path: Path, make_settlement, capsys: pytest.CaptureFixture[str]) -> None:
    df = make_settlement([
        {"kommune_nr": "1507", "year": 2023, "classification_year": 2023, "requested": 10, "decided": 10,
         "settled": 7},
        {"kommune_nr": "3002", "year": 2023, "classification_year": 2023, "requested": 5, "decided": 5,
         "settled": 5},
    ])
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    df.write_csv(src)
    assert cli.main(["harmonize", str(src), "--to-year", "2024", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "split_equal: 2" in text
    got = pl.read_parquet(out)
    assert sorted(got["kommune_nr"]) == ["1508", "1580", "3103"]
    assert got["settled"].sum() == 12
    assert set(SETTLEMENT_MEASURES) <= set(got.columns)
    assert cli.main(["harmonize", str(src), "--to-year", "2022"]) == 1


def test_extra_key_columns_and_attribute_symbols() -> None:
    df = pl.DataFrame({
        "kommune_nr": ["0104", "0136", "0104", "0136"], "year": [2019] * 4, "sex": ["f", "f", "m", "m"],
        "persons": [1, 2, 3, 4], "grade": [5, 5, None, 7], "grade_symbol": [None, None, ":", None],
    })
    out = harmonize(df, 2020, count_cols=["persons"], by=["year", "sex"])
    assert out.select("sex", "persons", "grade", "grade_symbol").rows() == [("f", 3, 5, None), ("m", 7, None, None)]
    assert "conflict:grade" in flags(row(out, "3002", sex="m"))


def test_discontinued_code_without_successor_raises() -> None:
    frame = pl.DataFrame({"old_code": ["0104"], "new_code": [None], "change_date": ["2020-01-01"]},
                         schema_overrides={"new_code": pl.String})
    df = pl.DataFrame({"kommune_nr": ["0104"], "year": [2019], "persons": [1]})
    with pytest.raises(HarmonizeError, match="without a successor"):
        harmonize(df, 2020, changes=frame, count_cols=["persons"])


def test_cli_with_weights_share_and_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, weights, changes, out = (tmp_path / n for n in ("in.csv", "pop.csv", "changes.csv", "out.csv"))
    src.write_text("kommune_nr,year,classification_year,hits,tries,hit_share\n"
                   "0001,2023,2023,10,20,0.5\n0004,2023,2023,0,10,0.0\n", encoding="utf-8")
    weights.write_text("kommune_nr,year,population\n0002,2024,300\n0003,2024,100\n", encoding="utf-8")
    changes.write_text("old_code,new_code,year\n0001,0002,2024\n0001,0003,2024\n0004,0002,2024\n", encoding="utf-8")
    rc = cli.main(["harmonize", str(src), "--to-year", "2024", "--changes", str(changes), "--weights", str(weights),
                   "--count-cols", "hits,tries", "--share", "hit_share=hits/tries", "--out", str(out)])
    assert rc == 0, capsys.readouterr().out
    got = pl.read_csv(out, schema_overrides={"kommune_nr": pl.String}).sort("kommune_nr")
    # 0001 splits 3:1 by population: hits 10 -> 8 + 2 (Webster), tries 20 -> 15 + 5; 0004 joins 0002
    assert got.select("kommune_nr", "hits", "tries").rows() == [("0002", 8, 25), ("0003", 2, 5)]
    assert got["hit_share"].to_list() == pytest.approx([8 / 25, 0.5])
    assert got[FLAG_COL].to_list() == ["split_population", "split_population"]
    assert cli.main(["harmonize", str(src), "--to-year", "2024", "--share", "bad"]) == 2


def test_flags_survive_a_second_harmonisation(make_settlement) -> None:
    df = make_settlement([{"kommune_nr": "5012", "settled": 10}, {"kommune_nr": "0104", "settled": 1}])
    step = harmonize(df, 2020)
    assert set(step.filter(pl.col("kommune_nr").is_in(["5055", "5056", "5059"]))[FLAG_COL]) == {"split_equal"}
    again = harmonize(step, 2024)
    assert set(again.filter(pl.col("kommune_nr").is_in(["5055", "5056", "5059"]))[FLAG_COL]) == {"split_equal"}
    assert row(again, "3103")[FLAG_COL] is None and row(again, "3103")[FROM_COL] == "3002"
    assert again["settled"].sum() == 11


def test_null_classification_year_is_a_clear_error():
    df = pl.DataFrame({"kommune_nr": ["0301", "1103"], "classification_year": [2014, None], "year": [2014, 2014], "settled": [5, 6]},
                      schema_overrides={"classification_year": pl.Int16, "year": pl.Int16})
    with pytest.raises(HarmonizeError, match="no classification year") as info:
        harmonize(df, to_year=2024)
    assert "(2, '1103')" in str(info.value)
