"""The precise report cache: a profile re-renders exactly when the rows it read change.

A tiny synthetic register (scale 0.02; the shared ``tiny_register`` fixture) and a grid of profiles rendered. Then:
nothing changes but the build is redone (a new data manifest) -> no profile re-renders; a few
settlements of one municipality move off IMDi's count in the raw register -> exactly the profiles
whose pages change re-render, where "whose pages change" is found without the read logs, by
rendering everything again with ``force`` and comparing the pages; a code change re-renders all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import settlement_research
from settlement_research import readlog

PACKAGE = Path(settlement_research.__file__).resolve().parent
TEMPLATE = PACKAGE.parents[1] / "notebooks" / "municipality_profile.py"
_FOOTER = re.compile(r'<footer class="provenance".*?</footer>', re.DOTALL)
_CELL_ID = re.compile(r'id="cell-id=[0-9a-f-]+"')
_SIG = re.compile(r'\sdata-sdc-sig="[0-9a-f]+"')  # the disclosure API signs with a fresh key per render

pytestmark = pytest.mark.skipif(not TEMPLATE.is_file(), reason="the profile template is not next to the package")


def pages(folder: Path) -> dict[str, str]:
    """Every profile page without what differs between two renders of the same data (the
    provenance footer names the data manifest; jupytext gives cells random ids)."""
    return {p.stem.removeprefix("kommune_nr-"): _SIG.sub("", _CELL_ID.sub("", _FOOTER.sub("", p.read_text("utf-8"))))
            for p in folder.glob("kommune_nr-*.html")}


def _add_to(path: Path, match: dict[str, str], column: str, delta: int) -> None:
    """Add ``delta`` to ``column`` of the one row of a ';' file whose columns equal ``match``."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(";")
    hits = 0
    for i, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(";")
        if all(cells[header.index(k)] == v for k, v in match.items()):
            cells[header.index(column)] = str(int(cells[header.index(column)]) + delta)
            lines[i] = ";".join(cells) + "\n"
            hits += 1
    assert hits == 1, (path.name, match)
    path.write_text("".join(lines), "utf-8")


def move_settlements(raw: Path, kommune: str, year: int, n: int) -> None:
    """``n`` of the municipality's ordinary settlements of ``year`` become settlement on their own
    (not counted as settled), and IMDi's published figures in the extract (the municipality's
    BOSATT, the national BOSATTE) are lowered by as many, as ``bench_cache`` does; the edited
    files' sha256 are restamped in PROVENANCE.json. Every page that reads a row of
    imdi_bosetting_kommune.csv names that file: only the edited row's pages may re-render (the
    session-4 regression re-rendered them all, since page lineage logged the file's sha256)."""
    register = raw / "register_bosetting.csv"
    lines = register.read_text("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(";")
    k, date, route = header.index("KOMMNR"), header.index("BOSETTINGSDATO"), header.index("BOSETTINGSVEI")
    moved = 0
    for i, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(";")
        if moved < n and cells[k] == kommune and cells[date].startswith(str(year)) and cells[route] == "1":
            cells[route] = "3"
            lines[i] = ";".join(cells) + "\n"
            moved += 1
    assert moved == n
    register.write_text("".join(lines), "utf-8")
    _add_to(raw / "imdi_bosetting_kommune.csv", {"KOMMNR": kommune, "AAR": str(year)}, "BOSATT", -n)
    _add_to(raw / "imdi_bosetting_nasjonalt.csv", {"AAR": str(year)}, "BOSATTE", -n)
    edited = {register.name, "imdi_bosetting_kommune.csv", "imdi_bosetting_nasjonalt.csv"}
    prov = json.loads((raw / "PROVENANCE.json").read_text("utf-8"))
    for entry in prov["files"]:
        if entry["name"] in edited:
            entry["sha256"] = hashlib.sha256((raw / entry["name"]).read_bytes()).hexdigest()
            entry["bytes"] = (raw / entry["name"]).stat().st_size
    (raw / "PROVENANCE.json").write_text(json.dumps(prov, indent=2, ensure_ascii=False), "utf-8")


def rendered(manifest: dict[str, Any]) -> set[str]:
    assert manifest["failed"] == 0, [r.get("error") for r in manifest["reports"] if r.get("status") != "ok"]
    return {r["parameters"]["kommune_nr"] for r in manifest["reports"] if not r.get("cached")}


@readlog.derived
def numbers(scale: int) -> pl.DataFrame:
    """A derived dataset for the test: found again by module and name, as profile_data is."""
    return pl.DataFrame({"k": ["a", "b", "c"], "v": [scale, 2, 3]})


def test_reads_of_a_derived_result_are_logged_and_verified_against_a_recomputation() -> None:
    with readlog.capture() as reads:
        frame = numbers(1)
        with readlog.capture() as inner:  # a memoised computation: its reads are handed on
            numbers(2)
        readlog.extend(inner)
    assert [r["dataset"] for r in reads] == [f"call:{__name__}:numbers[1]", f"call:{__name__}:numbers[2]"]
    assert readlog.verify(reads)
    read_b = {**reads[0], "where": {"k": ["b"]}, "sha256": readlog.frame_hash(readlog.select(frame, None, {"k": ["b"]}))}
    assert readlog.verify([read_b])  # the slice is recomputed, not the whole frame
    assert not readlog.verify([{**read_b, "sha256": readlog.frame_hash(frame.filter(pl.col("k") == "a"))}])
    assert not readlog.verify([{**reads[0], "dataset": "call:no.such.module:f[1]"}])  # cannot be made: changed


def test_a_tracked_result_logs_the_rows_a_report_takes_and_whole_fields_read_directly(tiny_register: Path) -> None:
    from settlement_research.analysis import profile as pr

    data = pr.profile_data("synthetic", 2009, 2014)
    with readlog.capture() as reads:
        mine = data.rows("settlement", kommune_nr="0301")
        data.coordination  # noqa: B018 - a direct read depends on the whole field
    assert mine is not None and set(mine["kommune_nr"]) == {"0301"}
    parts = {(r["dataset"].rsplit("/", 1)[1], json.dumps(r["where"])) for r in reads}
    assert parts == {("settlement", '{"kommune_nr": ["0301"]}'), ("coordination", "null")}
    assert readlog.verify(reads)


def test_outside_a_report_nothing_is_logged_and_a_notebook_opening_data_clean_depends_on_everything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from settlement_research.paths import data_clean_dir

    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path))
    (tmp_path / "MANIFEST.json").write_text("{}", "utf-8")
    readlog.record("table:x/y", None, sha256="0")  # no open log: a no-op
    with readlog.capture() as reads:
        exec(compile("data_clean_dir()", "<notebook cell>", "exec"), {"__name__": "__main__", "data_clean_dir": data_clean_dir})
    assert [r["dataset"] for r in reads] == ["opaque:data_clean"]
    assert readlog.verify(reads)
    (tmp_path / "MANIFEST.json").write_text('{"rebuilt": true}', "utf-8")
    assert not readlog.verify(reads)


@pytest.mark.slow  # starts worker processes and renders the grid four times
def test_one_municipalitys_change_re_renders_exactly_the_profiles_that_show_it(tiny_register: Path, tmp_path: Path) -> None:
    from settlement_research.build import build
    from settlement_research.reports.batch import run_batch

    clean = tiny_register / "clean" / "synthetic"
    settled = pl.read_parquet(clean / "kommune_settlement_year.parquet").filter(pl.col("year").is_between(2009, 2014))
    top = settled.sort("settled", "kommune_nr", descending=[True, False]).row(0, named=True)
    kommune, year = top["kommune_nr"], int(top["year"])
    assert top["settled"] >= 10  # moving 3 keeps it above the disclosure threshold
    from settlement_research.analysis import profile as pr

    data = pr.profile_data("synthetic", 2009, 2014)
    codes = sorted(data.kommune["kommune_nr"].to_list())
    showing = {kommune} | {c for c in codes if kommune in pr.peer_table(data, c)["kommune_nr"].to_list()[1:]}
    others = [c for c in codes if c not in showing][:4]
    grid = [{"kommune_nr": c} for c in sorted(showing | set(others))]
    out = tmp_path / "profiles"

    first = run_batch("municipality_profile", grid, out, workers=2, progress=False)
    assert rendered(first) == {g["kommune_nr"] for g in grid}
    before = pages(out)
    assert all((out / f"kommune_nr-{g['kommune_nr']}.reads.json").is_file() for g in grid)

    build(tiny_register / "raw", tiny_register / "clean", force=True, log=lambda m: None)  # same data, a new manifest
    unchanged = run_batch("municipality_profile", grid, out, workers=2, progress=False)
    assert unchanged["data_manifest_hash"] != first["data_manifest_hash"]
    assert rendered(unchanged) == set() and unchanged["cached_by_reads"] == len(grid)

    move_settlements(tiny_register / "raw" / "synthetic", kommune, year, 3)
    build(tiny_register / "raw", tiny_register / "clean", log=lambda m: None)
    after_build = pl.read_parquet(clean / "kommune_settlement_year.parquet")
    assert after_build.filter((pl.col("kommune_nr") == kommune) & (pl.col("year") == year))["settled"][0] == top["settled"] - 3
    second = run_batch("municipality_profile", grid, out, workers=2, progress=False)
    again = rendered(second)

    check = tmp_path / "forced"
    rendered(run_batch("municipality_profile", grid, check, workers=2, progress=False, force=True))
    after = pages(check)
    changed = {c for c in after if after[c] != before[c]}
    assert kommune in changed and len(changed) > 1  # its own page and at least one peer table
    assert again == changed  # none missed, none rendered for nothing
    assert not (set(others) - changed) & again


@pytest.mark.slow  # subprocesses with a scratch copy of the package
def test_a_code_change_re_renders_every_profile(tiny_register: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    shutil.copytree(PACKAGE, scratch / "settlement_research", ignore=shutil.ignore_patterns("__pycache__"))
    script = textwrap.dedent("""
        import json
        from pathlib import Path
        from settlement_research.reports.batch import run_batch
        m = run_batch({template!r}, [{{"kommune_nr": "0301"}}, {{"kommune_nr": "1201"}}], Path({out!r}),
                      workers=1, progress=False)
        print(json.dumps({{"cached": [r.get("cached") for r in m["reports"]], "failed": m["failed"]}}))
    """).format(template=str(TEMPLATE), out=str(tmp_path / "profiles"))
    env = {**os.environ, "PYTHONPATH": str(scratch), "SETTLEMENT_RESEARCH_CLEAN": str(tiny_register / "clean"),
           "PYTHONDONTWRITEBYTECODE": "1"}

    def run() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    assert run() == {"cached": [False, False], "failed": 0}
    assert run() == {"cached": [True, True], "failed": 0}
    profile = scratch / "settlement_research" / "analysis" / "profile.py"
    profile.write_text(profile.read_text("utf-8") + "\nEDITED_CONSTANT = 1\n", "utf-8")
    assert run() == {"cached": [False, False], "failed": 0}
