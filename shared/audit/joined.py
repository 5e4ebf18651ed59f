"""Verification's one-pass read on PostgreSQL: each stored event joined with its chain row.

The SQLite recorder has this read itself (``select_joined``); here it is for
:class:`~shared.audit.chain.ChainedPostgresApplicationRecorder`, so the fast walk of
:func:`shared.audit.verify.verify` runs on both databases. One query per batch reads the event
and its chain row (``LEFT JOIN``: a row without a chain row comes back with ``None``), instead
of two streams of notifications and chain rows.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import tuple_row


class PostgresJoined:
    """``select_joined`` and ``chain_count`` over a chained PostgreSQL recorder."""

    read_ahead = True
    """The server reads and joins the next batch on its own core while this one is hashed
    (:func:`shared.audit.verify.prefetched`)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        schema = recorder.datastore.schema
        self._events = f'"{schema}"."{recorder.events_table_name}"'
        self._chain = f'"{schema}"."{recorder.chain_table}"'

    def select_joined(self, after: int, limit: int) -> list[Any]:
        # Plain tuples, not the datastore's dict rows: a row per event is most of this read.
        with (
            self.recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(
                # The id as the 32 hex digits that are hashed, spelt by the server (on its own
                # core) rather than built into a UUID object per row here.
                "SELECT e.notification_id, encode(uuid_send(e.originator_id), 'hex'), "
                "e.originator_version, e.topic, "
                f"e.state, c.row_hash, c.link FROM {self._events} e LEFT JOIN {self._chain} c "
                "ON c.position = e.notification_id WHERE e.notification_id > %s "
                "ORDER BY e.notification_id LIMIT %s",
                (after, limit),
            )
            return [
                (
                    n,
                    o,
                    v,
                    t,
                    bytes(state),
                    None if row_hash is None else bytes(row_hash),
                    None if link is None else bytes(link),
                )
                for n, o, v, t, state, row_hash, link in curs.fetchall()
            ]

    def chain_count(self, after: int) -> int:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f"SELECT COUNT(*) AS n FROM {self._chain} WHERE position > %s", (after,))
            return int(curs.fetchone()["n"])


def joined_reader(log: Any) -> Any | None:
    """What can read ``log``'s rows joined with their chain rows, or None."""
    if log is None:
        return None
    if hasattr(log, "select_joined"):
        return log
    from shared.audit.chain import ChainedPostgresApplicationRecorder

    if isinstance(log, ChainedPostgresApplicationRecorder):
        return PostgresJoined(log)
    return None
