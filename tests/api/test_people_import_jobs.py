"""Large people imports over HTTP: a 202 with a job, progress to poll, others not held up.

``SYNC_ROWS`` and ``CHUNK_ROWS`` are made small, so that a few rows make a "large" file in
several chunks; the import's thread is held between two chunks by a gate in ``save_all``, so
what the test sees while it runs never depends on timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from services.enrolment import imports
from shared.web import jobs
from tests.api.helpers import Api, assert_problem, person_body

WAIT = 30.0
"""Seconds to wait for the job's thread before calling it stuck (never a speed claim)."""


def people_csv(count: int) -> str:
    header = "full_name,email,employee_number,organisation,department,unit"
    rows = [f"P {n},p{n}@example.fi,JOB-{n},TEM,Innovation,Digital" for n in range(count)]
    return "\n".join([header, *rows])


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SYNC_ROWS", 3)
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)


def finished(api: Api, location: str, sub: str = "alice") -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = api.get(location, sub=sub).get_json()
        if job["state"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.01)
    raise AssertionError(f"the job at {location} is still running")


@pytest.fixture
def gate(api: Api) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Holds an import thread before its second chunk: (paused, resume)."""
    app = api.enrolment
    original = app.save_all
    paused, resume = threading.Event(), threading.Event()
    saves = []

    def gated(*aggregates: Any) -> None:
        if threading.current_thread().name.startswith("import-"):
            saves.append(len(aggregates))
            if len(saves) == 2:
                paused.set()
                resume.wait(WAIT)
        original(*aggregates)

    app.save_all = gated
    yield paused, resume
    resume.set()
    app.save_all = original


def test_a_small_file_is_imported_within_the_request(api: Api) -> None:
    response = api.post("/enrolment/people/imports", {"csv": people_csv(3)})
    assert response.status_code == 200
    assert response.get_json()["recorded"] == 3


def test_a_large_file_answers_202_and_a_registration_goes_in_while_it_runs(
    api: Api, gate: tuple[threading.Event, threading.Event]
) -> None:
    paused, resume = gate
    response = api.post("/enrolment/people/imports", {"csv": people_csv(6)}, role="coordinator")
    assert response.status_code == 202
    job = response.get_json()
    assert (job["state"], job["rows_total"], job["kind"]) == ("running", 6, "people")
    location = response.headers["Location"]
    assert location == f"/enrolment/people/imports/{job['id']}"
    assert paused.wait(WAIT)
    during = api.get(location).get_json()
    assert (during["state"], during["rows_checked"], during["rows_done"]) == ("running", 6, 2)
    registered = api.post("/enrolment/people", person_body(employee_number="OTHER-1"))
    assert registered.status_code == 201
    assert api.get(location).get_json()["state"] == "running"
    resume.set()
    job = finished(api, location)
    assert job["state"] == "succeeded" and job["rows_done"] == 6
    assert job["result"] == {
        "rows": 6,
        "recorded": 6,
        "unchanged": 0,
        "dry_run": False,
        "problems": [],
    }
    numbers = [p["employee_number"] for p in api.get("/enrolment/people").get_json()["items"]]
    assert numbers == ["JOB-0", "JOB-1", "OTHER-1", "JOB-2", "JOB-3", "JOB-4", "JOB-5"]


def test_a_large_file_with_bad_rows_fails_its_job_with_every_problem_and_writes_nothing(
    api: Api,
) -> None:
    bad = people_csv(5) + "\n,nobody,JOB-0,TEM,D,U"
    with api.writes_nothing():
        response = api.post("/enrolment/people/imports", {"csv": bad})
        assert response.status_code == 202
        job = finished(api, response.headers["Location"])
    assert job["state"] == "failed" and job["result"] is None
    assert job["message"].startswith("nothing was imported")
    assert {e["field"] for e in job["errors"]} == {
        "row 7: full_name",
        "row 7: email",
        "row 7: employee_number",
    }


def test_a_job_is_read_by_whoever_started_it_and_by_hr_admins(api: Api) -> None:
    response = api.post("/enrolment/people/imports", {"csv": people_csv(4)}, sub="carol")
    location = response.headers["Location"]
    finished(api, location, sub="carol")
    assert_problem(api.get(location, role="coordinator", sub="dave"), 404)
    assert api.get(location, role="hr_admin", sub="erin").status_code == 200
    for role in ("coach", "auditor", "participant", "service"):
        assert_problem(api.get(location, role=role, sub="carol"), 403)


def test_an_unknown_job_is_a_404(api: Api) -> None:
    assert_problem(api.get("/enrolment/people/imports/00000000-0000-4000-8000-000000000000"), 404)
