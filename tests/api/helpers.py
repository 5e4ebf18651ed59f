"""Helpers that speak the API: tokens, request bodies, and the problem+json assertion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.test import Client, TestResponse

from services.runtime import Embedded, build_embedded
from shared.auth import issue_token
from shared.settings import Settings

SECRET = "x" * 32
PROBLEM = "application/problem+json"


def bearer(role: str = "hr_admin", sub: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, role)}"}


@dataclass
class Api:
    """A test client with the few calls most tests need to set the scene."""

    embedded: Embedded
    client: Client

    @property
    def enrolment(self) -> Any:
        return self.embedded.services["enrolment"].application

    @property
    def assessment(self) -> Any:
        return self.embedded.services["assessment"].application

    @contextmanager
    def assessment_writes_nothing(self) -> Iterator[None]:
        """Asserts the assessment log did not grow: a refused request is never half-written."""
        head = self.assessment.head()
        yield
        assert self.assessment.head() == head

    def post(
        self, path: str, body: Any, role: str = "hr_admin", sub: str = "alice", **kw: Any
    ) -> TestResponse:
        headers = {**bearer(role, sub), **kw.pop("headers", {})}
        return self.client.post(path, json=body, headers=headers, **kw)

    def get(self, path: str, role: str = "hr_admin", sub: str = "alice", **kw: Any) -> TestResponse:
        headers = {**bearer(role, sub), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def programme(self, name: str = "Leadership") -> str:
        return str(
            self.created("/enrolment/programmes", {"name": name, "organisation": "TEM"})["id"]
        )

    def cohort(self, programme_id: str | None = None, capacity: int = 10, name: str = "C") -> str:
        body = cohort_body(programme_id or self.programme(), capacity=capacity, name=name)
        return str(self.created("/enrolment/cohorts", body)["id"])

    def person(self, **overrides: str) -> str:
        """Registers someone; a fresh employee number unless given (they are unique)."""
        overrides.setdefault("employee_number", f"E-{uuid.uuid4().hex[:12]}")
        return str(self.created("/enrolment/people", person_body(**overrides))["id"])

    def enrol(self, cohort_id: str, person_id: str) -> TestResponse:
        return self.post(f"/enrolment/cohorts/{cohort_id}/enrolments", {"person_id": person_id})

    def coached(self, coach: str = "alice") -> tuple[str, str]:
        """A cohort ``coach`` coaches and a person enrolled in it, known to assessment's scope."""
        cohort = self.cohort()
        assert self.post(f"/enrolment/cohorts/{cohort}/open", {}).status_code == 200
        person = self.person()
        assert self.enrol(cohort, person).status_code == 201
        assigned = self.post(f"/enrolment/cohorts/{cohort}/coaches", {"coach": coach})
        assert assigned.status_code in (200, 201), assigned.get_json()
        self.catch_up_scope()
        return cohort, person

    def catch_up_scope(self) -> None:
        """Applies enrolment's new events to assessment's coach scope (no thread runs here)."""
        assert self.embedded.scope is not None
        self.embedded.scope.drain()

    @contextmanager
    def writes_nothing(self) -> Iterator[None]:
        """Asserts the enrolment log did not grow: a refused request is never half-written."""
        head = self.enrolment.head()
        yield
        assert self.enrolment.head() == head


def cohort_body(programme_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "programme_id": programme_id,
        "name": "Spring 2020",
        "capacity": 10,
        "start_date": "2020-03-01",
        "end_date": "2020-11-30",
    }
    body.update(overrides)
    return body


def person_body(**overrides: str) -> dict[str, str]:
    body = {
        "full_name": "Anna Aalto",
        "email": "anna.aalto@example.fi",
        "employee_number": "E-1001",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
    }
    body.update(overrides)
    return body


def assert_problem(
    response: TestResponse, status: int, fields: set[str] | None = None
) -> dict[str, Any]:
    """An RFC 9457 body with the status; ``fields`` must all be named in ``errors[].field``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["detail"]
    if fields:
        named = {e["field"] for e in body.get("errors", [])}
        assert fields <= named, body
    return body  # type: ignore[no-any-return]


def unknown_id() -> str:
    return str(uuid.uuid4())


def build(data_dir: Path) -> Embedded:
    return build_embedded(Settings(data_dir=data_dir, jwt_secret=SECRET))
