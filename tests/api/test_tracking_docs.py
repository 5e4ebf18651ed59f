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
    "/tracking/cohorts",
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
    assert {"as_of", "on", "format"} <= parameters
    responses = operation["responses"]
    assert "text/csv" in responses["200"]["content"]
    assert {"401", "403", "404", "422"} <= set(responses)


def test_the_docs_page_serves_for_a_demo_token(api: Api) -> None:
    assert api.client.get("/tracking/docs").status_code == 200


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """A response object, its ``$ref`` to ``components/responses`` followed."""
    ref = response.get("$ref")
    if ref is None:
        return response
    return spec["components"]["responses"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def test_every_tracking_operation_documents_each_answer_it_gives(spec: dict[str, Any]) -> None:
    """Every GET (views, roster, status, audit log): its 200 as JSON (and as CSV if it takes
    `format`), 401 and 403 (every one is guarded), 404 if its path names something, 422 if it
    takes query arguments, each failure as problem+json."""
    missing = []
    for path, item in spec["paths"].items():
        operation = item["get"]
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        names = {p["name"] for p in parameters if p["in"] == "query"}
        expected = {"200", "401", "403"}
        if any(p["in"] == "path" for p in parameters):
            expected.add("404")
        if names:
            expected.add("422")
        responses = operation["responses"]
        missing += [f"{path}: {status}" for status in sorted(expected - set(responses))]
        ok = responses.get("200", {})
        media = set(ok.get("content", {}))
        want = {"application/json", "text/csv"} if "format" in names else {"application/json"}
        if not ok.get("description") or media != want:
            missing.append(f"{path}: 200 described as {sorted(want)}, not {sorted(media)}")
        # The access log (/tracking/audit/access) is a log, not a view: it has no as_of.
        if "format" in names and "as_of" not in names and path != "/tracking/audit/access":
            missing.append(f"{path}: format without as_of")
        for status in sorted((expected - {"200"}) & set(responses)):
            content = _response(spec, responses[status]).get("content", {})
            if set(content) != {"application/problem+json"}:
                missing.append(f"{path}: {status} as {sorted(content)}")
    assert missing == []
    assert len(spec["paths"]) >= len(VIEWS) + 3
