"""Pytest plugin that owns how tests get a real OpenID Connect issuer: Keycloak.

``keycloak`` is started once per session, lazily (only when a test asks for it): from
``POLKU_TEST_KEYCLOAK_URL`` when set (a running Keycloak with the realms of
``infra/keycloak/`` imported, admin ``admin``/``admin-dev-pass``), else as a local process
(:class:`~tests.support.keycloak_server.KeycloakServer`). When neither works the test is
skipped with the reason, or **fails** when ``CI`` is set.

``USERS`` names the realm's people by Polku role, with their passwords; ``CLIENTS`` the
service clients and their secrets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.keycloak_server import KeycloakServer
from tests.support.services import unavailable

KEYCLOAK_ENV = "POLKU_TEST_KEYCLOAK_URL"

USERS = {
    "hr_admin": ("hanna.hr", "hanna-pass-1"),
    "coordinator": ("cora.coordinator", "cora-pass-1"),
    "coach": ("kaisa.coach", "kaisa-pass-1"),
    "auditor": ("aaro.auditor", "aaro-pass-1"),
    "participant": ("pia.participant", "pia-pass-1"),
}
PARTICIPANT_PERSON_ID = "00000000-0000-4000-8000-000000000001"
MULTI_ROLE_USER = ("mika.multi", "mika-pass-1")
"""A coach who is also a participant (person ``00000000-0000-4000-8000-000000000002``)."""
NO_ROLE_USER = ("nora.norole", "nora-pass-1")
CLIENTS = {
    "polku-tracking": "polku-tracking-dev-secret",
    "polku-assessment": "polku-assessment-dev-secret",
    "polku-reporting": "polku-reporting-dev-secret",
}


@pytest.fixture(scope="session")
def keycloak() -> Iterator[KeycloakServer]:
    explicit = os.environ.get(KEYCLOAK_ENV, "").strip()
    if explicit:
        yield KeycloakServer(url=explicit.rstrip("/"))
        return
    try:
        server = KeycloakServer()
        server.start()
    except Exception as exc:  # turned into a skip, or a failure in CI
        unavailable(f"no Keycloak: no {KEYCLOAK_ENV}, and the local server failed: {exc}")
    _started.append(server.start_seconds or 0.0)
    try:
        yield server
    finally:
        server.close()


_started: list[float] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in _started:
        terminalreporter.write_line(f"keycloak: started in {seconds:.1f}s (primed copy)")
