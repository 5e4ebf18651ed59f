"""The tracking read models' database: creating the layout, the projector's bookkeeping, status.

``tr_positions`` and the journal (``tr_applied_events``) change in the same transaction as
the views, which is what makes a crash at any point harmless. The layout is in
:mod:`services.tracking.schema`; the views' queries are in :mod:`services.tracking.views`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from services.tracking.schema import (
    SCHEMA_VERSION,
    TABLES,
    VIEW_TABLES,
    LayoutBehind,
    LayoutChanged,
    check_layout,
    statements,
)
from services.tracking.temporal import reading
from shared.feeds import Key
from shared.sql import Cursor, Database, schema_lock
from shared.text import printable

__all__ = [
    "SCHEMA_VERSION",
    "LayoutBehind",
    "LayoutChanged",
    "ReadModels",
    "RosterPage",
    "check_layout",
    "now",
    "store_cursor",
]

log = logging.getLogger("polku.readmodels")


@dataclass(frozen=True)
class RosterPage:
    total: int
    participants: list[dict[str, Any]]
    next_after: int | None


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class ReadModels:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, rebuild: bool = True) -> None:
        """Creates the tables, or rebuilds them empty if they hold an older layout.

        Only a process that projects may rebuild (``rebuild=True``). A process serving the API
        alone finding an older layout raises :class:`LayoutBehind` instead: dropping the tables
        under an older projector still running would let it write positions into the new,
        empty ones, and the rebuild would then skip everything before them.
        """
        with schema_lock(self.database.url), self.database.transaction() as cur:
            # A projector already started may be applying a batch: its inserts hold the view
            # tables in one order while ``CREATE INDEX IF NOT EXISTS`` would take them in
            # another (a deadlock when two projectors start together). Its batches take this
            # lock first, so waiting for it here orders the two.
            one_writer_at_a_time(self.database, cur)
            cur.execute("CREATE TABLE IF NOT EXISTS tr_schema (version INTEGER NOT NULL)")
            cur.execute("SELECT version FROM tr_schema")
            row = cur.fetchone()
            found = None if row is None else int(row[0])
            if found != SCHEMA_VERSION:
                older = found is not None or self._has_tables(cur)
                if older and not rebuild:
                    raise LayoutBehind(
                        f"the read models are at layout {found or 1}; this release needs"
                        f" {SCHEMA_VERSION}. Its projector rebuilds them when it starts: stop the"
                        " older projector, start this release's, then this process."
                    )
                if older:
                    log.warning(
                        "read models are at layout %s, this version needs %d: dropping them;"
                        " the projector rebuilds them from the event logs",
                        found if found is not None else "1 (unversioned)",
                        SCHEMA_VERSION,
                    )
                for table in TABLES:
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute("DELETE FROM tr_schema")
                cur.execute("INSERT INTO tr_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            for statement in statements(self.database.dialect):
                cur.execute(statement)

    def _has_tables(self, cur: Cursor) -> bool:
        if self.database.dialect == "sqlite":
            cur.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tr_positions'"
            )
        else:
            cur.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'tr_positions'"
                " AND table_schema = current_schema()"
            )
        return cur.fetchone() is not None

    def positions(self) -> dict[Key, int]:
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT source, partition_no, position FROM tr_positions")
            return {(r[0], int(r[1])): int(r[2]) for r in cur.fetchall()}

    def status_rows(self) -> list[dict[str, Any]]:
        with self.database.transaction(write=False) as cur:
            cur.execute(
                "SELECT source, partition_no, position, last_event_position, events_applied,"
                " updated_at FROM tr_positions ORDER BY source, partition_no"
            )
            rows = cur.fetchall()
        keys = (
            "source",
            "partition",
            "position",
            "last_event_position",
            "events_applied",
            "updated_at",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def record_heads(self, heads: dict[Key, int]) -> None:
        """Persists the feed heads, so any process serving /tracking/status can report lag."""
        with self.database.transaction() as cur:
            for (source, partition), head in heads.items():
                cur.execute(
                    "INSERT INTO tr_feed_state (source, partition_no, head, checked_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (source, partition_no) DO UPDATE SET"
                    " head = excluded.head, checked_at = excluded.checked_at",
                    (source, partition, head, now()),
                )

    def record_error(self, source: str, error: str) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                "INSERT INTO tr_errors (source, error, recorded_at) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET error = excluded.error,"
                " recorded_at = excluded.recorded_at",
                (source, printable(error)[:2000], now()),
            )

    def status(self) -> dict[str, Any]:
        """Per (source, partition): position, head, lag and events applied; plus errors."""
        with self.database.transaction(write=False) as cur:
            cur.execute(
                "SELECT f.source, f.partition_no, p.position, p.last_event_position,"
                " p.events_applied, p.updated_at, f.head, f.checked_at"
                " FROM tr_feed_state f LEFT JOIN tr_positions p"
                " ON p.source = f.source AND p.partition_no = f.partition_no"
                " UNION SELECT p.source, p.partition_no, p.position, p.last_event_position,"
                " p.events_applied, p.updated_at, NULL, NULL FROM tr_positions p"
                " WHERE NOT EXISTS (SELECT 1 FROM tr_feed_state f WHERE f.source = p.source"
                " AND f.partition_no = p.partition_no) ORDER BY 1, 2"
            )
            rows = cur.fetchall()
            cur.execute("SELECT source, error, recorded_at FROM tr_errors")
            errors = {r[0]: {"error": r[1], "at": r[2]} for r in cur.fetchall()}
            cur.execute("SELECT source, COUNT(*) FROM tr_dead_letters GROUP BY source")
            dead = {r[0]: int(r[1]) for r in cur.fetchall()}
        sources = []
        for source, partition, position, last_event, applied, updated, head, checked in rows:
            sources.append(
                {
                    "source": source,
                    "partition": int(partition),
                    "position": None if position is None else int(position),
                    "last_event_position": None if last_event is None else int(last_event),
                    "events_applied": int(applied or 0),
                    "updated_at": updated,
                    "head": None if head is None else int(head),
                    "head_checked_at": checked,
                    "lag": None if head is None else max(0, int(head) - int(position or 0)),
                    "dead_lettered": dead.get(source, 0),
                    "last_error": (errors.get(source) or {}).get("error"),
                }
            )
        return {"sources": sources, "errors": errors}

    def dead_letter_count(self) -> dict[str, int]:
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT source, COUNT(*) FROM tr_dead_letters GROUP BY source")
            return {r[0]: int(r[1]) for r in cur.fetchall()}

    def cohort_exists(self, cohort_id: str) -> bool:
        with reading(self.database) as cur:
            cur.execute("SELECT 1 FROM tr_cohorts WHERE cohort_id = ?", (cohort_id,))
            return cur.fetchone() is not None

    def roster(self, cohort_id: str, after: int = 0, limit: int = 50) -> RosterPage:
        """The live roster: see :func:`roster_page`."""
        with reading(self.database) as cur:
            return roster_page(cur, cohort_id, after, limit)

    def query_log(self, after: int, limit: int) -> dict[str, Any]:
        """A page of the auditors' query log, oldest first; ``after`` is entries seen."""
        keys = ("at", "subject", "role", "method", "path", "query", "status")
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM tr_query_log")
            total = int(cur.fetchone()[0])
            cur.execute(
                f"SELECT {', '.join(keys)} FROM tr_query_log ORDER BY at, id LIMIT ? OFFSET ?",
                (limit, after),
            )
            items = [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
        following = after + len(items)
        return {
            "count": total,
            "items": items,
            "next_after": following if following < total else None,
        }

    def count(self, table: str) -> int:
        """How many rows ``table`` holds now: of a fact table, its current facts."""
        if table not in (*VIEW_TABLES, "tr_dead_letters"):
            raise ValueError(table)
        with reading(self.database) as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            return int(cur.fetchone()[0])


PROJECTOR_LOCK_KEY = 0x706F6C6B7570  # "polkup": the projectors' batches, one at a time
"""On PostgreSQL, the transaction-level advisory lock every projector batch holds."""


def one_writer_at_a_time(database: Database, cur: Cursor) -> None:
    """Makes concurrent projectors (one consumer group) commit their batches one at a time.

    Each projector reads its own partitions, but a view row may follow events of several
    subjects (a cohort's counts, a person's facts from both services), and the handlers read
    a row before they write its next version. Under READ COMMITTED two batches could each
    read the same version, or wait on each other's rows in opposite order (a deadlock whose
    retries end in dead letters). Taken first in the batch's transaction, this lock lets the
    next batch read only what the last one committed; it is released at commit or rollback,
    so a projector that dies holds nothing. Polling, decoding and validating stay parallel.
    SQLite needs nothing: ``BEGIN IMMEDIATE`` already admits one writer.
    """
    if database.dialect == "postgresql":
        cur.execute("SELECT pg_advisory_xact_lock(?)", (PROJECTOR_LOCK_KEY,))


def store_cursor(cur: Cursor, key: Key, position: int, last_event: int | None, n: int) -> None:
    """Records how far a partition is applied; a position never moves back.

    With several projectors in a group, one whose partition was just taken from it may commit
    a batch it had already polled after the new owner committed further: its events are
    skipped as duplicates, and its older cursor must not rewind the partition.
    """
    cur.execute(
        "INSERT INTO tr_positions (source, partition_no, position, last_event_position,"
        " events_applied, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, partition_no) DO UPDATE SET position = CASE"
        " WHEN excluded.position > tr_positions.position THEN excluded.position"
        " ELSE tr_positions.position END,"
        " last_event_position = CASE WHEN excluded.last_event_position IS NULL"
        " OR excluded.last_event_position < tr_positions.last_event_position"
        " THEN tr_positions.last_event_position ELSE excluded.last_event_position END,"
        " events_applied = tr_positions.events_applied + excluded.events_applied,"
        " updated_at = excluded.updated_at",
        (key[0], key[1], position, last_event, n, now()),
    )


def roster_page(cur: Cursor, cohort_id: str, after: int = 0, limit: int = 50) -> RosterPage:
    """Everyone who was enrolled, by pseudonymous id, in enrolment order, a page at a time.

    The cursor is the enrolment event's position in the enrolment log, so a page boundary
    stays put however the roster changes. ``status`` says whether they are still enrolled,
    completed or withdrew. The department joins in when it is known.
    """
    cur.execute(
        "SELECT COUNT(*) FROM tr_participation WHERE cohort_id = ?"
        " AND enrolled_position IS NOT NULL",
        (cohort_id,),
    )
    total = int(cur.fetchone()[0])
    cur.execute(
        "SELECT e.person_id, p.department, p.unit, e.enrolled_at, e.status,"
        " e.enrolled_position FROM tr_participation e"
        " LEFT JOIN tr_people p ON p.person_id = e.person_id"
        " WHERE e.cohort_id = ? AND e.enrolled_position > ?"
        " ORDER BY e.enrolled_position LIMIT ?",
        (cohort_id, after, limit + 1),
    )
    rows = cur.fetchall()
    page = rows[:limit]
    participants = [
        {
            "person_id": r[0],
            "department": r[1],
            "unit": r[2],
            "enrolled_at": r[3],
            "status": r[4],
        }
        for r in page
    ]
    next_after = int(page[-1][5]) if len(rows) > limit else None
    return RosterPage(total, participants, next_after)
