"""The erasure proof: after ``POST /enrolment/people/{id}/erasure`` a person's name, e-mail and
employee number can be read from nowhere.

The product runs with the relay through a real Kafka broker, on SQLite files and on PostgreSQL
(there with the key store in a database of its own, with its own role).
People are registered and one is enrolled through the API; once the relay and the projector have
caught up, the person is erased. Then every byte the product keeps is searched: every file under
the data directory (event stores with their -wal and -shm, the key store, read models,
positions), every table of the PostgreSQL databases, and every record on the Kafka topics. The
erased strings, the person's data key (wrapped or not) and blind index are found nowhere; the
pseudonymous record remains. A retry of the registration with its Idempotency-Key is a 410.

The same searches run before the erasure, so the test cannot pass vacuously: the sealed fields,
the wrapped key and the blind index must be found then, the clear text and the unwrapped key must
not (they would be if encryption or wrapping were switched off), and the API must show the clear
text.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.enrolment.keystore import KEYS_TABLE
from services.enrolment.personal import SEAL_PREFIX
from services.runtime import Embedded
from shared import kafka
from shared.settings import WRITE_SERVICES, Settings
from shared.sql import Database
from tests.support.kafka_acls import Principals
from tests.support.slice import SECRET, Http, roster_when, wait_for
from tests.support.topics import records_to_end

Start = Callable[[Settings], Embedded]

NAME = "Xanthippe Quillfeatherová"
EMAIL = "xanthippe.quill@erasure-proof.example"
NUMBER = "ERASE-70707-X"
OTHER = ("Bertil Keepsakesson", "bertil.keep@erasure-proof.example", "KEEP-10101")


@pytest.fixture
def sqlite_kafka_settings(tmp_path: Path, kafka_principals: Principals) -> Settings:
    """SQLite stores and read models, with the relay and the projector going through Kafka."""
    tag = uuid.uuid4().hex[:10]
    return Settings(
        data_dir=tmp_path / "sqlite-kafka",
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("admin"),
        kafka_topic_prefix=f"erase{tag}",
        kafka_group_id=f"tracking-{tag}",
        feed="kafka",
        jwt_secret=SECRET,
        poll_interval=0.05,
    )


def files_under(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def database_rows(url: str) -> bytes:
    """Every value of every table in the PostgreSQL database: a dump without pg_dump (binary
    columns raw, as a backup holds them)."""
    database = Database(url)
    try:
        with database.transaction(write=False) as cur:
            cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            tables = cur.fetchall()
            dumped = []
            for schema, table in tables:
                cur.execute(f'SELECT * FROM "{schema}"."{table}"')
                for row in cur.fetchall():
                    dumped += [
                        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                        for v in row
                    ]
        return b"\n".join(dumped)
    finally:
        database.close()


def topic_bytes(settings: Settings) -> bytes:
    """Every record on the product's topics: keys, values and headers, as raw bytes."""
    assert settings.kafka_bootstrap_servers
    topics = kafka.topics_of(WRITE_SERVICES, settings.kafka_topic_prefix)
    chunks = []
    for record in records_to_end(settings, topics):
        chunks += [record.key or b"", record.value or b""]
        chunks += [name.encode() + (value or b"") for name, value in record.headers]
    assert chunks, "nothing was read from the topics"
    return b"\n".join(chunks)


def everything(runtime: Embedded) -> dict[str, bytes]:
    settings = runtime.settings
    kept = {"files": files_under(settings.data_dir), "kafka": topic_bytes(settings)}
    if settings.database_url:
        kept["postgresql"] = database_rows(settings.database_url)
    if settings.keystore_url:
        kept["keystore"] = database_rows(settings.keystore_url)
    return kept


def relayed(runtime: Embedded) -> Callable[[], bool]:
    application = runtime.services["enrolment"].application

    def probe() -> bool:
        relay = runtime.relays["enrolment"]
        return relay.positions.get("kafka") == application.head()

    return probe


def register(http: Http, name: str, email: str, number: str) -> tuple[str, Callable[[], Any]]:
    """Registers someone with an Idempotency-Key; returns their id and a retry of the request."""
    body = {
        "full_name": name,
        "email": email,
        "employee_number": number,
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
        "role": "expert",
    }
    # With an Idempotency-Key, so the kept answer (and its replay) are part of the proof.
    key = f"register-{uuid.uuid4()}"
    response = http.client.post(
        "/enrolment/people",
        json=body,
        headers={"Authorization": f"Bearer {http.token}", "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.get_json()
    replayed = http.client.post(
        "/enrolment/people",
        json=body,
        headers={"Authorization": f"Bearer {http.token}", "Idempotency-Key": key},
    )
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json() == response.get_json()  # the personal fields read back

    def retry() -> Any:
        return http.client.post(
            "/enrolment/people",
            json=body,
            headers={"Authorization": f"Bearer {http.token}", "Idempotency-Key": key},
        )

    return str(response.get_json()["id"]), retry


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_an_erased_person_can_be_read_from_nowhere(
    store: str, request: pytest.FixtureRequest, start: Start
) -> None:
    settings: Settings = request.getfixturevalue(
        "sqlite_kafka_settings" if store == "sqlite" else "kafka_settings"
    )
    if store == "postgresql":
        settings = settings.with_changes(keystore_url=request.getfixturevalue("owned_postgres_url"))
    runtime = start(settings)
    http = Http(runtime.wsgi, role="hr_admin")
    programme = http.post("/enrolment/programmes", {"name": "TEMPO", "organisation": "TEM"})
    cohort = http.post(
        "/enrolment/cohorts",
        {
            "programme_id": programme["id"],
            "name": "TEMPO 2020",
            "capacity": 5,
            "start_date": "2020-02-01",
            "end_date": "2020-06-30",
        },
    )
    person_id, retry = register(http, NAME, EMAIL, NUMBER)
    other_id, _ = register(http, *OTHER)
    http.post(f"/enrolment/cohorts/{cohort['id']}/enrolments", {"person_id": person_id})
    wait_for(roster_when(http, cohort["id"], 1), 60, "the roster through Kafka")
    wait_for(relayed(runtime), 30, "the relay to publish everything")

    application = runtime.services["enrolment"].application
    keys = application.personal_data.keys
    data_key = keys.keys([person_id_uuid := uuid.UUID(person_id)])[person_id_uuid]
    with keys.database.transaction(write=False) as cur:
        cur.execute(f"SELECT wrapped_key FROM {KEYS_TABLE} WHERE person_id = ?", (person_id,))
        wrapped_key = bytes(cur.fetchone()[0])
    lookup = keys.blind(NUMBER).encode()
    secrets = {s: s.encode() for s in (NAME, EMAIL, NUMBER)}
    with runtime.services["enrolment"].database.transaction(write=False) as cur:
        cur.execute(
            "SELECT fingerprint FROM enrolment_idempotency WHERE body LIKE ?", (f"%{person_id}%",)
        )
        (fingerprint,) = [row[0].encode() for row in cur.fetchall()]  # a hash of what was sent

    # Before: readable through the API, sealed in the store, the key wrapped in the key store.
    assert http.get(f"/enrolment/people/{person_id}")["full_name"] == NAME
    before = everything(runtime)
    store_bytes = before["files"] if store == "sqlite" else before["postgresql"]
    keys_bytes = before["files"] if store == "sqlite" else before["keystore"]
    assert SEAL_PREFIX.encode() in store_bytes
    assert lookup in keys_bytes and wrapped_key in keys_bytes
    assert fingerprint in store_bytes
    for where, raw in before.items():
        for secret, encoded in secrets.items():
            assert encoded not in raw, f"{secret!r} in the clear in {where} before erasure"
        assert data_key not in raw, f"the data key is kept unwrapped in {where}"

    erased = http.call("POST", f"/enrolment/people/{person_id}/erasure", expect=200).get_json()
    assert erased["erased"] is True
    wait_for(relayed(runtime), 30, "the relay to publish the erasure")

    after = everything(runtime)
    for where, raw in after.items():
        for secret, encoded in secrets.items():
            assert encoded not in raw, f"{secret!r} readable in {where} after erasure"
        assert data_key not in raw, f"the data key survives in {where}"
        assert wrapped_key not in raw, f"the wrapped data key survives in {where}"
        assert lookup not in raw, f"the blind index survives in {where}"
        assert fingerprint not in raw, f"the registration's fingerprint survives in {where}"
    assert b"PersonErased" in after["kafka"]
    assert keys.keys([person_id_uuid]) == {}
    head = application.head()
    assert retry().status_code == 410  # a retried registration never brings them back
    assert application.head() == head

    # The API shows no personal field; the pseudonymous record and the other person remain.
    view = http.get(f"/enrolment/people/{person_id}")
    assert (view["full_name"], view["email"], view["employee_number"]) == (None, None, None)
    assert (view["erased"], view["role"], view["department"]) == (True, "expert", "Innovation")
    assert http.get(f"/enrolment/people/{other_id}")["full_name"] == OTHER[0]
    idempotency_table = runtime.services["enrolment"].database
    with idempotency_table.transaction(write=False) as cur:
        cur.execute("SELECT fingerprint, body FROM enrolment_idempotency")
        rows = cur.fetchall()
    kept = [body or "" for fingerprint, body in rows if fingerprint != "erased"]
    # The erased person's key stays as a tombstone (no answer, no fingerprint): a retry is a 410.
    assert [body for fingerprint, body in rows if fingerprint == "erased"] == [None]
    assert not [body for body in kept if person_id in body]  # forgotten with the person
    assert [body for body in kept if other_id in body]  # the other person's answer remains
    assert OTHER[0].encode() not in after["files"] + after.get("postgresql", b"")
    roster = http.get(f"/tracking/cohorts/{cohort['id']}/roster")["participants"]
    assert [p["person_id"] for p in roster] == [person_id]
    listed: Any = http.get("/enrolment/people")["items"]
    assert [p["employee_number"] for p in listed] == [None, OTHER[2]]
