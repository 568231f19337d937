"""Page lineage and the precise report cache (#14, the session-4 regression).

A page names source, edition, file and record, not the raw file's sha256: the sha is the whole
file's, so one edited row of imdi_bosetting_kommune.csv changed the logged lineage answer of every
page reading that file and all 66 profiles of ``bench_cache --n 60`` re-rendered. Here two pages of
the tiny register are rendered with their reads logged, one municipality's raw value is edited and
the data rebuilt: only that municipality's page is stale, and ``trace`` still names the file's
(new) sha256, resolved from data_clean at trace time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from settlement_research import readlog, sdc
from settlement_research.pages import lineage as page_lineage
from settlement_research.trace import trace

TABLE = "kommune_settlement_year"
YEARS = (2009, 2014)


def _render(clean: Path, kommune: str, out: Path) -> tuple[Path, list[readlog.Read]]:
    """A settlement table of one municipality with lineage hovers; the page and the reads its
    lineage lookups made (as a report's log would hold them)."""
    from settlement_research.analysis.profile import profile_data

    page = page_lineage.PageLineage("synthetic", clean_dir=clean, t=5)
    cells = page_lineage.rows(TABLE, {"requested": "requested"}, fixed={"kommune_nr": kommune}, by={"year": "year"})
    data = profile_data("synthetic", *YEARS)  # as the profile takes its rows: logged, not the whole table
    with readlog.capture() as reads:
        frame = data.rows("settlement", ["year", "requested"], kommune_nr=kommune).sort("year")
        html = page.table(sdc.to_html(frame, public=["requested"], t=5), frame, "settlement", cells)
    path = out / f"kommune_nr-{kommune}.html"
    path.write_text(str(html), "utf-8")
    page.save(page_lineage.lineage_file_for(path))
    return path, reads


def _edit(raw: Path, kommune: str, year: int, column: str, delta: int) -> str:
    """Add ``delta`` to one cell of imdi_bosetting_kommune.csv and restamp its sha256 in
    PROVENANCE.json (as a re-generation would); returns the file's new sha256."""
    path = raw / "imdi_bosetting_kommune.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(";")
    k, y, c = header.index("KOMMNR"), header.index("AAR"), header.index(column)
    hits = 0
    for i, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(";")
        if cells[k] == kommune and cells[y] == str(year):
            cells[c] = str(int(cells[c]) + delta)
            lines[i] = ";".join(cells) + "\n"
            hits += 1
    assert hits == 1
    path.write_text("".join(lines), "utf-8")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    prov = json.loads((raw / "PROVENANCE.json").read_text("utf-8"))
    for entry in prov["files"]:
        if entry["name"] == path.name:
            entry["sha256"], entry["bytes"] = sha, path.stat().st_size
    (raw / "PROVENANCE.json").write_text(json.dumps(prov, indent=2, ensure_ascii=False), "utf-8")
    return sha


def _keys(doc: Any) -> set[str]:
    if isinstance(doc, dict):
        return set(doc) | {k for v in doc.values() for k in _keys(v)}
    if isinstance(doc, list):
        return {k for v in doc for k in _keys(v)}
    return set()


@pytest.fixture(scope="module")
def two_pages(tiny_register: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Pages of two municipalities, rendered, then one of them edited in the raw extract and rebuilt."""
    from settlement_research.build import build

    clean, raw = tiny_register / "clean", tiny_register / "raw" / "synthetic"
    settled = pl.read_parquet(clean / "synthetic" / f"{TABLE}.parquet").filter(
        pl.col("year").is_between(*YEARS) & (pl.col("requested") > 0))
    codes = sorted(settled["kommune_nr"].unique().to_list())
    edited, other = codes[0], codes[-1]
    year = int(settled.filter(pl.col("kommune_nr") == edited)["year"].max())
    out = tmp_path_factory.mktemp("pages")
    pages = {k: _render(clean, k, out) for k in (edited, other)}
    sha_before = hashlib.sha256((raw / "imdi_bosetting_kommune.csv").read_bytes()).hexdigest()
    sha_after = _edit(raw, edited, year, "ANMODET", 7)
    build(tiny_register / "raw", clean, log=lambda _m: None)
    return {"clean": clean, "edited": edited, "other": other, "year": year, "pages": pages,
            "sha_before": sha_before, "sha_after": sha_after}


def test_a_page_names_file_edition_and_record_but_not_the_files_sha256(two_pages: dict[str, Any]) -> None:
    for page, _reads in two_pages["pages"].values():
        text = page_lineage.lineage_file_for(page).read_text("utf-8")
        doc = json.loads(text)
        assert "sha256" not in _keys(doc) and two_pages["sha_before"] not in text
        assert "sha256" not in page.read_text("utf-8")  # nor in a hover
        origins = [o for e in doc["numbers"] for item in e["origin"]["clean"] for o in item["origins"]]
        read = [o for o in origins if o["role"] != "derived"]
        assert read and all(o["file"] == "imdi_bosetting_kommune.csv" and o["record"] for o in read)
        assert not page_lineage._schema_findings(doc, page.name, 5)  # the gate reads every field it writes
        assert page_lineage._schema_findings({"numbers": [{"origin": {"clean": [{"origins": [{"sha256": "ab"}]}]}}]},
                                             page.name, 5)  # a field pages do not write any more


def test_one_edited_raw_row_makes_only_the_page_that_shows_it_stale(two_pages: dict[str, Any]) -> None:
    verifier = readlog.Verifier()
    _page, edited_reads = two_pages["pages"][two_pages["edited"]]
    _page, other_reads = two_pages["pages"][two_pages["other"]]
    lookups = [r for r in other_reads if r["dataset"] == f"lineage:synthetic/{TABLE}"]
    assert len(lookups) == YEARS[1] - YEARS[0] + 1  # one per shown number
    assert verifier.unchanged(other_reads)  # the file's sha changed, the rows this page shows did not
    changed = [r["dataset"].rsplit("/", 1)[1] for r in edited_reads if verifier.current(r) != r["sha256"]]
    assert changed == ["settlement"]  # its own row of the edited file; its lineage (file, record) is the same


def test_trace_resolves_the_files_sha256_from_the_build(two_pages: dict[str, Any]) -> None:
    clean, year = two_pages["clean"], two_pages["year"]
    page, _reads = two_pages["pages"][two_pages["other"]]
    text = "\n".join(trace(page, f"settlement:{year}:requested", clean_dir=clean))
    assert "imdi_bosetting_kommune.csv" in text and "record " in text
    assert f"sha256 {two_pages['sha_after']}" in text  # the file as the current build read it
    assert "build manifest: raw input synthetic/imdi_bosetting_kommune.csv, same sha256" in text
    assert "changed " not in text
    page, _reads = two_pages["pages"][two_pages["edited"]]
    text = "\n".join(trace(page, f"settlement:{year}:requested", clean_dir=clean))
    assert f"sha256 {two_pages['sha_after']}" in text and "changed " not in text  # same file and record


def test_trace_says_when_the_page_states_another_origin_than_the_build(two_pages: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    """A page rendered before a build that read its row from another record says so."""
    import shutil

    clean = tmp_path / "clean"
    shutil.copytree(two_pages["clean"], clean)
    path = clean / "synthetic" / "lineage" / f"{TABLE}.parquet"
    key = f"kommune_nr={two_pages['edited']};year={two_pages['year']}"
    lin = pl.read_parquet(path)
    lin.with_columns(pl.when(pl.col("key") == key).then(pl.col("record") + 1000).otherwise(pl.col("record"))
                     .alias("record")).write_parquet(path)
    page, _reads = two_pages["pages"][two_pages["edited"]]
    text = "\n".join(trace(page, f"settlement:{two_pages['year']}:requested", clean_dir=clean))
    assert "changed  the page's origin is not data_clean's lineage now: it states file 'imdi_bosetting_kommune.csv', " \
           "record " in text and "render it again" in text
    assert "changed " not in "\n".join(trace(page, f"settlement:{two_pages['year'] - 1}:requested", clean_dir=clean))
