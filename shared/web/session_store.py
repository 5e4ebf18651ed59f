"""Where browser sessions are kept: under the hash of their id, never the id itself."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Protocol

from shared.sql import Database
from shared.web.identity import Identity


@dataclass(frozen=True)
class SessionRecord:
    identity: Identity
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


class SessionStore(Protocol):
    """Where sessions live, keyed by the hash of their id (never the id itself)."""

    def save(self, key: str, record: SessionRecord) -> None: ...
    def load(self, key: str) -> SessionRecord | None: ...
    def delete(self, key: str) -> None: ...
    def purge_expired(self, now: dt.datetime) -> int: ...


class MemorySessionStore:
    """Sessions in this process's memory: for tests and one-process tools."""

    def __init__(self) -> None:
        self._records: dict[str, SessionRecord] = {}
        self._lock = threading.Lock()

    def save(self, key: str, record: SessionRecord) -> None:
        with self._lock:
            self._records[key] = record

    def load(self, key: str) -> SessionRecord | None:
        with self._lock:
            return self._records.get(key)

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def purge_expired(self, now: dt.datetime) -> int:
        with self._lock:
            gone = [k for k, r in self._records.items() if r.expires_at <= now]
            for key in gone:
                del self._records[key]
            return len(gone)


class SqlSessionStore:
    """Sessions in a SQL table (SQLite or PostgreSQL), shared by every worker process."""

    TABLE = "web_sessions"

    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key TEXT PRIMARY KEY,"
                " identity TEXT NOT NULL, csrf_token TEXT NOT NULL, created_at TEXT NOT NULL,"
                " expires_at TEXT NOT NULL)"
            )

    def save(self, key: str, record: SessionRecord) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.TABLE} (key, identity, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    record.identity.to_json(),
                    record.csrf_token,
                    _utc_text(record.created_at),
                    _utc_text(record.expires_at),
                ),
            )

    def load(self, key: str) -> SessionRecord | None:
        with self.database.transaction(write=False) as cur:
            cur.execute(
                f"SELECT identity, csrf_token, created_at, expires_at FROM {self.TABLE}"
                " WHERE key = ?",
                (key,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return SessionRecord(
            Identity.from_json(row[0]),
            row[1],
            dt.datetime.fromisoformat(row[2]),
            dt.datetime.fromisoformat(row[3]),
        )

    def delete(self, key: str) -> None:
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.TABLE} WHERE key = ?", (key,))

    def purge_expired(self, now: dt.datetime) -> int:
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.TABLE} WHERE expires_at <= ?", (_utc_text(now),))
            return int(cur.rowcount)


def _utc_text(moment: dt.datetime) -> str:
    """ISO text in UTC with a fixed width, so that text order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
