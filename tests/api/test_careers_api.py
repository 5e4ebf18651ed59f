"""Career moves over HTTP: record, end and list, with scope derivation and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, unknown_id


def moves(person_id: str) -> str:
    return f"/enrolment/people/{person_id}/career-moves"


def rotation(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "job_rotation",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Data",
        "start_date": "2021-01-01",
        "planned_end_date": "2021-06-30",
    }
    body.update(overrides)
    return body


def test_a_rotation_is_recorded_with_a_derived_scope(api: Api) -> None:
    person_id = api.person()
    response = api.post(moves(person_id), rotation(), role="coordinator")
    assert response.status_code == 201
    move = response.get_json()
    assert {k: move[k] for k in ("person_id", "kind", "scope", "scope_derived", "end_date")} == {
        "person_id": person_id,
        "kind": "job_rotation",
        "scope": "other_unit",
        "scope_derived": True,
        "end_date": None,
    }
    listed = api.get(moves(person_id), role="auditor").get_json()
    assert listed["count"] == 1 and listed["items"] == [move]


def test_a_move_to_another_organisation_needs_its_scope(api: Api) -> None:
    person_id = api.person()
    body = {"kind": "secondment", "organisation": "Business Finland", "start_date": "2022-01-01"}
    with api.writes_nothing():
        assert_problem(api.post(moves(person_id), body), 422, {"scope"})
    response = api.post(moves(person_id), {**body, "scope": "group_agency"})
    assert response.status_code == 201
    assert (response.get_json()["scope"], response.get_json()["scope_derived"]) == (
        "group_agency",
        False,
    )


def test_a_contradicting_scope_is_refused(api: Api) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.post(moves(person_id), rotation(scope="same_unit")), 422, {"scope"})


def test_a_permanent_move_changes_the_placement_from_its_start(api: Api) -> None:
    person_id = api.person()
    body = {
        "kind": "promotion",
        "organisation": "TEM",
        "department": "Enterprises",
        "unit": "Growth",
        "start_date": "2022-01-01",
    }
    move = api.post(moves(person_id), body).get_json()
    assert move["scope"] == "other_department"
    person = api.get(f"/enrolment/people/{person_id}").get_json()
    assert (person["department"], person["unit"]) == ("Enterprises", "Growth")
    history = api.get(f"/enrolment/people/{person_id}/placements").get_json()["items"]
    assert history[-1]["move_id"] == move["id"]
    assert history[-1]["effective_date"] == "2022-01-01"


def test_leaving_the_state_is_outside_the_state(api: Api) -> None:
    person_id = api.person()
    body = {"kind": "left_state", "organisation": "Private Oy", "start_date": "2023-01-01"}
    assert api.post(moves(person_id), body).get_json()["scope"] == "outside_state"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"planned_end_date": None}, "planned_end_date"),
        ({"planned_end_date": "2020-12-31"}, "planned_end_date"),
        ({"end_date": "2020-12-31"}, "end_date"),
        ({"kind": "sabbatical"}, "kind"),
        ({"scope": "moon"}, "scope"),
        ({"start_date": "2021-02-30"}, "start_date"),
        ({"organisation": ""}, "organisation"),
        ({"kind": "transfer", "planned_end_date": "2021-06-30"}, "planned_end_date"),
    ],
)
def test_bad_moves_are_refused_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.post(moves(person_id), rotation(**overrides)), 422, {field})


def test_overlapping_rotations_are_a_conflict(api: Api) -> None:
    person_id = api.person()
    api.post(moves(person_id), rotation())
    with api.writes_nothing():
        overlapping = rotation(start_date="2021-06-30", planned_end_date="2021-12-31")
        assert_problem(api.post(moves(person_id), overlapping), 409, {"start_date"})
    after = rotation(start_date="2021-07-01", planned_end_date="2021-12-31")
    assert api.post(moves(person_id), after).status_code == 201


def test_ending_a_rotation_records_the_actual_end(api: Api) -> None:
    person_id = api.person()
    move_id = api.post(moves(person_id), rotation()).get_json()["id"]
    end = f"{moves(person_id)}/{move_id}/end"
    response = api.post(end, {"end_date": "2021-05-31"}, role="coordinator")
    assert response.status_code == 200
    assert (response.get_json()["end_date"], response.get_json()["planned_end_date"]) == (
        "2021-05-31",
        "2021-06-30",
    )
    with api.writes_nothing():
        assert_problem(api.post(end, {"end_date": "2021-06-30"}), 409, {"move_id"})


def test_ending_refusals(api: Api) -> None:
    person_id = api.person()
    transfer = {
        "kind": "transfer",
        "organisation": "TEM",
        "department": "X",
        "unit": "Y",
        "start_date": "2021-01-01",
    }
    transfer_id = api.post(moves(person_id), transfer).get_json()["id"]
    rotation_id = api.post(
        moves(person_id), rotation(start_date="2022-01-01", planned_end_date="2022-03-01")
    ).get_json()["id"]
    with api.writes_nothing():
        ends = f"{moves(person_id)}/{transfer_id}/end"
        assert_problem(api.post(ends, {"end_date": "2022-01-01"}), 422, {"move_id"})
        early = f"{moves(person_id)}/{rotation_id}/end"
        assert_problem(api.post(early, {"end_date": "2021-12-31"}), 422, {"end_date"})
        assert_problem(api.post(early, {}), 422, {"end_date"})
        assert_problem(
            api.post(f"{moves(person_id)}/{unknown_id()}/end", {"end_date": "2022-02-01"}), 404
        )
        assert_problem(
            api.post(f"{moves(unknown_id())}/{rotation_id}/end", {"end_date": "2022-02-01"}), 404
        )
        assert_problem(api.post(early, {"end_date": "2022-02-01"}, role="auditor"), 403)


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_writers_record_moves(api: Api, role: str) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.post(moves(person_id), rotation(), role=role), 403)


@pytest.mark.parametrize(
    ("role", "status"),
    [("hr_admin", 200), ("coordinator", 200), ("auditor", 200), ("coach", 403), ("service", 403)],
)
def test_reading_moves_by_role(api: Api, role: str, status: int) -> None:
    person_id = api.person()
    assert api.get(moves(person_id), role=role).status_code == status


def test_a_participant_reads_only_their_own_moves(api: Api) -> None:
    mine, theirs = api.person(), api.person()
    assert api.get(moves(mine), role="participant", sub=mine).status_code == 200
    assert_problem(api.get(moves(theirs), role="participant", sub=mine), 404)


def test_moves_of_an_unknown_or_erased_person(api: Api) -> None:
    assert_problem(api.get(moves(unknown_id())), 404)
    assert_problem(api.post(moves(unknown_id()), rotation()), 404)
    person_id = api.person()
    api.post(moves(person_id), rotation())
    api.post(f"/enrolment/people/{person_id}/erasure", None)
    assert api.get(moves(person_id)).get_json()["count"] == 1  # survives erasure
    with api.writes_nothing():
        later = rotation(start_date="2024-01-01", planned_end_date="2024-02-01")
        assert_problem(api.post(moves(person_id), later), 409)


def test_moves_as_they_were_and_a_stale_if_match(api: Api) -> None:
    person_id = api.person()
    api.post(moves(person_id), rotation())
    assert api.get(f"{moves(person_id)}?version=1").get_json()["count"] == 0
    with api.writes_nothing():
        stale = assert_problem(
            api.post(
                moves(person_id),
                rotation(start_date="2023-01-01", planned_end_date="2023-02-01"),
                headers={"If-Match": "1"},
            ),
            409,
        )
    assert stale["current_version"] == 2


def test_career_paths_are_documented(api: Api) -> None:
    paths = api.client.get("/enrolment/openapi.json").get_json()["paths"]
    assert "/enrolment/people/{person_id}/career-moves" in paths
    ending = paths["/enrolment/people/{person_id}/career-moves/{move_id}/end"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(ending["responses"])


def test_moves_and_placements_are_paginated(api: Api) -> None:
    person_id = api.person()
    for year in (2021, 2022, 2023):
        body = {"kind": "transfer", "organisation": "TEM", "department": f"D{year}", "unit": "U"}
        api.created(moves(person_id), body | {"start_date": f"{year}-01-01"})
    for path, total in ((moves(person_id), 3), (f"/enrolment/people/{person_id}/placements", 4)):
        first = api.get(f"{path}?limit=2").get_json()
        assert (len(first["items"]), first["count"], first["next_after"]) == (2, total, 2)
        rest = api.get(f"{path}?limit=2&after=2").get_json()
        assert (len(rest["items"]), rest["next_after"]) == (total - 2, None)
        old = api.get(f"{path}?limit=1&version=2", role="participant", sub=person_id).get_json()
        assert (len(old["items"]), old["count"], old["next_after"]) == (1, 1, None)
        assert_problem(api.get(f"{path}?limit=0"), 422, {"limit"})
        assert_problem(api.get(f"{path}?after=-1"), 422, {"after"})
