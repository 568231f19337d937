"""Do two synth outputs or two builds hold the same data?  (a check for performance changes)

    .venv/bin/python benchmarks/check_same.py DIR_A DIR_B

A folder with a MANIFEST.json is a build (data_clean): every Parquet table (quarantine included)
must have the same schema and content, and the manifest the same row counts and warnings. Any
other folder is a synth output (data_raw/<source>): every file must be byte-identical. Float
columns may differ by 1e-12 relative at most (a build that sums floats in parallel threads is not
bit-reproducible); such columns are listed. Exit code 0 = same, 1 = different.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import polars as pl

FLOAT_TOLERANCE = 1e-12


def _files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root) for p in root.rglob("*")
        if p.is_file() and p.name != "MANIFEST.json" and not p.name.startswith(".")
    )


def _same_frames(a: pl.DataFrame, b: pl.DataFrame) -> tuple[bool, list[str]]:
    """(same, float columns that differ within the tolerance)."""
    if a.schema != b.schema or a.height != b.height:
        return False, []
    if a.equals(b, null_equal=True):
        return True, []
    floats = [c for c, t in a.schema.items() if t.is_float()]
    exact = [c for c in a.columns if c not in floats]
    if not a.select(exact).equals(b.select(exact), null_equal=True):
        return False, []
    noisy = []
    for c in floats:
        x, y = a[c], b[c]
        if not (x.is_null() == y.is_null()).all():
            return False, []
        rel = ((x - y).abs() / x.abs().clip(lower_bound=1e-300)).fill_null(0).fill_nan(0).max()
        if rel is not None and rel > FLOAT_TOLERANCE:
            return False, []
        if rel:
            noisy.append(c)
    return True, noisy


def compare(a: Path, b: Path) -> list[str]:
    """Differences between two folders (empty = same); float-noise notes start with 'note:'."""
    out: list[str] = []
    fa, fb = _files(a), _files(b)
    if fa != fb:
        out.append(f"file sets differ: {sorted(map(str, set(fa) ^ set(fb)))}")
    build = (a / "MANIFEST.json").is_file()
    for rel in fa:
        x, y = a / rel, b / rel
        if not y.is_file():
            continue
        if build and rel.suffix == ".parquet":
            same, noisy = _same_frames(pl.read_parquet(x), pl.read_parquet(y))
            if not same:
                out.append(f"{rel}: content differs")
            elif noisy:
                out.append(f"note: {rel}: float columns {', '.join(noisy)} differ within {FLOAT_TOLERANCE:g}")
        elif hashlib.sha256(x.read_bytes()).digest() != hashlib.sha256(y.read_bytes()).digest():
            out.append(f"{rel}: bytes differ")
    if build:
        ma = json.loads((a / "MANIFEST.json").read_text())["sources"]
        mb = json.loads((b / "MANIFEST.json").read_text())["sources"]
        for source in sorted(set(ma) | set(mb)):
            ea, eb = ma.get(source, {}), mb.get(source, {})
            for key in ("outputs", "quarantine"):
                counts = [
                    [(o.get("table"), o.get("rows"), o.get("quarantined_rows"), o.get("warnings")) for o in e.get(key, [])]
                    for e in (ea, eb)
                ]
                if counts[0] != counts[1]:
                    out.append(f"MANIFEST {source} {key}: row counts differ")
            if ea.get("warnings") != eb.get("warnings"):
                out.append(f"MANIFEST {source}: warnings differ")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    diffs = compare(Path(args[0]), Path(args[1]))
    for line in diffs:
        print(line)
    real = [d for d in diffs if not d.startswith("note:")]
    print("SAME" if not real else "DIFFERENT")
    return 1 if real else 0


if __name__ == "__main__":
    sys.exit(main())
