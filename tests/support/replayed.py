"""The test oracle for ``as_of``: the journal up to a moment, replayed into fresh read models.

Tracking once answered ``as_of`` this way. It is kept here only to prove the temporal tables
right: what a query sees as of a moment must equal what replaying the events recorded up to
then gives (the rows and their ``recorded_from``; ``recorded_to`` is what differs, as the
replay cannot know the later events that closed a row).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from services.tracking.journal import JOURNAL_COLUMNS, Journal, handle
from services.tracking.projections.base import utc_text
from services.tracking.schema import FACT_KEYS, JOURNAL_TIME, SCHEMA
from services.tracking.temporal import Timeframe
from services.tracking.versions import columns
from shared.events import Envelope
from shared.sql import Cursor


class JournalRow(NamedTuple):
    source: str
    envelope: Envelope


def recorded_until(cur: Cursor, until: str) -> Iterator[JournalRow]:
    """The journal's events recorded up to ``until`` (UTC text): by time, then per source in
    the log's own order (handlers depend only on the order within one aggregate)."""
    cur.execute(
        f"SELECT {JOURNAL_COLUMNS} FROM tr_applied_events WHERE time <= ?"
        " ORDER BY time, source, position",
        (until,),
    )
    for row in cur.fetchall():
        event_id, source, type_, position, time, data, actor = row
        envelope = Envelope(  # what the handlers read; the journal keeps no more
            id=event_id,
            source=f"/polku/{source}",
            type=type_,
            subject="",
            time=dt.datetime.fromisoformat(time),
            dataschema="",
            aggregateversion=1,
            position=int(position),
            actor=actor,
            correlationid="",
            causationid=None,
            data=json.loads(data),
        )
        yield JournalRow(source, envelope)


def replayed(live: Cursor, until: str) -> sqlite3.Connection:
    """A private in-memory database holding the views replayed from the journal to ``until``."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    cur = conn.cursor()
    cur.execute("BEGIN")
    journal = Journal()
    for row in recorded_until(live, until):
        handle(cur, row.envelope)
        journal.add(row.source, row.envelope)
    journal.write(cur)
    cur.execute("COMMIT")
    return conn


def columns_compared(table: str) -> str:
    """What a replay must reproduce of a table: every column but when a later event closed it
    (the journal's are all compared)."""
    if table == JOURNAL_TIME[0]:
        return JOURNAL_COLUMNS
    return ", ".join([*columns(table), "recorded_from"])


def differing_tables(live: Cursor, until: dt.datetime) -> list[str]:
    """The tables whose rows as of ``until`` differ from the journal replayed up to then."""
    moment = utc_text(until)
    oracle = replayed(live, moment)
    try:
        then = Timeframe(moment).over(live)
        replay = Timeframe().over(oracle.cursor())
        differing = []
        for table in (*FACT_KEYS, JOURNAL_TIME[0]):
            query = f"SELECT {columns_compared(table)} FROM {table}"
            then.execute(query)
            replay.execute(query)
            if sorted(map(tuple, then.fetchall()), key=repr) != sorted(
                map(tuple, replay.fetchall()), key=repr
            ):
                differing.append(table)
        return differing
    finally:
        oracle.close()
