"""What row-level lineage costs: build time with and without it, and its size.

    .venv/bin/python benchmarks/bench_lineage.py [--scale 1] [--repeat 3] [--real-data ../shared/real_data]

In one run, on one synthetic extract: ``build --force`` in this process, alternately with lineage
on and off (``pipeline.lineage.ENABLED``), medians and ratio = with / without. Size: the lineage
folder against the clean tables it describes (bytes and rows). With real IMDi exports present, the
import's share: ``import_files`` against the lineage it writes (``lineage_imdi.import_lineage``),
and the build of that import with and without lineage. Speed is measured, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from timing import median_time as _median  # benchmarks/ is on sys.path when a script runs


def _alternate(build_once: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median with lineage, median without), runs alternating so load drifts hit both."""
    from settlement_research.pipeline import lineage

    on, off = [], []
    build_once()  # warm-up: imports, first-call costs
    for _ in range(repeat):
        for enabled, into in ((True, on), (False, off)):
            lineage.ENABLED = enabled
            start = time.perf_counter()
            build_once()
            into.append(time.perf_counter() - start)
    lineage.ENABLED = True
    build_once()  # leave the folder with its lineage, to measure its size
    return statistics.median(on), statistics.median(off)


def _size(folder: Path) -> tuple[int, int]:
    files = sorted(folder.glob("*.parquet"))
    return (sum(p.stat().st_size for p in files),
            sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in files))


def synthetic(scale: float, repeat: int) -> None:
    from settlement_research.build import build
    from settlement_research.sources.synthetic.writer import write_register

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_register(root / "raw" / "synthetic", scale=scale, seed=2014)
        on, off = _alternate(lambda: build(root / "raw", root / "clean", force=True, log=lambda _m: None), repeat)
        clean = root / "clean" / "synthetic"
        (data_bytes, data_rows), (lin_bytes, lin_rows) = _size(clean), _size(clean / "lineage")
        print(f"synthetic scale {scale}: build --force with lineage {on:.2f} s, without {off:.2f} s, "
              f"ratio {on / off:.2f} (medians of {repeat}, alternating)")
        print(f"  lineage {lin_bytes / 1e6:.2f} MB, {lin_rows:,} rows for {data_rows:,} clean rows "
              f"({data_bytes / 1e6:.2f} MB): {lin_bytes / data_bytes:.2f}x the clean tables' bytes")


def real(folder: Path, repeat: int) -> None:
    from settlement_research.build import build
    from settlement_research.pipeline import lineage_imdi
    from settlement_research.sources import imdi

    files = sorted((folder / "imdi_2015_flat").glob("*.csv")) + sorted((folder / "imdi_2015_raw").glob("*.csv"))
    result = imdi.import_files(files)
    t_import = _median(lambda: imdi.import_files(files), repeat)
    t_lineage = _median(lambda: lineage_imdi.import_lineage(result), repeat)
    print(f"real IMDi 2015 ({len(files)} files): import_files {t_import:.2f} s, its lineage {t_lineage:.2f} s "
          f"(ratio {(t_import + t_lineage) / t_import:.2f})")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        imdi.write_outputs(result, root / "raw" / "imdi")
        on, off = _alternate(lambda: build(root / "raw", root / "clean", force=True, log=lambda _m: None), repeat)
        clean = root / "clean" / "imdi"
        (data_bytes, data_rows), (lin_bytes, lin_rows) = _size(clean), _size(clean / "lineage")
        print(f"  build --force with lineage {on:.2f} s, without {off:.2f} s, ratio {on / off:.2f}")
        print(f"  lineage {lin_bytes / 1e6:.2f} MB, {lin_rows:,} rows for {data_rows:,} clean rows "
              f"({data_bytes / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real-data", type=Path, default=None, help="the shared real_data folder (optional)")
    args = parser.parse_args()
    synthetic(args.scale, args.repeat)
    folder = args.real_data
    if folder is None:
        from settlement_research.paths import shared_real_data

        folder = shared_real_data()
    if folder is not None and (folder / "imdi_2015_flat").is_dir():
        real(folder, args.repeat)


if __name__ == "__main__":
    main()
