"""A minimal SQL adapter over SQLite and PostgreSQL for read models and position tables.

Statements are written once with ``?`` placeholders and portable SQL (``INSERT ... ON CONFLICT``
works on both). PostgreSQL connections come from a psycopg pool. SQLite keeps a few idle
connections for reuse: opening one per transaction made every close the last one, and the last
close of a WAL database checkpoints it, which cost more than the transaction itself.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, cast

from shared.settings import sqlite_file

_PLACEHOLDER = re.compile(r"\?")


SQLITE_IDLE_CONNECTIONS = 4
"""Idle SQLite connections kept per database; busier moments open more and close them after."""

THROWAWAY_PRAGMAS = (
    "PRAGMA journal_mode=MEMORY",
    "PRAGMA synchronous=OFF",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)
"""A throwaway SQLite file's connections. The rollback journal stays (in memory), so a failed
batch still rolls back; a crash or power cut can corrupt the file, which is then discarded.
No WAL means every page is written once, and no sync means no waiting for the disk; 64 MB of
page cache keeps a rebuild's indexes in memory."""

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


def batches(cur: Cursor, sql: str, size: int, params: Sequence[Any] = ()) -> Iterator[list[Any]]:
    """The rows of one query in lists of at most ``size``, never the whole result at once.

    SQLite steps through the result as rows are fetched. PostgreSQL runs the query behind a
    server-side cursor (a psycopg *named* cursor) in the same transaction, so the client holds
    one batch at a time. Don't use ``cur`` for anything else until the rows are read.
    """
    stream = getattr(cur, "stream", None)
    if stream is not None:
        yield from stream(sql, size, params)
        return
    cur.execute(sql, params)
    fetchmany = cast(sqlite3.Cursor, cur).fetchmany
    while rows := fetchmany(size):
        yield rows


class Database:
    """A database reached by URL: ``sqlite:///path`` or ``postgresql://...``."""

    dialect: str

    def __init__(self, url: str, *, secure_delete: bool = False, throwaway: bool = False) -> None:
        self.url = url
        self.secure_delete = secure_delete
        """SQLite: overwrite deleted content with zeros (tables holding secrets, such as keys)."""
        self.throwaway = throwaway
        """SQLite: a file that is discarded if the process dies while writing it (a rebuild's
        target), so it is written without a WAL and never synced (:data:`THROWAWAY_PRAGMAS`)."""
        self._dedicated: list[Dedicated] = []
        self._beside: list[Database] = []
        if url.startswith("sqlite"):
            self.dialect = "sqlite"
            self._path = sqlite_file(url)  # a file: an in-memory database is refused there
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._pool: Any = None
            self._idle: list[sqlite3.Connection] = []
            self._idle_lock = threading.Lock()
            self._closed = False
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
        conn = self._acquire()
        reusable = False
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield conn.cursor()
            except BaseException:
                conn.execute("ROLLBACK")
                reusable = True
                raise
            conn.execute("COMMIT")
            reusable = True
        finally:
            self._release(conn, reusable)

    def _acquire(self) -> sqlite3.Connection:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._open_sqlite()

    def _open_sqlite(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=10, isolation_level=None, check_same_thread=False
        )
        if self.throwaway:
            for pragma in THROWAWAY_PRAGMAS:
                conn.execute(pragma)
            return conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        # Safe in WAL mode: a power cut can lose the last transactions, never corrupt the file,
        # and the positions roll back with the views, so the projector re-applies them.
        conn.execute("PRAGMA synchronous=NORMAL")
        if self.secure_delete:
            conn.execute("PRAGMA secure_delete=ON")
        return conn

    def _release(self, conn: sqlite3.Connection, reusable: bool) -> None:
        """Keeps a connection for the next transaction, unless enough are idle already."""
        with self._idle_lock:
            if reusable and not self._closed and len(self._idle) < SQLITE_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def autocommit(self) -> Iterator[Cursor]:
        """A cursor outside any transaction, for what cannot run inside one: SQLite's
        ``PRAGMA wal_checkpoint``, PostgreSQL's ``VACUUM``."""
        if self._pool is not None:
            with self._pool.connection() as conn:
                conn.autocommit = True
                try:
                    yield _PgCursor(conn.cursor())
                finally:
                    conn.autocommit = False
            return
        conn = self._acquire()
        try:
            yield conn.cursor()
        finally:
            self._release(conn, not conn.in_transaction)

    def ping(self) -> None:
        with self.transaction(write=False) as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        if self._pool is not None:
            return bool(self._pool.closed)
        return self._closed

    def beside(self, name: str) -> Database:
        """A database of its own for ``name``, closed with this one. On SQLite a file next to
        this one (``tracking.sqlite`` → ``tracking.access-log.sqlite``): a commit there does
        not touch this file, so it leaves this file's readers their page caches (SQLite drops
        a connection's whole cache when another connection has written the file). On
        PostgreSQL, where a write to one table costs readers of the others nothing, this
        database itself."""
        if self.dialect != "sqlite":
            return self
        path = Path(self._path)
        other = Database(f"sqlite:///{path.with_name(f'{path.stem}.{name}{path.suffix}')}")
        self._beside.append(other)
        return other

    def dedicated(self) -> Dedicated:
        """A connection of its own for one hot user (see :class:`Dedicated`), closed with the
        database."""
        own = Dedicated(self)
        self._dedicated.append(own)
        return own

    def _connect_own(self) -> Any:
        if self._pool is None:
            return self._open_sqlite()
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    def close(self) -> None:
        for own in self._dedicated:
            own.close()
        for other in self._beside:
            other.close()
        if self._pool is not None:
            self._pool.close()
            return
        with self._idle_lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> bytes:
    """``?`` placeholders as PostgreSQL's own ``$1``, ``$2``, ..., encoded."""
    numbered = itertools.count(1)
    return _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql).encode()


class Dedicated:
    """One connection outside the pool, kept open between uses, for a single hot writer (the
    access log's): each statement then costs neither a pool checkout nor a transaction of its
    own on top of the commit. Its user serialises the calls (it is not shared between threads
    at once). :meth:`execute` commits each statement on its own; :meth:`transaction` groups
    several.
    After any error the connection is closed, and the next use opens a new one."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._conn: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        if self.database.closed:
            raise RuntimeError(f"the database {self.database.dialect} is closed")
        if self._conn is None:
            self._conn = self.database._connect_own()
        return self._conn

    def _cursor(self, conn: Any) -> Cursor:
        return _PgCursor(conn.cursor()) if self.database.dialect == "postgresql" else conn.cursor()

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        """One statement, committed on its own (the access log's every append)."""
        conn = self._connection()
        try:
            if self.database.dialect == "postgresql":
                conn.execute(_PLACEHOLDER.sub("%s", sql), tuple(params))
            else:
                conn.execute(sql, params)
        except BaseException:
            self.close()
            raise

    @contextmanager
    def transaction(self, begin: str = "BEGIN") -> Iterator[Cursor]:
        """One transaction (``begin``: SQLite's ``BEGIN IMMEDIATE`` to take the write lock at
        once), committed on normal exit, and the connection dropped on any exception."""
        conn = self._connection()
        try:
            conn.execute(begin)
            yield self._cursor(conn)
            conn.execute("COMMIT")
        except BaseException:
            self.close()  # closing rolls back whatever was begun
            raise

    @property
    def sends(self) -> bool:
        """Whether :meth:`send` returns before the statement has run (PostgreSQL)."""
        return self.database.dialect == "postgresql"

    def send(self, sql: str, params: Sequence[Any]) -> None:
        """PostgreSQL: sends one statement (committed on its own) and returns without waiting
        for it; :meth:`collect` waits for its outcome. Nothing else may use the connection in
        between. ``params`` are ``str``, ``int`` or None, sent as text for the server to read as
        the columns' types."""
        from psycopg import generators

        conn = self._connection()
        try:
            conn.pgconn.send_query_params(
                _numbered(sql), [None if p is None else str(p).encode() for p in params]
            )
            conn.wait(generators.send(conn.pgconn))
        except BaseException:
            self.close()
            raise

    def collect(self, timeout: float = 30.0) -> None:
        """Waits for the statement of the last :meth:`send` and raises its error, as
        ``execute`` would (psycopg's exception for its SQLSTATE)."""
        from psycopg import errors, generators, pq

        conn = self._connection()
        try:
            results = conn.wait(generators.fetch_many(conn.pgconn), timeout=timeout)
        except BaseException:
            self.close()
            raise
        for result in results:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(result)  # the connection stays usable

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # a broken connection is dropped regardless
                conn.close()


def dialect_of(cur: Cursor) -> str:
    """``postgresql`` for a cursor of a PostgreSQL database, else ``sqlite``."""
    return "postgresql" if isinstance(cur, _PgCursor) else "sqlite"


_STREAMS = itertools.count(1)
"""Names PostgreSQL's server-side cursors apart within a connection."""


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

    def fetchmany(self, size: int) -> list[Any]:
        return list(self._cursor.fetchmany(size))

    def stream(self, sql: str, size: int, params: Sequence[Any] = ()) -> Iterator[list[Any]]:
        """:func:`batches` on PostgreSQL: a server-side cursor, read ``size`` rows a time."""
        name = f"polku_stream_{next(_STREAMS)}"
        with self._cursor.connection.cursor(name=name) as named:
            named.execute(_PLACEHOLDER.sub("%s", sql), tuple(params))
            while rows := named.fetchmany(size):
                yield list(rows)

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)
