"""Sessions (schedule, reschedule, delivery, hold, cancel) and attendance over HTTP."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.enrolment.domain.sessions import SessionTimesInvalid
from tests.api.helpers import Api, assert_problem, unknown_id

START = "2020-03-04T09:00:00+02:00"


def cohort_with(api: Api, *enrolled_on: str) -> tuple[str, list[str]]:
    cohort_id = api.cohort()
    people = []
    for on in enrolled_on:
        person = api.person()
        body = {"person_id": person, "on": on}
        assert api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", body).status_code == 201
        people.append(person)
    return cohort_id, people


def schedule(api: Api, cohort_id: str, **overrides: object) -> dict:
    body = {
        "title": "Kick-off",
        "module": "Self-leadership",
        "starts_at": START,
        "delivery": "in_person",
        "location": "Aleksanterinkatu 4",
        "facilitators": [
            {"kind": "coach", "name": "Outi Coach"},
            {
                "kind": "guest_speaker",
                "role": "Head of Department",
                "organisation": "Ministry of Finance",
            },
        ],
    } | overrides
    return api.created(f"/enrolment/cohorts/{cohort_id}/sessions", body)


def test_a_session_is_scheduled_for_half_a_day_and_read_back(api: Api) -> None:
    cohort_id, _ = cohort_with(api)
    session = schedule(api, cohort_id)
    assert session["ends_at"] == "2020-03-04T13:00:00+02:00"
    assert (session["status"], session["version"], session["cohort_id"]) == (
        "scheduled",
        1,
        cohort_id,
    )
    assert session["facilitators"][1]["organisation"] == "Ministry of Finance"
    again = api.get(f"/enrolment/sessions/{session['id']}", role="auditor").get_json()
    assert again == session
    listed = api.get(f"/enrolment/cohorts/{cohort_id}/sessions").get_json()
    assert [s["id"] for s in listed["items"]] == [session["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "2021-01-01T09:00:00+02:00"}, "starts_at"),
        ({"starts_at": "2020-03-04T09:00:00"}, "starts_at"),  # no offset
        ({"ends_at": "2020-03-04T08:00:00+02:00"}, "ends_at"),
        ({"delivery": "telepathy"}, "delivery"),
        ({"facilitators": [{"kind": "juggler"}]}, "facilitators.0.kind"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_session_is_refused_naming_the_field(api: Api, overrides: dict, field: str) -> None:
    cohort_id, _ = cohort_with(api)
    body = {"title": "S", "starts_at": START} | overrides
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/cohorts/{cohort_id}/sessions", body), 422, {field})


def test_reschedule_and_delivery_changes_keep_their_history(api: Api) -> None:
    cohort_id, _ = cohort_with(api)
    session_id = schedule(api, cohort_id)["id"]
    moved = api.post(
        f"/enrolment/sessions/{session_id}/reschedule",
        {"starts_at": "2020-03-11T09:00:00+02:00", "reason": "minister's visit"},
    ).get_json()
    assert moved["ends_at"] == "2020-03-11T13:00:00+02:00"
    virtual = api.post(
        f"/enrolment/sessions/{session_id}/delivery",
        {"delivery": "virtual", "platform": "Skype", "reason": "COVID-19 restrictions"},
        role="coordinator",
    ).get_json()
    assert (virtual["delivery"], virtual["platform"], virtual["version"]) == ("virtual", "Skype", 3)
    assert [(h["change"], h["reason"]) for h in virtual["history"]] == [
        ("scheduled", None),
        ("rescheduled", "minister's visit"),
        ("delivery_changed", "COVID-19 restrictions"),
    ]
    assert virtual["history"][1]["from"]["starts_at"] == START
    first = api.get(f"/enrolment/sessions/{session_id}?version=1").get_json()
    assert (first["delivery"], first["starts_at"]) == ("in_person", START)
    with api.writes_nothing():
        for path, body, field in (
            ("reschedule", {"starts_at": "2020-03-11T09:00:00+02:00"}, "reason"),
            ("reschedule", {"starts_at": "2021-03-11T09:00:00+02:00", "reason": "r"}, "starts_at"),
            ("delivery", {"delivery": "virtual"}, "reason"),
        ):
            assert_problem(api.post(f"/enrolment/sessions/{session_id}/{path}", body), 422, {field})
        assert_problem(
            api.post(
                f"/enrolment/sessions/{session_id}/delivery",
                {"delivery": "virtual", "platform": "Skype", "reason": "again"},
            ),
            409,
            {"delivery"},
        )


def test_hold_and_cancel(api: Api) -> None:
    cohort_id, _ = cohort_with(api)
    held, cancelled = schedule(api, cohort_id)["id"], schedule(api, cohort_id)["id"]
    assert api.post(f"/enrolment/sessions/{held}/hold", {}).get_json()["status"] == "held"
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/sessions/{cancelled}/cancel", {}), 422, {"reason"})
    response = api.post(f"/enrolment/sessions/{cancelled}/cancel", {"reason": "trainer ill"})
    assert response.get_json()["status"] == "cancelled"
    with api.writes_nothing():
        body = assert_problem(api.post(f"/enrolment/sessions/{held}/cancel", {"reason": "r"}), 409)
        assert "held" in body["detail"]
        assert_problem(api.post(f"/enrolment/sessions/{cancelled}/hold", {}), 409)
        assert_problem(
            api.post(
                f"/enrolment/sessions/{cancelled}/attendance",
                {"records": [{"person_id": unknown_id(), "status": "present"}]},
            ),
            409,
        )


def test_attendance_is_recorded_corrected_and_read(api: Api) -> None:
    cohort_id, (early, late) = cohort_with(api, "2020-03-01", "2020-03-05")
    session_id = schedule(api, cohort_id)["id"]
    path = f"/enrolment/sessions/{session_id}/attendance"
    with api.writes_nothing():
        refused = api.post(
            path,
            {
                "records": [
                    {"person_id": early, "status": "present"},
                    {"person_id": late, "status": "absent"},
                ]
            },
        )
        assert_problem(refused, 422, {"records.1.person_id"})
        assert_problem(
            api.post(path, {"records": [{"person_id": early, "status": "partial"}]}),
            422,
            {"records.0.minutes"},
        )
        assert_problem(api.post(path, {"records": []}), 422, {"records"})
    first = api.post(path, {"records": [{"person_id": early, "status": "absent"}]})
    assert first.get_json() == {
        "session_id": session_id,
        "recorded": 1,
        "corrected": 0,
        "unchanged": 0,
    }
    with api.writes_nothing():
        correction = {"records": [{"person_id": early, "status": "partial", "minutes": 90}]}
        assert_problem(api.post(path, correction), 422, {"reason"})
    corrected = api.post(path, correction | {"reason": "arrived late"}).get_json()
    assert corrected["corrected"] == 1
    view = api.get(path, role="auditor").get_json()
    assert (view["status"], view["expected"], view["unrecorded"]) == ("held", 1, [])
    (record,) = view["records"]
    assert (record["person_id"], record["status"], record["minutes"]) == (early, "partial", 90)
    assert [(h["status"], h["correction"]) for h in record["history"]] == [
        ("absent", False),
        ("partial", True),
    ]


def test_a_coach_takes_attendance_only_in_their_own_cohort(api: Api) -> None:
    cohort_id, (person,) = cohort_with(api, "2020-03-01")
    session_id = schedule(api, cohort_id)["id"]
    path = f"/enrolment/sessions/{session_id}/attendance"
    body = {"records": [{"person_id": person, "status": "present"}]}
    with api.writes_nothing():
        assert_problem(api.post(path, body, role="coach"), 404)
        assert_problem(api.get(f"/enrolment/sessions/{session_id}", role="coach"), 404)
    api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "alice"})
    assert api.post(path, body, role="coach").get_json()["recorded"] == 1
    assert api.get(path, role="coach").status_code == 200
    assert api.get(f"/enrolment/cohorts/{cohort_id}/sessions", role="coach").status_code == 200


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_hr_and_coordinators_plan_sessions(api: Api, role: str) -> None:
    cohort_id, _ = cohort_with(api)
    api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "alice"})
    session_id = schedule(api, cohort_id)["id"]
    with api.writes_nothing():
        for path, body in (
            (f"/enrolment/cohorts/{cohort_id}/sessions", {"title": "S", "starts_at": START}),
            (f"/enrolment/sessions/{session_id}/reschedule", {"starts_at": START, "reason": "r"}),
            (f"/enrolment/sessions/{session_id}/delivery", {"delivery": "virtual", "reason": "r"}),
            (f"/enrolment/sessions/{session_id}/hold", {}),
            (f"/enrolment/sessions/{session_id}/cancel", {"reason": "r"}),
        ):
            assert_problem(api.post(path, body, role=role), 403)


@pytest.mark.parametrize("role", ["auditor", "participant", "service"])
def test_attendance_is_taken_by_hr_coordinators_and_coaches_only(api: Api, role: str) -> None:
    cohort_id, (person,) = cohort_with(api, "2020-03-01")
    session_id = schedule(api, cohort_id)["id"]
    body = {"records": [{"person_id": person, "status": "present"}]}
    with api.writes_nothing():
        assert_problem(
            api.post(f"/enrolment/sessions/{session_id}/attendance", body, role=role), 403
        )


def test_unknown_sessions_are_not_found(api: Api) -> None:
    sid = unknown_id()
    assert_problem(api.get(f"/enrolment/sessions/{sid}"), 404)
    assert_problem(api.get(f"/enrolment/sessions/{sid}/attendance"), 404)
    assert_problem(api.post(f"/enrolment/sessions/{sid}/hold", {}), 404)
    assert_problem(api.get(f"/enrolment/cohorts/{sid}/sessions"), 404)
    body = {"title": "S", "starts_at": START}
    assert_problem(api.post(f"/enrolment/cohorts/{sid}/sessions", body), 404)


@pytest.mark.parametrize(
    "starts_at",
    [
        "9999-12-31T22:00:00+00:00",  # half a day later is past the year 9999
        "9999-12-31T23:00:00-12:00",  # in UTC it is already the year 10000
        "0001-01-01T00:00:00+14:00",  # in UTC it is still the year 0
    ],
)
def test_sessions_at_the_ends_of_the_calendar_are_refused_not_crashed(
    api: Api, starts_at: str
) -> None:
    """Over HTTP such dates are implausible (422 at the edge); a cohort and session stored
    before dates had to be plausible still refuse them in the domain, never crash."""
    meta = {"actor_sub": "test", "actor_role": "hr_admin", "correlation_id": "c"}
    programme_id = uuid.UUID(api.programme())
    forever = (dt.date(1, 1, 1), dt.date(9999, 12, 31))
    cohort = api.enrolment.plan_cohort(programme_id, "Forever", 5, *forever, meta)
    with api.writes_nothing():
        response = api.post(
            f"/enrolment/cohorts/{cohort.id}/sessions", {"title": "S", "starts_at": starts_at}
        )
        assert_problem(response, 422, {"starts_at"})
        with pytest.raises(SessionTimesInvalid) as refused:
            api.enrolment.schedule_session(
                cohort.id, "S", dt.datetime.fromisoformat(starts_at), meta
            )
        assert refused.value.field == "starts_at"
    last = dt.datetime(9999, 12, 31, 9, tzinfo=dt.UTC)
    session = api.enrolment.schedule_session(cohort.id, "S", last, meta)
    with api.writes_nothing(), pytest.raises(SessionTimesInvalid) as refused:
        api.enrolment.reschedule_session(
            session.id, dt.datetime.fromisoformat(starts_at), "the speaker cannot come", meta
        )
    assert refused.value.field == "starts_at"


def test_an_attendance_refusal_names_every_bad_record(api: Api) -> None:
    cohort_id, (early, late) = cohort_with(api, "2020-03-01", "2020-03-05")
    stranger = api.person()
    session_id = schedule(api, cohort_id)["id"]
    records = [
        {"person_id": early, "status": "present", "minutes": 30},
        {"person_id": late, "status": "absent"},
        {"person_id": stranger, "status": "excused"},
        {"person_id": early, "status": "absent"},
    ]
    with api.writes_nothing():
        response = api.post(f"/enrolment/sessions/{session_id}/attendance", {"records": records})
        body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [
        "records.0.minutes",
        "records.1.person_id",
        "records.2.person_id",
        "records.3.person_id",
    ]


def test_attendance_as_it_was_at_a_version(api: Api) -> None:
    cohort_id, (person,) = cohort_with(api, "2020-03-01")
    session_id = schedule(api, cohort_id)["id"]
    path = f"/enrolment/sessions/{session_id}/attendance"
    api.post(path, {"records": [{"person_id": person, "status": "absent"}]})  # held: 2, mark: 3
    api.post(path, {"records": [{"person_id": person, "status": "excused"}], "reason": "ill"})
    then = api.get(f"{path}?version=3").get_json()
    assert [(r["status"], len(r["history"])) for r in then["records"]] == [("absent", 1)]
    before = api.get(f"{path}?version=1").get_json()
    assert (before["status"], before["records"], before["unrecorded"]) == (
        "scheduled",
        [],
        [person],
    )
    assert api.get(path).get_json()["records"][0]["status"] == "excused"
    assert_problem(api.get(f"{path}?version=9"), 404, {"version"})
