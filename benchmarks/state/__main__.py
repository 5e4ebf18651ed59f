"""``python -m benchmarks.state``: the state-scale benchmark from the command line."""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
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
from benchmarks.state.kept import Kept, kept_server, kept_sizes, traversable
from benchmarks.state.measure import retime_size, run_size
from benchmarks.state.plan import MIN_PEOPLE
from benchmarks.state.postgres import ENVIRONMENT, postgres
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
            "smallest first, so peak memory is that size's own. --keep keeps the data "
            "directory, the databases and a server started here (its cluster in DIR/postgres); "
            "--reuse DIR times the views again over them with the current code, without "
            "loading or rebuilding (--people, --skip-sqlite and --skip-postgres choose among "
            "the kept sizes)."
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
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the data directory, the databases and a PostgreSQL server's cluster",
    )
    p.add_argument(
        "--reuse",
        metavar="DIR",
        help="time the views again over the stores a --keep run left in DIR (no load, no "
        "rebuild; the local PostgreSQL is started again from DIR/postgres unless --postgres "
        "or POLKU_TEST_POSTGRES_URL names the server)",
    )
    return p


def isolated(
    workdir: Path, people: int, seed: int, samples: int, database_url: str | None = None
) -> SizeRun:
    """One size in a fresh interpreter, so its peak memory is its own, not an earlier size's."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(run_size, workdir, people, seed, samples, database_url).result()


def isolated_retime(kept: Kept, samples: int, database_url: str | None = None) -> SizeRun:
    """:func:`isolated` for ``--reuse``: one kept size's views, timed in a fresh interpreter."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(retime_size, kept, samples, database_url).result()


def reuse(args: argparse.Namespace, say: Any) -> list[SizeRun]:
    """The kept sizes ``--people``/``--skip-*`` choose, timed again; SQLite first."""
    directory = Path(args.reuse)
    chosen = [
        k
        for k in kept_sizes(directory)
        if (not args.people or k.people in args.people)
        and not (k.database == "sqlite" and args.skip_sqlite)
        and not (k.database == "postgresql" and args.skip_postgres)
    ]
    if not chosen:
        say(f"nothing kept in {directory} matches (a --keep run writes */stores.json)")
    runs = []
    for kept in (k for k in chosen if k.database == "sqlite"):
        say(f"sqlite, {kept.people:,} people, kept in {kept.workdir}")
        runs.append(isolated_retime(kept, args.samples))
        say(size_table(runs[-1]))
    postgresql = [k for k in chosen if k.database == "postgresql"]
    if not postgresql:
        return runs
    given = args.postgres or os.environ.get(ENVIRONMENT)
    with contextlib.ExitStack() as stack:
        server_url = given or stack.enter_context(kept_server(directory, say))
        for kept in postgresql:
            if server_url is None:
                runs.append(SizeRun("postgresql", kept.people, 0, skipped="no kept server"))
                continue
            say(f"postgresql, {kept.people:,} people, database {kept.database_name}")
            runs.append(isolated_retime(kept, args.samples, kept.url(server_url)))
            say(size_table(runs[-1]))
    return runs


def loaded(
    args: argparse.Namespace, sizes: Sequence[int], workdir: Path, say: Any
) -> list[SizeRun]:
    """Each size loaded into fresh stores and measured, SQLite first."""
    runs = []
    if not args.skip_sqlite:
        for people in sizes:
            say(f"sqlite, {people:,} people")
            run = isolated(workdir / f"sqlite-{people}", people, args.seed, args.samples)
            runs.append(run)
            say(size_table(run))
    keep_in = workdir if args.keep else None
    with postgres(args.postgres, args.skip_postgres, say, keep_in) as databases:
        for people in sizes:
            if databases.skipped:
                runs.append(SizeRun("postgresql", people, 0, skipped=databases.skipped))
                continue
            say(f"postgresql, {people:,} people")
            with databases.fresh(args.keep) as url:
                run = isolated(workdir / f"pg-{people}", people, args.seed, args.samples, url)
            runs.append(run)
            say(size_table(run))
    return runs


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
    if args.reuse and not Path(args.reuse).is_dir():
        parser().error(f"--reuse: {args.reuse} is not a directory")
    logging.basicConfig(level=logging.WARNING)

    def say(message: str) -> None:
        print(message, flush=True)

    began = time.perf_counter()
    workdir = Path(args.reuse or tempfile.mkdtemp(prefix="polku-state-"))
    runs: list[SizeRun] = []
    loads = {"before": load_average()}
    say(f"load average (1, 5, 15 min): {loads['before']}; data in {workdir}")
    if args.keep:
        traversable(workdir)
    try:
        runs = reuse(args, say) if args.reuse else loaded(args, sizes, workdir, say)
    finally:
        if not (args.keep or args.reuse):
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
