"""People over HTTP: register, read, list, placements, erasure and import, for every role."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, person_body, unknown_id

ROLES = ("hr_admin", "coordinator", "coach", "auditor", "participant", "service")
WRITERS = {"hr_admin", "coordinator"}
READERS = {"hr_admin", "coordinator", "auditor"}


def register(api: Api, as_role: str = "hr_admin", **overrides: Any) -> Any:
    return api.post("/enrolment/people", person_body(**overrides), role=as_role)


# Registration and reading ---------------------------------------------------------------------


def test_registration_returns_the_person_view(api: Api) -> None:
    body = person_body(role="expert", profession_category="lawyer", education_level="master")
    response = api.post("/enrolment/people", body)
    assert response.status_code == 201
    view = response.get_json()
    assert {k: view[k] for k in body} == body
    assert (view["erased"], view["erased_at"], view["version"]) == (False, None, 2)
    assert api.get(f"/enrolment/people/{view['id']}").get_json() == view


def test_optional_attributes_default_to_null(api: Api) -> None:
    view = register(api).get_json()
    assert (view["role"], view["profession_category"], view["education_level"]) == (None,) * 3
    assert view["version"] == 1


@pytest.mark.parametrize("role", ROLES)
def test_only_writers_register(api: Api, role: str) -> None:
    with api.writes_nothing() if role not in WRITERS else nullcontext():
        response = register(api, as_role=role, employee_number=f"E-{role}")
    if role in WRITERS:
        assert response.status_code == 201
    else:
        assert_problem(response, 403)


def test_a_duplicate_employee_number_is_a_conflict_naming_it(api: Api) -> None:
    register(api, employee_number="E-77")
    with api.writes_nothing():
        assert_problem(register(api, employee_number=" e-77"), 409, {"employee_number"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "ex\npert"}, "role"),
        ({"profession_category": "x" * 201}, "profession_category"),
        ({"education_level": ""}, "education_level"),
        ({"email": "not-an-address"}, "email"),
        ({"full_name": "A" * 201}, "full_name"),
    ],
)
def test_bad_fields_are_named(api: Api, overrides: dict[str, str], field: str) -> None:
    with api.writes_nothing():
        assert_problem(register(api, **overrides), 422, {field})


@pytest.mark.parametrize("role", ROLES)
def test_reading_a_person_by_role(api: Api, role: str) -> None:
    person_id = api.person()
    response = api.get(f"/enrolment/people/{person_id}", role=role)
    listing = api.get("/enrolment/people", role=role)
    if role in READERS:
        assert response.status_code == 200 and listing.status_code == 200
        assert response.get_json()["full_name"] == "Anna Aalto"
    elif role == "participant":  # may read people, but this one is not them: not there
        assert_problem(response, 404)
        assert_problem(listing, 403)
    else:
        assert_problem(response, 403)
        assert_problem(listing, 403)


def test_a_participant_reads_only_their_own_record(api: Api) -> None:
    mine, theirs = api.person(), api.person()
    own = api.get(f"/enrolment/people/{mine}", role="participant", sub=mine)
    assert own.status_code == 200 and own.get_json()["id"] == mine
    assert_problem(api.get(f"/enrolment/people/{theirs}", role="participant", sub=mine), 404)
    placements = api.get(f"/enrolment/people/{mine}/placements", role="participant", sub=mine)
    assert placements.status_code == 200
    assert_problem(
        api.get(f"/enrolment/people/{theirs}/placements", role="participant", sub=mine), 404
    )


def test_an_earlier_version_and_a_missing_one(api: Api) -> None:
    person_id = api.person()
    api.post(
        f"/enrolment/people/{person_id}/placements",
        {"department": "Enterprises", "unit": "Growth", "effective_date": "2021-01-01"},
    )
    assert (
        api.get(f"/enrolment/people/{person_id}?version=1").get_json()["department"] == "Innovation"
    )
    assert api.get(f"/enrolment/people/{person_id}").get_json()["department"] == "Enterprises"
    assert_problem(api.get(f"/enrolment/people/{person_id}?version=9"), 404, {"version"})
    assert_problem(api.get(f"/enrolment/people/{unknown_id()}"), 404)


def test_people_are_paged_in_registration_order(api: Api) -> None:
    ids = [api.person() for _ in range(3)]
    first = api.get("/enrolment/people?limit=2", role="auditor").get_json()
    rest = api.get(f"/enrolment/people?limit=2&after={first['next_after']}").get_json()
    assert [p["id"] for p in first["items"] + rest["items"]] == ids
    assert rest["next_after"] is None


# Placements -----------------------------------------------------------------------------------


def test_a_placement_change_returns_the_person_and_joins_the_history(api: Api) -> None:
    person_id = api.person()
    response = api.post(
        f"/enrolment/people/{person_id}/placements",
        {"department": "Enterprises", "unit": "Growth", "effective_date": "2021-01-01"},
        role="coordinator",
    )
    assert response.status_code == 201
    assert (response.get_json()["department"], response.get_json()["organisation"]) == (
        "Enterprises",
        "TEM",
    )
    history = api.get(f"/enrolment/people/{person_id}/placements", role="auditor").get_json()
    assert history["count"] == 2
    assert history["items"][0] == {
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
        "effective_date": None,
        "move_id": None,
        "scheduled": False,
    }
    assert history["items"][1]["effective_date"] == "2021-01-01"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"unit": "U", "effective_date": "2021-01-01"}, 422, "department"),
        ({"department": "D", "unit": "U", "effective_date": "soon"}, 422, "effective_date"),
        ({"department": "D", "unit": "U\u0000", "effective_date": "2021-01-01"}, 422, "unit"),
    ],
)
def test_bad_placement_changes_are_named(api: Api, body: dict, status: int, field: str) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/people/{person_id}/placements", body), status, {field})


def test_placement_refusals_by_role_state_and_version(api: Api) -> None:
    person_id = api.person()
    body = {"department": "D", "unit": "U", "effective_date": "2021-01-01"}
    path = f"/enrolment/people/{person_id}/placements"
    with api.writes_nothing():
        for role in ("coach", "auditor", "participant", "service"):
            assert_problem(api.post(path, body, role=role), 403)
        assert_problem(api.post(f"/enrolment/people/{unknown_id()}/placements", body), 404)
        stale = assert_problem(api.post(path, body, headers={"If-Match": "5"}), 409)
        assert stale["current_version"] == 1
    assert api.post(path, body, headers={"If-Match": "1"}).status_code == 201
    api.post(f"/enrolment/people/{person_id}/erasure", None)
    with api.writes_nothing():
        assert_problem(api.post(path, body), 409)


# Erasure --------------------------------------------------------------------------------------


def test_erasure_blanks_the_personal_fields_and_keeps_the_rest(api: Api) -> None:
    person_id = api.person(role="expert")
    cohort_id = api.cohort()
    assert api.enrol(cohort_id, person_id).status_code == 201
    response = api.post(f"/enrolment/people/{person_id}/erasure", None)
    assert response.status_code == 200
    body = response.get_json()
    assert body["person_id"] == person_id and body["erased"] is True and body["erased_at"]
    view = api.get(f"/enrolment/people/{person_id}").get_json()
    assert (view["full_name"], view["email"], view["employee_number"]) == (None, None, None)
    assert (view["erased"], view["role"], view["department"]) == (True, "expert", "Innovation")
    assert view["erased_at"] == body["erased_at"]
    assert api.get(f"/enrolment/people/{person_id}?version=1").get_json()["full_name"] is None
    listed = api.get("/enrolment/people").get_json()["items"]
    assert [p["employee_number"] for p in listed] == [None]


def test_erasing_twice_is_a_conflict_and_the_number_may_be_reused(api: Api) -> None:
    person_id = api.person(employee_number="E-REUSED")
    assert api.post(f"/enrolment/people/{person_id}/erasure", None).status_code == 200
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/people/{person_id}/erasure", None), 409)
    assert register(api, employee_number="E-REUSED").status_code == 201


@pytest.mark.parametrize("role", [r for r in ROLES if r != "hr_admin"])
def test_only_hr_admin_erases(api: Api, role: str) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/people/{person_id}/erasure", None, role=role), 403)
    assert api.get(f"/enrolment/people/{person_id}").get_json()["full_name"] == "Anna Aalto"


def test_erasing_an_unknown_person_is_not_found(api: Api) -> None:
    with api.writes_nothing():
        assert_problem(api.post(f"/enrolment/people/{unknown_id()}/erasure", None), 404)


# Import ---------------------------------------------------------------------------------------

CSV = "Name,E-mail,Employee number,organisation,department,unit,role\n" + "\n".join(
    f"Person {n},p{n}@example.fi,IMP-{n},TEM,Innovation,Digital,expert" for n in range(3)
)


@pytest.mark.parametrize("role", ["hr_admin", "coordinator"])
def test_an_import_registers_everyone_once(api: Api, role: str) -> None:
    response = api.post("/enrolment/people/imports", {"csv": CSV}, role=role)
    assert response.status_code == 200
    assert response.get_json() == {
        "rows": 3,
        "recorded": 3,
        "unchanged": 0,
        "dry_run": False,
        "problems": [],
    }
    again = api.post("/enrolment/people/imports", {"csv": CSV}).get_json()
    assert (again["recorded"], again["unchanged"]) == (0, 3)
    numbers = [p["employee_number"] for p in api.get("/enrolment/people").get_json()["items"]]
    assert numbers == ["IMP-0", "IMP-1", "IMP-2"]


def test_a_dry_run_import_writes_nothing(api: Api) -> None:
    with api.writes_nothing():
        response = api.post("/enrolment/people/imports", {"csv": CSV, "dry_run": True})
    assert response.get_json()["recorded"] == 3 and response.get_json()["dry_run"] is True


def test_a_bad_import_lists_every_row_problem_and_writes_nothing(api: Api) -> None:
    bad = CSV + "\n,nobody,IMP-0,TEM,D,U,expert"
    with api.writes_nothing():
        body = assert_problem(api.post("/enrolment/people/imports", {"csv": bad}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"row 5: full_name", "row 5: email", "row 5: employee_number"}


@pytest.mark.parametrize(
    ("body", "status"),
    [({"csv": ""}, 422), ({}, 422), ({"csv": "just,a,header\n"}, 422), ({"csv": 5}, 422)],
)
def test_import_input_errors(api: Api, body: dict, status: int) -> None:
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/people/imports", body), status)


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_writers_import(api: Api, role: str) -> None:
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/people/imports", {"csv": CSV}, role=role), 403)


def test_every_people_path_is_documented(api: Api) -> None:
    paths = api.client.get("/enrolment/openapi.json").get_json()["paths"]
    for path in (
        "/enrolment/people",
        "/enrolment/people/{person_id}",
        "/enrolment/people/{person_id}/placements",
        "/enrolment/people/{person_id}/erasure",
        "/enrolment/people/imports",
    ):
        assert path in paths, path
    erasure = paths["/enrolment/people/{person_id}/erasure"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409"} <= set(erasure)
