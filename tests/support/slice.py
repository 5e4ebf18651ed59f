"""The vertical slice driven through the HTTP API, shared by the end-to-end tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from werkzeug.test import Client

from shared.auth import issue_token
from shared.settings import Settings
from tests.support.kafka_acls import Principals

T = TypeVar("T")
SECRET = "test-secret-" + "x" * 32


class Http:
    """A test client that carries a bearer token and fails loudly on unexpected statuses."""

    def __init__(self, wsgi: Any, role: str = "coordinator", sub: str = "tester") -> None:
        self.client = Client(wsgi)
        self.token = issue_token(SECRET, sub, role)

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        response = self.client.open(
            path,
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.call("POST", path, body, expect=201).get_json()  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any]:
        return self.call("GET", path, expect=200).get_json()  # type: ignore[no-any-return]


@dataclass
class Slice:
    programme_id: str
    cohort_id: str
    people: list[str] = field(default_factory=list)
    departments: dict[str, str] = field(default_factory=dict)


def load_slice(http: Http, people: int = 5, capacity: int = 20) -> Slice:
    programme = http.post("/enrolment/programmes", {"name": "TEMPO", "organisation": "TEM"})
    cohort = http.post(
        "/enrolment/cohorts",
        {
            "programme_id": programme["id"],
            "name": "TEMPO 2020",
            "capacity": capacity,
            "start_date": "2020-02-01",
            "end_date": "2020-06-30",
        },
    )
    result = Slice(programme["id"], cohort["id"])
    for n in range(people):
        person = http.post(
            "/enrolment/people",
            {
                "full_name": f"Testi Henkilö {n}",
                "email": f"testi.{n}@example.invalid",
                "employee_number": f"E-{n:05d}-{uuid.uuid4().hex[:8]}",  # unique per load
                "organisation": "TEM",
                "department": f"Department {n % 3}",
                "unit": f"Unit {n}",
            },
        )
        http.post(f"/enrolment/cohorts/{cohort['id']}/enrolments", {"person_id": person["id"]})
        result.people.append(person["id"])
        result.departments[person["id"]] = f"Department {n % 3}"
    return result


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Polls ``probe`` until it returns something truthy, or fails naming what never came."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def roster_when(http: Http, cohort_id: str, count: int) -> Callable[[], list[Any] | None]:
    """A probe: the roster once it lists ``count`` people with their departments known."""

    def probe() -> list[Any] | None:
        response = http.call("GET", f"/tracking/cohorts/{cohort_id}/roster")
        if response.status_code != 200:
            return None
        participants = response.get_json()["participants"]
        if len(participants) == count and all(p["department"] for p in participants):
            return participants  # type: ignore[no-any-return]
        return None

    return probe


def production_settings(data_dir: Path, database_url: str, principals: Principals) -> Settings:
    """Settings of the production shape, on topics and a consumer group of their own.

    One process relays and projects, so it connects as the broker's admin: the principals
    that split those rights are tested in tests/integration/test_restricted_channel.py.
    """
    tag = uuid.uuid4().hex[:10]
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        kafka_bootstrap_servers=principals.bootstrap_servers,
        **principals.settings("admin"),
        kafka_topic_prefix=f"e2e{tag}",
        kafka_group_id=f"tracking-{tag}",
        feed="kafka",
        jwt_secret=SECRET,
        poll_interval=0.05,
    )
