"""Every tracking view is in the OpenAPI document, with as_of, CSV and its documented errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api

COHORT_VIEWS = (
    "funnel",
    "growth",
    "reaction",
    "staff-survey",
    "mobility",
    "network",
    "kirkpatrick",
)
VIEWS = (
    *(f"/tracking/cohorts/{{cohort_id}}/{view}" for view in COHORT_VIEWS),
    "/tracking/people/{person_id}/timeline",
    "/tracking/people/{person_id}/growth",
    "/tracking/programmes/{programme_id}/kirkpatrick",
)


@pytest.fixture(scope="module")
def spec(pilot: Any) -> dict[str, Any]:
    response = pilot.client.get("/tracking/openapi.json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", VIEWS)
def test_each_view_documents_as_of_csv_and_its_failures(spec: dict[str, Any], path: str) -> None:
    operation = spec["paths"][path]["get"]
    assert operation.get("summary") or operation.get("description")
    parameters = {p["name"] for p in operation["parameters"]}
    assert {"as_of", "format"} <= parameters
    responses = operation["responses"]
    assert "text/csv" in responses["200"]["content"]
    assert {"401", "403", "404", "422"} <= set(responses)


def test_the_docs_page_serves_for_a_demo_token(api: Api) -> None:
    assert api.client.get("/tracking/docs").status_code == 200
