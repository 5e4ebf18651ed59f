"""The consumer examples in ``examples/`` run against a running Polku and real Kafka.

``polku up`` runs as a subprocess with its relays publishing to the session's broker; the Kafka
example consumes as the ``other`` principal (public topics only, by ACL) in its own group, the
HTTP example reads the feed with a service token. Both must see exactly the feed's events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.auth import issue_token
from tests.e2e.test_processes import Processes, call, free_port, ready
from tests.support.kafka_acls import Principals
from tests.support.slice import SECRET, wait_for

ROOT = Path(__file__).resolve().parents[2]
HR = issue_token(SECRET, "hr", "hr_admin")
SERVICE = issue_token(SECRET, "example-subscriber", "service")


def run_example(name: str, args: list[str], timeout: float = 60) -> tuple[list[Any], str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def feed(base: str) -> list[dict[str, Any]]:
    events, after = [], 0
    while True:
        status, page = call("GET", f"{base}/enrolment/events?after={after}&limit=7", SERVICE)
        assert status == 200, page
        events += page["events"]
        if page["next_after"] is None:
            return events
        after = page["next_after"]


@pytest.fixture(scope="module")
def polku(
    kafka_principals: Principals, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("examples")
    processes = Processes(tmp_path)
    try:
        yield _started(kafka_principals, tmp_path, processes)
    finally:
        processes.stop()


def _started(kafka_principals: Principals, tmp_path: Path, processes: Processes) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    prefix, group = f"ex{tag}", f"ex-subscriber-{tag}"
    kafka_principals.grant(prefix, f"ex-tracking-{tag}", group)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes.start(
        "polku",
        ["up", "--port", str(port)],
        {
            "POLKU_KAFKA_BOOTSTRAP_SERVERS": kafka_principals.bootstrap_servers,
            "POLKU_KAFKA_TOPIC_PREFIX": prefix,
            "POLKU_KAFKA_GROUP_ID": f"ex-tracking-{tag}",
            "POLKU_JWT_SECRET": SECRET,
            "POLKU_DATA_DIR": str(tmp_path / "var"),
            "POLKU_POLL_INTERVAL": "0.05",
            "POLKU_PUBLIC_BASE_URL": base,
            **kafka_principals.env("admin"),
        },
    )
    try:
        wait_for(ready(base), 60, "polku up to be ready")
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    security = kafka_principals.security("other")
    kafka_args = ["--bootstrap-servers", kafka_principals.bootstrap_servers]
    if security:
        kafka_args += ["--username", security["sasl_plain_username"]]
        kafka_args += ["--password", security["sasl_plain_password"]]
    return {
        "base": base,
        "topic": f"{prefix}.enrolment.events",
        "group": group,
        "kafka": " ".join(kafka_args),
    }


def enrol_someone(base: str) -> None:
    status, programme = call(
        "POST", f"{base}/enrolment/programmes", HR, {"name": "P", "organisation": "TEM"}
    )
    assert status == 201, programme
    cohort_body = {
        "programme_id": programme["id"],
        "name": "Spring",
        "capacity": 5,
        "start_date": "2020-03-01",
        "end_date": "2020-11-30",
    }
    status, cohort = call("POST", f"{base}/enrolment/cohorts", HR, cohort_body)
    assert status == 201, cohort
    person_body = {
        "full_name": "Anna Aalto",
        "email": "anna@example.fi",
        "employee_number": f"E-{uuid.uuid4().hex[:8]}",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
    }
    status, person = call("POST", f"{base}/enrolment/people", HR, person_body)
    assert status == 201, person
    path = f"{base}/enrolment/cohorts/{cohort['id']}/enrolments"
    status, enrolled = call("POST", path, HR, {"person_id": person["id"]})
    assert status == 201, enrolled


def test_the_kafka_example_consumes_in_a_group_commits_and_skips_duplicates(
    polku: dict[str, str], tmp_path: Path
) -> None:
    base = polku["base"]
    enrol_someone(base)
    published = feed(base)
    args = [*polku["kafka"].split(), "--topic", polku["topic"], "--group", polku["group"]]
    # --idle bounds a run that never receives what it waits for; --count ends it on time.
    state = ["--state", str(tmp_path / "consumer.sqlite"), "--idle", "60", "--validate"]
    first, summary = run_example(
        "kafka_consumer.py", [*args, *state, "--count", str(len(published))]
    )
    # Six partitions: the order holds per subject, not across subjects.
    assert sorted(e["id"] for e in first) == sorted(e["id"] for e in published), summary
    by_subject: dict[str, list[str]] = {}
    for event in first:
        by_subject.setdefault(event["subject"], []).append(event["sequence"])
    assert all(s == sorted(s) for s in by_subject.values())
    # The same group again: its offsets were committed after processing, so only what is new.
    status, later = call(
        "POST", f"{base}/enrolment/programmes", HR, {"name": "Later", "organisation": "TEM"}
    )
    assert status == 201
    again, _ = run_example("kafka_consumer.py", [*args, *state, "--count", "1"])
    assert [(e["type"], e["subject"]) for e in again] == [
        ("fi.polku.enrolment.ProgrammeDefined", later["id"])
    ]
    # Re-delivery is skipped by event id: tests/unit/test_example_consumers.py.


def test_the_http_example_ends_at_the_head_and_long_polls_when_following(
    polku: dict[str, str], tmp_path: Path
) -> None:
    base = polku["base"]
    enrol_someone(base)
    published = feed(base)
    args = ["--url", base, "--service", "enrolment", "--token", SERVICE, "--limit", "3"]
    state = ["--state", str(tmp_path / "feed.json")]
    read, _ = run_example("http_feed_consumer.py", [*args, *state])
    assert [e["id"] for e in read] == [e["id"] for e in published]
    assert all(e["dataschema"].startswith(f"{base}/enrolment/schemas/") for e in read)
    # Following: it long-polls at the head and picks up what arrives meanwhile.
    follower = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples" / "http_feed_consumer.py"),
            *args,
            *state,
            "--follow",
            "--wait",
            "3",
            "--max-polls",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        status, programme = call(
            "POST", f"{base}/enrolment/programmes", HR, {"name": "Later", "organisation": "TEM"}
        )
        assert status == 201
        out, _ = follower.communicate(timeout=60)
    finally:
        follower.kill()
    later = [json.loads(line) for line in out.splitlines()]
    assert [e["type"] for e in later] == ["fi.polku.enrolment.ProgrammeDefined"]
    assert later[0]["subject"] == programme["id"]
