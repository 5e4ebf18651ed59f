"""Keys apart from the data: with the event database and its backups alone, nothing decrypts.

People are registered through the composition root, on SQLite files and on PostgreSQL (the key
store in a database of its own, with its own role). Then "backups" are taken: the bytes of the
event database, and of the key database. The data keys and the blind-index secret are in neither
(the key database holds them only wrapped); restoring the event database alone, or with the key
database but another master key, reads no personal field. With the master key, everything reads,
so the test can fail. The migration of an earlier version's unwrapped keys is tested here too.
"""

from __future__ import annotations

import base64
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.cli import main
from services.enrolment.keystore import KEYS_TABLE, LOOKUPS_TABLE, SECRETS_TABLE, SqlKeyStore
from services.enrolment.keystore_setup import LEGACY_TABLES
from services.enrolment.keywrap import MasterKeyError
from services.runtime import WriteService, build_write_service
from shared.settings import Settings
from shared.sql import Database
from tests.unit.factories import meta

PEOPLE = [
    ("Saga Separatedottir", "saga.sep@keys-apart.example", "SEP-4242"),
    ("Tuomo Tallennettu", "tuomo.t@keys-apart.example", "SEP-4343"),
]


def register(service: WriteService) -> list[uuid.UUID]:
    ids = []
    for name, email, number in PEOPLE:
        fields = {
            "full_name": name,
            "email": email,
            "employee_number": number,
            "organisation": "TEM",
            "department": "Innovation",
            "unit": "Digital",
        }
        ids.append(service.application.register_person(fields, meta()).id)
    return ids


def names(service: WriteService) -> list[str | None]:
    return [r.full_name for r in service.application.people(0, 10)[0]]


def files_of(directory: Path, stem: str) -> bytes:
    """A SQLite database as a file backup would copy it: the file with its -wal and -shm."""
    return b"".join(p.read_bytes() for p in sorted(directory.glob(f"{stem}*")) if p.is_file())


def database_rows(url: str) -> bytes:
    """Every value of every table of a PostgreSQL database: a dump without pg_dump."""
    database = Database(url)
    try:
        with database.transaction(write=False) as cur:
            cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            dumped = []
            for schema, table in cur.fetchall():
                cur.execute(f'SELECT * FROM "{schema}"."{table}"')
                for row in cur.fetchall():  # binary columns raw, as a backup holds them
                    dumped += [
                        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                        for v in row
                    ]
        return b"\n".join(dumped)
    finally:
        database.close()


def key_material(service: WriteService, ids: list[uuid.UUID]) -> list[bytes]:
    keystore: SqlKeyStore = service.adapters["keystore"]
    keys = keystore.keys(ids)
    assert set(keys) == set(ids)
    return [*keys.values(), keystore._secret]


def wrapped_keys(keystore: SqlKeyStore) -> list[bytes]:
    with keystore.database.transaction(write=False) as cur:
        cur.execute(f"SELECT wrapped_key FROM {KEYS_TABLE}")
        return [bytes(row[0]) for row in cur.fetchall()]


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_event_database_and_its_backups_alone_decrypt_nothing(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    master = tmp_path / "secrets" / "master.key"
    settings = Settings(data_dir=tmp_path / "var", master_key_file=master)
    if store == "postgresql":
        settings = settings.with_changes(
            database_url=request.getfixturevalue("fresh_postgres_url"),
            keystore_url=request.getfixturevalue("owned_postgres_url"),
        )
    assert settings.keystore_database_url() != settings.store_url("enrolment")
    service = build_write_service(settings, "enrolment")
    try:
        ids = register(service)
        material = key_material(service, ids)
        wrapped = wrapped_keys(service.adapters["keystore"])
        assert names(service) == [p[0] for p in PEOPLE]  # with the master key, all reads
    finally:
        service.close()
    assert master.stat().st_mode & 0o777 == 0o600

    if store == "sqlite":
        events_backup = files_of(settings.data_dir, "enrolment.sqlite")
        keys_backup = files_of(settings.data_dir, "keys.sqlite")
    else:
        assert settings.database_url and settings.keystore_url
        events_backup = database_rows(settings.database_url)
        keys_backup = database_rows(settings.keystore_url)
    assert b"aesgcm1." in events_backup  # the sealed fields are there to be searched
    assert all(w in keys_backup for w in wrapped)  # the search finds what is there
    master_key = bytes.fromhex(master.read_text().strip())
    for name, email, number in PEOPLE:
        for value in (name, email, number):
            assert value.encode() not in events_backup + keys_backup
    for secret in [*material, master_key, master_key.hex().encode()]:
        assert secret not in events_backup, "key material in the event database"
        assert secret not in keys_backup, "unwrapped key material in the key database"
    assert not [p for p in settings.data_dir.rglob("*") if p.read_bytes().find(master_key) >= 0]

    # Restored elsewhere, the event database alone (a new, empty key store) reads no one.
    other_master = tmp_path / "elsewhere" / "master.key"
    restored = settings.with_changes(data_dir=tmp_path / "restored", master_key_file=other_master)
    if store == "sqlite":
        restored.data_dir.mkdir()
        for path in settings.data_dir.glob("enrolment.sqlite*"):
            shutil.copy(path, restored.data_dir / path.name)
    else:
        restored = restored.with_changes(keystore_url=None)  # a new key store, empty
    alone = build_write_service(restored, "enrolment")
    try:
        assert names(alone) == [None, None]
        assert alone.application.person(ids[0]).employee_number is None
    finally:
        alone.close()

    # With the key database as well, but without the master key: refused, nothing opens.
    with_keys = settings.with_changes(master_key_file=other_master)
    with pytest.raises(MasterKeyError, match="another master key"):
        build_write_service(with_keys, "enrolment")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_keys_of_an_earlier_version_are_moved_out_of_the_event_database(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On PostgreSQL without POLKU_KEYSTORE_URL (the upgrade of an existing deployment) the key
    store shares the event database: the old tables go, the new ones hold keys only wrapped."""
    settings = Settings(data_dir=tmp_path / "var", master_key_file=tmp_path / "master.key")
    if store == "postgresql":
        settings = settings.with_changes(database_url=request.getfixturevalue("fresh_postgres_url"))
    service = build_write_service(settings, "enrolment")
    try:
        ids = register(service)
        keystore: SqlKeyStore = service.adapters["keystore"]
        keys, secret = keystore.keys(ids), keystore._secret
        lookups = {p: keystore.blind(number) for p, (_, _, number) in zip(ids, PEOPLE, strict=True)}
    finally:
        service.close()
    # What an earlier version left: the same keys unwrapped in the event database, no key store.
    for path in settings.data_dir.glob("keys.sqlite*"):
        path.unlink()
    (tmp_path / "master.key").unlink()
    legacy(settings, keys, lookups, secret)
    assert keys[ids[0]] in event_bytes(settings)

    migrated = build_write_service(settings, "enrolment")
    try:
        assert names(migrated) == [p[0] for p in PEOPLE]
        registered = migrated.application.registered_numbers([lookups[ids[1]]])
        assert registered == {lookups[ids[1]]: ids[1]}  # the old blind indexes still find
    finally:
        migrated.close()
    events = event_bytes(settings)
    for key in [*keys.values(), secret]:
        assert key not in events
    assert not tables_of(settings.store_url("enrolment")) & set(LEGACY_TABLES)


def event_bytes(settings: Settings) -> bytes:
    if settings.database_url:
        return database_rows(settings.database_url)
    return files_of(settings.data_dir, "enrolment.sqlite")


def tables_of(url: str) -> set[str]:
    database = Database(url)
    try:
        with database.transaction(write=False) as cur:
            if database.dialect == "sqlite":
                cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            else:
                cur.execute("SELECT table_name FROM information_schema.tables")
            return {str(row[0]) for row in cur.fetchall()}
    finally:
        database.close()


def legacy(
    settings: Settings, keys: dict[uuid.UUID, bytes], lookups: dict[Any, str], secret: bytes
) -> None:
    """The previous version's tables in the event database (and no key store of this one)."""
    database = Database(settings.store_url("enrolment"), secure_delete=True)
    blob = "BYTEA" if database.dialect == "postgresql" else "BLOB"
    try:
        with database.transaction() as cur:
            for table in (KEYS_TABLE, LOOKUPS_TABLE, SECRETS_TABLE):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(
                f"CREATE TABLE {LEGACY_TABLES[0]} (person_id TEXT PRIMARY KEY, data_key {blob})"
            )
            cur.execute(
                f"CREATE TABLE {LEGACY_TABLES[1]} (lookup TEXT PRIMARY KEY, person_id TEXT,"
                " added_at REAL)"
            )
            cur.execute(f"CREATE TABLE {LEGACY_TABLES[2]} (name TEXT PRIMARY KEY, secret TEXT)")
            cur.executemany(
                f"INSERT INTO {LEGACY_TABLES[0]} VALUES (?, ?)",
                [(str(p), k) for p, k in keys.items()],
            )
            cur.executemany(
                f"INSERT INTO {LEGACY_TABLES[1]} VALUES (?, ?, 0)",
                [(x, str(p)) for p, x in lookups.items()],
            )
            cur.execute(
                f"INSERT INTO {LEGACY_TABLES[2]} VALUES ('blind_index', ?)",
                (base64.b64encode(secret).decode(),),
            )
    finally:
        database.close()


def test_a_restored_key_store_brings_no_erased_person_back(tmp_path: Path) -> None:
    """A key-store backup older than an erasure holds the erased person's key: it is never used,
    not even for a version before the erasure, and ``polku keys reconcile`` deletes it."""
    env = {
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
    }
    settings = Settings.from_env(env)
    service = build_write_service(settings, "enrolment")
    try:
        erased, kept = register(service)
    finally:
        service.close()
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in settings.data_dir.glob("keys.sqlite*"):
        shutil.copy(path, backup / path.name)
    service = build_write_service(settings, "enrolment")
    try:
        service.application.erase_person(erased, meta())
    finally:
        service.close()
    for path in settings.data_dir.glob("keys.sqlite*"):
        path.unlink()
    for path in backup.iterdir():
        shutil.copy(path, settings.data_dir / path.name)

    restored = build_write_service(settings, "enrolment")
    try:
        keystore: SqlKeyStore = restored.adapters["keystore"]
        assert set(keystore.keys([erased, kept])) == {erased, kept}  # the backup brought it back
        assert restored.application.person(erased).full_name is None
        assert restored.application.person(erased, version=1).full_name is None
        assert restored.application.person(kept, version=1).full_name == PEOPLE[1][0]
    finally:
        restored.close()
    result = CliRunner().invoke(main, ["keys", "reconcile"], env=env)
    assert result.exit_code == 0, result.output
    assert "deleted 1 key(s)" in result.output
    after = build_write_service(settings, "enrolment")
    try:
        assert set(after.adapters["keystore"].keys([erased, kept])) == {kept}
        assert after.application.person(kept).full_name == PEOPLE[1][0]
    finally:
        after.close()
