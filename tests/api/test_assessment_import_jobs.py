"""Large assessment imports over HTTP: a 202 with a job to poll, as for people.

``SYNC_ROWS`` is made small, so that the survey tool's sample files count as large.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.web import jobs
from tests.api.helpers import Api, assert_problem
from tests.api.test_assessment_imports_api import registered_mapping
from tests.unit.assessment_builders import behaviour, staff
from tests.unit.test_assessment_imports import GOOD, STAFF, STAFF_MAPPING

WAIT = 30.0
"""Seconds to wait for the job's thread before calling it stuck (never a speed claim)."""


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SYNC_ROWS", 2)


def finished(api: Api, location: str, **who: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = api.get(location, **who).get_json()
        if job["state"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.01)
    raise AssertionError(f"the job at {location} is still running")


def test_a_large_results_file_runs_as_a_job(api: Api) -> None:
    made = api.created(
        "/assessment/instruments", {"name": "360", "kind": "behaviour_assessment", **behaviour()}
    )
    body = {"instrument_id": made["id"], "csv": GOOD, "mapping": registered_mapping(api)}
    response = api.post("/assessment/imports/results", body, role="coordinator", sub="carol")
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/assessment/imports/{response.get_json()['id']}"
    job = finished(api, location, role="coordinator", sub="carol")
    assert (job["state"], job["kind"], job["rows_done"]) == ("succeeded", "results", 9)
    assert job["result"]["recorded"] == 9
    assert_problem(api.get(location, role="coordinator", sub="dave"), 404)
    assert api.get(location, role="hr_admin", sub="erin").status_code == 200


def test_a_large_bad_file_fails_its_job_and_writes_nothing(api: Api) -> None:
    made = api.created(
        "/assessment/instruments", {"name": "360", "kind": "behaviour_assessment", **behaviour()}
    )
    mapping = registered_mapping(api)
    bad = {"instrument_id": made["id"], "csv": GOOD + "who@x,self,,3,4,2\n", "mapping": mapping}
    with api.assessment_writes_nothing():
        response = api.post("/assessment/imports/results", bad)
        assert response.status_code == 202
        job = finished(api, response.headers["Location"])
    assert job["state"] == "failed" and job["result"] is None
    assert job["errors"][0]["field"] == "row 11: Respondent"


def test_a_large_staff_survey_file_runs_as_a_job(api: Api) -> None:
    made = api.created("/assessment/instruments", {"name": "S", "kind": "staff_survey", **staff()})
    body = {"instrument_id": made["id"], "csv": STAFF, "mapping": STAFF_MAPPING}
    response = api.post("/assessment/imports/staff-survey", body)
    assert response.status_code == 202
    job = finished(api, response.headers["Location"])
    assert (job["state"], job["kind"]) == ("succeeded", "staff-survey")
    assert job["result"]["recorded"] == job["rows_total"]
