"""Leader election for the relays: of several relay processes for one service, one publishes.

A relay publishes only while it holds its service's leader lock; the others stand by and try
again on every round. When the leader dies, the operating system closes what it held and a
standby takes over from the stored position, so the topic gets the log in order (at least
once: a leader killed between its flush and storing its position has its last batch
published again by the next one, with the same event ids).

- On PostgreSQL the lock is a session-level advisory lock (``pg_try_advisory_lock``) on a
  connection of its own, with a key derived from the service and the topic prefix. The
  session holds it; when the connection is lost, so is the lock, and :meth:`check` says so
  before the relay publishes anything more.
- On SQLite (one machine) it is an exclusive OS file lock (``flock``) on a file next to the
  database, released by the kernel when the process ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("polku.leader")


class LeadershipLost(RuntimeError):
    """The lock went with its connection: the relay must stop publishing at once."""


class LeaderLock(Protocol):
    name: str

    def acquire(self) -> bool:
        """Tries to take the lock without waiting; True when this process holds it."""
        ...

    def check(self) -> None:
        """Raises :class:`LeadershipLost` unless the lock is still held."""
        ...

    def release(self) -> None: ...


def lock_key(service: str, topic_prefix: str) -> int:
    """A signed 64-bit advisory-lock key, the same in every process of one deployment."""
    digest = hashlib.blake2b(f"polku-relay:{topic_prefix}:{service}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class PostgresLeaderLock:
    """A session-level advisory lock, held on a dedicated connection (never a pooled one)."""

    def __init__(self, url: str, key: int, name: str = "relay") -> None:
        self.url = url
        self.key = key
        self.name = name
        self._conn: Any = None
        self.held = False

    def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            # Keepalives: a connection whose peer vanished is found out within seconds.
            self._conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=5,
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
                application_name=f"polku {self.name} pid {os.getpid()}",
            )
        return self._conn

    def acquire(self) -> bool:
        if self.held:
            self.check()
            return True
        import psycopg

        try:
            row = (
                self._connection()
                .execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                .fetchone()
            )
        except psycopg.Error:
            self._drop()
            raise
        self.held = bool(row and row[0])
        if self.held:
            log.info("%s: took the leader lock", self.name)
        return self.held

    def check(self) -> None:
        """One round trip on the lock's own session: if the session is gone, so is the lock."""
        if not self.held:
            raise LeadershipLost(f"{self.name} does not hold the leader lock")
        import psycopg

        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted"
                " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                (self.key,),
            ).fetchone()
        except psycopg.Error as exc:
            self._drop()
            raise LeadershipLost(
                f"{self.name} lost its leader lock with its connection: {exc}"
            ) from exc
        if not row or not row[0]:
            self._drop()
            raise LeadershipLost(f"{self.name} no longer holds its leader lock")

    def _drop(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def release(self) -> None:
        """Ends the session, which releases the lock (an explicit unlock is not needed)."""
        if self.held:
            log.info("%s: released the leader lock", self.name)
        self._drop()


class FileLeaderLock:
    """An exclusive ``flock`` on a file: for SQLite deployments, whose relays share a machine."""

    def __init__(self, path: Path, name: str = "relay") -> None:
        self.path = path
        self.name = name
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        log.info("%s: took the leader lock %s", self.name, self.path)
        return True

    def check(self) -> None:
        if self._fd is None:
            raise LeadershipLost(f"{self.name} does not hold the leader lock")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock
