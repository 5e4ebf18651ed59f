"""A database administrator's hand on a write service's event store, for the tamper tests.

Each function edits the stored rows directly, behind the application, on SQLite or on
PostgreSQL (as the server's superuser, with triggers switched off for the session, as an
administrator bypassing the append-only trigger would).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from shared.audit.chain import GENESIS, chain_rows
from shared.settings import sqlite_file


class Store:
    """The events and chain tables of one application's store, reached directly."""

    def __init__(self, url: str, recorder: Any) -> None:
        self.url = url
        self.events = recorder.events_table_name
        self.chain = recorder.chain_table
        self.sqlite = url.startswith("sqlite")
        self.id = "rowid" if self.sqlite else "notification_id"
        self.mark = "?" if self.sqlite else "%s"

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(sqlite_file(self.url))
            try:
                yield conn.cursor()
                conn.commit()
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # triggers off: a DBA
            yield cur

    def _sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def state(self, cur: Any, position: int) -> bytes:
        cur.execute(self._sql(f"SELECT state FROM {self.events} WHERE {self.id} = ?"), (position,))
        return bytes(cur.fetchone()[0])

    def set_state(self, position: int, old: bytes, new: bytes) -> None:
        with self.cursor() as cur:
            state = self.state(cur, position)
            assert old in state, (old, state)
            cur.execute(
                self._sql(f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?"),
                (state.replace(old, new), position),
            )

    def delete(self, positions: Sequence[int], chain_too: bool = False) -> None:
        with self.cursor() as cur:
            for position in positions:
                cur.execute(
                    self._sql(f"DELETE FROM {self.events} WHERE {self.id} = ?"), (position,)
                )
                if chain_too:
                    cur.execute(
                        self._sql(f"DELETE FROM {self.chain} WHERE position = ?"), (position,)
                    )

    def swap(self, a: int, b: int) -> None:
        with self.cursor() as cur:
            for source, target in ((a, -1), (b, a), (-1, b)):
                cur.execute(
                    self._sql(f"UPDATE {self.events} SET {self.id} = ? WHERE {self.id} = ?"),
                    (target, source),
                )

    def rechain(self) -> None:
        """Recomputes the whole chain from the rows as they now are (a careful forger)."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {self.id}, originator_id, originator_version, topic, state "
                f"FROM {self.events} ORDER BY {self.id}"
            )
            found = cur.fetchall()

            class Row:
                def __init__(self, r: Any) -> None:
                    self.originator_id = r[1] if not isinstance(r[1], str) else _uuid(r[1])
                    self.originator_version, self.topic, self.state = r[2], r[3], bytes(r[4])

            rows = chain_rows(GENESIS, [r[0] for r in found], [Row(r) for r in found])
            cur.execute(f"DELETE FROM {self.chain}")
            cur.executemany(self._sql(f"INSERT INTO {self.chain} VALUES (?, ?, ?)"), rows)


def _uuid(text: str) -> Any:
    import uuid

    return uuid.UUID(text)
