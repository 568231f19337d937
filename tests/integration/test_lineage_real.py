"""Real IMDi 2015 exports: Stavanger's (1103) settled 2014 traced from its profile table to the raw
files and records, checked by hand against the files with the csv module."""

from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from settlement_research import sdc
from settlement_research.analysis import profile as pr
from settlement_research.analysis import profile_text as tx
from settlement_research.build import build
from settlement_research.pages import lineage
from settlement_research.sources import imdi
from settlement_research.trace import trace

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def clean(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("lineage_real")
    files = sorted((real_data / "imdi_2015_flat").glob("*.csv")) + sorted((real_data / "imdi_2015_raw").glob("*.csv"))
    result = imdi.import_files(files)
    assert result.unexplained == 0
    imdi.write_outputs(result, root / "raw" / "imdi")
    build(root / "raw", root / "clean", log=lambda _m: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        mp.delenv("SETTLEMENT_RESEARCH_SDC_THRESHOLD", raising=False)
        yield root / "clean"


def _record(path: Path, nr: int, encoding: str, sep: str) -> list[str]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=sep))[nr - 1]


def _settlement_page(tmp_path: Path) -> Path:
    """Stavanger's settlement table built exactly as notebooks/municipality_profile.py builds it."""
    w = tx.words("en")
    data = pr.profile_data("imdi", 2012, 2014)
    shown = pr.settlement_table(pr.settlement_years(data, "1103"), tx.status_words("en"))
    frame = pr.labelled(shown, {"year": w["year"], "requested": w["requested"], "decided": w["decided"],
                                "decision_status": w["decision"], "settled": w["settled"]})
    page = lineage.PageLineage("imdi")
    html = page.table(sdc.to_html(frame, controlled=[w["settled"]],
                                  public={w["requested"]: "requested", w["decided"]: "decided"}),
                      frame, "settlement",
                      lineage.rows("kommune_settlement_year", {w["requested"]: "requested", w["decided"]: "decided",
                                                               w["settled"]: "settled"},
                                   fixed={"kommune_nr": "1103"}, by={w["year"]: "year"}))
    out = tmp_path / "kommune_nr-1103.html"
    out.write_text(str(html), "utf-8")
    page.save(lineage.lineage_file_for(out))
    return out


def test_stavanger_settled_2014_is_traced_to_the_export_edition_file_and_record(
    clean: Path, real_data: Path, tmp_path: Path
) -> None:
    page = _settlement_page(tmp_path)
    w = tx.words("en")
    text = "\n".join(trace(page, f"settlement:2014:{w['settled']}", clean_dir=clean))
    assert "kommune_settlement_year.parquet" in text and "kommune_nr=1103;year=2014" in text
    assert "settled = 112" in text and "edition imdi-2015" in text
    assert "09_1-bosatt_anmodede-kommune-2014.csv" in text and "record 177" in text
    assert "column 'bosetting.bosatt | enhet.personer'" in text
    assert "bosatt_anmodede.csv" in text and "record 7672" in text
    # by hand: the raw wide file's record 177 is Stavanger with 112 settled, and the flat file's
    # record 7672 is 1103's 2014 bosatt (personer) = 112; the sha256 is of the bytes
    raw = real_data / "imdi_2015_raw" / "09_1-bosatt_anmodede-kommune-2014.csv"
    record = _record(raw, 177, "latin-1", ";")
    assert record[:3] == ["1103 Stavanger", "1103", "Stavanger"] and record[5] == "112"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() in text
    flat = _record(real_data / "imdi_2015_flat" / "bosatt_anmodede.csv", 7672, "utf-8", ",")
    assert (flat[0], flat[2], flat[3], flat[4], flat[6]) == ("2014", "bosatt", "personer", "112", "1103")
    # the value is unique on the table, so it traces by value too
    assert "record 177" in "\n".join(trace(page, "112", clean_dir=clean))


def test_every_real_clean_row_has_lineage(clean: Path) -> None:
    folder = clean / "imdi"
    for path in sorted(folder.glob("*.parquet")):
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        lin = pl.read_parquet(folder / "lineage" / path.name)
        assert lin["row"].n_unique() == rows, path.name
        assert lin.filter(pl.col("role") != "derived")["file"].null_count() == 0


_TD = re.compile(r"<td([^>]*)>([^<]*)</td>")
_NUMBER = re.compile(r"^[\u2212-]?[\d\u202f]+(?:[.,]\d+)?$")
_YEAR = re.compile(r"^(19|20)\d\d$")  # a year label (the row's key), not a number with an origin


def test_rendered_real_profiles_have_lineage_matching_the_page_and_trace_names_the_sha(
    clean: Path, real_data: Path, tmp_path: Path
) -> None:
    """The profiles as the batch renders them: each has NAME.lineage.json listing every number the
    page shows, and on Stavanger's page trace reaches export, edition, file, its sha256 (resolved
    from the build, the page does not state it) and record, with no mismatch against the build."""
    from settlement_research.reports.batch import run_batch

    codes = ["1103", "0301", "1534"]
    manifest = run_batch("municipality_profile", [{"source": "imdi", "kommune_nr": c} for c in codes], tmp_path,
                         workers=2, progress=False)
    assert {r["name"]: r.get("error") for r in manifest["reports"] if r["status"] != "ok"} == {}
    for code in codes:
        page = tmp_path / f"kommune_nr-{code}.html"
        text = lineage.lineage_file_for(page).read_text("utf-8")
        doc = json.loads(text)
        assert '"sha256"' not in text
        on_page: Counter[tuple[str, str]] = Counter()
        for table in re.findall(r'<table class="sdc-table".*?</table>', page.read_text("utf-8"), re.S):
            for attrs, cell in _TD.findall(table):
                cell = html_lib.unescape(cell)
                if 'data-sdc="suppressed"' in attrs:
                    on_page[("suppressed", cell)] += 1
                elif _NUMBER.match(cell) and not ('data-sdc="label"' in attrs or (not attrs and _YEAR.match(cell))):
                    on_page[("shown", cell)] += 1
        in_file = Counter((e["status"], e["text"]) for e in doc["numbers"]
                          if _NUMBER.match(e["text"]) or e["status"] == "suppressed")
        assert in_file == on_page and on_page, code
    w = tx.words("en")
    out = "\n".join(trace(tmp_path / "kommune_nr-1103.html", f"settlement:2014:{w['settled']}", clean_dir=clean))
    raw = real_data / "imdi_2015_raw" / "09_1-bosatt_anmodede-kommune-2014.csv"
    assert "settled = 112" in out and "edition imdi-2015" in out
    assert "09_1-bosatt_anmodede-kommune-2014.csv" in out and "record 177" in out
    assert f"sha256 {hashlib.sha256(raw.read_bytes()).hexdigest()}" in out
    assert "changed " not in out  # the page states the origins the build gives
