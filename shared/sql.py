"""A minimal SQL adapter over SQLite and PostgreSQL for read models and position tables.

Statements are written once with ``?`` placeholders and portable SQL (``INSERT ... ON CONFLICT``
works on both). PostgreSQL connections come from a psycopg pool; SQLite opens a connection per
transaction, which is cheap and keeps threads apart.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from shared.settings import sqlite_file

_PLACEHOLDER = re.compile(r"\?")


SCHEMA_LOCK_KEY = 0x706F6C6B75  # "polku": one advisory lock for every schema change


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Serialises schema creation across processes sharing a PostgreSQL database.

    Concurrent ``CREATE TYPE`` / ``CREATE TABLE IF NOT EXISTS`` can both try to insert the same
    catalogue row, and one fails; this happens when services first start together. SQLite
    serialises writers itself, so there this is a no-op.
    """
    if url.startswith("sqlite"):
        yield
        return
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


class Database:
    """A database reached by URL: ``sqlite:///path`` or ``postgresql://...``."""

    dialect: str

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.dialect = "sqlite"
            self._path = sqlite_file(url)
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._pool: Any = None
        else:
            from psycopg_pool import ConnectionPool

            self.dialect = "postgresql"
            self._pool = ConnectionPool(
                url, min_size=1, max_size=4, open=True, timeout=10, kwargs={"connect_timeout": 5}
            )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        """One atomic transaction: committed on normal exit, rolled back on any exception.

        ``write=False`` is for queries: on SQLite it does not take the write lock, so readers
        never wait for (or hold up) the projector.
        """
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                yield _PgCursor(conn.cursor())
            return
        conn = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield conn.cursor()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def ping(self) -> None:
        with self.transaction(write=False) as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


class _PgCursor:
    """Adapts ``?`` placeholders to psycopg's ``%s``."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(_PLACEHOLDER.sub("%s", sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(_PLACEHOLDER.sub("%s", sql), [tuple(r) for r in rows])

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)
