"""Runs scenario loaders against a WSGI app in-process (no sockets), as a ``Call``."""

from __future__ import annotations

from typing import Any

from werkzeug.test import Client

from services.scenario.client import ScenarioError
from services.scenario.enrolment import COACH
from shared.auth import issue_token

SUBJECTS = {"coach": COACH}
"""Token subjects per role; the scenario's coach must be the one assigned to the cohort."""


class ClientCall:
    """A :class:`~services.scenario.client.Call` over a werkzeug test client."""

    def __init__(self, client: Client, secret: str) -> None:
        self.client = client
        self.secret = secret
        self.requests = 0

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        role: str = "hr_admin",
        key: str | None = None,
    ) -> Any:
        token = issue_token(self.secret, SUBJECTS.get(role, f"scenario-{role}"), role)
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        self.requests += 1
        response = self.client.open(path, method=method, json=body, headers=headers)
        if response.status_code >= 400:
            raise ScenarioError(
                f"{method} {path}: {response.status_code} {response.get_data(True)}"
            )
        return response.get_json()
