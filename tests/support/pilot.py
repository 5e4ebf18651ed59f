"""The whole TEMPO 2020 pilot loaded through the APIs and projected, for the tracking tests.

:class:`Pilot` wraps a runtime (embedded SQLite, or the production shape through Kafka) with
the ids the scenario got and a ``get`` that carries a token of any role and subject.
Tests must treat it as read-only: one pilot serves a whole test session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.test import Client, TestResponse

from services.runtime import Embedded
from services.scenario import assessment, enrolment
from shared.auth import issue_token
from tests.support.scenario import SUBJECTS, ClientCall


@dataclass
class Pilot:
    runtime: Embedded
    client: Client
    call: ClientCall
    loaded: enrolment.Loaded
    assessment: dict[str, Any]
    secret: str

    @property
    def cohort_id(self) -> str:
        return self.loaded.cohort_id

    def person(self, key: str) -> str:
        """The pseudonymous id of P01..P20 or C01..C40."""
        return self.loaded.people[key]

    def key_of(self, person_id: str) -> str:
        return next(k for k, v in self.loaded.people.items() if v == person_id)

    def get(
        self, path: str, role: str = "hr_admin", sub: str | None = None, **query: Any
    ) -> TestResponse:
        subject = sub or SUBJECTS.get(role, f"test-{role}")
        token = issue_token(self.secret, subject, role)
        return self.client.get(
            path, query_string=query, headers={"Authorization": f"Bearer {token}"}
        )

    def json(self, path: str, role: str = "hr_admin", **query: Any) -> Any:
        response = self.get(path, role, **query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


def only_instrument(view: dict[str, Any]) -> dict[str, Any]:
    """The one instrument a per-instrument view reports."""
    assert len(view["instruments"]) == 1
    return view["instruments"][0]  # type: ignore[no-any-return]


def load_pilot(runtime: Embedded, secret: str) -> Pilot:
    """Loads both sides of the pilot through the HTTP APIs (in-process, no sockets)."""
    client = Client(runtime.wsgi)
    call = ClientCall(client, secret)
    loaded = enrolment.load(call)
    assessed = assessment.load(call, loaded.cohort_id, loaded.people)
    return Pilot(runtime, client, call, loaded, assessed, secret)
