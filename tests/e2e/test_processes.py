"""The distributed deployment run as real processes, as docker-compose would run them.

``polku serve enrolment``, ``polku relay enrolment``, ``polku project`` and
``polku serve tracking --no-projector`` share a PostgreSQL database and talk through Kafka; a
second tracking store is then filled by ``polku project --once`` over the HTTP feed. Both must
show the same roster.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.auth import issue_token
from tests.support.kafka_acls import Principals
from tests.support.slice import SECRET, wait_for

POLKU = [sys.executable, "-m", "services.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name}.log"
        process = subprocess.Popen(
            [*POLKU, *args],
            env={**os.environ, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        self.running.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in self.running)

    def stop(self) -> None:
        for process, _ in self.running:
            process.terminate()
        for process, _ in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop()


def call(method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return 0, None  # not listening yet


def ready(url: str) -> Callable[[], bool]:
    return lambda: call("GET", f"{url}/readyz", "")[0] == 200


def test_services_relay_and_projectors_as_separate_processes(
    fresh_postgres_url: str,
    kafka_principals: Principals,
    tmp_path: Path,
    processes: Processes,  # last, so its processes stop before their database is dropped
) -> None:
    tag = uuid.uuid4().hex[:8]
    # As an operator would: topics and ACLs first; then each process as its own principal.
    kafka_principals.grant(f"proc{tag}", f"proc-{tag}", f"proc-other-{tag}")
    common = {
        "POLKU_DATABASE_URL": fresh_postgres_url,
        "POLKU_KAFKA_BOOTSTRAP_SERVERS": kafka_principals.bootstrap_servers,
        "POLKU_KAFKA_TOPIC_PREFIX": f"proc{tag}",
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_POLL_INTERVAL": "0.05",
    }
    enrolment_port, tracking_port = free_port(), free_port()
    enrolment = f"http://127.0.0.1:{enrolment_port}"
    tracking = f"http://127.0.0.1:{tracking_port}"
    relay_env = {**common, **kafka_principals.env("relay")}
    processes.start("enrolment", ["serve", "enrolment", "--port", str(enrolment_port)], relay_env)
    processes.start("relay", ["relay", "enrolment"], relay_env)
    tracking_env = {
        **common,
        **kafka_principals.env("tracking"),
        "POLKU_FEED": "kafka",
        "POLKU_KAFKA_GROUP_ID": f"proc-{tag}",
    }
    # As in docker-compose: the projector alone, then an API process that only reads.
    processes.start("projector", ["project"], tracking_env)
    processes.start(
        "tracking",
        ["serve", "tracking", "--no-projector", "--port", str(tracking_port)],
        tracking_env,
    )
    try:
        wait_for(ready(enrolment), 60, "polku serve enrolment to be ready")
        wait_for(ready(tracking), 60, "polku serve tracking to be ready")

        token = issue_token(SECRET, "coordinator-1", "coordinator")
        status, programme = call(
            "POST", f"{enrolment}/enrolment/programmes", token, {"name": "T", "organisation": "TEM"}
        )
        assert status == 201, programme
        cohort_body = {
            "programme_id": programme["id"],
            "name": "2020",
            "capacity": 3,
            "start_date": "2020-02-01",
            "end_date": "2020-06-30",
        }
        status, cohort = call("POST", f"{enrolment}/enrolment/cohorts", token, cohort_body)
        assert status == 201, cohort
        people = []
        for n in range(3):
            status, person = call(
                "POST",
                f"{enrolment}/enrolment/people",
                token,
                {
                    "full_name": f"Prosessi {n}",
                    "email": f"p{n}@example.invalid",
                    "employee_number": f"P{n}",
                    "organisation": "TEM",
                    "department": f"D{n}",
                    "unit": "U",
                },
            )
            assert status == 201, person
            enrolments = f"{enrolment}/enrolment/cohorts/{cohort['id']}/enrolments"
            status, _ = call("POST", enrolments, token, {"person_id": person["id"]})
            assert status == 201
            people.append(person["id"])

        roster_url = f"{tracking}/tracking/cohorts/{cohort['id']}/roster"

        def roster() -> list[Any] | None:
            status, body = call("GET", roster_url, token)
            full = status == 200 and body["count"] == 3
            return (
                body["participants"]
                if full and all(p["department"] for p in body["participants"])
                else None
            )

        via_kafka = wait_for(roster, 90, "the roster through the relay and Kafka")
        assert [p["person_id"] for p in via_kafka] == people

        # A second tracking store, filled by a one-shot projector over the HTTP feed.
        service_token = issue_token(SECRET, "tracking", "service")
        result = subprocess.run(
            [*POLKU, "project", "--once"],
            env={
                **os.environ,
                "POLKU_DATA_DIR": str(tmp_path / "http-var"),
                "POLKU_JWT_SECRET": SECRET,
                "POLKU_FEED": "http",
                "POLKU_ENROLMENT_URL": enrolment,
                "POLKU_SERVICE_TOKEN": service_token,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "applied 8 events" in result.stdout
        from services.tracking.readmodels import ReadModels
        from shared.sql import Database

        http_models = ReadModels(Database(f"sqlite:///{tmp_path / 'http-var' / 'tracking.sqlite'}"))
        assert http_models.roster(cohort["id"]).participants == via_kafka
        http_models.database.close()
    except BaseException:
        print(processes.logs())
        raise
