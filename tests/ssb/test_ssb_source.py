"""fetch -> data_raw -> ssb.read against fake PxWebApi v2 and KLASS APIs on 127.0.0.1."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from ssb_fakes import FakeTable, LocalServer, Reply, Sleeps, closed_port_url, pxweb_route, serve

from settlement_research import cli, validation
from settlement_research.sources import fetch, klass, ssb
from settlement_research.sources.http import CachedHttpClient, CacheMiss, RateLimiter


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    with serve() as server:
        yield server


YEARS = [str(y) for y in range(2018, 2025)]
REGIONS = [
    ("0", "Hele landet"), ("03", "Oslo"), ("0301", "Oslo"), ("0104", "Moss (-2019)"),
    ("0136", "Rygge (-2019)"), ("3002", "Moss (2020-2023)"), ("3103", "Moss (2024-)"),
    ("5001", "Trondheim - Tråante"), ("9999", "Uoppgitt"),
]
BASE = {"0": 5_000_000, "03": 600_000, "0301": 600_000, "0104": 30_000, "0136": 15_000,
        "3002": 45_000, "3103": 50_000, "5001": 190_000, "9999": 10}


def population_cell(c: dict[str, str]) -> float | str:
    region, year = c["Region"], int(c["Tid"])
    if region == "0104" and year > 2019:
        return 0.0  # what old PxWeb tables show for a code that no longer exists
    if region == "3103" and year < 2024:
        return "."
    if region == "0136" and year == 2019:
        return ":"
    return BASE[region] / 6 + (year - 2018) * 10 + int(c["Kjonn"]) + int(c["Alder"])


def immigrant_cell(c: dict[str, str]) -> float | str:
    pop = population_cell({**c, "Kjonn": "1", "Alder": "000"})
    if isinstance(pop, str):
        return pop
    share = {"A": 1.0, "B": 0.1, "C": 0.02}[c["InnvandrKat"]]
    return round(pop * share) + int(c["Landbakgrunn"])


HOUSING = {"KOSboligSper10000000": 20.0, "KOSandelnyavslag0000": 40.0, "KOSfainansstartp0000": 3.0}


def housing_cell(c: dict[str, str]) -> float | str:
    region, year = c["KOKkommuneregion0000"], int(c["Tid"])
    if region == "4601" and year < 2020:
        return "."
    if region == "0301" and year == 2021 and c["ContentsCode"] == "KOSandelnyavslag0000":
        return ".."
    return HOUSING[c["ContentsCode"]] + (year - 2018) + len(region)


TABLES = {
    "07459": FakeTable(
        "07459",
        [("Region", REGIONS), ("Kjonn", [("1", "Menn"), ("2", "Kvinner")]),
         ("Alder", [("000", "0 år"), ("001", "1 år"), ("002", "2 år")]),
         ("ContentsCode", [("Personer1", "Personer")]), ("Tid", [(y, y) for y in YEARS])],
        population_cell, eliminable=("Region", "Kjonn", "Alder"),
    ),
    "09817": FakeTable(
        "09817",
        [("Region", REGIONS), ("InnvandrKat", [("A", "I alt"), ("B", "Innvandrere"), ("C", "Norskfødte")]),
         ("Landbakgrunn", [("1", "Europa"), ("2", "Asia")]),
         ("ContentsCode", [("Personer1", "Personer")]), ("Tid", [(y, y) for y in YEARS])],
        immigrant_cell, eliminable=("Region", "InnvandrKat", "Landbakgrunn"),
    ),
    "12008": FakeTable(
        "12008",
        [("KOKkommuneregion0000", [("EAK", "Landet"), ("EKA03", "Oslo"), ("0301", "Oslo"),
                                   ("0104", "Moss (-2019)"), ("3002", "Moss (2020-2023)"),
                                   ("4601", "Bergen"), ("5001", "Trondheim")]),
         ("ContentsCode", [(k, k) for k in HOUSING]), ("Tid", [(y, y) for y in YEARS])],
        housing_cell,
    ),
}

CHANGES = {"codeChanges": [
    {"oldCode": "0104", "oldName": "Moss", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
    {"oldCode": "0136", "oldName": "Rygge", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
    {"oldCode": "3002", "oldName": "Moss", "newCode": "3103", "newName": "Moss", "changeOccurred": "2024-01-01"},
]}


def klass_route(path: str, query: dict[str, str]) -> Reply:
    classification = path.split("/")[-2]
    if path.endswith("/changes"):
        body = CHANGES if classification == "131" else {"codeChanges": []}
    else:
        year = int(query["date"][:4])
        if classification == "131":
            moss = "3002" if 2020 <= year <= 2023 else ("3103" if year >= 2024 else "0104")
            codes = ["0301", moss, "5001"]
        else:
            codes = ["03", "30" if 2020 <= year <= 2023 else "01", "50"]
        body = {"codes": [{"code": c, "name": f"navn {c}", "validFrom": None, "validTo": None} for c in codes]}
    return Reply(body=json.dumps(body).encode())


CELL_LIMIT = 20


@pytest.fixture
def fake_ssb(local_server):
    local_server.routes["/api/pxwebapi/v2/tables/"] = pxweb_route(TABLES, CELL_LIMIT)
    local_server.routes["/api/klass/v1/classifications/"] = klass_route
    return local_server


def run_fetch(server, out, **kwargs):
    sleeps = Sleeps()
    kwargs.setdefault("client_options", {
        "sleep": sleeps, "rng": random.Random(1),
        "limiter": RateLimiter(per_minute=30, clock=sleeps.clock, sleep=sleeps),
    })
    return fetch.fetch(
        out, from_year=2018, to_year=2024, ssb_url=server.base + "/api/pxwebapi/v2",
        klass_url=server.base + "/api/klass/v1", cell_limit=CELL_LIMIT, **kwargs,
    ), sleeps


def test_fetch_then_read_gives_valid_model_tables(fake_ssb, tmp_path):
    summary, sleeps = run_fetch(fake_ssb, tmp_path / "data_raw")
    data_requests = [q for p, q in fake_ssb.log if p.endswith("/data")]
    # Every request stayed under the server's cell limit (it answers 403 otherwise) ...
    assert data_requests and all(
        len(q["valueCodes[Region]" if "valueCodes[Region]" in q else "valueCodes[KOKkommuneregion0000]"].split(","))
        * len(q["valueCodes[ContentsCode]"].split(",")) * len(q["valueCodes[Tid]"].split(",")) <= CELL_LIMIT
        for q in data_requests
    )
    # ... eliminated dimensions were left out, and every table came back whole.
    assert not any("valueCodes[Kjonn]" in q or "valueCodes[Landbakgrunn]" in q for q in data_requests)
    assert summary.tables == {"07459": 9 * 7, "09817": 9 * 7, "12008": 7 * 3 * 7}
    # 30 requests a minute: the fake clock advanced 2 s between consecutive requests.
    assert len(sleeps.waits) == len(fake_ssb.log) - 1 and all(w == pytest.approx(2.0) for w in sleeps.waits)

    tables = ssb.read(tmp_path / "data_raw")
    assert set(tables) == {"kommune_context_year", "kommune_housing_year"}
    context = tables["kommune_context_year"].collect()
    housing = tables["kommune_housing_year"].collect()
    for name, frame in (("kommune_context_year", context), ("kommune_housing_year", housing)):
        result = validation.validate(frame, name, source="ssb")
        assert result.valid, result.problems

    codes_years = {(k, y) for k, y in context.select("kommune_nr", "year").iter_rows()}
    assert {k for k, _ in codes_years} == {"0301", "0104", "0136", "3002", "3103", "5001"}  # no aggregates
    assert {y for k, y in codes_years if k == "0104"} == {2018, 2019}  # label '(-2019)': zeros dropped
    assert {y for k, y in codes_years if k == "3002"} == {2020, 2021, 2022, 2023}
    assert {y for k, y in codes_years if k == "3103"} == {2024}
    assert (context["classification_year"] == context["year"]).all()
    oslo18 = context.filter((pl.col("kommune_nr") == "0301") & (pl.col("year") == 2018)).row(0, named=True)
    expected_pop = sum(population_cell({"Region": "0301", "Tid": "2018", "Kjonn": s, "Alder": a})
                       for s in "12" for a in ("000", "001", "002"))
    assert oslo18["population"] == round(expected_pop) and oslo18["population_symbol"] is None
    expected_imm = sum(immigrant_cell({"Region": "0301", "Tid": "2018", "InnvandrKat": "B", "Landbakgrunn": lb})
                       for lb in "12")
    assert oslo18["immigrants"] == expected_imm
    rygge19 = context.filter((pl.col("kommune_nr") == "0136") & (pl.col("year") == 2019)).row(0, named=True)
    assert rygge19["population"] is None and rygge19["population_symbol"] == ":"

    assert {k for k in housing["kommune_nr"]} == {"0301", "0104", "3002", "4601", "5001"}
    assert set(housing.filter(pl.col("kommune_nr") == "4601")["year"]) == {2020, 2021, 2022, 2023, 2024}
    oslo21 = housing.filter((pl.col("kommune_nr") == "0301") & (pl.col("year") == 2021)).row(0, named=True)
    assert oslo21["refused_share"] is None and oslo21["refused_share_symbol"] == ".."
    assert oslo21["municipal_dwellings_per_1000"] == pytest.approx(20.0 + 3 + 4)
    oslo20 = housing.filter((pl.col("kommune_nr") == "0301") & (pl.col("year") == 2020)).row(0, named=True)
    assert oslo20["refused_share"] == pytest.approx((40.0 + 2 + 4) / 100)  # percent -> share

    changes = klass.read_changes(tmp_path / "data_raw")
    assert changes.height == 3 and changes.filter(pl.col("new_code") == "3002")["old_code"].sort().to_list() == [
        "0104", "0136"
    ]
    codes = klass.read_codes(tmp_path / "data_raw", 131)
    assert codes["valid_at"].n_unique() == 7 and codes.filter(pl.col("valid_at").dt.year() == 2024)["code"].to_list() == [
        "0301", "3103", "5001"
    ]
    provenance = json.loads((tmp_path / "data_raw" / "ssb" / "PROVENANCE.json").read_text())
    assert provenance["source"] == "ssb" and len(provenance["files"]) == len(
        list((tmp_path / "data_raw" / "ssb").glob("*.provenance.json"))
    )


def test_offline_replay_gives_identical_frames_without_network(fake_ssb, tmp_path):
    out = tmp_path / "data_raw"
    online, _ = run_fetch(fake_ssb, out)
    before = {k: v.collect() for k, v in ssb.read(out).items()}
    hits = len(fake_ssb.log)
    replay, sleeps = run_fetch(fake_ssb, out, offline=True)
    assert len(fake_ssb.log) == hits and sleeps.waits == []  # no request, no waiting
    assert replay.tables == online.tables and replay.klass == online.klass
    after = {k: v.collect() for k, v in ssb.read(out).items()}
    for name in before:
        assert_frame_equal(before[name], after[name])
    # The client itself replays byte-identical frames too.
    http = CachedHttpClient(out / "ssb", offline=True)
    client = ssb.SsbClient(http, base_url=fake_ssb.base + "/api/pxwebapi/v2", cell_limit=CELL_LIMIT)
    again = client.fetch_table(ssb.REGISTRY["12008"], 2018, 2024)
    assert again.height == 7 * 3 * 7 and again["symbol"].to_list().count("..") == 1
    with pytest.raises(CacheMiss):
        client.fetch_table(ssb.REGISTRY["12008"], 2019, 2024)  # another selection: not cached


def test_cli_without_network_fails_at_once_naming_the_cache(tmp_path, capsys):
    dead = closed_port_url()
    code = cli.main([
        "fetch", "--out", str(tmp_path / "raw"), "--ssb-url", dead + "/api/pxwebapi/v2",
        "--klass-url", dead + "/api/klass/v1",
    ])
    err = capsys.readouterr().err
    assert code == 2
    assert str(tmp_path / "raw" / "ssb") in err and "--offline" in err and "cannot connect" in err


def test_cli_offline_with_empty_cache_says_what_is_missing(tmp_path, capsys):
    code = cli.main(["fetch", "--offline", "--out", str(tmp_path / "raw"), "--tables", "07459"])
    err = capsys.readouterr().err
    assert code == 2 and "offline and not cached" in err and "07459" in err


def test_read_refuses_to_sum_an_unselected_breakdown(tmp_path):
    frame = pl.DataFrame({
        "Region_code": ["0301", "0301"], "Region_label": ["Oslo"] * 2, "Kjonn_code": ["1", "2"],
        "Kjonn_label": ["Menn", "Kvinner"], "ContentsCode_code": ["Personer1"] * 2,
        "ContentsCode_label": ["Personer"] * 2, "Tid_code": ["2020"] * 2, "Tid_label": ["2020"] * 2,
        "value": [1.0, 2.0], "symbol": [None, None],
    })
    with pytest.raises(ValueError, match="Kjonn"):
        ssb.municipality_measures(frame, ssb.REGISTRY["07459"])


@pytest.mark.parametrize(
    ("code", "expected"), [("0301", True), ("3103", True), ("0", False), ("03", False), ("EAK", False),
                           ("9999", False), ("301", False), ("EKA03", False)],
)
def test_only_municipalities_count(code, expected):
    assert ssb.is_municipality(code) is expected


def test_region_validity_from_labels():
    assert ssb.region_validity("Moss (-2019)") == (None, 2019)
    assert ssb.region_validity("0104 Moss (2020-2023)") == (2020, 2023)
    assert ssb.region_validity("Moss (2024-)") == (2024, None)
    assert ssb.region_validity("Trondheim - Tråante") == (None, None)


def test_metadata_and_selection_resolution():
    meta = ssb.parse_metadata(json.dumps(TABLES["07459"].metadata()), "07459")
    assert [d.id for d in meta.dimensions] == ["Region", "Kjonn", "Alder", "ContentsCode", "Tid"]
    assert meta.dimension("Kjonn").elimination and not meta.dimension("Tid").elimination
    sel = ssb.resolve_selection(meta, {"Region": "*", "ContentsCode": ["Personer1"]}, from_year=2020, to_year=2022)
    assert list(sel) == ["Region", "ContentsCode", "Tid"]  # Kjonn and Alder eliminated
    assert sel["Tid"] == ["2020", "2021", "2022"] and len(sel["Region"]) == len(REGIONS)
    params = dict(ssb.selection_params(sel, meta, "json-stat2", "no"))
    assert params["valueCodes[Region]"] == "*" and params["valueCodes[Tid]"] == "2020,2021,2022"
    with pytest.raises(ValueError, match="unknown codes"):
        ssb.resolve_selection(meta, {"ContentsCode": ["Personer9"]})
    with pytest.raises(ValueError, match="cannot be eliminated"):
        ssb.resolve_selection(meta, {"Tid": ssb.ELIMINATE})


def test_parquet_and_unknown_output_formats():
    import io

    frame = pl.DataFrame({"Region": ["0301"], "value": [1.5]})
    buf = io.BytesIO()
    frame.write_parquet(buf)
    assert_frame_equal(ssb.parse_response(buf.getvalue(), "parquet"), frame)
    with pytest.raises(ValueError, match="unknown outputFormat"):
        ssb.parse_response(b"", "xlsx")
