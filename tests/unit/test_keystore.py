"""The key store protocol, on the in-memory fake and on the SQL tables alike; and what a deleted
key leaves in a SQLite file (nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.enrolment.keystore import (
    InMemoryKeyStore,
    KeyEntry,
    KeyStore,
    LookupTaken,
    SqlKeyStore,
    default_keystore,
)
from services.enrolment.personal import new_key
from shared.sql import Database


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield InMemoryKeyStore()
        return
    keys = SqlKeyStore(
        Database(f"sqlite:///{tmp_path / 'keys.sqlite'}", secure_delete=True), owns_database=True
    )
    yield keys
    keys.close()


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


def test_the_sql_store_keeps_keys_and_its_secret_across_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    first = SqlKeyStore(Database(url, secure_delete=True), owns_database=True)
    a = entry(first, "E-1")
    first.add([a])
    first.close()
    again = SqlKeyStore(Database(url, secure_delete=True), owns_database=True)
    try:
        assert again.keys([a.person_id]) == {a.person_id: a.key}
        assert again.blind("E-1") == a.lookup
    finally:
        again.close()


def test_a_sqlite_key_store_needs_secure_delete(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'k.sqlite'}")
    try:
        with pytest.raises(ValueError, match="secure_delete"):
            SqlKeyStore(database)
    finally:
        database.close()


def test_a_forgotten_key_leaves_no_bytes_in_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    store = SqlKeyStore(Database(f"sqlite:///{path}", secure_delete=True), owns_database=True)
    try:
        kept, gone = entry(store, "E-KEPT"), entry(store, "E-GONE")
        store.add([kept, gone])

        def files() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

        assert gone.key in files() and gone.lookup.encode() in files()  # the search can find
        store.forget([gone.person_id])
        raw = files()
        assert gone.key not in raw
        assert gone.lookup.encode() not in raw
        assert str(gone.person_id).encode() not in raw
        assert kept.key in raw
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
    finally:
        store.close()


def test_the_default_store_sits_beside_the_events(tmp_path: Path) -> None:
    sqlite = default_keystore(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    try:
        assert isinstance(sqlite, SqlKeyStore)
        assert sqlite.database.url == f"sqlite:///{tmp_path / 'e.db'}"
    finally:
        sqlite.close()
    assert isinstance(default_keystore({}), InMemoryKeyStore)
