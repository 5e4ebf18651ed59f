"""The key store protocol, on the in-memory fake and on the SQL tables alike; what a deleted
key leaves in a SQLite file (nothing); and that the file holds keys only wrapped."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.enrolment.keystore import (
    KEYS_TABLE,
    KeyEntry,
    KeyStore,
    LookupTaken,
    SqlKeyStore,
    blind_of,
)
from services.enrolment.keystore_setup import (
    LEGACY_TABLES,
    InMemoryKeyStore,
    default_keystore,
    migrate_legacy_keys,
)
from services.enrolment.keywrap import LocalKeyWrapper, MasterKeyError
from services.enrolment.personal import new_key
from shared.sql import Database


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield InMemoryKeyStore()
        return
    database = Database(f"sqlite:///{tmp_path / 'keys.sqlite'}", secure_delete=True)
    keys = SqlKeyStore(database, wrapper(), owns_database=True)
    yield keys
    keys.close()


def wrapper() -> LocalKeyWrapper:
    return LocalKeyWrapper(secrets.token_bytes(32))


def entry(store: KeyStore, number: str) -> KeyEntry:
    return KeyEntry(uuid.uuid4(), new_key(), store.blind(number))


def test_keys_and_lookups_are_stored_and_found(store: KeyStore) -> None:
    a, b = entry(store, "E-1"), entry(store, "E-2")
    store.add([a, b])
    assert store.keys([a.person_id, b.person_id, uuid.uuid4()]) == {
        a.person_id: a.key,
        b.person_id: b.key,
    }
    found = store.find([a.lookup, store.blind("E-3")])
    assert list(found) == [a.lookup]
    assert found[a.lookup].person_id == a.person_id
    assert found[a.lookup].added_at > 0


def test_the_blind_index_is_stable_normalised_and_not_the_number(store: KeyStore) -> None:
    assert store.blind("E-1001") == store.blind(" e-1001 ")
    assert store.blind("E-1001") != store.blind("E-1002")
    assert "1001" not in store.blind("E-1001")


def test_a_taken_lookup_refuses_the_whole_batch(store: KeyStore) -> None:
    first = entry(store, "E-1")
    store.add([first])
    fresh, clash = entry(store, "E-2"), entry(store, "e-1")
    with pytest.raises(LookupTaken):
        store.add([fresh, clash])
    assert store.keys([fresh.person_id, clash.person_id]) == {}
    with pytest.raises(LookupTaken):  # a repeat within the batch, too
        store.add([entry(store, "E-3"), entry(store, "E-3")])
    assert store.find([store.blind("E-3")]) == {}


def test_forgetting_deletes_key_and_lookup_and_frees_the_number(store: KeyStore) -> None:
    a, b = entry(store, "E-1"), entry(store, "E-2")
    store.add([a, b])
    assert store.forget([a.person_id]) == 1
    assert store.keys([a.person_id, b.person_id]) == {b.person_id: b.key}
    assert store.find([a.lookup, b.lookup]).keys() == {b.lookup}
    assert store.forget([a.person_id]) == 0
    store.add([entry(store, "E-1")])  # the number may be registered again


def test_a_corrected_number_moves_the_lookup_and_stays_unique(store: KeyStore) -> None:
    a, b = entry(store, "E-1"), entry(store, "E-2")
    store.add([a, b])
    moved = store.blind("E-3")
    store.relookup(a.person_id, moved)
    assert store.find([a.lookup, moved]).keys() == {moved}  # the old number is free
    assert store.keys([a.person_id]) == {a.person_id: a.key}  # the key stays
    with pytest.raises(LookupTaken):
        store.relookup(a.person_id, b.lookup)
    assert store.find([moved])[moved].person_id == a.person_id  # nothing changed
    store.relookup(a.person_id, moved)  # its own number again: allowed
    store.add([entry(store, "E-1")])


def test_the_sql_store_keeps_keys_and_its_secret_across_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    master = wrapper()
    first = SqlKeyStore(Database(url, secure_delete=True), master, owns_database=True)
    a = entry(first, "E-1")
    first.add([a])
    first.close()
    again = SqlKeyStore(Database(url, secure_delete=True), master, owns_database=True)
    try:
        assert again.keys([a.person_id]) == {a.person_id: a.key}
        assert again.blind("E-1") == a.lookup
    finally:
        again.close()


def test_the_file_holds_keys_only_wrapped_and_another_master_key_opens_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    store = SqlKeyStore(Database(url, secure_delete=True), wrapper(), owns_database=True)
    a = entry(store, "E-1")
    store.add([a])
    secret = store._secret
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert str(a.person_id).encode() in raw  # the search can find what is there
    assert a.key not in raw
    assert secret not in raw
    database = Database(url, secure_delete=True)
    try:
        with pytest.raises(MasterKeyError, match="another master key"):
            SqlKeyStore(database, wrapper())
    finally:
        database.close()


def test_a_sqlite_key_store_needs_secure_delete(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'k.sqlite'}")
    try:
        with pytest.raises(ValueError, match="secure_delete"):
            SqlKeyStore(database, wrapper())
    finally:
        database.close()


def test_a_forgotten_key_leaves_no_bytes_in_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    database = Database(f"sqlite:///{path}", secure_delete=True)
    store = SqlKeyStore(database, wrapper(), owns_database=True)
    try:
        kept, gone = entry(store, "E-KEPT"), entry(store, "E-GONE")
        store.add([kept, gone])
        with database.transaction(write=False) as cur:
            cur.execute(f"SELECT person_id, wrapped_key FROM {KEYS_TABLE}")
            wrapped = {uuid.UUID(row[0]): bytes(row[1]) for row in cur.fetchall()}

        def files() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

        before = files()  # the search can find
        assert wrapped[gone.person_id] in before and gone.lookup.encode() in before
        store.forget([gone.person_id])
        raw = files()
        assert wrapped[gone.person_id] not in raw
        assert gone.lookup.encode() not in raw
        assert str(gone.person_id).encode() not in raw
        assert wrapped[kept.person_id] in raw
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
    finally:
        store.close()


def test_the_default_store_of_a_script_is_a_file_of_its_own(tmp_path: Path) -> None:
    sqlite = default_keystore(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    try:
        assert isinstance(sqlite, SqlKeyStore)
        assert sqlite.database.url == f"sqlite:///{tmp_path / 'e.db.keys'}"
        assert (tmp_path / "e.db.master-key").stat().st_mode & 0o777 == 0o600
    finally:
        sqlite.close()
    assert isinstance(default_keystore({}), InMemoryKeyStore)


def legacy_events(path: Path, entries: list[KeyEntry], secret: bytes) -> Database:
    """An event database as the previous version left it: keys unwrapped in three tables."""
    database = Database(f"sqlite:///{path}", secure_delete=True)
    with database.transaction() as cur:
        cur.execute(f"CREATE TABLE {LEGACY_TABLES[0]} (person_id TEXT PRIMARY KEY, data_key BLOB)")
        cur.execute(f"CREATE TABLE {LEGACY_TABLES[1]} (lookup TEXT, person_id TEXT, added_at REAL)")
        cur.execute(f"CREATE TABLE {LEGACY_TABLES[2]} (name TEXT PRIMARY KEY, secret TEXT)")
        for e in entries:
            cur.execute(f"INSERT INTO {LEGACY_TABLES[0]} VALUES (?, ?)", (str(e.person_id), e.key))
            cur.execute(
                f"INSERT INTO {LEGACY_TABLES[1]} VALUES (?, ?, 1)", (e.lookup, str(e.person_id))
            )
        cur.execute(
            f"INSERT INTO {LEGACY_TABLES[2]} VALUES ('blind_index', ?)",
            (base64.b64encode(secret).decode(),),
        )
    return database


def test_a_migration_cut_short_after_adopting_finishes_on_the_next_start(tmp_path: Path) -> None:
    secret = secrets.token_bytes(32)
    old = KeyEntry(uuid.uuid4(), new_key(), blind_of(secret, "E-OLD"))
    events = legacy_events(tmp_path / "events.sqlite", [old], secret)
    store = SqlKeyStore(
        Database(f"sqlite:///{tmp_path / 'keys.sqlite'}", secure_delete=True),
        wrapper(),
        owns_database=True,
    )
    try:
        store.adopt(secret, [old], [1.0])  # the crash came after this
        assert migrate_legacy_keys(events, store) == 1
        assert store.keys([old.person_id]) == {old.person_id: old.key}
        assert store.find([store.blind("E-OLD")]).keys() == {old.lookup}
        assert migrate_legacy_keys(events, store) == 0  # the old tables are gone
    finally:
        store.close()
        events.close()
    assert old.key not in (tmp_path / "events.sqlite").read_bytes()


def test_old_keys_and_a_key_store_with_other_keys_are_refused(tmp_path: Path) -> None:
    secret = secrets.token_bytes(32)
    old = KeyEntry(uuid.uuid4(), new_key(), blind_of(secret, "E-OLD"))
    events = legacy_events(tmp_path / "events.sqlite", [old], secret)
    store = SqlKeyStore(
        Database(f"sqlite:///{tmp_path / 'keys.sqlite'}", secure_delete=True),
        wrapper(),
        owns_database=True,
    )
    try:
        store.add([entry(store, "E-OTHER")])
        with pytest.raises(MasterKeyError, match="holds other keys"):
            migrate_legacy_keys(events, store)
    finally:
        store.close()
        events.close()
