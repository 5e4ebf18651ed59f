"""``python -m benchmarks.state``: the state-scale benchmark from the command line."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.state.figures import SizeRun
from benchmarks.state.measure import run_size
from benchmarks.state.plan import MIN_PEOPLE
from benchmarks.state.postgres import postgres
from benchmarks.state.report import growth_table, size_table

SIZES = (10_000, 30_000, 100_000)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.state",
        description=(
            "Loads a synthetic state administration (N people, about N/100 cohorts over "
            "2019-2024) through the write applications, rebuilds tracking over the logs, and "
            "times every tracking view for one cohort, one programme, one person and the "
            "organisation, live and as_of, against hand-written SQL over flat copies of the "
            "same facts. Prints a table per size and the growth of each figure between sizes."
        ),
        epilog=(
            "PostgreSQL: --postgres URL, else POLKU_TEST_POSTGRES_URL, else a local server "
            "from the PostgreSQL binaries, else SKIP. Each size runs in a fresh process, "
            "smallest first, so peak memory is that size's own."
        ),
    )
    p.add_argument(
        "--people",
        type=int,
        action="append",
        metavar="N",
        help="one size to run; repeat for several (default: 10000, 30000 and 100000)",
    )
    p.add_argument(
        "--seed", type=int, default=2024, help="seed of the synthetic data (default 2024)"
    )
    p.add_argument(
        "--samples",
        type=int,
        default=10,
        help="requests per cohort and person view (a third as many per programme and "
        "organisation view, at least 2); default 10",
    )
    p.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to create databases on")
    p.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    p.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--json", metavar="FILE", help="write every figure as JSON to FILE")
    p.add_argument("--keep", action="store_true", help="keep the data directory and databases")
    return p


def isolated(
    workdir: Path, people: int, seed: int, samples: int, database_url: str | None = None
) -> SizeRun:
    """One size in a fresh interpreter, so its peak memory is its own, not an earlier size's."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(run_size, workdir, people, seed, samples, database_url).result()


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sizes = sorted(args.people or SIZES)
    if sizes[0] < MIN_PEOPLE:
        parser().error(f"--people must be at least {MIN_PEOPLE}")
    logging.basicConfig(level=logging.WARNING)

    def say(message: str) -> None:
        print(message, flush=True)

    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="polku-state-"))
    runs: list[SizeRun] = []
    loads = {"before": load_average()}
    say(f"load average (1, 5, 15 min): {loads['before']}; data in {workdir}")
    try:
        if not args.skip_sqlite:
            for people in sizes:
                say(f"sqlite, {people:,} people")
                run = isolated(workdir / f"sqlite-{people}", people, args.seed, args.samples)
                runs.append(run)
                say(size_table(run))
        with postgres(args.postgres, args.skip_postgres, say) as databases:
            for people in sizes:
                if databases.skipped:
                    runs.append(SizeRun("postgresql", people, 0, skipped=databases.skipped))
                    continue
                say(f"postgresql, {people:,} people")
                with databases.fresh(args.keep) as url:
                    run = isolated(workdir / f"pg-{people}", people, args.seed, args.samples, url)
                runs.append(run)
                say(size_table(run))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    loads["after"] = load_average()
    say("")
    for database in ("sqlite", "postgresql"):
        table = growth_table([r for r in runs if r.database == database])
        if table:
            say(table)
    for run in runs:
        if run.skipped:
            say(size_table(run))
    say(f"load average before {loads['before']}, after {loads['after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report(runs, loads, args, began), indent=2))
    return 0


def report(
    runs: Sequence[SizeRun], loads: dict[str, str], args: argparse.Namespace, began: float
) -> dict[str, Any]:
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": loads,
        "uptime": _uptime(),
        "seed": args.seed,
        "samples": args.samples,
        "seconds": time.perf_counter() - began,
        "runs": [run.as_dict() for run in runs],
    }


def _uptime() -> str | None:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
