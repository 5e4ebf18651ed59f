"""The journal: every applied event in its JSON form, and what ``as_of`` rebuilds from it.

The journal doubles as the ledger of applied event ids, so a duplicate delivery is skipped.
Because it keeps each event's data and time, tracking can answer "as the organisation could
have answered on day D" without going back to the write services: :func:`snapshot` replays
the events recorded up to D, through the same handlers, into a private in-memory database.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from services.tracking.projections import HANDLERS
from services.tracking.projections.base import utc_text
from services.tracking.schema import SCHEMA
from shared.events import Envelope
from shared.sql import Cursor, Database

LOOKUP_CHUNK = 500
"""Ids per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's parameter limits."""

JOURNAL_COLUMNS = "event_id, source, type, position, applied_at, subject, time, sequence, data"
INSERT_JOURNAL = (
    f"INSERT INTO tr_applied_events ({JOURNAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PEOPLE = "INSERT INTO tr_event_people (person_id, event_id) VALUES (?, ?)"


def people_of(data: dict[str, Any]) -> list[str]:
    """The pseudonymous ids an event is about, for the participant timeline."""
    if "person_id" in data:
        return [str(data["person_id"])]
    return [str(member) for member in data.get("members", ())]


class Journal:
    """Collects a batch's journal rows, then writes them with two ``executemany`` calls."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.people: list[tuple[str, str]] = []

    def add(self, source: str, envelope: Envelope, applied_at: str) -> None:
        self.events.append(
            (
                envelope.id,
                source,
                envelope.type,
                envelope.position,
                applied_at,
                envelope.subject,
                utc_text(envelope.time),
                envelope.sequence,
                json.dumps(envelope.data, separators=(",", ":"), default=str),
            )
        )
        self.people.extend((person, envelope.id) for person in people_of(envelope.data))

    def write(self, cur: Cursor) -> None:
        """No ``ON CONFLICT``: an id applied meanwhile by another projector fails the batch."""
        if self.events:
            cur.executemany(INSERT_JOURNAL, self.events)
        if self.people:
            cur.executemany(INSERT_PEOPLE, self.people)


def applied_event_ids(cur: Cursor, event_ids: list[str]) -> set[str]:
    """Which of ``event_ids`` the ledger already holds."""
    found: set[str] = set()
    for start in range(0, len(event_ids), LOOKUP_CHUNK):
        chunk = event_ids[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        cur.execute(f"SELECT event_id FROM tr_applied_events WHERE event_id IN ({marks})", chunk)
        found.update(row[0] for row in cur.fetchall())
    return found


def handle(cur: Cursor, envelope: Envelope) -> None:
    """Applies one event's changes to the views; event types tracking does not use pass."""
    handler = HANDLERS.get(envelope.type)
    if handler is not None:
        handler(cur, envelope, envelope.data)


class JournalRow(NamedTuple):
    source: str
    envelope: Envelope


def recorded_until(cur: Cursor, until: str) -> Iterator[JournalRow]:
    """The journal's events recorded up to ``until`` (UTC text), in a replayable order.

    Per source, the log's own order (position); across sources, by time. Handlers depend
    only on the order within one aggregate, which the position keeps.
    """
    cur.execute(
        f"SELECT {JOURNAL_COLUMNS} FROM tr_applied_events WHERE time <= ?"
        " ORDER BY time, source, position",
        (until,),
    )
    for row in cur.fetchall():
        event_id, source, type_, position, _, subject, time, sequence, data = row
        envelope = Envelope(
            id=event_id,
            source=f"/polku/{source}",
            type=type_,
            subject=subject,
            time=dt.datetime.fromisoformat(time),
            dataschema="",
            sequence=int(sequence),
            position=int(position),
            actor="",
            correlationid="",
            causationid=None,
            data=json.loads(data),
        )
        yield JournalRow(source, envelope)


def replay_into(cur: Cursor, rows: Iterable[JournalRow], applied_at: str) -> int:
    """Applies journal rows to empty views, journal included; returns how many."""
    journal = Journal()
    for row in rows:
        handle(cur, row.envelope)
        journal.add(row.source, row.envelope, applied_at)
    journal.write(cur)
    return len(journal.events)


def empty_views() -> sqlite3.Connection:
    """A private in-memory database holding the whole layout, empty."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    for statement in SCHEMA:
        conn.execute(statement)
    return conn


class Snapshots:
    """``as_of`` views: the journal up to a moment, replayed into an in-memory database.

    A snapshot is kept for its moment as long as no event recorded up to that moment arrives
    later (a lagging source can deliver one) and the journal was not swapped by a replay, so
    repeated questions about the same day cost one replay. At most ``keep`` are held.
    """

    def __init__(self, database: Database, keep: int = 8) -> None:
        self.database = database
        self.keep = keep
        self._cache: OrderedDict[str, tuple[str, sqlite3.Connection, threading.Lock]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @contextmanager
    def cursor(self, as_of: dt.datetime) -> Iterator[Cursor]:
        until = utc_text(as_of)
        with self.database.transaction(write=False) as live:
            # A swap by ``polku replay`` rewrites applied_at: the key then changes with it.
            live.execute(
                "SELECT COUNT(*), MAX(applied_at) FROM tr_applied_events WHERE time <= ?", (until,)
            )
            row = live.fetchone()
            count = f"{int(row[0])}/{row[1]}"
            with self._lock:
                cached = self._cache.get(until)
                if cached is not None and cached[0] == count:
                    self._cache.move_to_end(until)
            if cached is None or cached[0] != count:
                conn = empty_views()
                cur = conn.cursor()
                cur.execute("BEGIN")
                replay_into(cur, recorded_until(live, until), until)
                cur.execute("COMMIT")
                cached = (count, conn, threading.Lock())
                with self._lock:
                    self._cache[until] = cached
                    while len(self._cache) > self.keep:
                        _, (_, old, _) = self._cache.popitem(last=False)
                        old.close()
        _, conn, lock = cached
        with lock:
            yield conn.cursor()

    def close(self) -> None:
        with self._lock:
            for _, conn, _ in self._cache.values():
                conn.close()
            self._cache.clear()
