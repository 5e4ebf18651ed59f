"""Programmes' goals and retirement, cohort transitions, coaches, versions and If-Match."""

from __future__ import annotations

import pytest

from tests.api.helpers import Api, assert_problem, cohort_body, unknown_id

FUTURE = "2999-01-01"


def test_goals_are_added_and_earlier_versions_stay_readable(api: Api) -> None:
    programme_id = api.programme()
    response = api.post(f"/enrolment/programmes/{programme_id}/goals", {"goal": "grow"})
    assert response.status_code == 201
    assert (response.get_json()["goals"], response.get_json()["version"]) == (["grow"], 2)
    first = api.get(f"/enrolment/programmes/{programme_id}?version=1", role="auditor").get_json()
    assert (first["goals"], first["version"]) == ([], 1)
    assert_problem(api.get(f"/enrolment/programmes/{programme_id}?version=3"), 404, {"version"})
    with api.writes_nothing():
        assert_problem(
            api.post(f"/enrolment/programmes/{programme_id}/goals", {"goal": "grow"}), 409, {"goal"}
        )
        assert_problem(api.post(f"/enrolment/programmes/{programme_id}/goals", {}), 422, {"goal"})


def test_a_programme_lists_each_goal_once(api: Api) -> None:
    body = {"name": "TEMPO", "organisation": "TEM", "goals": ["grow", "rotate", "grow"]}
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/programmes", body), 422, {"goals.2"})


def test_a_lifecycle_step_is_not_dated_before_the_previous_one(api: Api) -> None:
    path = f"/enrolment/cohorts/{api.cohort()}"
    assert api.post(f"{path}/open", {"on": "2020-03-01"}).status_code == 200
    with api.writes_nothing():
        assert_problem(api.post(f"{path}/start", {"on": "2020-02-29"}), 422, {"on"})
        assert_problem(
            api.post(f"{path}/cancel", {"reason": "no funding", "on": "2020-01-01"}), 422, {"on"}
        )


def test_a_retired_programme_plans_no_new_cohorts(api: Api) -> None:
    programme_id = api.programme()
    response = api.post(
        f"/enrolment/programmes/{programme_id}/retirement",
        {"reason": "replaced", "on": "2023-01-01"},
        role="coordinator",
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["retired_on"]) == ("retired", "2023-01-01")
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/cohorts", cohort_body(programme_id)), 409)
        assert_problem(
            api.post(f"/enrolment/programmes/{programme_id}/retirement", {"reason": "x"}), 409
        )


@pytest.mark.parametrize(("body", "field"), [({}, "reason"), ({"reason": "x", "on": FUTURE}, "on")])
def test_retirement_needs_a_reason_and_a_past_date(api: Api, body: dict, field: str) -> None:
    programme_id = api.programme()
    with api.writes_nothing():
        response = api.post(f"/enrolment/programmes/{programme_id}/retirement", body)
        assert_problem(response, 422, {field})


def test_a_cohort_goes_through_its_lifecycle(api: Api) -> None:
    cohort = api.created("/enrolment/cohorts", cohort_body(api.programme(), funding_source="Kaiku"))
    assert (cohort["status"], cohort["funding_source"], cohort["version"]) == (
        "planned",
        "Kaiku",
        1,
    )
    path = f"/enrolment/cohorts/{cohort['id']}"
    for step, status in (("open", "open"), ("start", "running"), ("complete", "completed")):
        response = api.post(f"{path}/{step}", {"on": "2020-03-01"}, role="coordinator")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == status
    assert api.get(f"{path}?version=2").get_json()["status"] == "open"


def test_an_illegal_transition_names_the_current_status(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        body = assert_problem(api.post(f"/enrolment/cohorts/{cohort_id}/start", {}), 409)
    assert "planned" in body["detail"]


def test_cancelling_needs_a_reason(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/cohorts/{cohort_id}/cancel", {}), 422, {"reason"})
    response = api.post(f"/enrolment/cohorts/{cohort_id}/cancel", {"reason": "no funding"})
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["cancellation_reason"] == "no funding"


def test_a_transition_in_the_future_is_refused(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        assert_problem(
            api.post(f"/enrolment/cohorts/{cohort_id}/open", {"on": FUTURE}), 422, {"on"}
        )


def test_if_match_guards_against_stale_writes(api: Api) -> None:
    cohort_id = api.cohort()
    fresh = api.post(f"/enrolment/cohorts/{cohort_id}/open", {}, headers={"If-Match": '"1"'})
    assert fresh.status_code == 200
    with api.writes_nothing():
        stale = api.post(f"/enrolment/cohorts/{cohort_id}/start", {}, headers={"If-Match": "1"})
        body = assert_problem(stale, 409)
    assert body.get("current_version") == 2


@pytest.mark.parametrize("given", ["\u00b2", "1\u00b9", 'W/"\u00b3"', "\u0663", "abc", "0"])
def test_an_if_match_that_is_no_version_is_a_400_and_writes_nothing(api: Api, given: str) -> None:
    """A server hands header bytes over as Latin-1: 0xB2 arrives as a superscript two, which
    ``str.isdigit`` calls a digit but ``int`` cannot read (it was a 500)."""
    cohort_id = api.cohort()
    with api.writes_nothing():
        refused = api.post(f"/enrolment/cohorts/{cohort_id}/open", {}, headers={"If-Match": given})
        assert "If-Match" in assert_problem(refused, 400)["detail"]


def test_an_unknown_cohort_is_not_found(api: Api) -> None:
    for step in ("open", "start", "complete"):
        assert_problem(api.post(f"/enrolment/cohorts/{unknown_id()}/{step}", {}), 404)
    assert_problem(api.post(f"/enrolment/cohorts/{unknown_id()}/coaches", {"coach": "c"}), 404)
    assert_problem(api.post(f"/enrolment/programmes/{unknown_id()}/goals", {"goal": "g"}), 404)


# Coaches and roles -----------------------------------------------------------------------------


def test_a_coach_reads_only_the_cohorts_they_are_assigned_to(api: Api) -> None:
    mine, other = api.cohort(name="Mine"), api.cohort(name="Other")
    response = api.post(f"/enrolment/cohorts/{mine}/coaches", {"coach": "coach-1"})
    assert response.get_json()["coaches"] == ["coach-1"]
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/cohorts/{mine}/coaches", {"coach": "coach-1"}), 409)
        assert_problem(api.post(f"/enrolment/cohorts/{mine}/coaches", {}), 422, {"coach"})
    assert api.get(f"/enrolment/cohorts/{mine}", role="coach", sub="coach-1").status_code == 200
    assert_problem(api.get(f"/enrolment/cohorts/{other}", role="coach", sub="coach-1"), 404)
    listed = api.get("/enrolment/cohorts", role="coach", sub="coach-1").get_json()["items"]
    assert [c["id"] for c in listed] == [mine]
    assert len(api.get("/enrolment/cohorts", role="auditor").get_json()["items"]) == 2


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_hr_and_coordinators_change_programmes_and_cohorts(api: Api, role: str) -> None:
    programme_id, cohort_id = api.programme(), api.cohort()
    with api.writes_nothing():
        for path, body in (
            (f"/enrolment/programmes/{programme_id}/goals", {"goal": "g"}),
            (f"/enrolment/programmes/{programme_id}/retirement", {"reason": "r"}),
            (f"/enrolment/cohorts/{cohort_id}/open", {}),
            (f"/enrolment/cohorts/{cohort_id}/cancel", {"reason": "r"}),
            (f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "c"}),
        ):
            assert_problem(api.post(path, body, role=role), 403)


@pytest.mark.parametrize("role", ["participant", "service"])
def test_participants_do_not_read_cohorts(api: Api, role: str) -> None:
    cohort_id = api.cohort()
    assert_problem(api.get(f"/enrolment/cohorts/{cohort_id}", role=role), 403)
    assert_problem(api.get("/enrolment/cohorts", role=role), 403)
