"""The anonymity proof: after reaction responses are submitted, nothing stored or published links
an answer to the person who gave it or to the response token used.

Both shapes are checked: the embedded default (SQLite files, searched byte by byte) and the
production shape (PostgreSQL, every row of every table, and the Kafka topic's bytes). The needles
are every issued token, its SHA-256, and the submitting participants' ids (their bearer subjects);
the keyed token markers must not leave the key store either.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer
from werkzeug.test import Client

from services.assessment.domain.reactions import marker
from services.runtime import Embedded
from shared import kafka
from shared.auth import issue_token
from shared.settings import Settings
from tests.support.slice import SECRET, wait_for
from tests.unit.assessment_builders import reaction

ANSWERS = {"overall": 5, "virtual": 4}
COMMENT = "Meeting people from other units was the best part."


def headers(role: str, sub: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, role)}", **extra}


def run_survey(runtime: Embedded, respondents: int = 4) -> dict[str, Any]:
    """Issues tokens and lets each participant answer once, as a client would."""
    client = Client(runtime.wsgi)
    hr = headers("hr_admin", "hr-1")
    made = client.post(
        "/assessment/instruments",
        json={"name": "Reaction", "kind": "reaction_survey", **reaction()},
        headers=hr,
    ).get_json()
    programme = client.post(
        "/enrolment/programmes", json={"name": "P", "organisation": "TEM"}, headers=hr
    ).get_json()
    cohort = client.post(
        "/enrolment/cohorts",
        json={
            "programme_id": programme["id"],
            "name": "C",
            "capacity": 10,
            "start_date": "2020-03-01",
            "end_date": "2020-11-30",
        },
        headers=hr,
    ).get_json()  # tokens are issued only for a cohort enrolment has planned
    issued = client.post(
        "/assessment/reaction-surveys/tokens",
        json={"instrument_id": made["id"], "cohort_id": cohort["id"], "count": respondents + 1},
        headers=hr,
    ).get_json()
    people = [str(uuid.uuid4()) for _ in range(respondents)]
    for person, token in zip(people, issued["tokens"], strict=False):
        response = client.post(
            f"/assessment/reaction-surveys/{issued['id']}/responses",
            json={"token": token, "answers": ANSWERS, "comments": {"best": COMMENT}},
            headers=headers(
                "participant",
                person,
                **{"Idempotency-Key": f"key-{person}", "X-Correlation-ID": person},
            ),
        )
        assert response.status_code == 201, response.get_json()
    pepper = runtime.services["assessment"].application.keys.pepper(issued["id"])
    assert pepper is not None
    return {
        "survey_id": issued["id"],
        "tokens": issued["tokens"],
        "people": people,
        "markers": [marker(pepper, t) for t in issued["tokens"]],
    }


def needles(survey: dict[str, Any]) -> dict[str, bytes]:
    found = {}
    for token in survey["tokens"]:
        found[f"token {token}"] = token.encode()
        found[f"sha256 of {token}"] = hashlib.sha256(token.encode()).hexdigest().encode()
    for person in survey["people"]:
        found[f"person {person}"] = person.encode()
        found[f"person {person} (hex)"] = uuid.UUID(person).hex.encode()
    return found


def projected(runtime: Embedded) -> None:
    """Waits until tracking has applied every event it subscribes to, so that the search of
    its read model below covers the survey, not a read model that has not seen it yet."""
    expected = sum(
        len({e.id for e in service.tracking_outbox.read(0, 100_000).envelopes})
        for service in runtime.services.values()
    )
    applied = lambda: runtime.tracking.readmodels.count("tr_applied_events")  # noqa: E731
    wait_for(lambda: applied() >= expected, 120, "tracking to apply the survey")
    with runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute("SELECT COUNT(*) FROM tr_reaction_responses")
        assert cur.fetchone()[0] > 0, "no response reached tracking's read model"


def assert_absent(haystack: bytes, wanted: dict[str, bytes], where: str) -> None:
    present = [name for name, needle in wanted.items() if needle in haystack]
    assert not present, f"found in {where}: {present}"


def test_embedded_sqlite_files_hold_no_link(
    embedded_settings: Settings, start: Callable[[Settings], Embedded]
) -> None:
    runtime = start(embedded_settings)
    survey = run_survey(runtime)
    projected(runtime)
    app = runtime.services["assessment"].application
    assert COMMENT.encode() in b"".join(n.state for n in app.notifications_after(0, 100))
    files = b"".join(
        p.read_bytes() for p in Path(embedded_settings.data_dir).rglob("*") if p.is_file()
    )
    assert COMMENT.encode() in files  # the search does see the stores' bytes
    assert_absent(files, needles(survey), "the SQLite files")
    events = b"".join(n.state for n in app.notifications_after(0, 100))
    assert_absent(events, {m: m.encode() for m in survey["markers"]}, "the event store")


def database_bytes(url: str) -> bytes:
    import psycopg

    chunks = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(chunks)


def topic_bytes(settings: Settings, expected: int) -> bytes:
    # The restricted topic: the one that carries the comments, which tracking reads.
    topic = kafka.restricted_topic_of("assessment", settings.kafka_topic_prefix)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        **settings.kafka_security(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    chunks: list[bytes] = []
    responses = 0
    deadline = time.monotonic() + 60
    try:
        while responses < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    value = record.value or b""
                    chunks += [record.key or b"", value]
                    chunks += [k.encode() + (v or b"") for k, v in record.headers or []]
                    responses += b"ReactionResponseSubmitted" in value
    finally:
        consumer.close()
    assert responses == expected, f"only {responses} responses reached Kafka"
    return b"\n".join(chunks)


@pytest.mark.kafka
@pytest.mark.postgres
def test_postgres_rows_and_kafka_bytes_hold_no_link(
    kafka_settings: Settings, start: Callable[[Settings], Embedded]
) -> None:
    runtime = start(kafka_settings)
    survey = run_survey(runtime)
    projected(runtime)
    published = topic_bytes(kafka_settings, expected=len(survey["people"]))
    assert COMMENT.encode() in published
    assert_absent(published, needles(survey), "the Kafka topic")
    assert_absent(published, {m: m.encode() for m in survey["markers"]}, "the Kafka topic")
    assert kafka_settings.database_url
    stored = database_bytes(kafka_settings.database_url)
    assert COMMENT.encode() in stored  # the dump does see the event store
    assert_absent(stored, needles(survey), "the PostgreSQL database")
