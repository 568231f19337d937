"""``make demo``: everything a newcomer needs to see the package work, from nothing, in minutes.

    synth (scale 1, unless data_raw/synthetic already holds those parameters)
    -> build (data_raw -> data_clean; unchanged inputs are not rebuilt)
    -> validate (the catalog loads every clean table through its model)
    -> reports (each hook in REPORT_HOOKS; later work adds its own)
    -> print where the outputs are.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settlement_research import paths

SYNTHETIC = "synthetic"


@dataclass
class DemoContext:
    """What the steps share: where things are and what each step produced."""

    scale: float
    seed: int
    raw_dir: Path
    clean_dir: Path
    reports_dir: Path
    outputs: dict[str, list[Path]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# steps
# --------------------------------------------------------------------------------------------

def synth_parameters(folder: Path) -> dict[str, Any]:
    """Scale and seed recorded in a synthetic folder's PROVENANCE.json ({} if absent)."""
    path = folder / "PROVENANCE.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError:
        return {}
    found: dict[str, Any] = {}
    for where in (data, data.get("parameters"), data.get("generator"), data.get("synthetic")):
        if isinstance(where, dict):
            for key in ("scale", "seed"):
                if key in where and key not in found:
                    found[key] = where[key]
    return found


def needs_synth(folder: Path, scale: float, seed: int) -> bool:
    found = synth_parameters(folder)
    try:
        return float(found.get("scale")) != float(scale) or int(found.get("seed")) != int(seed)
    except (TypeError, ValueError):
        return True


def step_synth(ctx: DemoContext) -> None:
    """Generate the synthetic register unless it is there with the same scale and seed."""
    folder = ctx.raw_dir / SYNTHETIC
    if not needs_synth(folder, ctx.scale, ctx.seed):
        print(f"demo: {folder} already holds scale {ctx.scale:g}, seed {ctx.seed}; not regenerated")
        return
    from settlement_research.cli import COMMANDS, main

    if "synth" not in COMMANDS:
        raise RuntimeError("the `synth` command is not available (settlement_research.sources.synthetic)")
    rc = main(["synth", "--scale", f"{ctx.scale:g}", "--seed", str(ctx.seed)])
    if rc:
        raise RuntimeError(f"synth failed (exit code {rc})")
    ctx.outputs["raw"] = [folder]


def step_build(ctx: DemoContext) -> None:
    from settlement_research.build import build

    build(ctx.raw_dir, ctx.clean_dir)
    ctx.outputs["clean"] = [ctx.clean_dir, ctx.clean_dir / "MANIFEST.json"]


def step_validate(ctx: DemoContext) -> None:
    """Load every clean table through the catalog (which validates it against its model)."""
    from settlement_research import catalog

    n = 0
    for source in catalog.sources():
        for table in catalog.tables(source):
            catalog.load(table, source)
            n += 1
    if n == 0:
        raise RuntimeError(f"no clean tables in {ctx.clean_dir}")
    print(f"demo: {n} clean table(s) load and validate through the catalog")


def run_notebooks(ctx: DemoContext) -> list[Path]:
    """Each notebook in notebooks/ through the report runner (skipped if the runner is absent)."""
    if importlib.util.find_spec("settlement_research.reports.runner") is None:
        print("demo: no report runner yet; notebooks skipped")
        return []
    from settlement_research.reports.runner import run_notebook

    folder = paths.project_root() / "notebooks"
    written: list[Path] = []
    for notebook in sorted(folder.glob("[0-9]*.py")):
        out = ctx.reports_dir / notebook.stem
        start = time.perf_counter()
        outcome = run_notebook(notebook, out=out)
        took = time.perf_counter() - start
        print(f"demo: notebook {notebook.stem}: {outcome.status} ({took:.1f} s)")
        if outcome.status != "ok":
            ctx.failures.append(f"notebook {notebook.stem}: {outcome.error}")
        elif outcome.html:
            written.append(out / outcome.html)
    return written


def render_profiles(ctx: DemoContext) -> list[Path]:
    """A municipality profile for every municipality (batch, cached), plus its index.html.

    All 428 at scale 1 take about 3 minutes on 2 cores the first time and seconds afterwards
    (every profile is reused until the data, the template or the code's settings change).
    """
    if importlib.util.find_spec("settlement_research.reports.batch") is None:
        print("demo: no batch reports yet; profiles skipped")
        return []
    from settlement_research.reports.batch import INDEX, expand_grid, parse_grid, run_batch

    template = paths.project_root() / "notebooks" / "municipality_profile.py"
    if not template.is_file():
        print("demo: notebooks/municipality_profile.py missing; profiles skipped")
        return []
    out = ctx.reports_dir / template.stem
    parameter_sets = expand_grid(parse_grid(["kommune_nr=all"], source=SYNTHETIC), {"source": SYNTHETIC})
    start = time.perf_counter()
    manifest = run_batch(template, parameter_sets, out, progress=sys.stderr.isatty())
    reports = manifest["reports"]
    cached = sum(1 for r in reports if r.get("cached"))
    print(f"demo: {len(reports)} municipality profiles, {len(reports) - manifest['failed']} ok "
          f"({cached} from cache), {manifest['failed']} failed ({time.perf_counter() - start:.0f} s); "
          f"index: {out / INDEX}")
    for r in reports:
        if r.get("status") != "ok":
            ctx.failures.append(f"profile {r['name']}: {r.get('error')}")
    pages = sorted(p for p in out.glob("*.html") if p.name != INDEX)
    return [out / INDEX, *pages]


# Later work appends (name, hook): a hook renders something from data_clean and returns the paths
# it wrote; a failure it records in ctx.failures makes the demo exit non-zero.
REPORT_HOOKS: list[tuple[str, Callable[[DemoContext], list[Path]]]] = [
    ("notebooks", run_notebooks),
    ("municipality profiles", render_profiles),
]


# --------------------------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------------------------

@contextmanager
def _paths_env(raw: Path, clean: Path) -> Iterator[None]:
    """Point paths.py (and subprocesses such as notebook kernels) at the demo's folders."""
    keys = {"SETTLEMENT_RESEARCH_RAW": str(raw), "SETTLEMENT_RESEARCH_CLEAN": str(clean)}
    before = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_demo(
    scale: float = 1.0,
    seed: int = 2014,
    *,
    raw_dir: Path | None = None,
    clean_dir: Path | None = None,
    reports_dir: Path | None = None,
    hooks: list[tuple[str, Callable[[DemoContext], list[Path]]]] | None = None,
) -> DemoContext:
    ctx = DemoContext(
        scale=scale, seed=seed,
        raw_dir=Path(raw_dir or paths.data_raw_dir()),
        clean_dir=Path(clean_dir or paths.data_clean_dir()),
        reports_dir=Path(reports_dir or paths.project_root() / "reports"),
    )
    ctx.raw_dir.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, Callable[[DemoContext], Any]]] = [
        ("synth", step_synth), ("build", step_build), ("validate", step_validate),
    ]
    with _paths_env(ctx.raw_dir, ctx.clean_dir):
        for name, step in steps:
            start = time.perf_counter()
            step(ctx)
            ctx.timings[name] = time.perf_counter() - start
        for name, hook in REPORT_HOOKS if hooks is None else hooks:
            start = time.perf_counter()
            ctx.outputs[name] = hook(ctx)
            ctx.timings[name] = time.perf_counter() - start
    return ctx


def print_outputs(ctx: DemoContext) -> None:
    print("\ndemo finished in {:.0f} s ({})".format(
        sum(ctx.timings.values()), ", ".join(f"{k} {v:.0f} s" for k, v in ctx.timings.items())))
    print(f"  raw data:     {ctx.raw_dir}")
    print(f"  clean data:   {ctx.clean_dir}  (MANIFEST.json lists every file and its checksum)")
    print("  in Python:    import settlement_research as sr; sr.load('kommune_settlement_year')")
    for name, written in ctx.outputs.items():
        if name in ("raw", "clean") or not written:
            continue
        print(f"  {name}: {len(written)} file(s), start at {written[0]}")
    for failure in ctx.failures:
        print(f"  FAILED {failure}")


CLI_HELP = "synthesise, build, validate and render everything at scale 1"


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic scale (1 = national numbers)")
    parser.add_argument("--seed", type=int, default=2014, help="synthetic seed")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.build import BuildError

    try:
        ctx = run_demo(args.scale, args.seed)
    except (BuildError, RuntimeError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print_outputs(ctx)
    return 1 if ctx.failures else 0


__all__ = [
    "REPORT_HOOKS", "DemoContext", "needs_synth", "render_profiles", "run_demo", "run_notebooks", "synth_parameters",
]
