"""One size on one database: load the administration, rebuild tracking, size the stores.

The runtime is :func:`~services.runtime.build_embedded`'s, with no thread started: the load
writes through the two write applications, then ``Projector.drain()`` projects both logs
into the empty read model (the rebuild), against a raw read-and-decode of the same logs.
Then :mod:`benchmarks.state.views` times the views over what was loaded.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.state.assessment import load_assessment
from benchmarks.state.enrolment import Enrolled, load_enrolment
from benchmarks.state.figures import Figure, SizeRun, peak_rss_mb
from benchmarks.state.kept import Kept, write_manifest
from benchmarks.state.plan import Administration, ViewPlan, administration
from benchmarks.state.views import measure_views
from services.runtime import Embedded, build_embedded
from shared import heap
from shared.settings import Settings
from tests.support.slice import SECRET

REBUILD_TIMEOUT = 3600.0


def run_size(
    workdir: Path,
    people: int,
    seed: int,
    samples: int,
    database_url: str | None = None,
    say: Any = None,
) -> SizeRun:
    """Loads ``people`` into fresh stores (SQLite files in ``workdir``, or ``database_url``)
    and measures everything; the runtime is closed before returning."""
    say = say or functools.partial(print, flush=True)
    settings = Settings(data_dir=workdir, jwt_secret=SECRET, database_url=database_url)
    database = "postgresql" if database_url else "sqlite"
    plan = administration(people, seed)
    runtime = build_embedded(settings)
    heap.settle()  # as a server process does once it has built its service
    try:
        run = SizeRun(database, people, 0)
        began = time.perf_counter()
        enrolled = load_enrolment(runtime.services["enrolment"].application, plan, SECRET)
        load_assessment(runtime.services["assessment"].application, plan, enrolled)
        seconds = time.perf_counter() - began
        run.events = sum(s.application.head() for s in runtime.services.values())
        say(f"  loaded {people:,} people, {run.events:,} events in {seconds:.1f} s")
        run.add(Figure("load", "events/s", run.events / seconds, details=_sizes(plan, seconds)))
        run.add(Figure("peak memory after load", "MB", peak_rss_mb()))
        _rebuild(run, runtime, say)
        run.add(Figure("peak memory after rebuild", "MB", peak_rss_mb()))
        for name, size in store_sizes(settings, runtime).items():
            run.add(Figure(f"store size: {name}", "MB", size))
        view_plan = _view_plan(plan, enrolled)
        write_manifest(workdir, database, people, seed, database_url, view_plan)
        # The synthetic administration (millions of objects at 100,000 people) is the load's,
        # not the service's: a server over these stores holds none of it, and every full
        # collection of a request would visit it. Then settle, as a server started now would.
        del plan, enrolled
        heap.settle()
        measure_views(run, runtime, view_plan, samples, say)
        run.add(Figure("peak memory after views", "MB", peak_rss_mb()))
        return run
    finally:
        runtime.close()


def retime_size(
    kept: Kept, samples: int, database_url: str | None = None, say: Any = None
) -> SizeRun:
    """Times the views again over stores a ``--keep`` run left (``--reuse``): no load, no
    rebuild; the store sizes are measured again, the load and rebuild figures are absent."""
    say = say or functools.partial(print, flush=True)
    settings = Settings(data_dir=kept.workdir, jwt_secret=SECRET, database_url=database_url)
    runtime = build_embedded(settings)
    heap.settle()
    try:
        run = SizeRun(kept.database, kept.people, 0)
        run.events = sum(s.application.head() for s in runtime.services.values())
        behind = runtime.tracking.projector.drain(timeout=REBUILD_TIMEOUT)
        say(f"  reusing {kept.people:,} people, {run.events:,} events ({behind} to project)")
        for name, size in store_sizes(settings, runtime).items():
            run.add(Figure(f"store size: {name}", "MB", size))
        measure_views(run, runtime, kept.view_plan, samples, say)
        run.add(Figure("peak memory after views", "MB", peak_rss_mb()))
        return run
    finally:
        runtime.close()


def _sizes(plan: Administration, seconds: float) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "people": plan.people,
        "cohorts": len(plan.cohorts),
        "programmes": plan.programmes,
        "units": len(plan.units),
        "career_moves": len(plan.moves),
        "people_per_second": plan.people / seconds,
    }


def _view_plan(plan: Administration, enrolled: Enrolled) -> ViewPlan:
    """A cohort from the middle of the period, its programme, and one of its completers."""
    cohort = enrolled.cohorts[len(enrolled.cohorts) // 2]
    return ViewPlan(
        cohort_id=str(cohort.id),
        programme_id=str(enrolled.programme_ids[cohort.plan.programme]),
        person_id=str(enrolled.person_ids[cohort.completed[0]]),
        cohorts_in_programme=sum(1 for c in plan.cohorts if c.programme == cohort.plan.programme),
    )


def read_and_decode(application: Any, batch: int = 1000) -> int:
    """Reads the whole log and decodes every event: the floor under any projection."""
    position, decoded = 0, 0
    while True:
        notifications = application.notifications_after(position, batch)
        for notification in notifications:
            application.mapper.to_domain_event(notification)
        decoded += len(notifications)
        if len(notifications) < batch:
            return decoded
        position = notifications[-1].id


def _rebuild(run: SizeRun, runtime: Embedded, say: Any) -> None:
    """The live projector catching up from empty (wall time), then ``polku replay``'s rebuild
    into a fresh file (CPU time), each against raw read-and-decode measured the same way."""
    raw_seconds, decoded = 0.0, 0
    for service in runtime.services.values():
        began = time.perf_counter()
        decoded += read_and_decode(service.application)
        raw_seconds += time.perf_counter() - began
    began = time.perf_counter()
    applied = runtime.tracking.projector.drain(timeout=REBUILD_TIMEOUT)
    seconds = time.perf_counter() - began
    say(f"  the live projector caught up: {applied:,} events in {seconds:.1f} s")
    run.add(
        Figure(
            "rebuild",
            "events/s",
            applied / seconds,
            decoded / raw_seconds,
            "raw read + decode",
            {"seconds": seconds, "events": applied, "domain_events": decoded},
        )
    )
    _replay_rebuild(run, runtime, say)


def _replay_rebuild(run: SizeRun, runtime: Embedded, say: Any) -> None:
    """What ``polku replay`` does before it compares and swaps: :class:`Rebuild` into a fresh
    SQLite file from the logs (on either database), in CPU seconds, as the issue measured it."""
    from services.tracking.replay import Rebuild, fresh_readmodels
    from shared.feeds import OutboxFeed

    began = time.process_time()
    decoded = sum(read_and_decode(s.application) for s in runtime.services.values())
    raw_cpu = time.process_time() - began
    outboxes = {name: s.tracking_outbox for name, s in runtime.services.items()}
    with tempfile.TemporaryDirectory(prefix="polku-state-replay-") as scratch:
        rebuild = Rebuild(fresh_readmodels(Path(scratch) / "rebuilt.sqlite"), OutboxFeed(outboxes))
        try:
            began, wall = time.process_time(), time.perf_counter()
            applied = rebuild.catch_up()
            cpu, wall = time.process_time() - began, time.perf_counter() - wall
        finally:
            rebuild.readmodels.database.close()
    say(f"  polku replay's rebuild: {applied:,} events in {cpu:.1f} CPU s ({wall:.1f} s)")
    run.add(
        Figure(
            "rebuild (polku replay), per CPU s",
            "events/s",
            applied / cpu,
            decoded / raw_cpu,
            "raw read + decode, per CPU s",
            {"cpu_seconds": cpu, "wall_seconds": wall, "events": applied},
        )
    )


def store_sizes(settings: Settings, runtime: Embedded) -> dict[str, float]:
    """MB per store: each SQLite file (with its WAL), or each PostgreSQL database."""
    if settings.database_url is None:
        files = {
            "enrolment": settings.sqlite_path("enrolment"),
            "assessment": settings.sqlite_path("assessment"),
            "tracking": settings.sqlite_path("tracking"),
            "keys": Path(settings.keystore_database_url().removeprefix("sqlite:///")),
        }
        return {name: _file_mb(path) for name, path in files.items()}
    database = runtime.tracking.readmodels.database
    with database.transaction(write=False) as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        total = int(cur.fetchone()[0]) / 2**20
        sizes = {"database (all stores)": total}
        for prefix in ("enrolment", "assessment", "tr_"):
            cur.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname LIKE ?",
                (f"{prefix}%",),
            )
            sizes[f"tables {prefix.rstrip('_')}*"] = int(cur.fetchone()[0]) / 2**20
    return sizes


def _file_mb(path: Path) -> float:
    total = 0
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            total += candidate.stat().st_size
    return total / 2**20
