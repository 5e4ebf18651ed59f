"""Invitations, direct enrolment, the waitlist, withdrawal and completion over HTTP."""

from __future__ import annotations

import pytest

from tests.api.helpers import Api, assert_problem, unknown_id


def open_cohort(api: Api, capacity: int = 10) -> str:
    cohort_id = api.cohort(capacity=capacity)
    assert api.post(f"/enrolment/cohorts/{cohort_id}/open", {"on": "2020-01-10"}).status_code == 200
    return cohort_id


def enrol(api: Api, cohort_id: str, person_id: str, on: str = "2020-01-20") -> dict:
    response = api.post(
        f"/enrolment/cohorts/{cohort_id}/enrolments", {"person_id": person_id, "on": on}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_invite_accept_and_decline(api: Api) -> None:
    cohort_id = open_cohort(api, capacity=1)
    a, b, c = api.person(), api.person(), api.person()
    d = api.person()
    base = f"/enrolment/cohorts/{cohort_id}/invitations"
    for person in (a, b, c):
        response = api.post(base, {"person_id": person, "on": "2020-01-10"}, role="coordinator")
        assert response.status_code == 201
        assert response.get_json() == {
            "cohort_id": cohort_id,
            "person_id": person,
            "status": "invited",
        }
    assert api.post(f"{base}/{a}/accept", {"on": "2020-01-12"}).get_json()["status"] == "enrolled"
    waiting = api.post(f"{base}/{b}/accept", {}).get_json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)
    declined = api.post(f"{base}/{c}/decline", {"reason": "workload"})
    assert (declined.status_code, declined.get_json()["status"]) == (200, "declined")
    with api.writes_nothing():
        assert_problem(api.post(base, {"person_id": a}), 409, {"person_id"})
        assert_problem(api.post(f"{base}/{c}/accept", {}), 409, {"person_id"})
        assert_problem(api.post(f"{base}/{unknown_id()}/accept", {}), 404, {"person_id"})
        assert_problem(api.post(base, {"person_id": unknown_id()}), 404, {"person_id"})
        assert_problem(api.post(base, {}), 422, {"person_id"})
        assert_problem(api.post(base, {"person_id": d, "on": "2999-01-01"}), 422, {"on"})


def test_accepting_needs_an_open_cohort(api: Api) -> None:
    cohort_id, person = api.cohort(), api.person()
    base = f"/enrolment/cohorts/{cohort_id}/invitations"
    assert api.post(base, {"person_id": person}).status_code == 201  # planned: invitations go out
    with api.writes_nothing():
        body = assert_problem(api.post(f"{base}/{person}/accept", {}), 409)
    assert "planned" in body["detail"]


def test_a_declined_person_is_invited_again_only_while_open(api: Api) -> None:
    cohort_id, person = open_cohort(api), api.person()
    base = f"/enrolment/cohorts/{cohort_id}/invitations"
    api.post(base, {"person_id": person})
    api.post(f"{base}/{person}/decline", {})
    api.post(f"/enrolment/cohorts/{cohort_id}/start", {})
    with api.writes_nothing():
        assert_problem(api.post(base, {"person_id": person}), 409, {"person_id"})


def test_direct_enrolment_waitlists_beyond_capacity_and_promotes_on_withdrawal(api: Api) -> None:
    cohort_id = open_cohort(api, capacity=1)
    a, b, c = api.person(), api.person(), api.person()
    first = enrol(api, cohort_id, a)
    assert (first["status"], first["enrolled_on"], first["waitlist_position"]) == (
        "enrolled",
        "2020-01-20",
        None,
    )
    assert first["enrolled_at"].startswith("2020-01-20")
    assert enrol(api, cohort_id, b)["waitlist_position"] == 1
    assert enrol(api, cohort_id, c)["waitlist_position"] == 2
    with api.writes_nothing():
        assert_problem(api.enrol(cohort_id, b), 409, {"person_id"})  # already waitlisted
        assert_problem(api.enrol(cohort_id, a), 409, {"person_id"})  # already enrolled

    waitlist = api.get(f"/enrolment/cohorts/{cohort_id}/waitlist", role="auditor").get_json()
    assert [(w["person_id"], w["waitlist_position"]) for w in waitlist["items"]] == [(b, 1), (c, 2)]

    path = f"/enrolment/cohorts/{cohort_id}/enrolments/{a}/withdraw"
    with api.writes_nothing():
        assert_problem(api.post(path, {"on": "2020-03-01"}), 422, {"reason"})
        assert_problem(api.post(path, {"reason": "x", "on": "2020-01-01"}), 422, {"on"})
    response = api.post(path, {"reason": "moved to another ministry", "on": "2020-03-01"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["withdrawn_on"], body["promoted_person_id"]) == (
        "withdrawn",
        "2020-03-01",
        b,
    )
    listing = api.get(f"/enrolment/cohorts/{cohort_id}/enrolments").get_json()
    assert [(e["person_id"], e["status"]) for e in listing["items"]] == [
        (a, "withdrawn"),
        (b, "enrolled"),
    ]
    assert listing["items"][1]["enrolled_on"] == "2020-03-01"
    only = api.get(f"/enrolment/cohorts/{cohort_id}/enrolments?status=enrolled").get_json()
    assert ([e["person_id"] for e in only["items"]], only["count"]) == ([b], 1)
    assert_problem(api.get(f"/enrolment/cohorts/{cohort_id}/enrolments?status=x"), 422, {"status"})


def test_completion_once_the_cohort_runs(api: Api) -> None:
    cohort_id, person = open_cohort(api), api.person()
    enrol(api, cohort_id, person)
    path = f"/enrolment/cohorts/{cohort_id}/enrolments/{person}/complete"
    with api.writes_nothing():
        assert_problem(api.post(path, {"on": "2020-06-30"}), 409)
    api.post(f"/enrolment/cohorts/{cohort_id}/start", {})
    response = api.post(path, {"on": "2020-06-30"})
    assert (response.status_code, response.get_json()["completed_on"]) == (200, "2020-06-30")
    with api.writes_nothing():
        assert_problem(api.post(path, {}), 409, {"person_id"})
        assert_problem(
            api.post(f"/enrolment/cohorts/{cohort_id}/enrolments/{unknown_id()}/complete", {}),
            404,
            {"person_id"},
        )


def test_no_enrolment_after_the_cohort_completed(api: Api) -> None:
    cohort_id = open_cohort(api)
    api.post(f"/enrolment/cohorts/{cohort_id}/start", {})
    api.post(f"/enrolment/cohorts/{cohort_id}/complete", {})
    late = api.person()
    with api.writes_nothing():
        body = assert_problem(api.enrol(cohort_id, late), 409)
    assert "completed" in body["detail"]


def test_a_person_reads_their_enrolments_across_cohorts(api: Api) -> None:
    first, second = open_cohort(api), open_cohort(api)
    me, other = api.person(), api.person()
    enrol(api, first, me)
    api.post(f"/enrolment/cohorts/{second}/invitations", {"person_id": me})
    enrol(api, second, other)
    mine = api.get(f"/enrolment/people/{me}/enrolments", role="participant", sub=me).get_json()
    assert [(e["cohort_id"], e["status"]) for e in mine["items"]] == [
        (first, "enrolled"),
        (second, "invited"),
    ]
    paged = api.get(f"/enrolment/people/{me}/enrolments?limit=1").get_json()
    assert (len(paged["items"]), paged["next_after"]) == (1, 1)
    assert_problem(
        api.get(f"/enrolment/people/{other}/enrolments", role="participant", sub=me), 404
    )
    assert_problem(api.get(f"/enrolment/people/{me}/enrolments", role="coach"), 403)
    assert_problem(api.get(f"/enrolment/people/{unknown_id()}/enrolments"), 404)


def test_coaches_read_the_enrolments_of_their_own_cohorts_only(api: Api) -> None:
    cohort_id = open_cohort(api)
    enrol(api, cohort_id, api.person())
    for path in ("enrolments", "waitlist"):
        url = f"/enrolment/cohorts/{cohort_id}/{path}"
        assert_problem(api.get(url, role="coach", sub="coach-1"), 404)
    api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "coach-1"})
    for path in ("enrolments", "waitlist"):
        url = f"/enrolment/cohorts/{cohort_id}/{path}"
        assert api.get(url, role="coach", sub="coach-1").status_code == 200


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_hr_and_coordinators_invite_enrol_withdraw_or_complete(api: Api, role: str) -> None:
    cohort_id, person = open_cohort(api), api.person()
    enrol(api, cohort_id, person)
    newcomer = api.person()
    base = f"/enrolment/cohorts/{cohort_id}"
    with api.writes_nothing():
        for path, body in (
            (f"{base}/invitations", {"person_id": newcomer}),
            (f"{base}/invitations/{person}/accept", {}),
            (f"{base}/invitations/{person}/decline", {}),
            (f"{base}/enrolments", {"person_id": person}),
            (f"{base}/enrolments/{person}/withdraw", {"reason": "r"}),
            (f"{base}/enrolments/{person}/complete", {}),
        ):
            assert_problem(api.post(path, body, role=role), 403)


def test_someone_waiting_withdraws_from_the_waitlist(api: Api) -> None:
    cohort_id = open_cohort(api, capacity=1)
    a, b, c = api.person(), api.person(), api.person()
    for person in (a, b, c):
        enrol(api, cohort_id, person)
    path = f"/enrolment/cohorts/{cohort_id}/enrolments/{b}/withdraw"
    with api.writes_nothing():
        assert_problem(api.post(path, {"on": "2020-02-01"}), 422, {"reason"})
        assert_problem(api.post(path, {"reason": "x", "on": "2020-01-19"}), 422, {"on"})
    response = api.post(path, {"reason": "took a post abroad", "on": "2020-02-01"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["withdrawn_on"], body["withdrawal_reason"]) == (
        "withdrawn",
        "2020-02-01",
        "took a post abroad",
    )
    assert (body["waitlist_position"], body["promoted_person_id"]) == (None, None)
    waitlist = api.get(f"/enrolment/cohorts/{cohort_id}/waitlist").get_json()
    assert [(w["person_id"], w["waitlist_position"]) for w in waitlist["items"]] == [(c, 1)]
    assert waitlist["count"] == 1
    with api.writes_nothing():
        assert_problem(api.post(path, {"reason": "again"}), 409, {"person_id"})
    promoted = api.post(
        f"/enrolment/cohorts/{cohort_id}/enrolments/{a}/withdraw", {"reason": "ill"}
    ).get_json()
    assert promoted["promoted_person_id"] == c
    mine = api.get(f"/enrolment/people/{b}/enrolments", role="participant", sub=b).get_json()
    assert [(e["cohort_id"], e["status"]) for e in mine["items"]] == [(cohort_id, "withdrawn")]


def test_a_persons_enrolments_page_through_every_cohort_once(api: Api) -> None:
    cohorts = [open_cohort(api) for _ in range(5)]
    me = api.person()
    for cohort_id in cohorts:
        # Invited, then enrolled, withdrawn and enrolled again: one cohort, listed once.
        api.post(f"/enrolment/cohorts/{cohort_id}/invitations", {"person_id": me})
    for cohort_id in cohorts[:3]:
        api.post(f"/enrolment/cohorts/{cohort_id}/invitations/{me}/accept", {})
    withdraw = f"/enrolment/cohorts/{cohorts[0]}/enrolments/{me}/withdraw"
    assert api.post(withdraw, {"reason": "clash"}).status_code == 200
    assert api.enrol(cohorts[0], me).status_code == 201
    seen, after = [], 0
    while after is not None:
        page = api.get(f"/enrolment/people/{me}/enrolments?limit=2&after={after}").get_json()
        assert len(page["items"]) <= 2
        seen += [(e["cohort_id"], e["status"]) for e in page["items"]]
        after = page["next_after"]
    assert seen == [(c, "enrolled") for c in cohorts[:3]] + [(c, "invited") for c in cohorts[3:]]
    beyond = api.get(f"/enrolment/people/{me}/enrolments?after=5").get_json()
    assert (beyond["items"], beyond["next_after"]) == ([], None)


def test_enrolments_and_the_waitlist_as_they_were_at_a_version(api: Api) -> None:
    cohort_id = open_cohort(api, capacity=1)  # version 2
    a, b = api.person(), api.person()
    enrol(api, cohort_id, a)  # version 3
    enrol(api, cohort_id, b)  # version 4: waitlisted
    base = f"/enrolment/cohorts/{cohort_id}"
    api.post(f"{base}/enrolments/{a}/withdraw", {"reason": "ill"})  # b promoted
    then = api.get(f"{base}/enrolments?version=4", role="auditor").get_json()
    assert [(e["person_id"], e["status"]) for e in then["items"]] == [(a, "enrolled")]
    waiting = api.get(f"{base}/waitlist?version=4").get_json()
    assert [w["person_id"] for w in waiting["items"]] == [b]
    assert api.get(f"{base}/waitlist").get_json()["items"] == []
    assert_problem(api.get(f"{base}/enrolments?version=99"), 404, {"version"})
    assert_problem(api.get(f"{base}/waitlist?version=0"), 422, {"version"})


def test_the_invitations_of_a_cohort_are_listed_with_where_each_stands(api: Api) -> None:
    cohort_id = open_cohort(api, capacity=1)
    a, b, c, walk_in = api.person(), api.person(), api.person(), api.person()
    base = f"/enrolment/cohorts/{cohort_id}/invitations"
    for person in (a, b, c):
        api.post(base, {"person_id": person, "on": "2020-01-10"})
    api.post(f"{base}/{a}/accept", {"on": "2020-01-11"})
    api.post(f"{base}/{b}/decline", {"reason": "workload", "on": "2020-01-11"})
    enrol(api, cohort_id, walk_in)  # enrolled without an invitation: not listed
    listing = api.get(base, role="auditor").get_json()
    assert [(i["person_id"], i["status"]) for i in listing["items"]] == [
        (a, "enrolled"),
        (b, "declined"),
        (c, "invited"),
    ]
    assert (listing["count"], listing["next_after"]) == (3, None)
    declined = listing["items"][1]
    assert (declined["declined_on"], declined["decline_reason"]) == ("2020-01-11", "workload")
    page = api.get(f"{base}?limit=2&after=2").get_json()
    assert [i["person_id"] for i in page["items"]] == [c]
    then = api.get(f"{base}?version=3").get_json()  # just after the first invitation
    assert [(i["person_id"], i["status"]) for i in then["items"]] == [(a, "invited")]
    assert_problem(api.get(base, role="coach", sub="not-theirs"), 404)
    for role in ("participant", "service"):
        assert_problem(api.get(base, role=role), 403)
