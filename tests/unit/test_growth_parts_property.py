"""Pooled growth from kept per-cohort parts equals growth computed afresh, after any events.

A programme's or the organisation's growth is planned from each cohort's part, kept under
the cohort's scoped change counters (:mod:`services.tracking.views.growth_parts`). Random logs
of both services (every kind of event, as the rebuild property draws them) are projected
batch by batch; after each batch, with one memo kept throughout, every pool (all cohorts, and
each programme's) must give the same answer through the kept parts as computed afresh from
the population, and so must the same pools ``as_of`` a moment, ``on`` a day, and both. On
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tracking import changes
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from services.tracking.temporal import reading
from services.tracking.views import growth, growth_parts, pooled
from services.tracking.views.growth_population import population
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy
from shared.events import restricted_registry
from shared.sql import Cursor, Database
from tests.support.postgres_server import create_database, drop_database
from tests.support.scripted_feed import ScriptedFeed
from tests.unit.event_sequences import DAYS, Logs
from tests.unit.test_tracking_rebuild_property import incremental_polls

POLICY = Policy(minimum=1)
"""So that the few people of a drawn log show figures rather than suppressions."""

GROWING = (Logs.stage, Logs.stage, Logs.result, Logs.result, Logs.result, Logs.result_change)
"""The steps that change a growth answer, drawn more often than the rest."""
OTHERS = (Logs.coordination, Logs.instrument_change, Logs.cohort, Logs.person, Logs.instrument)


def growing_logs(draw: st.DrawFn) -> Logs:
    """A programme with cohorts, people and instruments, then steps that mostly enrol people
    and record, correct or void their results, among some of any other kind."""
    logs = Logs(draw)
    logs.programme()
    for _ in range(draw(st.integers(1, 2))):
        logs.cohort()
    for _ in range(draw(st.integers(3, 5))):
        logs.person()
    logs.instrument()
    for _ in range(draw(st.integers(1, 40), label="steps")):
        if draw(st.integers(0, 9)) < 2:
            logs.step()
            continue
        ready = [
            step for step in (*GROWING, *OTHERS) if step is not Logs.result_change or logs.results
        ]
        draw(st.sampled_from(ready))(logs)
    return logs


def pools(cur: Cursor) -> list[list[str]]:
    """Every cohort, and each programme's cohorts."""
    cur.execute("SELECT cohort_id, programme_id FROM tr_cohorts ORDER BY cohort_id")
    rows = cur.fetchall()
    by_programme: dict[str, list[str]] = defaultdict(list)
    for cohort_id, programme_id in rows:
        by_programme[programme_id].append(cohort_id)
    return [[cohort_id for cohort_id, _ in rows], *by_programme.values()] if rows else []


def agree(
    database: Database, memo: Memo, as_of: dt.datetime | None = None, on: dt.date | None = None
) -> int:
    """Asserts that kept and fresh answers agree; returns how many pools were compared."""
    with reading(database, as_of, on) as cur:
        found = pools(cur)
        for ids in found:
            fresh = growth.growth(population(cur, ids, POLICY))
            assert growth.kept_growth(cur, ids, POLICY, None, memo) == fresh
            kept = growth_parts.taking_part(cur, ids, POLICY, memo)
            assert kept == pooled.taking_part(cur, ids, POLICY)
    return len(found)


@contextmanager
def database_for(backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A new, empty read-model database for one example."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            database = Database(f"sqlite:///{Path(folder) / 'tracking.sqlite'}")
            try:
                yield database
            finally:
                database.close()
        return
    server = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:16]}"
    database = Database(create_database(server, name))
    try:
        yield database
    finally:
        database.close()
        drop_database(server, name)


SETTINGS = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
}


@settings(max_examples=12, **SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_kept_parts_give_the_fresh_answer_after_any_events(
    request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    check("sqlite", request, data)


@settings(max_examples=4, **SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_kept_parts_give_the_fresh_answer_on_postgresql(
    request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    check("postgresql", request, data)


def check(backend: str, request: pytest.FixtureRequest, data: st.DataObject) -> None:
    """Projects a drawn log batch by batch, comparing kept and fresh answers throughout."""
    logs = growing_logs(data.draw)
    polls = incremental_polls(data.draw, logs)
    times = sorted({e.time for events in logs.events.values() for e in events})
    with database_for(backend, request) as database:
        readmodels = ReadModels(database)
        readmodels.create()
        projector = Projector(readmodels, ScriptedFeed(polls), restricted_registry())
        memo = Memo()
        compared = 0
        while projector.run_once() is not None:
            compared += agree(database, memo)
        moment = data.draw(st.sampled_from(times), label="as_of") + dt.timedelta(seconds=1)
        day = dt.date.fromisoformat(data.draw(st.sampled_from(DAYS), label="on"))
        compared += agree(database, memo, as_of=moment)
        compared += agree(database, memo, on=day)
        compared += agree(database, memo, as_of=moment, on=day)
        compared += agree(database, memo)  # the live parts are still kept beside those
        assert projector.stats.dead_lettered == 0
        assert compared > 0


def test_a_swap_raises_the_scoped_counters(tmp_path: Path) -> None:
    """A swapped-in rebuild replaces every cohort's rows: no kept part may outlive it."""
    database = Database(f"sqlite:///{tmp_path / 'tracking.sqlite'}")
    try:
        ReadModels(database).create()
        names = [changes.scoped("tr_results", "c1"), changes.scoped("tr_participation", "c2")]
        with database.transaction() as cur:
            changes.bump(cur, names)
            before = changes.many_counters(cur, names)
            changes.bump_all(cur)
            after = changes.many_counters(cur, names)
        assert all(after[name] > before[name] > 0 for name in names)
    finally:
        database.close()
