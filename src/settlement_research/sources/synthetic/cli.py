"""``settlement-research synth``: write the synthetic register extract (the default demo data)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from settlement_research import paths

CLI_HELP = "generate the synthetic register extract (calibrated, with known effects) into data_raw/synthetic"


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = the published national numbers (~40 000 persons); 0.02 for tests, 30 for ~1 million")
    parser.add_argument("--seed", type=int, default=2014, help="random seed (same seed and scale = identical files)")
    parser.add_argument("--municipalities", type=Path, default=None, metavar="FILE",
                        help="real municipality frame (CSV/Parquet: kommune_nr, kommune_name, fylke_nr, population) "
                             "instead of the 428 fictional 2014 municipalities")
    for name, what in (("hidden-confounder", "unrecorded motivation driving both moves and work"),
                       ("reverse-causation", "an early job leading to a move"),
                       ("route-selection", "motivated households choosing agreed self-settlement")):
        parser.add_argument(f"--{name}", type=float, default=0.0, metavar="STRENGTH",
                            help=f"switch on {what} (0 = off, 1 = the documented strength; see generator.Switches)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: data_raw/synthetic under the project root)")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.sources.synthetic.generator import Switches
    from settlement_research.sources.synthetic.writer import write_register

    out = args.out if args.out is not None else paths.data_raw_dir() / "synthetic"
    if not 0 < args.scale <= 100:
        print(f"synth: --scale must be in (0, 100], got {args.scale}")
        return 2
    started = time.perf_counter()
    try:
        switches = Switches(args.hidden_confounder, args.reverse_causation, args.route_selection)
        prov = write_register(out, scale=args.scale, seed=args.seed, municipalities_file=args.municipalities,
                              switches=switches)
    except (ValueError, FileNotFoundError) as exc:
        print(f"synth: {exc}")
        return 2
    rows = {f["name"]: f["rows"] for f in prov["files"] if f["rows"] is not None}
    print(f"synthetic register (seed {args.seed}, scale {args.scale:g}) written to {out} "
          f"in {time.perf_counter() - started:.1f} s")
    for name, n in rows.items():
        print(f"  {name:<36} {n:>10,} rows")
    return 0
