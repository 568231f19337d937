"""demo.py: the steps run in order on a toy source, and synth is skipped when parameters match."""

from __future__ import annotations

import json
from pathlib import Path

import build_toysource as toy
import pytest

import settlement_research.build as build_mod
import settlement_research.demo as demo


def test_needs_synth_reads_scale_and_seed_from_provenance(tmp_path: Path) -> None:
    folder = tmp_path / "synthetic"
    assert demo.needs_synth(folder, 1, 2014)  # missing
    folder.mkdir()
    (folder / "PROVENANCE.json").write_text(json.dumps({"source": "synthetic", "parameters": {"scale": 1, "seed": 2014}}))
    assert not demo.needs_synth(folder, 1.0, 2014)
    assert demo.needs_synth(folder, 2, 2014)
    assert demo.needs_synth(folder, 1, 7)


def test_demo_synthesises_builds_validates_and_runs_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def fake_synth(ctx: demo.DemoContext) -> None:
        calls.append("synth")
        toy.write_raw(ctx.raw_dir)

    def hook(ctx: demo.DemoContext) -> list[Path]:
        calls.append("hook")
        out = ctx.reports_dir / "x.html"
        out.parent.mkdir(parents=True)
        out.write_text("ok")
        return [out]

    monkeypatch.setattr(demo, "step_synth", fake_synth)
    monkeypatch.setattr(build_mod, "SOURCE_MODULES", {"toy": toy})
    ctx = demo.run_demo(raw_dir=tmp_path / "raw", clean_dir=tmp_path / "clean",
                        reports_dir=tmp_path / "reports", hooks=[("reports", hook)])
    assert calls == ["synth", "hook"]
    assert (tmp_path / "clean" / "toy" / "person.parquet").is_file()
    assert ctx.outputs["reports"] == [tmp_path / "reports" / "x.html"]
    assert list(ctx.timings) == ["synth", "build", "validate", "reports"]


def test_demo_validation_step_fails_on_a_broken_clean_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "step_synth", lambda ctx: toy.write_raw(ctx.raw_dir))
    monkeypatch.setattr(build_mod, "SOURCE_MODULES", {"toy": toy})
    monkeypatch.setattr(demo, "step_build", lambda ctx: (ctx.clean_dir / "toy").mkdir(parents=True)
                        or (ctx.clean_dir / "toy" / "person.parquet").write_bytes(b"not parquet"))
    with pytest.raises(Exception, match="person"):
        demo.run_demo(raw_dir=tmp_path / "raw", clean_dir=tmp_path / "clean",
                      reports_dir=tmp_path / "reports", hooks=[])
