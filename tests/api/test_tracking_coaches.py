"""Coaches see only their cohorts in tracking, which knows them by reference, never by subject."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.scenario import enrolment as scenario
from shared.auth import subject_reference
from tests.api.helpers import SECRET, Api, assert_problem
from tests.support.pilot import Pilot

OTHER_COACH = "coach-elsewhere"


def published(pilot: Pilot, service: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = pilot.call("GET", f"/{service}/events?after={after}&limit=500")
        if not page["events"]:
            return events
        events += page["events"]
        if page["next_after"] is None:  # the head
            return events
        after = page["next_after"]


def test_the_assignment_is_published_by_reference_only(pilot: Pilot) -> None:
    events = published(pilot, "enrolment") + published(pilot, "assessment")
    assigned = [e for e in events if e["type"] == "fi.polku.enrolment.CohortCoachAssigned"]
    assert [e["data"] for e in assigned] == [
        {"cohort_id": pilot.cohort_id, "coach_ref": subject_reference(SECRET, scenario.COACH)}
    ]
    # Whoever assigned the coach is the actor: the coach's subject appears nowhere in it.
    assert scenario.COACH not in str(assigned)
    assert all(scenario.COACH not in str(e["data"]) for e in events)


def test_tracking_holds_the_reference_and_not_the_subject(pilot: Pilot) -> None:
    with pilot.runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute("SELECT cohort_id, coach_ref FROM tr_cohort_coaches")
        rows = cur.fetchall()
        cur.execute("SELECT data FROM tr_applied_events")
        journal = " ".join(row[0] for row in cur.fetchall())
    assert [tuple(r) for r in rows] == [
        (pilot.cohort_id, subject_reference(SECRET, scenario.COACH))
    ]
    assert scenario.COACH not in journal


@pytest.mark.parametrize("view", ["funnel", "roster"])
def test_the_assigned_coach_reads_the_cohort(pilot: Pilot, view: str) -> None:
    response = pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/{view}", "coach", scenario.COACH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["cohort_id"] == pilot.cohort_id


@pytest.mark.parametrize("view", ["funnel", "roster"])
def test_another_coach_is_told_the_cohort_does_not_exist(pilot: Pilot, view: str) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/{view}"
    assert_problem(pilot.get(path, "coach", OTHER_COACH), 404)
    # The other roles are not scoped by coaching.
    for role in ("hr_admin", "coordinator", "auditor"):
        assert pilot.get(path, role, OTHER_COACH).status_code == 200, role


def test_a_coach_assigned_later_reads_from_then_on_and_not_as_of_before(api: Api) -> None:
    cohort_id = api.cohort()
    api.embedded.tracking.projector.drain()
    funnel = f"/tracking/cohorts/{cohort_id}/funnel"
    assert_problem(api.get(funnel, role="coach", sub="bea"), 404)

    before = dt.datetime.now(dt.UTC)
    assigned = api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "bea"}, "coordinator")
    assert assigned.status_code == 200
    api.embedded.tracking.projector.drain()

    assert api.get(funnel, role="coach", sub="bea").status_code == 200
    assert_problem(api.get(funnel, role="coach", sub="cid"), 404)
    as_of = {"as_of": before.isoformat()}
    assert_problem(api.get(funnel, role="coach", sub="bea", query_string=as_of), 404)
    assert api.get(funnel, role="coordinator", query_string=as_of).status_code == 200
