"""Every operation of the three OpenAPI documents, asked by every role and by no one.

The matrix is read from the documents: each guarded operation lists the roles it admits in
``x-roles`` (written by :func:`shared.web.security.requires`), and an operation open to all says
so with ``security: []``. A new operation is therefore in the matrix the moment it is served,
and one that documents neither fails :func:`test_every_operation_documents_who_may_call_it`.

For each operation: no token is a 401; a role not listed is a 403; a listed role is neither
(the ids in the path exist nowhere, so the answer is typically a 404 or a 422), never a 500,
and always a status the operation documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from services.runtime import Embedded
from shared.auth import ROLES
from tests.api.helpers import bearer, build

SERVICES = ("enrolment", "assessment", "tracking")
METHODS = ("get", "post", "put", "patch", "delete")
NO_TOKEN = "no token"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    embedded = build(Path(tmp_path_factory.mktemp("matrix")))
    yield embedded
    embedded.close()


@pytest.fixture(scope="module")
def client(runtime: Embedded) -> Client:
    return Client(runtime.wsgi)


def operations(client: Client, service: str) -> list[tuple[str, str, dict[str, Any]]]:
    response = client.get(f"/{service}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    found = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert found, f"the {service} document lists no operations"
    return found


def admitted(operation: dict[str, Any]) -> list[str] | None:
    """The roles an operation admits; None for one documented as open to all."""
    if operation.get("security") == []:
        return None
    roles = operation.get("x-roles")
    assert isinstance(roles, list), "neither x-roles nor security: []"
    return roles


def call(client: Client, method: str, path: str, role: str) -> TestResponse:
    """The operation with every path parameter an id that exists nowhere, and an empty body."""
    concrete = path
    while "{" in concrete:
        start, end = concrete.index("{"), concrete.index("}")
        concrete = concrete[:start] + str(uuid.uuid4()) + concrete[end + 1 :]
    headers = {} if role == NO_TOKEN else bearer(role, sub=f"matrix-{role}")
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("post", "put", "patch"):
        kwargs["json"] = {}
    return client.open(concrete, method=method.upper(), **kwargs)


def documented(operation: dict[str, Any], status: int) -> bool:
    responses = operation.get("responses", {})
    return str(status) in responses or "default" in responses


def undocumented(found: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Operations that say neither which roles they admit nor that they are open to all."""
    missing = []
    for method, path, operation in found:
        if operation.get("security") == []:
            continue
        roles = operation.get("x-roles")
        if not roles or not set(roles) <= set(ROLES):
            missing.append(f"{method.upper()} {path}: x-roles={roles!r}")
            continue
        for status in ("401", "403"):
            if status not in operation.get("responses", {}):
                missing.append(f"{method.upper()} {path}: no {status} documented")
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_documents_who_may_call_it(client: Client, service: str) -> None:
    missing = undocumented(operations(client, service))
    assert not missing, "\n".join(missing)


def test_an_operation_without_its_roles_is_caught() -> None:
    refusals = {"401": {}, "403": {}}
    found = [
        ("get", "/x/documented", {"x-roles": ["coach"], "responses": refusals}),
        ("get", "/x/open", {"security": []}),
        ("post", "/x/forgotten", {"responses": refusals}),
        ("get", "/x/invented-role", {"x-roles": ["root"], "responses": refusals}),
        ("get", "/x/no-refusals", {"x-roles": ["coach"], "responses": {}}),
    ]
    assert [line.split(":")[0] for line in undocumented(found)] == [
        "POST /x/forgotten",
        "GET /x/invented-role",
        "GET /x/no-refusals",
        "GET /x/no-refusals",
    ]


@pytest.mark.parametrize("role", [NO_TOKEN, *ROLES])
@pytest.mark.parametrize("service", SERVICES)
def test_each_role_gets_the_documented_answer(client: Client, service: str, role: str) -> None:
    wrong = []
    for method, path, operation in operations(client, service):
        roles = admitted(operation)
        response = call(client, method, path, role)
        status = response.status_code
        if roles is None:
            expected = "not 401, 403 or 500"
            ok = status not in (401, 403) and status < 500
        elif role == NO_TOKEN:
            expected, ok = "401", status == 401
        elif role not in roles:
            expected, ok = "403", status == 403
        elif f"matrix-{role}" not in operation.get("x-subjects", [f"matrix-{role}"]):
            # Admitted by role, but only for the subjects the operation names.
            expected, ok = "403", status == 403
        else:
            expected = "not 401, 403 or 500, and documented"
            ok = status not in (401, 403) and status < 500 and documented(operation, status)
        if not ok:
            detail = (response.get_json(silent=True) or {}).get("detail", "")
            wrong.append(f"{method.upper()} {path}: {status} ({detail}), expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_a_known_operation_of_each_service(client: Client) -> None:
    # A guard against an empty matrix passing vacuously.
    seen = {(m, p) for s in SERVICES for m, p, _ in operations(client, s)}
    assert ("post", "/assessment/results") in seen
    assert ("get", "/enrolment/cohorts/{cohort_id}") in seen
    assert ("get", "/tracking/people/{person_id}/timeline") in seen
    for service in SERVICES:  # the audit routes (docs/audit.md)
        assert ("get", f"/{service}/audit/access") in seen
        assert ("get", f"/{service}/audit/status") in seen
        assert ("get", f"/{service}/audit/checkpoints") in seen
