"""The access log's write path: one statement per commit, shared by concurrent readers.

- **A connection of its own.** The writer keeps one connection open outside the pool
  (:class:`shared.sql.Dedicated`), so an append pays neither a pool checkout nor switching
  autocommit on and off: on PostgreSQL that was about a quarter of an append's time.
- **The head in memory.** The writer keeps the last position and link it knows to be committed,
  so an append is a single ``INSERT`` in autocommit: no ``SELECT`` of the last link, no explicit
  transaction, no table lock. The position is the table's primary key, so when another process
  (a second gunicorn worker, ``polku audit`` on the same database) has appended meanwhile, the
  insert fails on the key, nothing is written, and the writer appends as before this change:
  in a transaction holding the table's write lock (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's
  ``LOCK TABLE ... IN EXCLUSIVE MODE``), reading the head inside it. The chain therefore stays
  one gap-free sequence whatever the number of writers, and a collision costs one locked
  append, never a retry loop. The first append of a process, and one after an error, take the
  locked path too. A head older than :data:`HEAD_TTL` seconds is not trusted (pruning never
  reaches a head that recent, and never removes the newest entry).
- **Group commit.** Readers arriving while a write is under way queue their entries; the next
  of them to take the writer's lock writes every queued entry in one multi-row ``INSERT`` and
  marks each done (or failed). Nobody returns before the statement holding their entry has
  committed, so fail-closed holds per entry.
- **Sent early, collected late (PostgreSQL).** :meth:`Writer.begin` sends the ``INSERT`` and
  returns without waiting; the server commits it while the reader goes on (serialising its
  answer), and :meth:`Writer.finish` then waits for the outcome. The connection stays the
  writer's alone: whoever needs it next (another reader's entry) first collects what was sent.
  SQLite has no such split (its commit is a local write of some 50 µs), so there ``begin``
  commits at once.
- **Hashing outside the lock.** Each entry's row hash is computed by its reader before queueing;
  under the lock only the links (one SHA-256 each) are chained.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.audit.chain import GENESIS, link
from shared.sql import Cursor, Database

if TYPE_CHECKING:
    from shared.audit.access import Access

HEAD_TTL = 60.0
"""Seconds a head known in memory is trusted before it is read from the database again."""
MAX_BATCH = 200
"""Entries per statement at most (12 parameters each, far below either database's limit)."""

INSERT_COLUMNS = (
    "position, at, service, role, subject, operation, resource, person_ids, outcome, purpose, "
    "row_hash, link"
)


class AccessLogUnavailable(RuntimeError):
    """The entry could not be written (so the read it records must be refused)."""


@dataclass
class Pending:
    entry: Access
    row: bytes
    position: int = 0
    error: BaseException | None = None
    done: bool = False


def _conflicts() -> tuple[type[BaseException], ...]:
    """The exceptions of a duplicate position: another writer appended first."""
    found: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg

        found.append(psycopg.IntegrityError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(found)


_CONFLICTS = _conflicts()


@lru_cache(maxsize=MAX_BATCH)
def _insert_sql(table: str, rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO {table} ({INSERT_COLUMNS}) VALUES {values}"


def people_text(person_ids: tuple[str, ...]) -> str:
    return "," + ",".join(person_ids) + "," if person_ids else ""


class Writer:
    """Appends entries to one access-log table (see the module's description)."""

    def __init__(self, database: Database, table: str, base_table: str) -> None:
        self.database = database
        self._own = database.dedicated()
        self.table = table
        self.base_table = base_table
        self._queue: list[Pending] = []
        self._queue_lock = threading.Lock()
        self._lock = threading.Lock()
        self._head: tuple[int, bytes] | None = None
        self._head_seen = 0.0
        self._sent: tuple[list[Pending], int, tuple[int, bytes]] | None = None
        """The batch sent and not yet collected, the position before it and the head after."""
        self.statements = 0
        """Statements committed by this writer (each holds one or more entries)."""
        self.collisions = 0
        """Appends that found their position taken by another writer and were retried."""

    @property
    def sends(self) -> bool:
        """Whether :meth:`begin` returns before the entry is committed (PostgreSQL)."""
        return self._own.sends

    def submit(self, pending: Pending) -> int:
        """Appends ``pending``'s entry; returns its position once it is committed."""
        if self._lock.acquire(blocking=False):  # no write under way: no queue to share
            try:
                if self._sent is None and not self._queue:
                    self._write([pending])
                    return self._outcome(pending)
                self._enqueue(pending)
            finally:
                self._lock.release()
        else:
            self._enqueue(pending)
        return self.finish(pending)

    def begin(self, pending: Pending) -> None:
        """Starts appending ``pending``'s entry, for :meth:`finish` to wait for: on PostgreSQL
        the statement is sent and this returns at once (the server commits it while the caller
        goes on), on SQLite it is committed here. Never raises: :meth:`finish` does."""
        self._enqueue(pending)
        with self._lock:
            if pending.done:
                return
            self._collect()  # the connection is needed: whoever sent before is answered first
            if pending.done:
                return
            batch = self._take()
            if self._own.sends and self._head_fresh():
                self._send(batch)
            else:
                self._write(batch)

    def finish(self, pending: Pending) -> int:
        """Waits until ``pending``'s entry is committed (or failed) and returns its position."""
        with self._lock:
            while not pending.done:
                if self._sent is not None:
                    self._collect()
                else:
                    batch = self._take()
                    if not batch:  # pragma: no cover - an entry is queued, sent or done
                        raise RuntimeError("an access-log entry was lost by its writer")
                    self._write(batch)
        return self._outcome(pending)

    @staticmethod
    def _outcome(pending: Pending) -> int:
        if pending.error is not None:
            raise AccessLogUnavailable("the access log could not be written") from pending.error
        return pending.position

    def forget_head(self) -> None:
        """Makes the next append read the head from the database."""
        with self._lock:
            self._collect()
            self._head = None

    def _enqueue(self, pending: Pending) -> None:
        with self._queue_lock:
            self._queue.append(pending)

    def _take(self) -> list[Pending]:
        with self._queue_lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        return batch

    def _head_fresh(self) -> bool:
        return self._head is not None and time.monotonic() - self._head_seen < HEAD_TTL

    @staticmethod
    def _failed(batch: list[Pending], error: BaseException) -> None:
        for pending in batch:
            pending.error, pending.done = error, True

    def _done(self, batch: list[Pending], positions: list[int]) -> None:
        for pending, position in zip(batch, positions, strict=True):
            pending.position, pending.done = position, True

    def _write(self, batch: list[Pending]) -> None:
        """Writes ``batch`` in one statement and marks each entry done; on failure each gets
        the error (nothing of the batch was written)."""
        self._collect()
        try:
            positions = self._append(batch)
        except BaseException as error:
            self._head = None
            self._failed(batch, error)
            return
        self._done(batch, positions)

    def _send(self, batch: list[Pending]) -> None:
        """PostgreSQL: sends ``batch``'s ``INSERT`` on the head in memory, without waiting."""
        position, previous = self._head  # type: ignore[misc]  # fresh: checked by the caller
        values, last = self._values(batch, position, previous)
        try:
            self._own.send(_insert_sql(self.table, len(batch)), values)
        except BaseException as error:
            self._head = None
            self._failed(batch, error)
            return
        self._sent = (batch, position, last)

    def _collect(self) -> None:
        """Waits for the batch sent, if any: marks it done, or, when another process took its
        positions meanwhile, appends it again under the table's lock; else each entry fails."""
        if self._sent is None:
            return
        batch, position, last = self._sent
        self._sent = None
        try:
            self._own.collect()
        except _CONFLICTS:  # another process appended first
            self.collisions += 1
            self._head = None
            self._write(batch)
        except BaseException as error:
            self._head = None
            self._failed(batch, error)
        else:
            self._done(batch, self._appended(position, last))

    def _append(self, batch: list[Pending]) -> list[int]:
        """Optimistically on the head in memory (one autocommit ``INSERT``); when there is
        none, or another writer took the position, under the table's write lock instead."""
        if self._head_fresh():
            position, previous = self._head  # type: ignore[misc]
            values, last = self._values(batch, position, previous)
            try:
                self._own.execute(_insert_sql(self.table, len(batch)), values)
            except _CONFLICTS:  # another process appended first
                self.collisions += 1
                self._head = None
            else:
                return self._appended(position, last)
        sqlite = self.database.dialect == "sqlite"
        with self._own.transaction("BEGIN IMMEDIATE" if sqlite else "BEGIN") as cur:
            if not sqlite:
                cur.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            position, previous = self._read_head(cur)
            values, last = self._values(batch, position, previous)
            cur.execute(_insert_sql(self.table, len(batch)), values)
        return self._appended(position, last)

    def _appended(self, before: int, head: tuple[int, bytes]) -> list[int]:
        self._head, self._head_seen = head, time.monotonic()
        self.statements += 1
        return list(range(before + 1, head[0] + 1))

    @staticmethod
    def _values(
        batch: list[Pending], position: int, previous: bytes
    ) -> tuple[list[Any], tuple[int, bytes]]:
        values: list[Any] = []
        for pending in batch:
            position += 1
            previous = link(previous, position, pending.row)
            e = pending.entry
            values += (
                position,
                e.at,
                e.service,
                e.role,
                e.subject,
                e.operation,
                e.resource,
                people_text(e.person_ids),
                e.outcome,
                e.purpose,
                pending.row.hex(),
                previous.hex(),
            )
        return values, (position, previous)

    def _read_head(self, cur: Cursor) -> tuple[int, bytes]:
        cur.execute(f"SELECT position, link FROM {self.table} ORDER BY position DESC LIMIT 1")
        last: Any = cur.fetchone()
        if last is None:
            cur.execute(f"SELECT position, link FROM {self.base_table}")
            last = cur.fetchone()
        return (int(last[0]), bytes.fromhex(last[1])) if last else (0, GENESIS)
