"""Peer groups over HTTP: formed from enrolled people, one group per person per cohort."""

from __future__ import annotations

import pytest

from tests.api.helpers import Api, assert_problem, bearer, unknown_id


def cohort_with(api: Api, n: int) -> tuple[str, list[str]]:
    cohort_id = api.cohort()
    people = [api.person() for _ in range(n)]
    for person in people:
        assert api.enrol(cohort_id, person).status_code == 201
    return cohort_id, people


def test_a_group_is_formed_changed_and_read(api: Api) -> None:
    cohort_id, (a, b, c) = cohort_with(api, 3)
    group = api.created(
        f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "G1", "members": [a, b]}
    )
    assert (group["members"], group["version"]) == ([a, b], 1)
    gid = group["id"]
    added = api.post(f"/enrolment/peer-groups/{gid}/members", {"person_id": c})
    assert (added.status_code, added.get_json()["members"]) == (200, [a, b, c])
    removed = api.client.delete(
        f"/enrolment/peer-groups/{gid}/members/{a}", headers={"Authorization": api_token(api)}
    )
    assert (removed.status_code, removed.get_json()["members"]) == (200, [b, c])
    assert api.get(f"/enrolment/peer-groups/{gid}?version=1").get_json()["members"] == [a, b]
    listed = api.get(f"/enrolment/cohorts/{cohort_id}/peer-groups", role="auditor").get_json()
    assert [g["id"] for g in listed["items"]] == [gid]


def api_token(api: Api, role: str = "hr_admin") -> str:
    return bearer(role)["Authorization"]


def test_members_must_be_enrolled_and_in_one_group_only(api: Api) -> None:
    cohort_id, (a, b) = cohort_with(api, 2)
    outsider = api.person()
    path = f"/enrolment/cohorts/{cohort_id}/peer-groups"
    api.created(path, {"name": "G1", "members": [a]})
    with api.writes_nothing():
        assert_problem(api.post(path, {"name": "G2", "members": [b, outsider]}), 422, {"members.1"})
        assert_problem(api.post(path, {"name": "G2", "members": [b, a]}), 409, {"members.1"})
        assert_problem(api.post(path, {"name": "G1", "members": [b]}), 409, {"name"})
        assert_problem(api.post(path, {"members": [b]}), 422, {"name"})
        assert_problem(api.post(path, {"name": "G3", "members": ["nope"]}), 422, {"members.0"})


def test_membership_changes_are_refused_naming_the_person(api: Api) -> None:
    cohort_id, (a, b) = cohort_with(api, 2)
    outsider = api.person()
    g1 = api.created(f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "G1", "members": [a]})
    g2 = api.created(f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "G2", "members": [b]})
    with api.writes_nothing():
        members = f"/enrolment/peer-groups/{g2['id']}/members"
        assert_problem(api.post(members, {"person_id": a}), 409, {"person_id"})
        assert_problem(api.post(members, {"person_id": outsider}), 422, {"person_id"})
        assert_problem(api.post(members, {}), 422, {"person_id"})
        gone = api.client.delete(
            f"/enrolment/peer-groups/{g1['id']}/members/{b}",
            headers={"Authorization": api_token(api)},
        )
        assert_problem(gone, 404, {"person_id"})


def test_a_coach_reads_the_groups_of_their_own_cohort_only(api: Api) -> None:
    cohort_id, (a,) = cohort_with(api, 1)
    group = api.created(
        f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "G", "members": [a]}
    )
    assert_problem(api.get(f"/enrolment/peer-groups/{group['id']}", role="coach"), 404)
    api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "alice"})
    assert api.get(f"/enrolment/peer-groups/{group['id']}", role="coach").status_code == 200
    assert api.get(f"/enrolment/cohorts/{cohort_id}/peer-groups", role="coach").status_code == 200


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_hr_and_coordinators_change_groups(api: Api, role: str) -> None:
    cohort_id, (a, b) = cohort_with(api, 2)
    group = api.created(
        f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "G", "members": [a]}
    )
    with api.writes_nothing():
        assert_problem(
            api.post(f"/enrolment/cohorts/{cohort_id}/peer-groups", {"name": "H"}, role=role), 403
        )
        assert_problem(
            api.post(f"/enrolment/peer-groups/{group['id']}/members", {"person_id": b}, role=role),
            403,
        )
        deleted = api.client.delete(
            f"/enrolment/peer-groups/{group['id']}/members/{a}",
            headers={"Authorization": api_token(api, role)},
        )
        assert_problem(deleted, 403)


def test_unknown_groups_are_not_found(api: Api) -> None:
    gid = unknown_id()
    assert_problem(api.get(f"/enrolment/peer-groups/{gid}"), 404)
    assert_problem(api.post(f"/enrolment/peer-groups/{gid}/members", {"person_id": gid}), 404)
    assert_problem(api.get(f"/enrolment/cohorts/{gid}/peer-groups"), 404)
