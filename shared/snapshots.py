"""Pruning of snapshots: only the latest few of an aggregate are kept.

The library writes a snapshot every so many events and never deletes one, so a long-lived
aggregate (a cohort of hundreds of people, tens of kilobytes a snapshot) piles them up. A
snapshot is derived from the events alone, so deleting older ones loses nothing: a load reads
the latest snapshot and the events after it. After a new snapshot is written, the ones older
than the latest ``keep`` are deleted in one statement. Keeping more than one leaves a load
that began before the newest was written (or a load at an older version) a snapshot to start
from.

The number kept is ``POLKU_SNAPSHOTS_KEPT`` (:class:`~shared.settings.Settings`), passed to
the application in its persistence environment under :data:`SNAPSHOTS_KEPT`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

SNAPSHOTS_KEPT = "SNAPSHOTS_KEPT"
"""The persistence environment's key for the number of snapshots kept per aggregate."""
DEFAULT_KEPT = 2


def kept(env: Any) -> int:
    """The number of snapshots to keep, from an application's environment (at least 1)."""
    value = env.get(SNAPSHOTS_KEPT) if env is not None else None
    return max(1, int(value)) if value else DEFAULT_KEPT


def prune_snapshots(recorder: Any, originator_id: UUID, keep: int) -> int:
    """Deletes the snapshots of ``originator_id`` older than its latest ``keep``; returns how
    many went. A store other than SQLite or PostgreSQL (the library's in-memory one) keeps
    everything."""
    from eventsourcing.postgres import PostgresAggregateRecorder
    from eventsourcing.sqlite import SQLiteAggregateRecorder

    if isinstance(recorder, SQLiteAggregateRecorder):
        table = recorder.events_table_name
        oid = originator_id.hex
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version < "
                f"(SELECT originator_version FROM {table} WHERE originator_id = ? "
                "ORDER BY originator_version DESC LIMIT 1 OFFSET ?)",
                (oid, oid, keep - 1),
            )
            return int(c.sqlite_cursor.rowcount)
    if isinstance(recorder, PostgresAggregateRecorder):
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(
                f"DELETE FROM {table} WHERE originator_id = %s AND originator_version < "
                f"(SELECT originator_version FROM {table} WHERE originator_id = %s "
                "ORDER BY originator_version DESC LIMIT 1 OFFSET %s)",
                (originator_id, originator_id, keep - 1),
            )
            return int(curs.rowcount)
    return 0
