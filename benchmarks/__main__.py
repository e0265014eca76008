"""``python -m benchmarks [--events N] [--db sqlite|postgres|both] [--runs R] [--metric M]``."""

import argparse
from pathlib import Path

from benchmarks.databases import ENGINES, OUT_DIR
from benchmarks.metrics import METRICS
from benchmarks.report import format_table
from benchmarks.runner import run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure each metric beside the raw database limit measured in the same run.",
    )
    parser.add_argument("--events", type=int, default=100_000, metavar="N")
    parser.add_argument("--db", choices=[*ENGINES, "both"], default="both")
    parser.add_argument("--runs", type=int, default=3, metavar="R", help="median of R runs")
    parser.add_argument(
        "--metric", action="append", choices=list(METRICS), help="default: every metric"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=OUT_DIR,
        help="where data files and SQLite databases go (default: benchmarks/out/); the "
        "PostgreSQL database is named by BENCHMARK_POSTGRES_URL",
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.runs < 1:
        parser.error("--events and --runs must be at least 1")
    engines = ENGINES if args.db == "both" else (args.db,)
    rows = run(
        args.metric or list(METRICS),
        engines,
        events=args.events,
        runs=args.runs,
        out_dir=args.out_dir,
    )
    print(format_table(rows))


if __name__ == "__main__":
    main()
