"""The tracking read models: SQL tables holding pseudonymous ids and attributes only.

``tr_positions`` and ``tr_applied_events`` are the projector's bookkeeping; they change in the
same transaction as the views, which is what makes a crash at any point harmless.

The tables are disposable: they are a function of the event logs. When their layout changes,
``SCHEMA_VERSION`` goes up, and a database holding an older layout is dropped and rebuilt from
the logs by the projector, which then starts again from position 0.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from shared.feeds import Key
from shared.sql import Cursor, Database, schema_lock
from shared.text import printable

log = logging.getLogger("polku.readmodels")

SCHEMA_VERSION = 2
"""Raise it whenever a statement below changes: 2 added ``tr_enrolments.position``."""

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS tr_positions (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, position BIGINT NOT NULL,
        last_event_position BIGINT, events_applied BIGINT NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL, PRIMARY KEY (source, partition_no))""",
    """CREATE TABLE IF NOT EXISTS tr_feed_state (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, head BIGINT,
        checked_at TEXT NOT NULL, PRIMARY KEY (source, partition_no))""",
    """CREATE TABLE IF NOT EXISTS tr_errors (
        source TEXT PRIMARY KEY, error TEXT NOT NULL, recorded_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_applied_events (
        event_id TEXT PRIMARY KEY, source TEXT NOT NULL, type TEXT NOT NULL,
        position BIGINT NOT NULL, applied_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_dead_letters (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, offset_no BIGINT NOT NULL,
        event_id TEXT, type TEXT, error TEXT NOT NULL, payload TEXT, recorded_at TEXT NOT NULL,
        PRIMARY KEY (source, partition_no, offset_no))""",
    """CREATE TABLE IF NOT EXISTS tr_people (
        person_id TEXT PRIMARY KEY, organisation TEXT NOT NULL, department TEXT NOT NULL,
        unit TEXT NOT NULL, registered_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_programmes (
        programme_id TEXT PRIMARY KEY, name TEXT NOT NULL, organisation TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_cohorts (
        cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL, name TEXT NOT NULL,
        capacity INTEGER NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_enrolments (
        cohort_id TEXT NOT NULL, person_id TEXT NOT NULL, enrolled_at TEXT NOT NULL,
        position BIGINT NOT NULL, PRIMARY KEY (cohort_id, person_id))""",
    """CREATE INDEX IF NOT EXISTS tr_enrolments_by_position
        ON tr_enrolments (cohort_id, position)""",
]

TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", " ".join(SCHEMA)))

VIEW_TABLES = ("tr_people", "tr_programmes", "tr_cohorts", "tr_enrolments")


class LayoutBehind(RuntimeError):
    """The read models hold an older layout, and this process may not rebuild them."""


class LayoutChanged(RuntimeError):
    """A newer release rebuilt the read models; this (older) projector must not write to them."""


def check_layout(cur: Cursor) -> None:
    """Raises :class:`LayoutChanged` unless the tables are the layout this code writes."""
    cur.execute("SELECT version FROM tr_schema")
    row = cur.fetchone()
    if row is None or int(row[0]) != SCHEMA_VERSION:
        found = None if row is None else int(row[0])
        raise LayoutChanged(
            f"the read models are now at layout {found}, this projector writes layout"
            f" {SCHEMA_VERSION}: it stops applying events; run the matching release"
        )


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
            for statement in SCHEMA:
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
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT 1 FROM tr_cohorts WHERE cohort_id = ?", (cohort_id,))
            return cur.fetchone() is not None

    def roster(self, cohort_id: str, after: int = 0, limit: int = 50) -> RosterPage:
        """Enrolled participants by pseudonymous id, in enrolment order, a page at a time.

        The cursor is the enrolment event's position in the enrolment log, so a page boundary
        stays put however the roster changes. The department joins in when it is known.
        """
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM tr_enrolments WHERE cohort_id = ?", (cohort_id,))
            total = int(cur.fetchone()[0])
            cur.execute(
                "SELECT e.person_id, p.department, p.unit, e.enrolled_at, e.position"
                " FROM tr_enrolments e LEFT JOIN tr_people p ON p.person_id = e.person_id"
                " WHERE e.cohort_id = ? AND e.position > ? ORDER BY e.position LIMIT ?",
                (cohort_id, after, limit + 1),
            )
            rows = cur.fetchall()
        page = rows[:limit]
        participants = [
            {"person_id": r[0], "department": r[1], "unit": r[2], "enrolled_at": r[3]} for r in page
        ]
        next_after = int(page[-1][4]) if len(rows) > limit else None
        return RosterPage(total, participants, next_after)

    def count(self, table: str) -> int:
        if table not in (*VIEW_TABLES, "tr_applied_events", "tr_dead_letters"):
            raise ValueError(table)
        with self.database.transaction(write=False) as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            return int(cur.fetchone()[0])


def store_cursor(cur: Cursor, key: Key, position: int, last_event: int | None, n: int) -> None:
    cur.execute(
        "INSERT INTO tr_positions (source, partition_no, position, last_event_position,"
        " events_applied, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, partition_no) DO UPDATE SET position = excluded.position,"
        " last_event_position = COALESCE(excluded.last_event_position,"
        " tr_positions.last_event_position),"
        " events_applied = tr_positions.events_applied + excluded.events_applied,"
        " updated_at = excluded.updated_at",
        (key[0], key[1], position, last_event, n, now()),
    )


LOOKUP_CHUNK = 500
"""Ids per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's parameter limits."""


def applied_event_ids(cur: Cursor, event_ids: list[str]) -> set[str]:
    """Which of ``event_ids`` the ledger already holds."""
    found: set[str] = set()
    for start in range(0, len(event_ids), LOOKUP_CHUNK):
        chunk = event_ids[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        cur.execute(f"SELECT event_id FROM tr_applied_events WHERE event_id IN ({marks})", chunk)
        found.update(row[0] for row in cur.fetchall())
    return found
