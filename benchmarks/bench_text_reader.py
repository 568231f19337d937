"""The cost of reading CSV through ``textio.read_text_table`` (encoding rule, line numbers,
completeness checks) against a plain ``polars.read_csv`` of the same bytes, same run.

    python benchmarks/bench_text_reader.py [--rows 200000] [--repeat 5]

Prints the median seconds of each and their ratio; writes benchmarks/results/text_reader.json.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import polars as pl
from timing import median_time  # benchmarks/ is on sys.path when a script runs

from settlement_research.textio import read_text_table


def make_csv(rows: int) -> bytes:
    frame = pl.DataFrame({
        "kommune_nr": [f"{1000 + i % 9000:04d}" for i in range(rows)],
        "year": [str(2010 + i % 15) for i in range(rows)],
        "name": ["Drøssesund" if i % 7 else "Two, \"quoted\"" for i in range(rows)],
        "value": [f"{(i * 37) % 1000 / 10:.1f}" for i in range(rows)],
        "symbol": ["" if i % 11 else ":" for i in range(rows)],
    })
    buf = io.BytesIO()
    frame.write_csv(buf, separator=";")
    return buf.getvalue()




def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = make_csv(args.rows)
    def plain_read() -> pl.DataFrame:  # what validation did before: polars, empty cells as null
        return pl.read_csv(io.BytesIO(data), separator=";", infer_schema=False).with_columns(
            pl.all().replace("", None)
        )

    plain = median_time(plain_read, args.repeat, warmup=True)
    checked = median_time(lambda: read_text_table(data, name="bench.csv").frame(), args.repeat, warmup=True)
    same = read_text_table(data, name="bench.csv").frame().equals(plain_read())
    result = {"rows": args.rows, "bytes": len(data), "plain_polars_s": round(plain, 4),
              "read_text_table_s": round(checked, 4), "ratio": round(checked / plain, 2), "same_frame": same}
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "text_reader.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
