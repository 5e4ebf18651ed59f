"""The audit layer's costs, as ratios in one run (``python -m benchmarks.audit``):

- **chaining on the command path**: ``POST /enrolment/people`` through the embedded WSGI app
  with the chained recorder (the product) against the same runtime with the plain recorder;
  also raw ``Application.save`` chained against plain. Target: at most 10% fewer commands/s.
- **verification rate**: ``verify`` over a filled log against a raw read-and-hash of the same
  rows (a plain ``SELECT`` of the stored rows + one SHA-256 of each). Target: at least 50%.
- **access log on a tracking view**: p95 of ``GET /tracking/people/<id>/timeline`` (a pilot
  participant's; ``minimal_*``: a one-entry timeline, the worst case) with the
  access log against the same runtime without it, in wall time and in the request thread's
  CPU time (``time.thread_time``: what other processes on a shared machine do not inflate).
  Target: p95 within 10%.
- **access log writes**: entries per second into an access log by one thread and by eight at
  once, with the product's writer (head in memory, group commit) against one locked
  transaction per entry (the write path before it). No target: it shows what the writer saves.

On SQLite files, and on PostgreSQL with ``--postgres URL`` (a server whose user may create
databases; else ``POLKU_TEST_POSTGRES_URL``, else a throwaway local server, as
``benchmarks.state`` finds one; ``--skip-postgres`` for SQLite only). ``--runs N`` repeats
every figure N times, in turn, and prints each run (with the load averages) and the median
and range of each ratio. ``--json FILE`` writes them too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

from benchmarks.run import new_person, percentile, person_body
from services.enrolment.application import EnrolmentApplication
from services.runtime import Embedded, build_embedded
from shared.audit.access import Access, AccessLog, Filters, now
from shared.audit.access_writer import INSERT_COLUMNS, people_text
from shared.audit.chain import (
    GENESIS,
    ChainedPostgresApplicationRecorder,
    ChainedSQLiteApplicationRecorder,
    chained_env,
    link,
)
from shared.audit.verify import Events, verify
from shared.settings import Settings
from shared.sql import Database, dialect_of
from tests.support.pilot import load_pilot
from tests.support.slice import SECRET, Http


class UnchainedSQLite(ChainedSQLiteApplicationRecorder):
    """The chained recorder with its chaining left out: the baseline's store, same tables."""

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        return SQLiteApplicationRecorder._insert_events(self, c, stored_events, **kwargs)


class UnchainedPostgres(ChainedPostgresApplicationRecorder):
    """The same on PostgreSQL."""

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> Any:
        return PostgresApplicationRecorder._fetch_ids_after_insert_events(
            self, curs, stored_events, **kwargs
        )


def unchained_env(env: dict[str, str]) -> dict[str, str]:
    sqlite = env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    recorder = "UnchainedSQLite" if sqlite else "UnchainedPostgres"
    return {**env, "APPLICATION_RECORDER_TOPIC": f"benchmarks.audit:{recorder}"}


Fresh = Callable[[], AbstractContextManager[str | None]]
"""A fresh database for one runtime: None for SQLite files in its data dir, else a URL."""


@contextmanager
def _sqlite() -> Iterator[str | None]:
    yield None


def _rate(count: int, action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    action()
    return count / (time.perf_counter() - began)


@contextmanager
def _runtime(
    data_dir: Path, chained: bool = True, access: bool = True, fresh: Fresh = _sqlite
) -> Iterator[Embedded]:
    with fresh() as url, _built(data_dir, chained, access, url) as runtime:
        yield runtime


@contextmanager
def _built(data_dir: Path, chained: bool, access: bool, url: str | None) -> Iterator[Embedded]:
    patches = []
    if not chained:
        patches.append(mock.patch("services.runtime.chained_env", unchained_env))
    if not access:
        patches.append(mock.patch("services.runtime.audit_web.install", lambda *a, **k: None))
    for p in patches:
        p.start()
    try:
        runtime = build_embedded(Settings(data_dir=data_dir, jwt_secret=SECRET, database_url=url))
    finally:
        for p in patches:
            p.stop()
    try:
        yield runtime
    finally:
        runtime.close()


def command_path(
    work: Path, commands: int, rounds: int = 10, fresh: Fresh = _sqlite
) -> dict[str, Any]:
    """Chained against plain, in short rounds whose order alternates (chained first in one,
    plain first in the next), so a burst of load or a slow disk flush hits both alike; the
    ratio is of the totals. CPU seconds are reported beside the wall clock's."""
    serial = iter(range(10**9))
    with (
        _runtime(work / "chained", fresh=fresh) as chained,
        _runtime(work / "plain", chained=False, fresh=fresh) as plain,
    ):
        sides = {"chained": Http(chained.wsgi), "plain": Http(plain.wsgi)}
        seconds = dict.fromkeys(sides, 0.0)
        cpu = dict.fromkeys(sides, 0.0)
        for http in sides.values():
            for _ in range(50):
                http.post("/enrolment/people", person_body(next(serial)))
        per_round = max(1, commands // rounds)
        for turn in range(rounds):
            for name in sorted(sides, reverse=turn % 2 == 1):
                http = sides[name]
                began, began_cpu = time.perf_counter(), time.process_time()
                for _ in range(per_round):
                    http.post("/enrolment/people", person_body(next(serial)))
                seconds[name] += time.perf_counter() - began
                cpu[name] += time.process_time() - began_cpu
        recorder = plain.services["enrolment"].application.recorder
        assert type(recorder).__name__.startswith("Unchained"), type(recorder)

    http_ratio = seconds["plain"] / seconds["chained"]
    apps = {}
    databases = contextlib.ExitStack()
    for name, wrap in (("chained", chained_env), ("plain", unchained_env)):
        url = databases.enter_context(fresh())
        settings = Settings(data_dir=work / f"raw-{name}", database_url=url)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        apps[name] = EnrolmentApplication(wrap(settings.eventstore_env("enrolment")))
    saved = dict.fromkeys(apps, 0.0)
    try:
        for turn in range(rounds):  # interleaved, alternating, so load drift hits both alike
            for name in sorted(apps, reverse=turn % 2 == 1):
                app = apps[name]
                began = time.perf_counter()
                for _ in range(per_round):
                    app.save(new_person(next(serial)))
                saved[name] += time.perf_counter() - began
    finally:
        for app in apps.values():
            app.close()
        databases.close()
    raw = {name: per_round * rounds / seconds for name, seconds in saved.items()}
    return {
        "commands": per_round * rounds,
        "http_chained_per_s": per_round * rounds / seconds["chained"],
        "http_plain_per_s": per_round * rounds / seconds["plain"],
        "http_ratio": http_ratio,
        "http_cpu_ratio": cpu["plain"] / cpu["chained"],
        "save_chained_per_s": raw["chained"],
        "save_plain_per_s": raw["plain"],
        "save_ratio": raw["chained"] / raw["plain"],
        "target": "ratio >= 0.90",
    }


def verification(work: Path, events: int, fresh: Fresh = _sqlite) -> dict[str, Any]:
    with fresh() as url:
        return _verification(work, events, url)


def _verification(work: Path, events: int, url: str | None) -> dict[str, Any]:
    settings = Settings(data_dir=work / "verify", database_url=url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = EnrolmentApplication(chained_env(settings.eventstore_env("enrolment")))
    try:
        batch = 500
        for start in range(0, events, batch):
            app.save(*(new_person(n) for n in range(start, min(events, start + batch))))
        recorder = app.recorder

        def raw() -> int:
            """The same rows read straight from the table, each hashed once."""
            if url is not None:
                return _raw_postgres(recorder)
            after, hashed = 0, 0
            while True:
                with recorder.datastore.transaction(commit=False) as c:
                    c.execute(
                        "SELECT rowid, originator_id, originator_version, topic, state FROM "
                        "stored_events WHERE rowid > ? ORDER BY rowid LIMIT 5000",
                        (after,),
                    )
                    rows = c.fetchall()
                if not rows:
                    return hashed
                for r in rows:
                    hashlib.sha256(r[1].encode() + r[3].encode() + r[4]).digest()
                    hashed += 1
                after = rows[-1][0]

        raw()  # warm the file cache for both
        report: dict[str, Any] = {}

        def verified() -> None:
            report["r"] = verify("enrolment", Events(recorder), [], {}, require_checkpoint=False)

        rates: dict[str, list[float]] = {"raw": [], "verify": []}
        for _ in range(3):  # interleaved; the median of each
            rates["raw"].append(_rate(events, raw))
            rates["verify"].append(_rate(events, verified))
        raw_rate, verify_rate = (sorted(rates[k])[1] for k in ("raw", "verify"))
        assert report["r"].ok and report["r"].events == events, report["r"].line()
    finally:
        app.close()
    return {
        "events": events,
        "verify_per_s": verify_rate,
        "raw_read_and_hash_per_s": raw_rate,
        "ratio": verify_rate / raw_rate,
        "target": "ratio >= 0.50",
    }


def _raw_postgres(recorder: Any) -> int:
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    after, hashed = 0, 0
    # Plain tuples and the id as text from the server: the cheapest plain read there is.
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        while True:
            curs.execute(
                "SELECT notification_id, originator_id::text, topic, state FROM "
                f"{table} WHERE notification_id > %s ORDER BY notification_id LIMIT 5000",
                (after,),
            )
            rows = curs.fetchall()
            if not rows:
                return hashed
            for r in rows:
                hashlib.sha256(r[1].encode() + r[2].encode() + r[3]).digest()
                hashed += 1
            after = rows[-1][0]


def access_cost(work: Path, samples: int, fresh: Fresh = _sqlite) -> dict[str, Any]:
    """Both runtimes side by side, requests alternating, so load drift hits both alike.

    The target figure is a pilot participant's timeline (the model customer's: 30 entries);
    ``minimal_*`` is a timeline of one entry, the cheapest view there is, where the log's fixed
    cost (about a quarter of a millisecond: one committed ``INSERT``, the entry's hash, the
    answer's person ids) shows at its largest."""
    with (
        _runtime(work / "access-with", fresh=fresh) as logged,
        _runtime(work / "access-without", access=False, fresh=fresh) as plain,
    ):
        paths: dict[str, tuple[Http, str, str]] = {}
        for name, runtime in (("with", logged), ("without", plain)):
            pilot = load_pilot(runtime, SECRET)
            http = Http(runtime.wsgi)
            person = http.post("/enrolment/people", person_body(1))["id"]
            runtime.tracking.projector.drain()
            participant = next(iter(pilot.loaded.people.values()))
            paths[name] = (
                http,
                f"/tracking/people/{participant}/timeline",
                f"/tracking/people/{person}/timeline",
            )
        kinds = ("pilot", "minimal")
        times: dict[tuple[str, str], list[float]] = {(k, n): [] for k in kinds for n in paths}
        cpu: dict[tuple[str, str], list[float]] = {(k, n): [] for k in kinds for n in paths}
        for i in range(samples + 20):
            order = list(paths.items())
            for name, (http, *urls) in order if i % 2 else reversed(order):
                for kind, url in zip(kinds, urls, strict=True):
                    began, began_cpu = time.perf_counter(), time.thread_time()
                    http.get(url)
                    if i >= 20:
                        times[kind, name].append(time.perf_counter() - began)
                        cpu[kind, name].append(time.thread_time() - began_cpu)
        entries = (
            logged.apps["tracking"]
            .extensions["polku.audit"]
            .access.query(Filters(), 0, 3 * samples)
        )
        assert len(entries) >= 2 * (samples + 20), len(entries)
    figures: dict[str, Any] = {"samples": samples}
    for kind, prefix in (("pilot", ""), ("minimal", "minimal_")):
        p95 = {n: percentile(times[kind, n], 95) * 1000 for n in paths}
        p50 = {n: percentile(times[kind, n], 50) * 1000 for n in paths}
        cpu95 = {n: percentile(cpu[kind, n], 95) * 1000 for n in paths}
        cpu50 = {n: percentile(cpu[kind, n], 50) * 1000 for n in paths}
        figures |= {
            f"{prefix}p95_with_ms": p95["with"],
            f"{prefix}p95_without_ms": p95["without"],
            f"{prefix}ratio": p95["with"] / p95["without"],
            f"{prefix}p50_ratio": p50["with"] / p50["without"],
            f"{prefix}cpu_p95_ratio": cpu95["with"] / cpu95["without"],
            f"{prefix}cpu_p50_ratio": cpu50["with"] / cpu50["without"],
        }
    figures["target"] = "ratio <= 1.10 (a pilot participant's timeline)"
    return figures


def _one_by_one(log: AccessLog, access: Access) -> int:
    """``AccessLog.write`` before the shared writer: each entry in a transaction of its own
    that locks the table (PostgreSQL) or takes the write lock (SQLite) and reads the last link."""
    entry = dataclasses.replace(access, service=log.service)
    with log.database.transaction() as cur:
        if dialect_of(cur) == "postgresql":
            cur.execute(f"LOCK TABLE {log.table} IN EXCLUSIVE MODE")
        cur.execute(f"SELECT position, link FROM {log.table} ORDER BY position DESC LIMIT 1")
        last = cur.fetchone()
        position = (int(last[0]) if last else 0) + 1
        previous = bytes.fromhex(last[1]) if last else GENESIS
        row = entry.row_hash()
        cur.execute(
            f"INSERT INTO {log.table} ({INSERT_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                position,
                entry.at,
                entry.service,
                entry.role,
                entry.subject,
                entry.operation,
                entry.resource,
                people_text(entry.person_ids),
                entry.outcome,
                entry.purpose,
                row.hex(),
                link(previous, position, row).hex(),
            ),
        )
    return position


def access_writes(work: Path, writes: int, fresh: Fresh = _sqlite) -> dict[str, Any]:
    """Entries per second into an access log, by one thread and by eight at once: the shared
    writer (head in memory, group commit) against one locked transaction per entry."""
    found: dict[str, Any] = {"writes": writes}
    modes: dict[str, Callable[[AccessLog, Access], int]] = {
        "writer": lambda log, entry: log.write(entry),
        "one_by_one": _one_by_one,
    }
    for threads in (1, 8):
        for mode, write in modes.items():
            with fresh() as url:
                folder = work / f"writes-{mode}-{threads}"
                folder.mkdir(parents=True, exist_ok=True)
                database = Database(url or f"sqlite:///{folder / 'access.sqlite'}")
                try:
                    log = AccessLog(database, "bench")
                    entry = Access(
                        now(), "hr_admin", "b", "GET /x/{person_id}", "/x/1", ("p",), 200
                    )
                    write(log, entry)  # the table warm, the head known

                    def run(
                        count: int, log: AccessLog = log, write: Any = write, entry: Access = entry
                    ) -> None:
                        for _ in range(count):
                            write(log, entry)

                    workers = [
                        threading.Thread(target=run, args=(writes // threads,))
                        for _ in range(threads)
                    ]
                    began = time.perf_counter()
                    for worker in workers:
                        worker.start()
                    for worker in workers:
                        worker.join()
                    seconds = time.perf_counter() - began
                    total = 1 + (writes // threads) * threads
                    positions = [e["position"] for e in log.query(Filters(), 0, total + 1)]
                    assert positions == list(range(1, total + 1)), "a gap in the chain"
                finally:
                    database.close()
            found[f"{mode}_{threads}_threads_per_s"] = (writes // threads) * threads / seconds
        found[f"ratio_{threads}_threads"] = (
            found[f"writer_{threads}_threads_per_s"] / found[f"one_by_one_{threads}_threads_per_s"]
        )
    return found


RATIOS = {
    "chaining on the command path": ("http_ratio", "save_ratio"),
    "verification rate": ("ratio",),
    "access log on a tracking view": (
        "ratio",
        "p50_ratio",
        "cpu_p95_ratio",
        "minimal_ratio",
        "minimal_p50_ratio",
    ),
    "access log writes": ("ratio_1_threads", "ratio_8_threads"),
}


FIGURES: dict[str, Callable[[Path, argparse.Namespace, Fresh], dict[str, Any]]] = {
    "chaining on the command path": lambda w, a, f: command_path(w, a.commands, fresh=f),
    "verification rate": lambda w, a, f: verification(w, a.events, fresh=f),
    "access log on a tracking view": lambda w, a, f: access_cost(w, a.samples, fresh=f),
    "access log writes": lambda w, a, f: access_writes(w, a.writes, fresh=f),
}
"""Each figure by name; ``--only`` picks some (a prefix of the name will do)."""


def one_run(work: Path, args: argparse.Namespace, fresh: Fresh) -> dict[str, Any]:
    run: dict[str, Any] = {"load_average": os.getloadavg()}
    for name, figure in FIGURES.items():
        if not args.only or any(name.startswith(o) for o in args.only):
            run[name] = figure(work, args, fresh)
    return run


def _print_run(database: str, number: int, run: dict[str, Any]) -> None:
    load = " ".join(f"{x:.2f}" for x in run["load_average"])
    print(f"{database}, run {number} (load averages {load}):", flush=True)
    for name, figures in run.items():
        if name == "load_average":
            continue
        print(f"  {name}:")
        for key, value in figures.items():
            shown = f"{value:,.3f}" if isinstance(value, float) else value
            print(f"    {key:28} {shown}")


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Each ratio's median and range over the runs."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    for name, keys in RATIOS.items():
        if name not in runs[0]:
            continue
        for key in keys:
            values = [run[name][key] for run in runs]
            found.setdefault(name, {})[key] = {
                "median": statistics.median(values),
                "low": min(values),
                "high": max(values),
            }
    return found


def main() -> None:
    from benchmarks.state.postgres import postgres

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--commands", type=int, default=1500)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--samples", type=int, default=1000, help="timeline requests per runtime and kind"
    )
    parser.add_argument("--writes", type=int, default=2000, help="access-log entries per mode")
    parser.add_argument(
        "--only", action="append", metavar="FIGURE", help="only this figure (repeatable)"
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat every figure this often")
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server to create databases on"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="polku-audit-bench-") as tmp,
        postgres(args.postgres, args.skip_postgres) as databases,
    ):
        stores: dict[str, Fresh] = {"sqlite": _sqlite}
        if databases.server_url is not None:
            stores["postgresql"] = databases.fresh
        else:
            print(f"postgresql: {databases.skipped}")
        for database, fresh in stores.items():
            runs = []
            for number in range(1, args.runs + 1):
                work = Path(tmp) / f"{database}-{number}"
                runs.append(one_run(work, args, fresh))
                _print_run(database, number, runs[-1])
            results[database] = {"runs": runs, "summary": summary(runs)}
    for database, found in results.items():
        print(f"{database}: median (range) over {args.runs} run(s)")
        for name, ratios in found["summary"].items():
            shown = ", ".join(
                f"{key} {r['median']:.2f} ({r['low']:.2f}-{r['high']:.2f})"
                for key, r in ratios.items()
            )
            print(f"  {name}: {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
