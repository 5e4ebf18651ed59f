"""The journal: every applied event in its JSON form, and the ledger of applied event ids.

A duplicate delivery is skipped because its id is in the journal. The participant timeline
reads each person's events from it (``tr_event_people`` says whose they are). ``as_of`` does
not replay it: the fact tables are temporal (:mod:`services.tracking.temporal`).
"""

from __future__ import annotations

from typing import Any

import orjson

from services.tracking.projections import HANDLERS
from services.tracking.projections.base import compact_json, utc_text
from shared.events import Envelope
from shared.sql import Cursor

LOOKUP_CHUNK = 500
"""Ids per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's parameter limits."""

JOURNAL_COLUMNS = "event_id, source, type, position, time, data, actor"
"""What the ledger (the id), the timeline and the handlers (the rest) read of an event."""
INSERT_JOURNAL = f"INSERT INTO tr_applied_events ({JOURNAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_COMPACT = compact_json(default=str)


def _json(data: dict[str, Any]) -> str:
    """An event's data as the journal stores it: compact JSON from orjson, which is several
    times faster than the standard encoder and the journal encodes every event (text stays
    UTF-8, not ``\\u`` escapes). What orjson refuses (an integer beyond 64 bits) gets the
    standard encoder's form."""
    try:
        return orjson.dumps(data, default=str).decode()
    except orjson.JSONEncodeError:
        return _COMPACT(data)


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

    def add(self, source: str, envelope: Envelope) -> None:
        self.events.append(
            (
                envelope.id,
                source,
                envelope.type,
                envelope.position,
                utc_text(envelope.time),
                _json(envelope.data),
                envelope.actor,
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
