"""Opening a key store: the in-memory fake, the default beside a script's events, and the
migration of an earlier version's unwrapped keys.

Up to this version the keys sat unwrapped in three tables of the enrolment event database
(:data:`LEGACY_TABLES`). :func:`migrate_legacy_keys` moves them, on the first start of this
version, into the key store (wrapped), adopting the old blind-index secret so that every
employee number still finds its person; then it deletes the old rows, drops the tables and
scrubs the event database, in that order. A crash in between repeats the migration on the
next start: the key store is filled in one transaction, and only if it is empty; one that has
adopted the old secret already just lets the old tables go.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from uuid import UUID

from services.enrolment.keystore import (
    Holder,
    KeyEntry,
    KeyStore,
    LookupTaken,
    SqlKeyStore,
    blind_of,
    scrub,
)
from services.enrolment.keywrap import LocalKeyWrapper
from shared.sql import Database

log = logging.getLogger(__name__)

LEGACY_KEYS = "enrolment_person_keys"
LEGACY_LOOKUPS = "enrolment_person_lookups"
LEGACY_SECRETS = "enrolment_keystore_secrets"
LEGACY_TABLES = (LEGACY_KEYS, LEGACY_LOOKUPS, LEGACY_SECRETS)
PROBE = "migration-probe"
"""Blinded under both secrets: equal once the key store has adopted the old one."""


class InMemoryKeyStore:
    """The fake: the same behaviour as :class:`SqlKeyStore`, in dictionaries."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._keys: dict[UUID, bytes] = {}
        self._lookups: dict[str, Holder] = {}
        self._lock = threading.Lock()

    def blind(self, value: str) -> str:
        return blind_of(self._secret, value)

    def add(self, entries: Sequence[KeyEntry], *, added_at: float | None = None) -> None:
        with self._lock:
            taken = [e.lookup for e in entries if e.lookup in self._lookups]
            repeated = {x for x, n in Counter(e.lookup for e in entries).items() if n > 1}
            taken += sorted(repeated - set(taken))
            if taken:
                raise LookupTaken(taken)
            now = time.time() if added_at is None else added_at
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

    def relookup(self, person_id: UUID, lookup: str, *, added_at: float | None = None) -> None:
        with self._lock:
            holder = self._lookups.get(lookup)
            if holder is not None and holder.person_id != person_id:
                raise LookupTaken([lookup])
            for old in [x for x, h in self._lookups.items() if h.person_id == person_id]:
                del self._lookups[old]
            now = time.time() if added_at is None else added_at
            self._lookups[lookup] = Holder(person_id, now)

    def close(self) -> None:
        pass


def default_keystore(env: Mapping[str, str]) -> KeyStore:
    """The key store of an application built outside the composition root (scripts, tests),
    from its persistence environment ``env``.

    Beside a SQLite event file ``events.sqlite`` it is ``events.sqlite.keys`` (its own file),
    wrapped under ``events.sqlite.master-key``, made on first use; anything else gets the
    in-memory store. The composition root (:mod:`services.runtime`) injects its own store,
    with the master key outside the data directory.
    """
    if env.get("PERSISTENCE_MODULE", "") == "eventsourcing.sqlite":
        path = env.get("SQLITE_DBNAME", "")
        if path and ":memory:" not in path and not path.startswith("file:"):
            wrapper = LocalKeyWrapper.from_file(Path(f"{path}.master-key"), create=True)
            database = Database(f"sqlite:///{path}.keys", secure_delete=True)
            return SqlKeyStore(database, wrapper, owns_database=True)
    return InMemoryKeyStore()


def migrate_legacy_keys(events: Database, store: SqlKeyStore) -> int:
    """Moves an earlier version's unwrapped keys out of ``events`` into ``store``; returns how
    many keys moved (0 when there were no such tables)."""
    if not _has_table(events, LEGACY_SECRETS):
        return 0
    with events.transaction(write=False) as cur:
        cur.execute(f"SELECT secret FROM {LEGACY_SECRETS} WHERE name = 'blind_index'")
        row = cur.fetchone()
        cur.execute(f"SELECT person_id, data_key FROM {LEGACY_KEYS}")
        keys = {UUID(r[0]): bytes(r[1]) for r in cur.fetchall()}
        cur.execute(f"SELECT lookup, person_id, added_at FROM {LEGACY_LOOKUPS}")
        lookups = {UUID(r[1]): (r[0], float(r[2])) for r in cur.fetchall()}
    if row is not None and keys:
        secret = base64.b64decode(row[0])
        if store.blind(PROBE) != blind_of(secret, PROBE):  # else adopted before a crash
            entries = [KeyEntry(p, key, lookups[p][0]) for p, key in keys.items() if p in lookups]
            added = [lookups[e.person_id][1] for e in entries]
            store.adopt(secret, entries, added)
    with events.transaction() as cur:
        for table in LEGACY_TABLES:
            cur.execute(f"DELETE FROM {table}")
    scrub(events, LEGACY_TABLES)
    with events.transaction() as cur:
        for table in LEGACY_TABLES:
            cur.execute(f"DROP TABLE {table}")
    scrub(events, ())
    log.warning("moved %d unwrapped key(s) out of the event database into the key store", len(keys))
    return len(keys)


def _has_table(database: Database, table: str) -> bool:
    try:
        with database.transaction(write=False) as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            cur.fetchone()
        return True
    except Exception:  # no such table (sqlite3 and psycopg raise different types)
        return False
