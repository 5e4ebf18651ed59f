"""The rebuild's rate in CPU time, on logs kept on disk, for A/B runs of two checkouts.

``prepare DIR`` writes the logs once: the TEMPO 2020 pilot (no ``--people``) or the state
benchmark's synthetic administration of N people (:mod:`benchmarks.state`). ``measure DIR``
then rebuilds tracking from them, as ``polku replay`` does (:class:`Rebuild` into a fresh
SQLite file), against a raw read-and-decode of the same logs (the notifications read and
decoded by the library's mapper, nothing else), and prints one JSON line per round.

Both are measured with ``time.process_time``: on a shared machine CPU seconds move far less
than wall seconds. To compare two checkouts, run ``measure`` alternately with each on
``PYTHONPATH`` (``compare`` does that and prints medians); the logs are the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.runtime import build_embedded
from services.tracking.replay import Rebuild, fresh_readmodels
from shared.feeds import OutboxFeed
from shared.settings import Settings
from tests.support.slice import SECRET


def prepare(workdir: Path, people: int, seed: int = 2024) -> int:
    """Writes the logs into ``workdir``; returns the number of stored events."""
    runtime = build_embedded(Settings(data_dir=workdir, jwt_secret=SECRET))
    try:
        if people:
            from benchmarks.state.assessment import load_assessment
            from benchmarks.state.enrolment import load_enrolment
            from benchmarks.state.plan import administration

            plan = administration(people, seed)
            enrolled = load_enrolment(runtime.services["enrolment"].application, plan, SECRET)
            load_assessment(runtime.services["assessment"].application, plan, enrolled)
        else:
            from tests.support.pilot import load_pilot

            load_pilot(runtime, SECRET)
        return sum(int(s.application.head()) for s in runtime.services.values())
    finally:
        runtime.close()


def read_and_decode(application: Any, batch: int = 1000) -> int:
    """Every notification read and decoded by the library's mapper: the floor of any reader."""
    after, decoded = 0, 0
    while notifications := application.notifications_after(after, batch):
        for notification in notifications:
            application.mapper.to_domain_event(notification)
        decoded += len(notifications)
        after = notifications[-1].id
    return decoded


def cpu(action: Any) -> tuple[float, Any]:
    began = time.process_time()
    value = action()
    return time.process_time() - began, value


def measure(workdir: Path, rounds: int) -> list[dict[str, float]]:
    """``rounds`` pairs of (raw read-and-decode, rebuild), in CPU seconds, one JSON line each."""
    runtime = build_embedded(Settings(data_dir=workdir, jwt_secret=SECRET))
    results = []
    try:
        outboxes = {name: s.tracking_outbox for name, s in runtime.services.items()}
        applications = [s.application for s in runtime.services.values()]
        for application in applications:  # warm up: imports, page cache, statement caches
            read_and_decode(application)
        with tempfile.TemporaryDirectory(prefix="polku-rebuild-") as scratch:
            for n in range(rounds):
                raw_seconds, decoded = cpu(lambda: sum(map(read_and_decode, applications)))
                rebuild = Rebuild(
                    fresh_readmodels(Path(scratch) / f"rebuild-{n}.sqlite"), OutboxFeed(outboxes)
                )
                try:
                    seconds, applied = cpu(rebuild.catch_up)
                finally:
                    rebuild.readmodels.database.close()
                result = {
                    "events": applied,
                    "domain_events": decoded,
                    "rebuild_cpu_s": seconds,
                    "raw_cpu_s": raw_seconds,
                    "rebuild_per_s": applied / seconds,
                    "raw_per_s": decoded / raw_seconds,
                    "ratio": (applied / seconds) / (decoded / raw_seconds),
                    "load": os.getloadavg()[0],
                }
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        runtime.close()
    return results


def compare(workdir: Path, checkouts: Sequence[str], rounds: int) -> None:
    """Alternates ``measure`` (one round per process) over the checkouts; prints medians."""
    figures: dict[str, list[dict[str, float]]] = {c: [] for c in checkouts}
    for _ in range(rounds):
        for checkout in checkouts:
            env = {**os.environ, "PYTHONPATH": str(Path(checkout).resolve())}
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.rebuild", "measure", str(workdir)],
                env=env,
                cwd=checkout,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures[checkout].extend(json.loads(line) for line in out.splitlines() if line)
            print(checkout, out.strip(), flush=True)
    print(f"load averages: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for checkout, results in figures.items():
        median = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(
            f"{checkout}: rebuild {median['rebuild_per_s']:,.0f} events per CPU s,"
            f" raw {median['raw_per_s']:,.0f}, ratio {median['ratio']:.1%}"
            f" ({len(results)} runs, {median['events']:,.0f} events)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuild", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="write the logs into DIR")
    prep.add_argument("dir", type=Path)
    prep.add_argument("--people", type=int, default=0, help="state-scale people (default: pilot)")
    run = commands.add_parser("measure", help="rebuild from DIR's logs, CPU time")
    run.add_argument("dir", type=Path)
    run.add_argument("--rounds", type=int, default=1)
    both = commands.add_parser("compare", help="alternate measure over checkouts, medians")
    both.add_argument("dir", type=Path)
    both.add_argument("checkouts", nargs="+")
    both.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(f"{prepare(args.dir, args.people):,} events in {args.dir}")
    elif args.command == "measure":
        measure(args.dir, args.rounds)
    else:
        compare(args.dir.resolve(), args.checkouts, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
