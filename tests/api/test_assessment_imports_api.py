"""The import endpoints: the same all-or-nothing import over HTTP, with problems per row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, unknown_id
from tests.unit.assessment_builders import behaviour, staff
from tests.unit.test_assessment_imports import GOOD, MAPPING, PEOPLE, STAFF, STAFF_MAPPING


def registered_mapping(api: Api) -> dict[str, Any]:
    """The sample mapping, its respondents mapped to people enrolment has registered (an id
    enrolment never registered is a problem of its row)."""
    return {**MAPPING, "people": {respondent: api.person() for respondent in PEOPLE}}


def test_results_import_over_http(api: Api) -> None:
    made = api.created(
        "/assessment/instruments", {"name": "360", "kind": "behaviour_assessment", **behaviour()}
    )
    body = {"instrument_id": made["id"], "csv": GOOD, "mapping": registered_mapping(api)}
    dry = api.post("/assessment/imports/results", {**body, "dry_run": True}).get_json()
    assert (dry["recorded"], dry["dry_run"]) == (9, True)
    with api.assessment_writes_nothing():
        bad = api.post("/assessment/imports/results", {**body, "csv": GOOD + "who@x,self,,3,4,2\n"})
        problem = assert_problem(bad, 422)
        assert problem["errors"][0]["field"] == "row 11: Respondent"
    assert api.post("/assessment/imports/results", body).get_json()["recorded"] == 9
    assert api.post("/assessment/imports/results", body).get_json()["unchanged"] == 9


@pytest.mark.parametrize("role", ("coach", "auditor", "participant", "service"))
def test_only_hr_and_coordinators_import(api: Api, role: str) -> None:
    made = api.created("/assessment/instruments", {"name": "S", "kind": "staff_survey", **staff()})
    body = {"instrument_id": made["id"], "csv": STAFF, "mapping": STAFF_MAPPING}
    assert_problem(api.post("/assessment/imports/staff-survey", body, role=role), 403)
    assert api.post("/assessment/imports/staff-survey", body, role="coordinator").status_code == 200


def test_an_import_for_an_unknown_or_unsuitable_instrument_is_refused(api: Api) -> None:
    made = api.created("/assessment/instruments", {"name": "S", "kind": "staff_survey", **staff()})
    with api.assessment_writes_nothing():
        body = {"instrument_id": unknown_id(), "csv": GOOD, "mapping": MAPPING}
        assert_problem(api.post("/assessment/imports/results", body), 404, {"instrument_id"})
        wrong = api.post("/assessment/imports/results", {**body, "instrument_id": made["id"]})
        problem = assert_problem(wrong, 422)
        assert len(problem["errors"]) == 1 and "staff_survey" in problem["errors"][0]["message"]
