"""Municipality profiles on every real IMDi file, checked against numbers read by hand from the raw files.

All 30 IMDi files in ../shared/real_data (the 2015 edition, flat and raw wide, and the two newer
wide exports) are imported and built into a tmp data_clean. The expected numbers are read here with
the csv module alone, never through the importer:

* requested and decided 2009-2011: only the 2022-09 export publishes them;
* settled 2012-2014: both the 2015 edition and the 2022 export publish them. A cell is checked only
  where the editions agree (or one alone publishes it): which edition wins a disagreement is
  ``sources/imdi``'s precedence, fixed separately (issue 11 items 1 and 5), and Harstad's
  2012-2013 are such disagreements;
* the introduction programme: the 2015 edition's base and published share (cohort status) and
  leavers.

Municipalities are looked at in the 2014 classification (the profile's default window 2009-2014):
Bærum 0219 is published under its 2020 code 3024 in the 2022 export, Harstad 1903 (5402 from 2020,
5503 from 2024) is 1901 Harstad + 1915 Bjarkøy before 2013. Skipped without ../shared/real_data.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from settlement_research.build import build
from settlement_research.sources import imdi

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

WINDOW = (2009, 2014)
EXPORT_2022 = "imdi_bosatt_anmodede_wide_per_2022-09.csv"
MEASURES_2022 = {"Bosetting: Anmodning om bosetting": "requested", "Bosetting: Vedtak om bosetting": "decided",
                 "Bosetting: Faktisk bosetting": "settled"}
MEASURES_2015 = {"anmodning": "requested", "vedtak": "decided", "bosatt": "settled"}
# 2014 code -> the regions of the 2022 export that make it up, per year (a merged part in a list)
# (2013 is published under the ended code K1901 as 70/60 and under K5402 as '.', the 2015 edition's
# 1903 says requested 0 and decided '.': a disagreement for the precedence, so not checked here.)
HARSTAD_PARTS = {y: ["K1901", "K1915"] for y in range(2009, 2013)} | {2013: ["K1901"], 2014: ["K5402"]}
PARTS_2022: dict[str, dict[int, list[str]]] = {
    "1103": {y: ["K1103"] for y in range(2009, 2015)},
    "0301": {y: ["K0301"] for y in range(2009, 2015)},
    "0219": {y: ["K3024"] for y in range(2009, 2015)},  # Bærum: renumbered 3024 in 2020
    "1534": {y: ["K1534"] for y in range(2009, 2015)},  # Haram (t.o.m. 2019)
    "1151": {y: ["K1151"] for y in range(2009, 2015)},  # Utsira, the smallest municipality
    "1903": HARSTAD_PARTS,
}
HAND_CHECKED = list(PARTS_2022)
FULL_RUN = "SETTLEMENT_RESEARCH_ALL_REAL_PROFILES"  # set to 1 to render all 428 (about 13 min on 2 busy cores)
SAMPLE = 14  # + the 6 hand-checked: 20 profiles, about 3 min on 2 busy cores


def _all_imdi_files(real_data: Path) -> list[Path]:
    files = (sorted((real_data / "imdi_2015_flat").glob("*.csv")) + sorted((real_data / "imdi_2015_raw").glob("*.csv"))
             + sorted((real_data / "misc").glob("imdi_*.csv")))
    assert len(files) == 30
    return files


@pytest.fixture(scope="module")
def real_clean(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("real_profiles")
    imdi.write_outputs(imdi.import_files(_all_imdi_files(real_data)), root / "raw" / "imdi")
    build(root / "raw", root / "clean", log=lambda _msg: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        mp.setenv("SETTLEMENT_RESEARCH_SOURCE", "imdi")
        yield root / "clean"


# ------------------------------------------------------------------------------ read by hand


def _export_2022(real_data: Path) -> dict[tuple[str, str, int], str]:
    """(region 'K1103', measure, year) -> the raw cell, for the persons columns of the 2022 export."""
    rows = list(csv.reader(io.StringIO((real_data / "misc" / EXPORT_2022).read_text("latin-1")), delimiter=";"))
    head, unit, years = rows[0], rows[1], rows[2]
    out: dict[tuple[str, str, int], str] = {}
    for row in rows[3:]:
        for i in range(2, min(len(row), len(head))):
            if head[i] in MEASURES_2022 and unit[i] == "Enhet: Personer" and row[i] != "":
                out[(row[0], MEASURES_2022[head[i]], int(years[i].removeprefix("År: ")))] = row[i]
    return out


def _flat(real_data: Path, name: str) -> list[dict[str, str]]:
    with (real_data / "imdi_2015_flat" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _edition_2015(real_data: Path) -> dict[tuple[str, str, int], str]:
    """(kommune_nr, measure, year) -> the raw cell of bosatt_anmodede.csv (persons)."""
    return {(r["kommune_nr"], MEASURES_2015[r["bosetting"]], int(r["aar"])): r["tabellvariabel"]
            for r in _flat(real_data, "bosatt_anmodede.csv") if r["enhet"] == "personer" and r["kommune_nr"] != "NULL"}


def _sum_parts(cells: list[str | None]) -> int | None | str:
    """A merged municipality's count: the sum when every part publishes a number, None when a part
    publishes a symbol ('.' or ':'), 'absent' when no part publishes the cell at all."""
    if all(c is None for c in cells):
        return "absent"
    if any(c is None or not c.isdigit() for c in cells):
        return None
    return sum(int(c) for c in cells)  # type: ignore[arg-type]


def expected_cells(real_data: Path) -> dict[tuple[str, int, str], int | None]:
    """(2014 code, year, measure) -> the number a profile must show (None: must show a symbol),
    for every cell of the hand-checked municipalities that the raw files settle."""
    e22, e15 = _export_2022(real_data), _edition_2015(real_data)
    out: dict[tuple[str, int, str], int | None] = {}
    for code, parts in PARTS_2022.items():
        for year in range(WINDOW[0], WINDOW[1] + 1):
            for measure in ("requested", "decided", "settled"):
                new = _sum_parts([e22.get((p, measure, year)) for p in parts.get(year, [])]) if year in parts else "absent"
                old_cell = e15.get((code, measure, year))
                old = "absent" if old_cell is None else int(old_cell) if old_cell.isdigit() else None
                if new == "absent" and old == "absent":
                    continue
                if new != "absent" and old != "absent" and new != old:
                    continue  # the editions disagree: precedence decides (sources/imdi), not checked here
                out[(code, year, measure)] = old if new == "absent" else new  # type: ignore[assignment]
    return out


# ----------------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def data(real_clean: Path) -> Any:
    from settlement_research.analysis import profile as pr

    return pr.profile_data("imdi", *WINDOW)


def test_the_hand_read_cells_are_the_profiles(real_data: Path, data: Any) -> None:
    from settlement_research.analysis import profile as pr

    expected = expected_cells(real_data)
    # what was read by hand, independently of the package (a few spelled out)
    assert expected[("1103", 2010, "requested")] == 180 and expected[("1103", 2010, "decided")] == 155
    assert expected[("1103", 2012, "settled")] == 103 and expected[("0301", 2014, "settled")] == 495
    assert expected[("0219", 2009, "requested")] == 150  # Bærum, from K3024
    assert expected[("1534", 2014, "settled")] == 24 and expected[("1534", 2014, "decided")] == 24  # Haram: 30/24/24
    assert expected[("1903", 2010, "requested")] is None  # 1915 Bjarkøy publishes '.': Harstad's sum is unknown
    assert len(expected) >= 80
    checked = defaultdict(int)
    for (code, year, measure), value in sorted(expected.items()):
        shown = pr.settlement_years(data, code).filter(pl.col("year") == year).row(0, named=True)
        if value is None:
            assert shown[measure] is None and shown[f"{measure}_symbol"] in (pr.NOT_AVAILABLE, ":"), (code, year, measure)
        else:
            assert shown[measure] == value, (code, year, measure, shown[measure], value)
        checked[code] += 1
    assert set(checked) == set(HAND_CHECKED)
    # settled before 2012: no edition publishes it, so every profile shows '..' (never 0)
    for code in HAND_CHECKED:
        early = pr.settlement_years(data, code).filter(pl.col("year") < 2012)
        assert early["settled"].is_null().all() and (early["settled_symbol"] == pr.NOT_AVAILABLE).all()


def test_window_totals_and_intro_against_the_raw_files(real_data: Path, real_clean: Path, tmp_path: Path) -> None:
    from settlement_research.reports.runner import run_notebook

    expected = expected_cells(real_data)
    status = _flat(real_data, "intro_status_arbutd.csv")
    leavers = _flat(real_data, "intro_avslutning_direkte.csv")
    for code in ("1103", "0301", "1534"):
        outcome = run_notebook("municipality_profile", {"source": "imdi", "kommune_nr": code}, tmp_path / code)
        assert outcome.status == "ok", outcome.error
        results = json.loads((tmp_path / code / outcome.results_file).read_text("utf-8"))
        for measure in ("requested", "decided"):
            cells = [expected[(code, y, measure)] for y in range(WINDOW[0], WINDOW[1] + 1)]
            assert None not in cells
            assert results[measure] == sum(cells), (code, measure)  # type: ignore[arg-type]
        settled = {y: expected[(code, y, "settled")] for y in (2012, 2013, 2014)}
        assert results["settled"] == sum(settled.values())  # type: ignore[arg-type]
        assert results["settled_by_year"] == {str(y): settled.get(y) for y in range(WINDOW[0], WINDOW[1] + 1)}
        assert results["work_education_share"] is None  # no edition publishes the count behind a pooled share
        assert results["work_education_share_norway"] is None
        page = (tmp_path / code / outcome.html).read_text("utf-8")
        base = {r["tabellvariabel"] for r in status if r["kommune_nr"] == code and r["aar"] == "2013"
                and r["kjonn"] == "alle" and r["avslutning_status_4"] == "alle" and r["enhet"] == "personer"}
        share = {r["tabellvariabel"] for r in status if r["kommune_nr"] == code and r["aar"] == "2013"
                 and r["kjonn"] == "alle" and r["avslutning_status_4"] == "arbutd" and r["enhet"] == "prosent"}
        left = {r["tabellvariabel"] for r in leavers if r["kommune_nr"] == code and r["aar"] == "2014"
                and r["kjonn"] == "alle" and r["avslutning_arsak_8"] == "alle" and r["enhet"] == "personer"}
        (base_v,), (share_v,), (left_v,) = base, share, left  # one value each (the kohort rows repeat it)
        row_2012 = _table_row(page, "leavers with known status", "2012")
        row_2014 = _table_row(page, "leavers with known status", "2014")
        # year | participants | leavers | with known status | in work or education | %
        # a share column has one number of decimals on the page (68.0, as 45.4 beside it would be)
        assert row_2012 == ["2012", "..", "..", _n(base_v), "..", f"{int(share_v)}.0"], row_2012
        assert row_2014[:3] == ["2014", "..", _n(left_v)] and row_2014[3:] == ["..", "..", ".."], row_2014
        assert " 0%" not in page and ">0%<" not in page  # the old invented "0% were in work or education"
        # the real SSB class and which version it is (geo.centrality): Oslo 1, Stavanger 2, Haram 5
        cls = {"1103": 2, "0301": 1, "1534": 5}[code]
        assert results["centrality"] == cls and f"centrality class {cls}," in page
        assert ("Centrality class: SSB's centrality index of 2020, the class of the 2024 municipality that "
                "contains it (no index of 2014 is shipped)") in page


def _n(raw: str) -> str:
    return f"{int(raw):,}".replace(",", "\u202f")


def _table_row(page: str, header: str, year: str) -> list[str]:
    """The cells (text) of the row starting with ``year`` in the table whose header has ``header``."""
    import re

    table = next(t for t in page.split("<table")[1:] if header in t.split("</thead>")[0])
    for row in re.findall(r"<tr.*?</tr>", table, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>.*?</t[dh]>", row, flags=re.S)]
        if cells and cells[0] == year:
            return cells
    raise AssertionError(f"no row {year} in the table with {header!r}")


def test_every_real_profile_renders_honestly(real_clean: Path, tmp_path: Path) -> None:
    """All 428 municipalities of 2014 (``SETTLEMENT_RESEARCH_ALL_REAL_PROFILES=1``) or a fixed sample of
    14 plus the 6 hand-checked ones: none fails, no chart's year axis leaves the window, no share
    where no count is published, and no settled number for a year no edition publishes."""
    from settlement_research.geo import centrality
    from settlement_research.reports.batch import kommune_codes, run_batch

    codes = kommune_codes("imdi", WINDOW[1])
    assert len(codes) == 428
    classes_2014 = dict(centrality.classes_at(WINDOW[1], codes).select("kommune_nr", "centrality").iter_rows())
    if os.environ.get(FULL_RUN) != "1":
        codes = sorted(set(random.Random(11).sample(codes, SAMPLE)) | set(HAND_CHECKED))
    manifest = run_batch("municipality_profile", [{"source": "imdi", "kommune_nr": c} for c in codes],
                         tmp_path, workers=2, progress=False)
    failed = {r["name"]: r.get("error") for r in manifest["reports"] if r["status"] != "ok"}
    assert failed == {}
    for report in manifest["reports"]:
        results = json.loads((tmp_path / report["results_file"]).read_text("utf-8"))
        axes = results["chart_year_axes"]
        assert axes and all(WINDOW[0] - 1 < lo < hi < WINDOW[1] + 1 for lo, hi in axes), (report["name"], axes)
        assert results["work_education_share"] is None and results["work_education_share_county"] is None
        early = [results["settled_by_year"][str(y)] for y in (2009, 2010, 2011)]
        assert early == [None, None, None], report["name"]  # no edition publishes settled before 2012
        # SSB's class from the shipped list (geo.centrality): that of the 2024 municipality containing it
        code = report["parameters"]["kommune_nr"]
        assert results["centrality"] == classes_2014[code], code
    for code, cls in {"0301": 1, "0219": 1, "1103": 2, "1534": 5, "1151": 6}.items():  # read by hand in SSB's list
        assert classes_2014[code] == cls, code
