"""The key store: each person's data key and blind index, kept apart from the events they unlock.

Personal fields are stored in the event store only sealed with a per-person key
(:mod:`services.enrolment.personal`). Deleting the key is what erases them: the sealed bytes stay
in the append-only log, in snapshots and in backups, and can no longer be read by anyone.

Beside each key sits a *blind index*: an HMAC of the person's normalised employee number under a
secret of the key store, so that "is this employee number taken?" and an import's "who is this
row?" can be answered without storing the number in the clear. Erasure deletes it with the key.

:class:`KeyStore` is the protocol; :class:`SqlKeyStore` keeps the keys in a database of its own
(``keys.sqlite`` beside the events, or ``POLKU_KEYSTORE_URL``), never in the event database, and
only *wrapped* under a master key (:mod:`services.enrolment.keywrap`): the data keys and the
blind-index secret are sealed by a :class:`~services.enrolment.keywrap.KeyWrapper` whose key lives
outside the data directory, or in a KMS. :mod:`services.enrolment.keystore_setup` has the fake
for unit tests, the default store of scripts, and the migration of earlier versions' tables.

What deletion leaves behind:

- SQLite: the connections run with ``PRAGMA secure_delete=ON``, so deleted rows and freed pages
  are overwritten with zeros, and every deletion ends with ``PRAGMA wal_checkpoint(TRUNCATE)``, so
  the write-ahead log (which holds copies of the pages as they were written) is emptied too.
- PostgreSQL: a deleted row stays in its page as a dead tuple until ``VACUUM`` prunes it, and in
  the write-ahead log and base backups until they are recycled. Every deletion therefore ends
  with a ``VACUUM`` of the two tables; the key database's WAL archives and backups must be kept
  no longer than the erasure promise allows (docs/privacy.md, section 4).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

from services.enrolment.keywrap import KeyWrapper, MasterKeyError
from shared.sql import Cursor, Database, schema_lock

log = logging.getLogger(__name__)

KEYS_TABLE = "keystore_person_keys"
LOOKUPS_TABLE = "keystore_lookups"
SECRETS_TABLE = "keystore_secrets"
BLIND_INDEX = b"blind_index"
"""The wrapping context of the blind-index secret (a person's key is bound to their id)."""
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

    def add(self, entries: Sequence[KeyEntry], *, added_at: float | None = None) -> None:
        """Stores every entry or none; raises :class:`LookupTaken` if a lookup is held already.

        ``added_at`` (default now) dates the lookups for the leftover rule of
        :meth:`~services.enrolment.application.people.PeopleCommands.registered_numbers`: an
        import that reserves ahead of writing dates each chunk when it expects to write it."""
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

    def relookup(self, person_id: UUID, lookup: str, *, added_at: float | None = None) -> None:
        """Makes ``lookup`` the person's only blind index (a corrected employee number), in one
        step; raises :class:`LookupTaken` if someone else holds it. The key stays."""
        ...

    def close(self) -> None: ...


def normalised(value: str) -> str:
    """The form a blind index is taken of: "E-1001 " and "e-1001" are the same employee number."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def blind_of(secret: bytes, value: str) -> str:
    return hmac.new(secret, normalised(value).encode(), hashlib.sha256).hexdigest()


class SqlKeyStore:
    """Wrapped keys and blind indexes in tables of a :class:`~shared.sql.Database` of their own.

    Give it a database opened with ``secure_delete=True`` (the composition root does); a
    database without it is refused on SQLite, where deleted keys would stay readable in the file.
    Every key is stored wrapped by ``wrapper``; a store wrapped under another master key is
    refused at start (:class:`~services.enrolment.keywrap.MasterKeyError`).
    """

    def __init__(
        self, database: Database, wrapper: KeyWrapper, *, owns_database: bool = False
    ) -> None:
        if database.dialect == "sqlite" and not database.secure_delete:
            raise ValueError("a SQLite key store needs Database(url, secure_delete=True)")
        self.database = database
        self.wrapper = wrapper
        self._owns_database = owns_database
        self._create()
        self._secret = self._load_secret()

    @staticmethod
    def holds_keys(database: Database) -> bool:
        """Whether ``database`` holds a key store already (it has its blind-index secret)."""
        try:
            with database.transaction(write=False) as cur:
                cur.execute(f"SELECT COUNT(*) FROM {SECRETS_TABLE}")
                return bool(cur.fetchone()[0])
        except Exception:  # no such table: a new store (sqlite3 and psycopg differ in type)
            return False

    def _create(self) -> None:
        key_type = "BYTEA" if self.database.dialect == "postgresql" else "BLOB"
        with schema_lock(self.database.url), self.database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} ("
                f" person_id TEXT PRIMARY KEY, wrapped_key {key_type} NOT NULL)"
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
                f" name TEXT PRIMARY KEY, wrapped {key_type} NOT NULL)"
            )

    def _load_secret(self) -> bytes:
        """The blind-index secret, made once per store (whoever starts first wins)."""
        fresh = self.wrapper.wrap(secrets.token_bytes(32), BLIND_INDEX)
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {SECRETS_TABLE} (name, wrapped) VALUES ('blind_index', ?)"
                " ON CONFLICT (name) DO NOTHING",
                (fresh,),
            )
            cur.execute(f"SELECT wrapped FROM {SECRETS_TABLE} WHERE name = 'blind_index'")
            wrapped = bytes(cur.fetchone()[0])
        try:
            return self.wrapper.unwrap(wrapped, BLIND_INDEX)
        except MasterKeyError:
            raise MasterKeyError(
                "the key store was wrapped under another master key: give Polku the master key "
                "it was created with (POLKU_MASTER_KEY_FILE); a new one opens nothing"
            ) from None

    def adopt(self, secret: bytes, entries: Sequence[KeyEntry], added_at: Sequence[float]) -> None:
        """Takes over an earlier store's secret, keys and lookups (:mod:`keystore_migration`);
        only into a store that holds no key yet, in one transaction."""
        with self.database.transaction() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {KEYS_TABLE}")
            if cur.fetchone()[0]:
                raise MasterKeyError(
                    "the event database still holds an earlier version's keys, and the key "
                    "store holds other keys already: point POLKU_KEYSTORE_URL at an empty one"
                )
            cur.execute(
                f"UPDATE {SECRETS_TABLE} SET wrapped = ? WHERE name = 'blind_index'",
                (self.wrapper.wrap(secret, BLIND_INDEX),),
            )
            self._insert(cur, entries, added_at)
        self._secret = secret

    def _insert(self, cur: Cursor, entries: Sequence[KeyEntry], added_at: Sequence[float]) -> None:
        cur.executemany(
            f"INSERT INTO {KEYS_TABLE} (person_id, wrapped_key) VALUES (?, ?)",
            [(str(e.person_id), self.wrapper.wrap(e.key, e.person_id.bytes)) for e in entries],
        )
        # The primary key still guards a race with another process between find and here.
        cur.executemany(
            f"INSERT INTO {LOOKUPS_TABLE} (lookup, person_id, added_at) VALUES (?, ?, ?)",
            [(e.lookup, str(e.person_id), t) for e, t in zip(entries, added_at, strict=True)],
        )

    def blind(self, value: str) -> str:
        return blind_of(self._secret, value)

    def add(self, entries: Sequence[KeyEntry], *, added_at: float | None = None) -> None:
        if not entries:
            return
        lookups = [e.lookup for e in entries]
        # Counted once over the batch: a count per entry made large imports quadratic.
        repeated = sorted(x for x, n in Counter(lookups).items() if n > 1)
        if repeated:
            raise LookupTaken(repeated)
        with self.database.transaction() as cur:
            taken = list(self._find(cur, lookups))
            if taken:
                raise LookupTaken(taken)
            when = time.time() if added_at is None else added_at
            self._insert(cur, entries, [when] * len(entries))

    def keys(self, person_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        found: dict[UUID, bytes] = {}
        with self.database.transaction(write=False) as cur:
            for chunk in _chunks([str(p) for p in person_ids]):
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    f"SELECT person_id, wrapped_key FROM {KEYS_TABLE} WHERE person_id IN ({marks})",
                    chunk,
                )
                rows = cur.fetchall()
                for row in rows:
                    person_id = UUID(row[0])
                    found[person_id] = self.wrapper.unwrap(bytes(row[1]), person_id.bytes)
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

    def relookup(self, person_id: UUID, lookup: str, *, added_at: float | None = None) -> None:
        with self.database.transaction() as cur:
            holder = self._find(cur, [lookup]).get(lookup)
            if holder is not None and holder.person_id != person_id:
                raise LookupTaken([lookup])
            cur.execute(f"DELETE FROM {LOOKUPS_TABLE} WHERE person_id = ?", (str(person_id),))
            when = time.time() if added_at is None else added_at
            cur.execute(
                f"INSERT INTO {LOOKUPS_TABLE} (lookup, person_id, added_at) VALUES (?, ?, ?)",
                (lookup, str(person_id), when),
            )
        self.scrub()  # the old index is no longer the person's: nothing of it stays readable

    def scrub(self) -> None:
        """Removes what deleted rows leave in the files (see the module docstring)."""
        scrub(self.database, (KEYS_TABLE, LOOKUPS_TABLE))

    def close(self) -> None:
        if self._owns_database:
            self.database.close()


def scrub(database: Database, tables: Sequence[str]) -> None:
    """Removes what deleted or overwritten rows of ``tables`` leave in the database's files:
    a ``VACUUM`` on PostgreSQL, an emptied write-ahead log on SQLite (with secure_delete on,
    the pages themselves are zeroed as rows go)."""
    if database.dialect == "postgresql":
        with database.autocommit() as cur:
            cur.execute(f"VACUUM {', '.join(tables)}")
        return
    for _ in range(CHECKPOINT_ATTEMPTS):
        with database.autocommit() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cur.fetchone()[0]
        if not busy:
            return
        time.sleep(0.1)
    # Never silent: the deleted rows stay in the WAL file until the next full checkpoint.
    log.warning("could not empty the write-ahead log of %s: readers kept it busy", database.url)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
