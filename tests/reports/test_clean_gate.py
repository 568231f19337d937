"""The decisive gate runs where template code cannot reach it, and public numbers are checked
against the data (issue #9: a template that patches the gate in its own process, a register count
under a public column's name, the batch index)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from settlement_research.reports.batch import gated_index, run_batch
from settlement_research.reports.runner import run_notebook
from settlement_research.sdc import gate, public

NOTEBOOKS = Path(__file__).parent / "notebooks"
# IMDi's published requests in the fixture: Kvinesdal (1037) asked for 3 in 2012 (small, public)
REQUESTED = {"0301": (60, 55, 70), "0501": (20, 15, 12), "1037": (3, 7, 6), "1201": (30, 30, 40)}


@pytest.fixture()
def public_env(clean_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny register of conftest plus a kommune_settlement_year with IMDi's requests."""
    root = tmp_path / "clean_public"
    shutil.copytree(clean_dir, root)
    pl.DataFrame({
        "kommune_nr": [k for k in REQUESTED for _ in range(3)],
        "year": pl.Series([y for _ in REQUESTED for y in (2012, 2013, 2014)], dtype=pl.Int16),
        "requested": pl.Series([v for values in REQUESTED.values() for v in values], dtype=pl.Int32),
    }).write_parquet(root / "synthetic" / "kommune_settlement_year.parquet")
    (root / "MANIFEST.json").write_text(json.dumps({"tables": sorted(p.name for p in (root / "synthetic").iterdir())}))
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SDC_THRESHOLD", raising=False)
    return root


def _parent_gate_untouched() -> None:
    from settlement_research.sdc import audit, rules

    assert audit.audit_report.__module__ == "settlement_research.sdc.audit"
    assert rules.threshold() == 5 and len(audit.identifier_values()) == 80


@pytest.mark.parametrize("show", ["count", "ids"])
def test_a_template_that_patches_the_gate_is_withheld_by_run_notebook(
    clean_env: Path, tmp_path: Path, show: str
) -> None:
    marker = tmp_path / "patched.txt"
    out = tmp_path / "out"
    outcome = run_notebook(NOTEBOOKS / "patches_gate.py", {"show": show, "marker": str(marker)}, out)
    assert marker.read_text() == "the gate of this process is patched"  # its own gate was off
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or "")
    kinds = {f["kind"] for f in outcome.findings}
    assert kinds >= ({"small_count", "unverified_public"} if show == "count" else {"identifier"})
    assert not list(out.iterdir())  # page, notebook and results withheld
    assert "P0000" not in json.dumps(outcome.to_dict())  # the error ("failed for P…") is scrubbed
    _parent_gate_untouched()  # decided here: the template's patches stayed in the worker


def test_a_template_that_patches_the_gate_is_withheld_by_report(clean_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    manifest = run_batch(NOTEBOOKS / "patches_gate.py", [{"show": "count"}, {"show": "ids"}], out, workers=1,
                         progress=False)
    assert [r["status"] for r in manifest["reports"]] == ["failed", "failed"]
    assert all("disclosure check failed" in r["error"] for r in manifest["reports"])
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "manifest.json"]
    written = (out / "manifest.json").read_text() + (out / "index.html").read_text()
    assert "P0000" not in written and "[id]" in written
    assert manifest["clean_gate_s"] >= 0
    _parent_gate_untouched()


def test_a_forged_signature_gains_nothing_in_the_clean_gate(clean_env: Path) -> None:
    """Marks signed with the render's key (which template code can read): the worker's gate lets
    them through, the clean one judges what they show."""
    from settlement_research.sdc import provenance
    from settlement_research.sdc.audit import Clean, check_html

    values = public.PublicValues(5)
    with provenance.scope() as scope:
        page = (f'<table><thead><tr><th {provenance.attrs("header", "persons")}>persons</th></tr></thead><tbody>'
                f'<tr><td {provenance.attrs("label", "3")}>3</td></tr>'
                f'<tr><td {provenance.attrs("value", "2")}>2</td></tr>'
                f'<tr><td {provenance.attrs("public", "4")}>4</td></tr></tbody></table>'
                f'<p>we settled <span {provenance.attrs("label", "3")}>3</span> refugees</p>')
        assert check_html(page, key=scope.key) == []  # the worker's view: every mark verifies
        found = check_html(page, key=scope.key, clean=Clean(values))
    assert {f.kind for f in found} == {"small_count", "unverified_public"}
    assert len([f for f in found if f.kind == "small_count"]) >= 3  # label, value, prose


def test_public_numbers_are_checked_against_the_data(public_env: Path, tmp_path: Path) -> None:
    ok = run_notebook(NOTEBOOKS / "public_label.py", {"show": "requested"}, tmp_path / "ok")
    assert ok.status == "ok", ok.findings  # IMDi's 3 requested persons are a published figure
    page = (tmp_path / "ok" / "public_label.html").read_text()
    assert 'data-sdc-public="kommune_settlement_year.requested">3</td>' in page
    leak = run_notebook(NOTEBOOKS / "public_label.py", {"show": "register"}, tmp_path / "leak")
    assert leak.status == "failed"
    assert {f["where"] for f in leak.findings if f["kind"] == "unverified_public"} >= {"html table", "results._public"}
    assert not list((tmp_path / "leak").iterdir())
    rewrite = run_notebook(NOTEBOOKS / "public_label.py", {"show": "rewrite"}, tmp_path / "rewrite")
    assert rewrite.status == "failed" and "unverified_public" in (rewrite.error or "")  # read before it ran


def test_public_values_by_context(public_env: Path) -> None:
    values = public.load(public_env / "synthetic", 5)
    spec = "kommune_settlement_year.requested"
    assert values.allows(3, column=spec, kommuner=["1037"], year=2012)
    assert not values.allows(3, column=spec, kommuner=["1037"], year=2013)  # that year's value is 7
    assert values.allows(3, column=spec, kommuner=["1037"], window=(2012, 2012))  # a window of one year
    assert not values.allows(3, column=spec, kommuner=["1037"])  # a number naming no years publishes nothing
    assert not values.allows(3, column=spec, kommuner=["0501"], window=(2014, 2014))  # 12 that year
    assert not values.allows(3, column=spec, kommuner=["0301"])  # Oslo never asked for 3
    assert not values.allows(3, column=spec)  # nationally: sums of 113 and more
    assert values.allows(40, column=spec, kommuner=["0301"])  # not a small number: not the count rule's
    assert values.row_context(["1037", "Kvinesdal", "3"], "0301") == (["1037"], None)
    assert values.row_context(["2013", "7"], "1037") == (["1037"], 2013)


def _manifest(status: str, error: str, results: dict) -> dict:
    return {"template": "profile", "reports": [
        {"name": "kommune_nr-1037", "parameters": {"kommune_nr": "1037", "source": "synthetic"}, "status": status,
         "error": error, "html": "kommune_nr-1037.html", "results": results, "duration_s": 1.25},
        {"name": "kommune_nr-0301", "parameters": {"kommune_nr": "0301", "source": "synthetic"}, "status": "ok",
         "error": None, "html": "kommune_nr-0301.html", "results": {"requested": 185, "settled": 40, "_sdc": ["settled"]},
         "duration_s": 1.5}]}


def test_the_index_is_gated(public_env: Path) -> None:
    knowledge = gate.Knowledge([{"source": "synthetic"}], {}, 5)
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    # Kvinesdal's published 3 (2012 alone, the window of one year) is shown; a hostile status is text
    html, found = gated_index(_manifest(hostile, hostile, {"requested": 3, "settled": None, "_sdc": ["settled"],
                                                           "_public": {"requested": "2012"}}), knowledge)
    assert found == [] and "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    assert 'data-sdc-public="kommune_settlement_year.requested" data-sdc-public-years="2012">3</td>' in html
    # a small register count under a plain key, and a 2 claimed as requested: the numbers go
    for results in ({"persons": 3}, {"requested": 2}, {"settled": 4, "_sdc": ["settled"]},
                    {"requested": 3}, {"requested": 3, "_public": {"requested": "2012-2013"}}):  # no window, a wrong one
        html, found = gated_index(_manifest("ok", "", results), knowledge)
        assert found and {f["index"] for f in found} == {"full"}, results
        assert ">185<" not in html.replace("\u202f", "") and "kommune_nr-1037" in html
    # small counts in the error text are scrubbed before (scrub_manifest); a count in the status is not
    html, found = gated_index(_manifest("3 persons", "", {}), knowledge)
    assert {f["index"] for f in found} == {"full", "no_numbers", "names"} and "kommune_nr-1037" not in html


def test_the_clean_gate_reads_every_artefact(clean_env: Path, tmp_path: Path) -> None:
    (tmp_path / "r.lineage.json").write_text(json.dumps({"cells": {"x": {"rows": "P000001"}}}))
    (tmp_path / "r.reads.json").write_text(json.dumps([{"table": "person", "key": "P000002"}]))
    kinds = {f.where for f in gate.audit_rendered(tmp_path, "r", {})}
    assert "reads.json" in kinds and any("lineage" in k for k in kinds)


def test_labels_the_clean_gate_still_honours(clean_env: Path) -> None:
    """Notebook 00's warnings per table and notebook 02's moves axis (0, 1, 2, 3+) are not counts of
    people; the same label marks on a count under a header of people are not honoured."""
    from settlement_research.sdc import provenance
    from settlement_research.sdc.audit import Clean, check_html

    def table(head: str, cells: list[str]) -> str:
        rows = "".join(f'<tr><td {provenance.attrs("label", c)}>{c}</td><td data-sdc="count">{40 + i}</td></tr>'
                       for i, c in enumerate(cells))
        return f"<table><thead><tr><th>{head}</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"

    clean = Clean(public.PublicValues(5))
    with provenance.scope():
        assert check_html(table("warnings", ["1", "0"]), clean=clean, verify_marks=False) == []
        assert check_html(table("moves (first 24 months)", ["0", "1", "2", "3+"]), clean=clean, verify_marks=False) == []
        assert check_html(table("persons with warnings", ["1", "0"]), clean=clean, verify_marks=False)
        assert check_html(table("moves", ["0", "3", "2"]), clean=clean, verify_marks=False)  # not an axis
        by_year = table("kommune_intro_year", ["3", "4"])
        assert check_html(by_year, clean=clean, verify_marks=False)
        assert check_html(by_year.replace("<thead>", "<caption>Municipalities with a row, by table and year</caption>"
                                          "<thead>"), clean=clean, verify_marks=False) == []


def test_a_file_a_template_writes_beside_its_report_is_not_published(clean_env: Path, tmp_path: Path) -> None:
    """The gate reads a report's own artefacts only: a ``leak.csv`` of person ids written into the
    output folder would be published unread (breaker, session 4)."""
    template = tmp_path / "writes_beside.py"
    template.write_text(
        '# %% tags=["parameters"]\nsource = "synthetic"\n\n# %%\nimport polars as pl\n'
        "from settlement_research.paths import data_clean_dir\n"
        "from settlement_research.reports.results import results_path\n"
        'ids = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")["person_id"].head(3).to_list()\n'
        '(results_path().parent / "leak.csv").write_text("\\n".join(ids))\n', "utf-8")
    out = tmp_path / "one"
    outcome = run_notebook(template, {}, out)
    assert outcome.status == "failed" and "stray_file" in (outcome.error or "")
    assert not list(out.iterdir())
    batch = tmp_path / "batch"
    manifest = run_batch(template, [{}], batch, workers=1, progress=False)
    assert manifest["stray_files_withheld"] == 1
    assert not (batch / "leak.csv").exists()


def test_a_register_count_drawn_into_a_forged_chart_is_withheld(clean_env: Path, tmp_path: Path) -> None:
    """The breaker's known limit of session 4: the template forgets what the chart hook read. A PNG
    is withheld because the clean gate cannot read its text; an SVG's text it reads itself."""
    out = tmp_path / "chart"
    outcome = run_notebook(NOTEBOOKS / "forged_chart.py", {"how": "png"}, out)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or "")
    assert {f["kind"] for f in outcome.findings} == {"unreadable_image"}
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("how", ["svg_title", "svg_mathtext", "svg_annotation"])
def test_the_clean_gate_reads_a_forged_svg_chart_itself(clean_env: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "chart"
    outcome = run_notebook(NOTEBOOKS / "forged_chart.py", {"how": how}, out)
    assert outcome.status == "failed" and "disclosure check failed" in (outcome.error or "")
    findings = [f for f in outcome.findings if f["kind"] == "small_count"]
    assert any("chart" in f["where"] for f in findings), outcome.findings  # read by the clean gate itself
    assert not out.exists() or not list(out.iterdir())
