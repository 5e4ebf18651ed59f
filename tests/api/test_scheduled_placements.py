"""Placements and career moves dated ahead are scheduled changes: stored, listed as scheduled,
current only from their date, in enrolment and in tracking. "Today" is the application's
injected clock, moved past the date without waiting."""

from __future__ import annotations

import datetime as dt

from services.tracking.temporal import reading
from services.tracking.views.cohorts import placements_on
from tests.api.helpers import Api

TODAY = dt.date(2030, 3, 1)
AHEAD = TODAY + dt.timedelta(days=30)


def person_unit(api: Api, person: str, **query: str) -> str:
    response = api.get(f"/enrolment/people/{person}", query_string=query)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["unit"])


def test_a_placement_dated_ahead_is_scheduled_until_its_day(api: Api) -> None:
    api.enrolment.today = lambda: TODAY
    person = api.person()
    change = {"department": "Innovation", "unit": "Data", "effective_date": AHEAD.isoformat()}
    created = api.post(f"/enrolment/people/{person}/placements", change)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["unit"] == "Digital" and answer["placed_on"] == TODAY.isoformat()
    assert [(s["unit"], s["scheduled"]) for s in answer["scheduled"]] == [("Data", True)]

    listed = api.get(f"/enrolment/people/{person}/placements").get_json()
    assert [(p["unit"], p["scheduled"]) for p in listed["items"]] == [
        ("Digital", False),
        ("Data", True),
    ]
    assert person_unit(api, person, on=AHEAD.isoformat()) == "Data"
    assert person_unit(api, person, on=(AHEAD - dt.timedelta(days=1)).isoformat()) == "Digital"
    on_day = api.get(
        f"/enrolment/people/{person}/placements", query_string={"on": AHEAD.isoformat()}
    ).get_json()
    assert [p["unit"] for p in on_day["items"]] == ["Data"] and on_day["count"] == 1

    api.enrolment.today = lambda: AHEAD - dt.timedelta(days=1)
    assert person_unit(api, person) == "Digital"
    api.enrolment.today = lambda: AHEAD  # the day comes: the change is in force
    assert person_unit(api, person) == "Data"
    now = api.get(f"/enrolment/people/{person}").get_json()
    assert now["scheduled"] == []
    listed = api.get(f"/enrolment/people/{person}/placements").get_json()
    assert [p["scheduled"] for p in listed["items"]] == [False, False]


def test_a_permanent_move_dated_ahead_places_the_person_only_from_its_start(api: Api) -> None:
    api.enrolment.today = lambda: TODAY
    person = api.person()
    move = {
        "kind": "transfer",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Data",
        "start_date": AHEAD.isoformat(),
    }
    created = api.post(f"/enrolment/people/{person}/career-moves", move)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["scheduled"] is True
    assert person_unit(api, person) == "Digital"

    api.embedded.tracking.projector.drain()
    with reading(api.embedded.tracking.readmodels.database) as cur:
        assert placements_on(cur, TODAY.isoformat(), [person])[person].unit == "Digital"
        assert placements_on(cur, AHEAD.isoformat(), [person])[person].unit == "Data"

    api.enrolment.today = lambda: AHEAD
    assert person_unit(api, person) == "Data"
    moves = api.get(f"/enrolment/people/{person}/career-moves").get_json()["items"]
    assert [m["scheduled"] for m in moves] == [False]


def test_a_scheduled_change_that_contradicts_another_is_refused(api: Api) -> None:
    api.enrolment.today = lambda: TODAY
    person = api.person()
    rotation = {
        "kind": "job_rotation",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Data",
        "start_date": AHEAD.isoformat(),
        "planned_end_date": (AHEAD + dt.timedelta(days=90)).isoformat(),
    }
    assert api.post(f"/enrolment/people/{person}/career-moves", rotation).status_code == 201
    overlapping = {**rotation, "start_date": (AHEAD + dt.timedelta(days=30)).isoformat()}
    refused = api.post(f"/enrolment/people/{person}/career-moves", overlapping)
    assert refused.status_code == 409, refused.get_json()
    bad = api.get(f"/enrolment/people/{person}", query_string={"on": "2030-02-30"})
    assert bad.status_code == 422 and "on" in bad.get_data(as_text=True)
