"""The key store: each person's data key and blind index, kept apart from the events they unlock.

Personal fields are stored in the event store only sealed with a per-person key
(:mod:`services.enrolment.personal`). Deleting the key is what erases them: the sealed bytes stay
in the append-only log, in snapshots and in backups, and can no longer be read by anyone.

Beside each key sits a *blind index*: an HMAC of the person's normalised employee number under a
secret of the key store, so that "is this employee number taken?" and an import's "who is this
row?" can be answered without storing the number in the clear. Erasure deletes it with the key.

:class:`KeyStore` is the protocol; :class:`SqlKeyStore` keeps the keys in tables of the service's
own database (the default), :class:`InMemoryKeyStore` is the fake for unit tests, and a KMS-backed
store can replace either without the application noticing.

What deletion leaves behind:

- SQLite: the connections run with ``PRAGMA secure_delete=ON``, so deleted rows and freed pages
  are overwritten with zeros, and every deletion ends with ``PRAGMA wal_checkpoint(TRUNCATE)``, so
  the write-ahead log (which holds copies of the pages as they were written) is emptied too.
- PostgreSQL: a deleted row stays in its page as a dead tuple until ``VACUUM`` prunes it, and in
  the write-ahead log and base backups until they are recycled. Every deletion therefore ends
  with a ``VACUUM`` of the two tables; WAL archives and backups must be kept no longer than the
  erasure promise allows (or the keys moved to a KMS, which deletes them for good).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol
from urllib.parse import quote
from uuid import UUID

from shared.sql import Cursor, Database, schema_lock

log = logging.getLogger(__name__)

KEYS_TABLE = "enrolment_person_keys"
LOOKUPS_TABLE = "enrolment_person_lookups"
SECRETS_TABLE = "enrolment_keystore_secrets"
CHUNK = 500
"""Ids per ``IN (...)`` list: well under SQLite's limit on bound parameters."""

CHECKPOINT_ATTEMPTS = 50
"""A WAL checkpoint waits for readers of older snapshots; try for about five seconds."""


class KeyEntry(NamedTuple):
    person_id: UUID
    key: bytes
    lookup: str
    """The blind index of the person's employee number (:meth:`KeyStore.blind`)."""


class Holder(NamedTuple):
    """Who holds a blind index, and since when (seconds since the epoch)."""

    person_id: UUID
    added_at: float


class LookupTaken(Exception):
    """A blind index being added already belongs to someone (a duplicate employee number)."""

    def __init__(self, lookups: Sequence[str]) -> None:
        super().__init__(f"{len(lookups)} blind index value(s) already taken")
        self.lookups = list(lookups)


class KeyStore(Protocol):
    def blind(self, value: str) -> str:
        """The blind index of ``value``: equal for equal values, meaningless without the secret."""
        ...

    def add(self, entries: Sequence[KeyEntry]) -> None:
        """Stores every entry or none; raises :class:`LookupTaken` if a lookup is held already."""
        ...

    def keys(self, person_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        """The keys that still exist among ``person_ids``."""
        ...

    def find(self, lookups: Iterable[str]) -> dict[str, Holder]:
        """Who holds each blind index, for those held."""
        ...

    def forget(self, person_ids: Iterable[UUID]) -> int:
        """Deletes the people's keys and lookups beyond recovery; returns how many keys went."""
        ...

    def close(self) -> None: ...


def normalised(value: str) -> str:
    """The form a blind index is taken of: "E-1001 " and "e-1001" are the same employee number."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _blind(secret: bytes, value: str) -> str:
    return hmac.new(secret, normalised(value).encode(), hashlib.sha256).hexdigest()


class InMemoryKeyStore:
    """The fake: the same behaviour as :class:`SqlKeyStore`, in dictionaries."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._keys: dict[UUID, bytes] = {}
        self._lookups: dict[str, Holder] = {}
        self._lock = threading.Lock()

    def blind(self, value: str) -> str:
        return _blind(self._secret, value)

    def add(self, entries: Sequence[KeyEntry]) -> None:
        with self._lock:
            taken = [e.lookup for e in entries if e.lookup in self._lookups]
            lookups = [e.lookup for e in entries]
            taken += sorted({x for x in lookups if lookups.count(x) > 1} - set(taken))
            if taken:
                raise LookupTaken(taken)
            now = time.time()
            for entry in entries:
                self._keys[entry.person_id] = entry.key
                self._lookups[entry.lookup] = Holder(entry.person_id, now)

    def keys(self, person_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        with self._lock:
            return {p: self._keys[p] for p in person_ids if p in self._keys}

    def find(self, lookups: Iterable[str]) -> dict[str, Holder]:
        with self._lock:
            return {x: self._lookups[x] for x in lookups if x in self._lookups}

    def forget(self, person_ids: Iterable[UUID]) -> int:
        ids = set(person_ids)
        with self._lock:
            for lookup in [x for x, h in self._lookups.items() if h.person_id in ids]:
                del self._lookups[lookup]
            return sum(self._keys.pop(p, None) is not None for p in ids)

    def close(self) -> None:
        pass


class SqlKeyStore:
    """Keys and blind indexes in two tables of a :class:`~shared.sql.Database`.

    Give it a database opened with ``secure_delete=True`` (the composition root does); a
    database without it is refused on SQLite, where deleted keys would stay readable in the file.
    """

    def __init__(self, database: Database, *, owns_database: bool = False) -> None:
        if database.dialect == "sqlite" and not database.secure_delete:
            raise ValueError("a SQLite key store needs Database(url, secure_delete=True)")
        self.database = database
        self._owns_database = owns_database
        self._create()
        self._secret = self._load_secret()

    def _create(self) -> None:
        key_type = "BYTEA" if self.database.dialect == "postgresql" else "BLOB"
        with schema_lock(self.database.url), self.database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} ("
                f" person_id TEXT PRIMARY KEY, data_key {key_type} NOT NULL)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {LOOKUPS_TABLE} ("
                " lookup TEXT PRIMARY KEY, person_id TEXT NOT NULL, added_at REAL NOT NULL)"
            )
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {LOOKUPS_TABLE}_person ON {LOOKUPS_TABLE} (person_id)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {SECRETS_TABLE} ("
                " name TEXT PRIMARY KEY, secret TEXT NOT NULL)"
            )

    def _load_secret(self) -> bytes:
        """The blind-index secret, made once per database (whoever starts first wins)."""
        fresh = base64.b64encode(secrets.token_bytes(32)).decode()
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {SECRETS_TABLE} (name, secret) VALUES ('blind_index', ?)"
                " ON CONFLICT (name) DO NOTHING",
                (fresh,),
            )
            cur.execute(f"SELECT secret FROM {SECRETS_TABLE} WHERE name = 'blind_index'")
            return base64.b64decode(cur.fetchone()[0])

    def blind(self, value: str) -> str:
        return _blind(self._secret, value)

    def add(self, entries: Sequence[KeyEntry]) -> None:
        if not entries:
            return
        lookups = [e.lookup for e in entries]
        repeated = sorted({x for x in lookups if lookups.count(x) > 1})
        if repeated:
            raise LookupTaken(repeated)
        with self.database.transaction() as cur:
            taken = list(self._find(cur, lookups))
            if taken:
                raise LookupTaken(taken)
            cur.executemany(
                f"INSERT INTO {KEYS_TABLE} (person_id, data_key) VALUES (?, ?)",
                [(str(e.person_id), e.key) for e in entries],
            )
            # The primary key still guards a race with another process between find and here.
            now = time.time()
            cur.executemany(
                f"INSERT INTO {LOOKUPS_TABLE} (lookup, person_id, added_at) VALUES (?, ?, ?)",
                [(e.lookup, str(e.person_id), now) for e in entries],
            )

    def keys(self, person_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        found: dict[UUID, bytes] = {}
        with self.database.transaction(write=False) as cur:
            for chunk in _chunks([str(p) for p in person_ids]):
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    f"SELECT person_id, data_key FROM {KEYS_TABLE} WHERE person_id IN ({marks})",
                    chunk,
                )
                found.update((UUID(row[0]), bytes(row[1])) for row in cur.fetchall())
        return found

    def find(self, lookups: Iterable[str]) -> dict[str, Holder]:
        with self.database.transaction(write=False) as cur:
            return self._find(cur, list(lookups))

    @staticmethod
    def _find(cur: Cursor, lookups: list[str]) -> dict[str, Holder]:
        found: dict[str, Holder] = {}
        for chunk in _chunks(lookups):
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                f"SELECT lookup, person_id, added_at FROM {LOOKUPS_TABLE}"
                f" WHERE lookup IN ({marks})",
                chunk,
            )
            found.update((row[0], Holder(UUID(row[1]), float(row[2]))) for row in cur.fetchall())
        return found

    def forget(self, person_ids: Iterable[UUID]) -> int:
        ids = [str(p) for p in person_ids]
        deleted = 0
        with self.database.transaction() as cur:
            for chunk in _chunks(ids):
                marks = ", ".join("?" * len(chunk))
                cur.execute(f"DELETE FROM {LOOKUPS_TABLE} WHERE person_id IN ({marks})", chunk)
                cur.execute(f"DELETE FROM {KEYS_TABLE} WHERE person_id IN ({marks})", chunk)
                deleted += max(cur.rowcount, 0)
        self.scrub()
        return deleted

    def scrub(self) -> None:
        """Removes what deleted rows leave in the files (see the module docstring)."""
        if self.database.dialect == "postgresql":
            with self.database.autocommit() as cur:
                cur.execute(f"VACUUM {KEYS_TABLE}, {LOOKUPS_TABLE}")
            return
        for _ in range(CHECKPOINT_ATTEMPTS):
            with self.database.autocommit() as cur:
                cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cur.fetchone()[0]
            if not busy:
                return
            time.sleep(0.1)
        # Never silent: the deleted key stays in the WAL file until the next full checkpoint.
        log.warning("could not empty the key store's write-ahead log: readers kept it busy")

    def close(self) -> None:
        if self._owns_database:
            self.database.close()


def default_keystore(env: Mapping[str, str]) -> KeyStore:
    """The key store beside an event store configured by ``env`` (the application's own
    persistence environment): tables in the same database, or memory for an in-memory store.

    The composition root injects its own; this serves everything that builds the application
    directly (scripts, tests) so that keys persist exactly as long as the events they unlock.
    """
    module = env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        path = env.get("SQLITE_DBNAME", "")
        if path and ":memory:" not in path and not path.startswith("file:"):
            return SqlKeyStore(
                Database(f"sqlite:///{path}", secure_delete=True), owns_database=True
            )
    elif module == "eventsourcing.postgres":
        user = quote(env.get("POSTGRES_USER", "postgres"), safe="")
        password = quote(env.get("POSTGRES_PASSWORD", ""), safe="")
        where = f"{env.get('POSTGRES_HOST', '127.0.0.1')}:{env.get('POSTGRES_PORT', '5432')}"
        url = f"postgresql://{user}:{password}@{where}/{env.get('POSTGRES_DBNAME', '')}"
        return SqlKeyStore(Database(url), owns_database=True)
    return InMemoryKeyStore()


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
