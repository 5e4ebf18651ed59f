"""The OpenAPI documents say what the code does: checked by hand where schemathesis cannot see
(unknown query parameters, duplicate keys, an empty PATCH, the Idempotency-Key's characters),
then by a bounded schemathesis run over each service with its conformance checks on.

Schemathesis drives the embedded WSGI app directly (no network). Its examples are few and
derandomised, so the run is a bounded smoke test of every kind of operation, not a fuzzing
campaign; ``POLKU_TEST_SCHEMATHESIS_EXAMPLES`` raises the bound for a longer local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from services.runtime import Embedded
from tests.api.helpers import Api, assert_problem, bearer, build
from tests.api.test_assessment_api import instrument

EXAMPLES = int(os.environ.get("POLKU_TEST_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
ACCEPTED = ["2xx", "401", "403", "404", "409", "422"]
"""What a schema-valid request may get: 422 included, because rules beyond a schema's reach
refuse valid-looking data (an id enrolment never registered, an end before a start, a date in
the future); a 400, 405 or 415 for a valid request is a failure."""


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    embedded = build(Path(tmp_path_factory.mktemp("conformance")))
    yield embedded
    embedded.close()


@pytest.fixture(scope="module")
def api(runtime: Embedded) -> Api:
    return Api(runtime, Client(runtime.wsgi))


def test_unknown_query_parameters_are_a_422_naming_them_everywhere(api: Api) -> None:
    cohort = api.cohort()
    for path in (
        "/enrolment/cohorts",
        f"/enrolment/cohorts/{cohort}",
        "/assessment/instruments",
        f"/tracking/cohorts/{cohort}/funnel",
    ):
        problem = assert_problem(api.get(path, query_string={"departmnet": "x"}), 422)
        assert [(e["location"], e["field"]) for e in problem["errors"]] == [("query", "departmnet")]
    # A command too, and only after the caller is admitted: no token is still a 401.
    path = f"/enrolment/cohorts/{cohort}/open?dry=1"
    assert api.client.post(path, json={}).status_code == 401
    assert_problem(api.post(path, {}), 422, {"dry"})
    # The documented ones still work.
    assert api.get("/enrolment/cohorts?limit=1").status_code == 200


def test_a_query_parameter_given_twice_is_a_422_naming_it(api: Api) -> None:
    """Which value would count is otherwise up to the parser (it takes the first)."""
    for path, query in (
        ("/enrolment/cohorts", "limit=1&limit=2"),
        ("/enrolment/audit/access", "format=csv&format=json"),
        ("/tracking/cohorts", "year=2020&q=x&year=2021"),
    ):
        problem = assert_problem(api.get(f"{path}?{query}", role="auditor"), 422)
        assert [e["field"] for e in problem["errors"]] == [query.split("=")[0]]
        assert "more than once" in problem["errors"][0]["message"]
    # A list parameter is repeated by design.
    types = "type=fi.polku.enrolment.CohortPlanned&type=fi.polku.enrolment.ParticipantEnrolled"
    feed = api.get(f"/enrolment/events?{types}", role="auditor")
    assert feed.status_code == 200, feed.get_json()


def test_a_json_key_given_twice_is_a_422_naming_it(api: Api) -> None:
    raw = b'{"name": "A", "organisation": "TEM", "name": "B"}'
    response = api.client.post(
        "/enrolment/programmes",
        data=raw,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, {"name"})
    assert "more than once" in problem["errors"][0]["message"]
    nested = b'{"records": [{"person_id": "x", "status": "present", "status": "absent"}]}'
    json_headers = {**bearer(), "Content-Type": "application/json"}
    response = api.client.post("/enrolment/programmes", data=nested, headers=json_headers)
    assert_problem(response, 422, {"status"})  # found at any depth


def test_an_empty_patch_of_an_instrument_makes_no_new_version(api: Api) -> None:
    made = instrument(api)
    path = f"/assessment/instruments/{made['id']}"
    response = api.client.patch(path, json={}, headers=bearer())
    assert response.status_code == 200
    assert response.get_json()["version"] == made["version"]
    renamed = api.client.patch(path, json={"name": "360 v2"}, headers=bearer()).get_json()
    assert renamed["version"] == made["version"] + 1


def test_the_idempotency_key_is_documented_as_it_is_checked(api: Api) -> None:
    spec = api.get("/enrolment/openapi.json").get_json()
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert "pattern" in parameter["schema"]
    assert "printable ASCII" in parameter["description"]
    body = {"name": "P", "organisation": "TEM"}
    refused = api.post("/enrolment/programmes", body, headers={"Idempotency-Key": "k\u00e4y"})
    assert_problem(refused, 400)
    kept = api.post("/enrolment/programmes", body, headers={"Idempotency-Key": "a b~!"})
    assert kept.status_code == 201
    every_post = [
        operation
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method == "post" and "IdempotencyKey" in str(operation.get("parameters"))
    ]
    assert every_post and all("400" in operation["responses"] for operation in every_post)


def conformance_failures(runtime: Embedded, service: str) -> list[str]:
    """Runs the bounded schemathesis examples against one service; answers each failure."""
    auth = bearer("hr_admin")
    schema = schemathesis.openapi.from_wsgi(f"/{service}/openapi.json", runtime.wsgi, headers=auth)
    schema.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED
    return [
        failure
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for failure in _examples(schema, mode, auth)
    ]


def _examples(schema: Any, mode: GenerationMode, auth: dict[str, str]) -> list[str]:
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(case=schema.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=auth, checks=CHECKS)
        except (Failure, FailureGroup) as failure:
            failures = failure.exceptions if isinstance(failure, FailureGroup) else [failure]
            found.extend(f"{case.operation.label} ({mode.name}): {f}" for f in failures)

    run()
    return found


@pytest.mark.parametrize("service", ("enrolment", "assessment", "tracking"))
def test_schemathesis_finds_nothing(runtime: Embedded, service: str) -> None:
    failures = conformance_failures(runtime, service)
    assert not failures, "\n\n".join(failures)
