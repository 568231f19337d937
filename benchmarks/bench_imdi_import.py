"""Importing the 30 real IMDi files: the whole import, and reading them with one decode per file
against the former two (decode for the truncation check, decode again in the reader), same run.

    python benchmarks/bench_imdi_import.py [--repeat 3]

Needs ../shared/real_data (exits 0 with a note when it is absent). Prints median seconds and
ratios; writes benchmarks/results/imdi_import.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from timing import median_time  # benchmarks/ is on sys.path when a script runs

from settlement_research.paths import shared_real_data
from settlement_research.sources.imdi import import_files
from settlement_research.sources.imdi.coverage import truncation
from settlement_research.sources.imdi.importer import read_export
from settlement_research.sources.imdi.layouts import decode, detect_layout, read_bytes


def real_files(folder: Path) -> list[Path]:
    files = sorted((folder / "imdi_2015_flat").glob("*.csv")) + sorted((folder / "imdi_2015_raw").glob("*.csv"))
    return files + [folder / "misc" / "imdi_bosatt_anmodede_wide_per_2022-09.csv",
                    folder / "misc" / "imdi_flyktning_botid_flytting_wide.csv"]




def read_twice(files: list[Path]) -> None:
    """The former read path: decode for the truncation check, then the reader decodes again."""
    for path in files:
        data = path.read_bytes()
        text, _ = decode(data, str(path))
        truncation(text, detect_layout(text))
        read_bytes(data, path.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    folder = shared_real_data()
    if folder is None:
        print("../shared/real_data is not present: nothing to measure")
        return 0
    files = real_files(folder)
    once = median_time(lambda: [read_export(p) for p in files], args.repeat, warmup=True)
    twice = median_time(lambda: read_twice(files), args.repeat, warmup=True)
    whole = median_time(lambda: import_files(files), args.repeat, warmup=True)
    result = {
        "files": len(files), "repeat": args.repeat,
        "read_one_decode_s": round(once, 3), "read_two_decodes_s": round(twice, 3),
        "read_ratio_once_over_twice": round(once / twice, 3),
        "import_all_s": round(whole, 3), "import_over_read": round(whole / once, 2),
    }
    for k, v in result.items():
        print(f"{k:>28}: {v}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "imdi_import.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
