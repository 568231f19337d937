"""Batch rendering: grid expansion, failure isolation, cache, manifest and index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from settlement_research import cli, sdc
from settlement_research.reports.batch import (
    _reusable,
    expand_grid,
    expand_values,
    parse_grid,
    report_stem,
)
from settlement_research.reports.pool import Job, WorkerPool, WorkerSettings
from settlement_research.reports.provenance import cache_key

NOTEBOOKS = Path(__file__).parent / "notebooks"


def test_grid_values_stay_strings(clean_env: Path) -> None:
    assert expand_values("kommune_nr", "all") == ["0301", "0501", "1037", "1201"]
    assert expand_values("kommune_nr", "0301..0303") == ["0301", "0302", "0303"]
    assert expand_values("year", "2012..2014") == ["2012", "2013", "2014"]
    assert expand_values("kommune_nr", "0301, 1201,0301") == ["0301", "1201"]
    for bad in ("2014..2012", " , "):
        with pytest.raises(ValueError):
            expand_values("year", bad)
    with pytest.raises(ValueError, match="only defined for kommune_nr"):
        expand_values("year", "all")
    grid = parse_grid(["kommune_nr=0301,1037", "year=2012..2013"])
    sets = expand_grid(grid, {"source": "synthetic"})
    assert len(sets) == 4 and sets[0] == {"source": "synthetic", "kommune_nr": "0301", "year": "2012"}
    assert all(isinstance(v, str) for s in sets for v in s.values())


def test_stems_are_safe_and_distinct() -> None:
    assert report_stem({"kommune_nr": "0301", "year": "2012"}) == "kommune_nr-0301__year-2012"
    odd = [report_stem({"label": v}) for v in ("a/b", "a b", "a?b")]
    assert len(set(odd)) == 3 and all("/" not in s and " " not in s for s in odd)


def test_cache_key_changes_with_template_parameters_and_data() -> None:
    base = cache_key("t1", {"kommune_nr": "0301"}, "d1", sdc_threshold=5)
    assert base == cache_key("t1", {"kommune_nr": "0301"}, "d1", sdc_threshold=5)
    others = [
        cache_key("t2", {"kommune_nr": "0301"}, "d1", sdc_threshold=5),
        cache_key("t1", {"kommune_nr": "301"}, "d1", sdc_threshold=5),
        cache_key("t1", {"kommune_nr": "0301"}, "d2", sdc_threshold=5),
        cache_key("t1", {"kommune_nr": "0301"}, "d1", sdc_threshold=3),
    ]
    assert base not in others and len(set(others)) == 4


def _report(out: Path, *extra: str) -> int:
    return cli.main(["report", str(NOTEBOOKS / "profile.py"), "--grid", "kommune_nr=all", "--source", "synthetic",
                     "--out", str(out), "--workers", "2", "--no-progress", *extra])


@pytest.mark.slow
def test_batch_failure_isolation_cache_manifest_and_index(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SR_TEST_FAIL", "1201")
    out = tmp_path / "profile"
    assert _report(out) == 1  # one report failed -> non-zero, after all the others were rendered
    manifest = json.loads((out / "manifest.json").read_text())
    status = {r["parameters"]["kommune_nr"]: r for r in manifest["reports"]}
    assert list(status) == ["0301", "0501", "1037", "1201"]
    assert status["1201"]["status"] == "failed" and "deliberate failure for 1201" in status["1201"]["error"]
    assert all(status[k]["status"] == "ok" for k in ("0301", "0501", "1037"))
    assert all(r["parameters"]["source"] == "synthetic" for r in manifest["reports"])
    assert status["0301"]["html"] == "kommune_nr-0301.html"  # named by the varying parameter
    assert status["1037"]["results"]["settled"] is None and status["0501"]["results"]["settled"] == 12
    assert manifest["data_manifest_hash"] == hashlib.sha256((clean_env / "MANIFEST.json").read_bytes()).hexdigest()
    assert manifest["template_hash"] == hashlib.sha256((NOTEBOOKS / "profile.py").read_bytes()).hexdigest()
    assert {"git_commit", "created", "duration_s"} <= set(manifest)
    assert all(r["duration_s"] > 0 and r["cache_key"] for r in manifest["reports"])
    index = (out / "index.html").read_text()
    assert index.count("<tr class=") == 4 and 'data-status="failed"' in index
    assert '<td class="num" data-sdc="suppressed">:</td>' in index  # 1037's settled
    assert not [f for f in sdc.check_html(index, ids=sdc.audit.identifier_values()) if f.kind == "identifier"]
    assert "<script src" not in index and "<link" not in index  # offline
    html_1037 = (out / status["1037"]["html"]).read_text()
    assert 'data-sdc="suppressed"' in html_1037 and "import polars" not in html_1037

    # Second run: the three good reports come from the cache, the failed one is rendered again.
    mtimes = {k: (out / status[k]["html"]).stat().st_mtime_ns for k in ("0301", "0501", "1037")}
    monkeypatch.delenv("SR_TEST_FAIL")
    assert _report(out) == 0
    second = {r["parameters"]["kommune_nr"]: r for r in json.loads((out / "manifest.json").read_text())["reports"]}
    assert [k for k, r in second.items() if r["cached"]] == ["0301", "0501", "1037"]
    assert second["1201"]["status"] == "ok" and not second["1201"]["cached"]
    assert mtimes == {k: (out / status[k]["html"]).stat().st_mtime_ns for k in mtimes}

    # Third run renders nothing at all.
    assert _report(out) == 0
    third = json.loads((out / "manifest.json").read_text())
    assert third["rendered"] == 0 and all(r["cached"] for r in third["reports"])
    # ... and a report whose output went missing would not be reused.
    entry = third["reports"][1]
    assert _reusable(entry, entry["cache_key"], out)
    assert not _reusable(entry, "another key", out)
    (out / entry["html"]).unlink()
    assert not _reusable(entry, entry["cache_key"], out)


def test_worker_pool_isolates_state_crashes_and_keeps_going(clean_env: Path, tmp_path: Path) -> None:
    fails = str(NOTEBOOKS / "fails.py")
    jobs = [
        Job(0, str(NOTEBOOKS / "set_state.py"), {}, str(tmp_path), "set"),
        Job(1, str(NOTEBOOKS / "check_state.py"), {}, str(tmp_path), "check"),
        Job(2, fails, {"kommune_nr": "0301", "crash_on": "0301"}, str(tmp_path), "crash"),
        Job(3, fails, {"kommune_nr": "0501"}, str(tmp_path), "after"),
    ]
    done: dict[str, dict] = {}
    WorkerPool(1, WorkerSettings()).run(jobs, lambda job, outcome: done.__setitem__(job.stem, outcome))
    assert done["set"]["status"] == "ok"
    assert done["check"]["status"] == "ok", done["check"].get("error")  # same worker, no leaked state
    assert done["crash"]["status"] == "failed" and "died" in done["crash"]["error"] and "exit code 3" in done["crash"]["error"]
    after = done["after"]["results"]
    assert done["after"]["status"] == "ok" and {k: v for k, v in after.items() if k not in ("provenance", "data")} == {
        "kommune_nr": "0501", "length": 4}
    assert after["data"]["synthetic"] is True  # every results.json says which data it shows
    assert after["provenance"]["parameters"] == {"kommune_nr": "0501"}  # every results.json carries it


def test_the_next_report_renders_while_the_last_one_is_judged(clean_env: Path, tmp_path: Path) -> None:
    """The worker gets its next job before the parent's gate judges the finished one (the gate
    runs in the parent, so a worker waiting for it would idle for the gate's time per report)."""
    fails = str(NOTEBOOKS / "fails.py")
    jobs = [Job(i, fails, {"kommune_nr": "0501"}, str(tmp_path), f"r{i}") for i in range(3)]
    pool = WorkerPool(1, WorkerSettings())
    in_flight: list[str | None] = []

    def on_done(job: Job, outcome: dict) -> None:
        assert outcome["status"] == "ok", outcome.get("error")
        worker = pool.workers[0] if pool.workers else None
        in_flight.append(worker.job.stem if worker is not None and worker.job is not None else None)

    pool.run(jobs, on_done)
    assert in_flight == ["r1", "r2", None]


def test_a_prewarmed_fork_server_serves_the_pool(clean_env: Path, tmp_path: Path) -> None:
    """``prewarm`` starts the fork server before the cache check; the pool then uses that server
    (started once), and a second prewarm is a no-op."""
    from multiprocessing import forkserver

    from settlement_research.reports.pool import prewarm

    prewarm()
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    prewarm()
    assert forkserver._forkserver._forkserver_pid == server  # type: ignore[attr-defined]
    done: dict[str, dict] = {}
    WorkerPool(1, WorkerSettings()).run([Job(0, str(NOTEBOOKS / "fails.py"), {"kommune_nr": "0501"}, str(tmp_path), "a")],
                                        lambda job, outcome: done.__setitem__(job.stem, outcome))
    assert done["a"]["status"] == "ok", done["a"].get("error")
    assert forkserver._forkserver._forkserver_pid == server  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_hung_report_times_out_and_the_next_one_runs(clean_env: Path, tmp_path: Path) -> None:
    fails = str(NOTEBOOKS / "fails.py")
    jobs = [Job(0, fails, {"kommune_nr": "0301", "sleep_s": "60"}, str(tmp_path), "hung"),
            Job(1, fails, {"kommune_nr": "0501"}, str(tmp_path), "next")]
    done: dict[str, dict] = {}
    WorkerPool(1, WorkerSettings(), timeout=2).run(jobs, lambda job, outcome: done.__setitem__(job.stem, outcome))
    assert done["hung"]["status"] == "failed" and done["hung"]["error"] == "timed out after 2 s"
    assert done["next"]["status"] == "ok"
