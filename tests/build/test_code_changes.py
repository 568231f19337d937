"""Caches know the code: a constant edited in a scratch copy of the package rebuilds and re-renders.

The package is copied to a temporary folder, put first on the path (PYTHONPATH) of subprocesses,
and edited there, exactly as a developer changing ``derive.py`` in a checkout would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from build_toysource import write_raw

import settlement_research

HERE = Path(__file__).resolve().parent
PACKAGE = Path(settlement_research.__file__).resolve().parent

BUILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(1, {here!r})
    import build_toysource as toy
    import settlement_research
    from settlement_research.build import build
    reports = build({raw!r}, {out!r}, sources={{"toy": toy}}, check_relations=lambda f: [], log=lambda m: None)
    print(json.dumps({{"package": settlement_research.__file__, "status": [r.status for r in reports]}}))
""")

REPORT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from settlement_research.reports.batch import run_batch
    m = run_batch({template!r}, [{{"kommune_nr": "0301"}}], Path({out!r}), workers=1, progress=False)
    print(json.dumps({{"cached": [r.get("cached") for r in m["reports"]],
                       "status": [r.get("status") for r in m["reports"]], "code_hash": m["code_hash"]}}))
""")

TEMPLATE = textwrap.dedent('''
    # %% tags=["parameters"]
    kommune_nr = "0301"

    # %%
    from settlement_research.derive import SETTLED_ROUTES

    print(kommune_nr, "counts routes", SETTLED_ROUTES)
''')


@pytest.fixture()
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "scratch"
    shutil.copytree(PACKAGE, root / "settlement_research", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _run(script: str, scratch: Path, tmp_path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(scratch), "SETTLEMENT_RESEARCH_CLEAN": str(tmp_path / "clean"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def test_a_constant_changed_in_derive_rebuilds_the_tables_and_re_renders_the_report(scratch: Path, tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    template = tmp_path / "routes.py"
    template.write_text(TEMPLATE, "utf-8")
    reports = tmp_path / "reports"
    build = BUILD.format(here=str(HERE), raw=str(raw), out=str(out))
    report = REPORT.format(template=str(template), out=str(reports))

    first = _run(build, scratch, tmp_path)
    assert first["status"] == ["built"] and first["package"].startswith(str(scratch))
    settled_before = pl.read_parquet(out / "toy" / "kommune_settlement_year.parquet")["settled"].sum()
    assert _run(build, scratch, tmp_path)["status"] == ["up_to_date"]
    rendered = _run(report, scratch, tmp_path)
    assert rendered["status"] == ["ok"] and rendered["cached"] == [False]
    assert _run(report, scratch, tmp_path)["cached"] == [True]

    _edit(scratch / "settlement_research" / "derive.py",
          'SETTLED_ROUTES: tuple[str, ...] = ("ordinary", "agreed_self")',
          'SETTLED_ROUTES: tuple[str, ...] = ("ordinary",)')

    assert _run(build, scratch, tmp_path)["status"] == ["built"]  # the code changed, not the data
    settled_after = pl.read_parquet(out / "toy" / "kommune_settlement_year.parquet")["settled"].sum()
    assert settled_after < settled_before
    again = _run(report, scratch, tmp_path)
    assert again["cached"] == [False] and again["code_hash"] != rendered["code_hash"]
    html = (reports / "kommune_nr-0301.html").read_text("utf-8")
    assert "counts routes" in html and "ordinary" in html and "agreed_self" not in html


def test_editing_analysis_code_a_template_imports_changes_its_report_key(scratch: Path, tmp_path: Path) -> None:
    """notebooks/municipality_profile.py imports analysis/profile.py: an edit there re-renders."""
    script = textwrap.dedent("""
        import json
        from pathlib import Path
        from settlement_research.pipeline.codehash import build_code_hash, report_code_hash
        template = Path({template!r})
        print(json.dumps({{"report": report_code_hash(template),
                           "build": build_code_hash("settlement_research.sources.synthetic")}}))
    """).format(template=str(PACKAGE.parents[1] / "notebooks" / "municipality_profile.py"))
    if not (PACKAGE.parents[1] / "notebooks" / "municipality_profile.py").is_file():
        pytest.skip("the municipality profile template is not next to the package")
    before = _run(script, scratch, tmp_path)
    profile = scratch / "settlement_research" / "analysis" / "profile.py"
    profile.write_text(profile.read_text("utf-8") + "\nEDITED_CONSTANT = 1\n", "utf-8")
    after = _run(script, scratch, tmp_path)
    assert after["report"] != before["report"]
    assert after["build"] == before["build"]  # the build does not depend on the profile page's code
