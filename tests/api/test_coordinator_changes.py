"""The changes coordinators make after planning: capacity, window, invitations taken back, and
peer-group refusals that name every bad member; and dates that must be plausible.

Each change is followed into tracking (the projector is drained by hand), which must count it
as the enrolment service now holds it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from tests.api.helpers import (
    Api,
    assert_problem,
    bearer,
    build,
    cohort_body,
    person_body,
    unknown_id,
)
from tests.api.test_session_api import schedule


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One runtime for the module: every test makes its own programmes, cohorts and people."""
    runtime = build(tmp_path_factory.mktemp("coordination"))
    yield Api(runtime, Client(runtime.wsgi))
    runtime.close()


def tracked(api: Api, path: str) -> dict[str, Any]:
    api.embedded.tracking.projector.drain()
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_raising_capacity_seats_the_waitlist_in_order_and_lowering_below_is_409(api: Api) -> None:
    cohort = api.cohort(capacity=2)
    people = [api.person() for _ in range(5)]
    for person in people:
        assert api.enrol(cohort, person).status_code == 201  # two places, three waiting
    path = f"/enrolment/cohorts/{cohort}/capacity"
    with api.writes_nothing():
        assert_problem(api.post(path, {"capacity": 1}), 409, {"capacity"})
        assert_problem(api.post(path, {"capacity": 0}), 422, {"capacity"})
        assert_problem(api.post(path, {"capacity": 3}, role="coach"), 403)
        assert_problem(
            api.post(f"/enrolment/cohorts/{unknown_id()}/capacity", {"capacity": 3}), 404
        )
    raised = api.post(path, {"capacity": 3})
    assert raised.status_code == 200, raised.get_json()
    assert raised.get_json()["promoted"] == [people[2]]
    everyone = api.post(path, {"capacity": 10}).get_json()
    assert (everyone["promoted"], everyone["capacity"]) == (people[3:], 10)
    assert (everyone["enrolled_count"], everyone["waitlist_count"]) == (5, 0)
    assert api.post(path, {"capacity": 5}).get_json()["promoted"] == []  # down to the five
    funnel = tracked(api, f"/tracking/cohorts/{cohort}/funnel")
    assert funnel["capacity"] == 5
    assert funnel["stages"]["enrolled"]["value"] == 5


def test_moving_the_window_may_not_strand_a_session(api: Api) -> None:
    cohort = api.cohort()  # 2020-03-01 to 2020-11-30
    kickoff = schedule(api, cohort)  # 2020-03-04
    later = schedule(api, cohort, title="Close", starts_at="2020-11-20T09:00:00+02:00")
    path = f"/enrolment/cohorts/{cohort}/window"
    with api.writes_nothing():
        refused = assert_problem(
            api.post(path, {"start_date": "2020-04-01", "end_date": "2020-10-31"}),
            409,
            {"start_date", "end_date"},
        )
        assert set(refused["sessions"]) == {kickoff["id"], later["id"]}
        assert kickoff["id"] in refused["detail"] and later["id"] in refused["detail"]
        assert_problem(
            api.post(path, {"start_date": "2020-04-01", "end_date": "2020-03-01"}),
            422,
            {"end_date"},
        )
    cancelled = api.post(f"/enrolment/sessions/{kickoff['id']}/cancel", {"reason": "moved"})
    assert cancelled.status_code == 200, cancelled.get_json()
    moved = api.post(path, {"start_date": "2020-04-01", "end_date": "2020-12-31"})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["start_date"], moved.get_json()["end_date"]) == (
        "2020-04-01",
        "2020-12-31",
    )
    funnel = tracked(api, f"/tracking/cohorts/{cohort}/funnel")
    assert (funnel["start_date"], funnel["end_date"]) == ("2020-04-01", "2020-12-31")


def test_an_invitation_taken_back_leaves_the_person_as_before_it(api: Api) -> None:
    cohort = api.cohort()
    assert api.post(f"/enrolment/cohorts/{cohort}/open", {}).status_code == 200
    mistaken, *declined = (api.person() for _ in range(6))  # five: the funnel's minimum
    invite = f"/enrolment/cohorts/{cohort}/invitations"
    for person in (mistaken, *declined):
        assert api.post(invite, {"person_id": person}).status_code == 201
    for person in declined:
        assert api.post(f"{invite}/{person}/decline", {"reason": "busy"}).status_code == 200
    again = declined[0]
    assert api.post(invite, {"person_id": again}).status_code == 201  # asked again
    with api.writes_nothing():
        assert_problem(api.post(f"{invite}/{mistaken}/withdraw", {}), 422, {"reason"})
        assert_problem(
            api.post(f"{invite}/{unknown_id()}/withdraw", {"reason": "typo"}), 404, {"person_id"}
        )
    first = api.post(f"{invite}/{mistaken}/withdraw", {"reason": "wrong person"})
    assert first.get_json()["status"] is None, first.get_json()
    repeat = api.post(f"{invite}/{again}/withdraw", {"reason": "sent twice"}).get_json()
    assert repeat["status"] == "declined"
    with api.writes_nothing():  # nothing open to take back any more
        assert_problem(api.post(f"{invite}/{again}/withdraw", {"reason": "x"}), 409)
    listed = api.get(f"{invite}").get_json()["items"]
    assert {(i["person_id"], i["status"]) for i in listed} == {(p, "declined") for p in declined}
    funnel = tracked(api, f"/tracking/cohorts/{cohort}/funnel")
    stages = funnel["stages"]
    assert (stages["invited"]["value"], stages["declined"]["value"]) == (5, 5)
    assert funnel["people"]["value"] == 5  # the mistaken one is counted nowhere
    # The mistaken one can be invited afresh, as anyone never invited.
    assert api.post(invite, {"person_id": mistaken}).status_code == 201
    assert tracked(api, f"/tracking/cohorts/{cohort}/funnel")["stages"]["invited"]["value"] == 6


def test_a_peer_group_refusal_names_every_bad_member(api: Api) -> None:
    cohort = api.cohort()
    a, b = api.person(), api.person()
    for person in (a, b):
        assert api.enrol(cohort, person).status_code == 201
    path = f"/enrolment/cohorts/{cohort}/peer-groups"
    api.created(path, {"name": "G1", "members": [b]})
    outsider, stranger = api.person(), unknown_id()
    with api.writes_nothing():
        problem = assert_problem(
            api.post(path, {"name": "G2", "members": [outsider, a, a, b, stranger]}),
            422,
            {"members.0", "members.2", "members.3", "members.4"},
        )
    named = [e["field"] for e in problem["errors"]]
    assert named == ["members.0", "members.2", "members.3", "members.4"]
    assert "first as members.1" in problem["errors"][1]["message"]


def test_dates_must_be_plausible(api: Api) -> None:
    programme = api.programme()
    cohort = api.cohort(programme)
    with api.writes_nothing():
        for field, value in (("end_date", "9999-12-31"), ("start_date", "1900-01-01")):
            body = cohort_body(programme, **{field: value})
            problem = assert_problem(api.post("/enrolment/cohorts", body), 422, {field})
            assert "1950 to 2100" in str(problem["errors"])
        late = {"title": "Far", "starts_at": "2150-01-01T09:00:00+00:00", "delivery": "virtual"}
        assert_problem(api.post(f"/enrolment/cohorts/{cohort}/sessions", late), 422, {"starts_at"})
    spec = api.get("/enrolment/openapi.json").get_json()
    end = spec["components"]["schemas"]["CohortIn"]["properties"]["end_date"]
    assert end["pattern"].startswith("^(195\\d|") and end["pattern"].endswith("|2100)-")


def test_a_cohort_stored_ending_in_9999_gets_a_mobility_view_not_a_500(api: Api) -> None:
    """Stored before dates had to be plausible (straight into the store, as back then)."""
    programme = uuid.UUID(api.programme())
    meta = {"actor_sub": "test", "actor_role": "hr_admin", "correlation_id": "c"}
    cohort = api.enrolment.plan_cohort(
        programme, "Typo", 5, dt.date(2020, 3, 1), dt.date(9999, 12, 31), meta
    )
    people = [api.person() for _ in range(5)]
    for person in people:
        assert api.enrol(str(cohort.id), person).status_code == 201
    view = tracked(api, f"/tracking/cohorts/{cohort.id}/mobility")
    rotation = view["participants"]["first_move"]["incidence"]["24"]
    assert rotation["value"] is None  # a horizon never reached


def test_a_persons_name_email_and_employee_number_are_corrected(api: Api) -> None:
    person = api.person(employee_number="E-1")
    other = api.person(employee_number="E-2")
    path = f"/enrolment/people/{person}"
    with api.writes_nothing():
        nothing = api.client.patch(path, json={}, headers=bearer())
        assert (nothing.status_code, nothing.get_json()["version"]) == (200, 1)
        taken = api.client.patch(path, json={"employee_number": " e-2"}, headers=bearer())
        assert_problem(taken, 409, {"employee_number"})
        bad = api.client.patch(path, json={"email": "not-an-address"}, headers=bearer())
        assert_problem(bad, 422, {"email"})
        assert_problem(
            api.client.patch(path, json={"email": "a@b.fi"}, headers=bearer("coach")), 403
        )
        same = api.client.patch(path, json={"full_name": "Anna Aalto"}, headers=bearer())
        assert same.status_code == 200  # the value it has: nothing recorded
    fixed = api.client.patch(
        path, json={"full_name": "Anna Aaltonen", "employee_number": "E-3"}, headers=bearer()
    )
    assert fixed.status_code == 200, fixed.get_json()
    body = fixed.get_json()
    assert (body["full_name"], body["email"], body["employee_number"]) == (
        "Anna Aaltonen",
        "anna.aalto@example.fi",
        "E-3",
    )
    assert api.get(f"{path}?version=1").get_json()["full_name"] == "Anna Aalto"
    # The old number is free again, the new one taken.
    assert api.post("/enrolment/people", person_body(employee_number="E-1")).status_code == 201
    assert_problem(api.post("/enrolment/people", person_body(employee_number="e-3")), 409)
    # One key for every version: erasure shreds the correction too.
    erased = api.post(f"{path}/erasure", {})
    assert erased.status_code == 200, erased.get_json()
    assert api.get(f"{path}?version=2").get_json()["full_name"] is None
    assert api.post("/enrolment/people", person_body(employee_number="E-3")).status_code == 201
    # The public event names the fields, never their values; tracking carries on.
    events = api.get("/enrolment/events?limit=1000", role="service").get_json()
    corrected = [e for e in events["events"] if e["type"].endswith("PersonDetailsCorrected")]
    assert [e["data"] for e in corrected] == [
        {"person_id": person, "corrected": ["employee_number", "full_name"]}
    ]
    assert "Aaltonen" not in str(events)
    moved = api.client.patch(
        f"/enrolment/people/{other}", json={"email": "b@example.fi"}, headers=bearer()
    )
    assert moved.status_code == 200
    api.embedded.tracking.projector.drain()
    timeline = api.get(f"/tracking/people/{other}/timeline")
    assert timeline.status_code == 200 and "b@example.fi" not in timeline.get_data(as_text=True)
