"""The temporal read model on the pilot: ``as_of`` by query, equal to the journal replayed, and
the cohort views' queries served by indexes (a plan assertion, never a timing)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.runtime import build_tracking
from services.tracking.schema import FACT_KEYS
from services.tracking.temporal import TemporalCursor, reading
from services.tracking.versions import columns
from shared.feeds import OutboxFeed
from shared.settings import Settings
from tests.support.pilot import Pilot
from tests.support.replayed import differing_tables

COHORT_VIEWS = ("roster", "funnel", "growth", "reaction", "mobility", "network", "kirkpatrick",
                "staff-survey")  # fmt: skip
FILTERED = ("tr_attendance", "tr_sessions", "tr_groups", "tr_group_members",
            "tr_reaction_responses", "tr_reaction_surveys", "tr_participation")  # fmt: skip
"""The tables a cohort view reads by cohort (or by survey, or by person): never to be scanned."""
KEY_COLUMN = re.compile(r"\b(cohort_id|survey_id|person_id|session_id|group_id)\b")
BY_KEY = re.compile(r"\b(cohort_id|survey_id|person_id|session_id|group_id)\s*(=|IN\b)", re.I)
"""A statement that picks rows by one of these keys; the organisation-wide ones (mobility's
comparison group) read every row by design, until an aggregate replaces them."""
WRITTEN: dict[str, str] = {}
"""Each statement as the view wrote it, by the statement its cursor ran: whether a view picks
rows by a key is read from its own text (an ``on`` frame adds correlated lookups by key)."""


def journal_times(pilot: Pilot) -> list[str]:
    with pilot.runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute("SELECT DISTINCT time FROM tr_applied_events ORDER BY time")
        return [row[0] for row in cur.fetchall()]


def closings(pilot: Pilot) -> list[str]:
    """Every moment at which some fact's row was closed (a change, a correction, a removal)."""
    union = " UNION ".join(
        f"SELECT recorded_to FROM {table} WHERE recorded_to IS NOT NULL" for table in FACT_KEYS
    )
    with pilot.runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute(f"SELECT DISTINCT recorded_to FROM ({union}) closed ORDER BY recorded_to")
        return [row[0] for row in cur.fetchall()]


def test_as_of_any_recorded_moment_equals_the_journal_replayed_to_then(pilot: Pilot) -> None:
    times, closed = journal_times(pilot), closings(pilot)
    assert len(times) > 50 and len(closed) > 10
    # The first and the last moments, the quartiles, and some drawn at random (seeded, so a
    # failure can be repeated), among them moments a row was closed at, each also a microsecond
    # before: a row closed at an event's time is seen until then and not at it.
    picks = [times[0], times[-1], *(times[len(times) * q // 4] for q in (1, 2, 3))]
    draw = random.Random(11)
    picks += draw.sample(times, 5) + draw.sample(closed, 5)
    database = pilot.runtime.tracking.readmodels.database
    for text in picks:
        moment = dt.datetime.fromisoformat(text)
        with database.transaction(write=False) as cur:
            for at in (moment, moment - dt.timedelta(microseconds=1)):
                assert differing_tables(cur, at) == [], at


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every statement the views run through the temporal cursor, as the database gets it."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    execute = TemporalCursor.execute

    def recording(self: TemporalCursor, sql: str, params: Any = ()) -> Any:
        rewritten = self.frame.rewrite(sql)
        WRITTEN[rewritten] = sql
        statements.append((rewritten, tuple(params)))
        return execute(self, sql, params)

    monkeypatch.setattr(TemporalCursor, "execute", recording)
    yield statements


def scans(cur: Any, sql: str, params: tuple[Any, ...]) -> list[str]:
    cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
    details = [str(row[3]) for row in cur.fetchall()]
    return [d for d in details if re.match(rf"SCAN ({'|'.join(FILTERED)})\b", d)]


def cohort_queries(
    pilot: Pilot, recorded: list[tuple[str, tuple[Any, ...]]], as_of: bool, on: bool = False
) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements the cohort views (and a timeline) ran that pick facts by a key."""
    query = {"as_of": journal_times(pilot)[-1]} if as_of else {}
    if on:
        query["on"] = "2020-04-15"
    for view in COHORT_VIEWS:
        pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/{view}", **query)
    pilot.json(f"/tracking/people/{pilot.person('P01')}/timeline", **query)
    by_cohort = [
        (sql, p)
        for sql, p in recorded
        if any(t in sql for t in FILTERED) and BY_KEY.search(WRITTEN.get(sql, sql))
    ]
    assert len(by_cohort) > 10  # the views did run, through the temporal cursor
    return by_cohort


@pytest.mark.parametrize(("as_of", "on"), [(False, False), (True, False), (True, True)])
def test_the_cohort_views_read_their_facts_by_index_not_by_scanning(
    pilot: Pilot, recorded: list[tuple[str, tuple[Any, ...]]], as_of: bool, on: bool
) -> None:
    by_cohort = cohort_queries(pilot, recorded, as_of, on)
    if on:
        assert any("< '2020-04-16'" in sql for sql, _ in by_cohort)
    if as_of:
        assert all("recorded_from <=" in sql for sql, _ in by_cohort)
    else:
        assert all("recorded_to IS NULL" in sql for sql, _ in by_cohort)
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        scanning = {sql: found for sql, p in by_cohort if (found := scans(cur, sql, p))}
    assert scanning == {}


def index_conds(node: dict[str, Any]) -> list[str]:
    """A scan's index conditions, with those of the bitmap index scans (and their AND / OR)
    that feed a bitmap heap scan."""
    found = [str(node.get("Index Cond", ""))]
    for child in node.get("Plans", ()):
        if child["Node Type"].startswith("Bitmap"):
            found += index_conds(child)
    return found


def unsearched(node: dict[str, Any]) -> list[str]:
    """The filtered tables a PostgreSQL plan does not search by a key: a sequential scan, or an
    index walked for something else (all current rows, a recorded time). A search by key has
    the key in its ``Index Cond``, in a bitmap scan on the bitmap index scan below it."""
    found = []
    searched = any(KEY_COLUMN.search(cond) for cond in index_conds(node))
    if node.get("Relation Name") in FILTERED and not searched:
        found.append(f"{node['Node Type']} on {node['Relation Name']}")
    for child in node.get("Plans", ()):
        found += unsearched(child)
    return found


def other_cohorts(cur: Any, copies: int) -> None:
    """Adds ``copies`` copies of every filtered table's rows under other keys, as the rest of
    a state administration would be, so the planner sees tables worth searching."""
    for table in FILTERED:
        names = [*columns(table), "recorded_from", "recorded_to"]
        keys = {*FACT_KEYS[table], "cohort_id", "survey_id", "person_id", "session_id", "group_id"}
        picked = [f"{name} || '-' || g" if name in keys else name for name in names]
        cur.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(picked)}"
            f" FROM {table}, generate_series(1, {copies}) AS g"
        )
        cur.execute(f"ANALYZE {table}")


def test_postgresql_searches_by_key_for_every_cohort_view_query(
    pilot: Pilot,
    recorded: list[tuple[str, tuple[Any, ...]]],
    fresh_postgres_url: str,
    tmp_path: Path,
) -> None:
    """The same statements, on the pilot projected into PostgreSQL among a state's worth of
    other cohorts: every filtered table is searched by its key, never scanned or walked."""
    statements = [*cohort_queries(pilot, recorded, False), *cohort_queries(pilot, recorded, True)]
    statements += cohort_queries(pilot, recorded, False, on=True)
    outboxes = {name: s.tracking_outbox for name, s in pilot.runtime.services.items()}
    settings = Settings(data_dir=tmp_path, tracking_database_url=fresh_postgres_url)
    tracking = build_tracking(settings, OutboxFeed(outboxes))
    try:
        tracking.projector.drain()
        with tracking.readmodels.database.transaction() as cur:
            other_cohorts(cur, 200)
        with tracking.readmodels.database.transaction(write=False) as cur:
            scanning = {}
            for sql, params in statements:
                cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cur.fetchone()[0]
                found = unsearched(plan[0]["Plan"] if isinstance(plan, list) else plan)
                if found:
                    scanning[sql] = found
    finally:
        tracking.close()
    assert scanning == {}, "\n".join(f"{found}: {sql}" for sql, found in scanning.items())
