"""The enrolment HTTP API on the embedded app: what it accepts, and how it refuses the rest.

Every refusal is checked for its status, an RFC 9457 problem+json body, the field at fault,
and an unchanged event log: bad input is never half-written.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from shared.auth import issue_token
from tests.api.helpers import (
    SECRET,
    Api,
    assert_problem,
    bearer,
    build,
    cohort_body,
    person_body,
    unknown_id,
)

# Success paths --------------------------------------------------------------------------------


def test_defining_a_programme_returns_it_and_records_one_event(api: Api) -> None:
    response = api.post(
        "/enrolment/programmes",
        {"name": "Leadership", "organisation": "TEM", "goals": ["grow"], "description": "d"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in ("name", "organisation", "goals", "description")} == {
        "name": "Leadership",
        "organisation": "TEM",
        "goals": ["grow"],
        "description": "d",
    }
    assert api.enrolment.head() == 1
    assert api.get(f"/enrolment/programmes/{body['id']}", role="coach").get_json() == body


def test_programmes_are_paged_in_definition_order_with_a_cursor(api: Api) -> None:
    names = [f"P{i}" for i in range(5)]
    for name in names:
        api.programme(name)
    api.cohort(api.programme("P5"))  # other kinds of events must not appear or break paging
    names.append("P5")

    seen, after, pages = [], 0, 0
    while True:
        page = api.get(f"/enrolment/programmes?after={after}&limit=2", role="auditor").get_json()
        seen += [p["name"] for p in page["items"]]
        pages += 1
        if page["next_after"] is None:
            break
        assert len(page["items"]) == 2  # only the last page may be short
        after = page["next_after"]
    assert seen == names
    assert pages == 3


def test_a_default_page_holds_everything_small(api: Api) -> None:
    api.programme("A")
    page = api.get("/enrolment/programmes").get_json()
    assert [p["name"] for p in page["items"]] == ["A"]
    assert page["next_after"] is None


def test_planning_a_cohort_returns_it(api: Api) -> None:
    programme_id = api.programme()
    body = api.created("/enrolment/cohorts", cohort_body(programme_id, capacity=3))
    assert body["programme_id"] == programme_id
    assert (body["capacity"], body["enrolled_count"]) == (3, 0)
    assert (body["start_date"], body["end_date"]) == ("2020-03-01", "2020-11-30")
    again = api.get(f"/enrolment/cohorts/{body['id']}", role="coordinator").get_json()
    assert again == body


def test_cohorts_are_paged_with_a_cursor(api: Api) -> None:
    programme_id = api.programme()
    ids = [api.cohort(programme_id, name=f"C{i}") for i in range(3)]
    first = api.get("/enrolment/cohorts?limit=2").get_json()
    rest = api.get(f"/enrolment/cohorts?limit=2&after={first['next_after']}").get_json()
    assert [c["id"] for c in first["items"] + rest["items"]] == ids
    assert rest["next_after"] is None


def test_registering_a_person_returns_the_record_with_a_pseudonymous_id(api: Api) -> None:
    body = api.created("/enrolment/people", person_body())
    uuid.UUID(body["id"])
    assert body["full_name"] == "Anna Aalto"
    assert api.get(f"/enrolment/people/{body['id']}").get_json() == body


def test_people_are_paged_with_a_cursor(api: Api) -> None:
    ids = [api.person(employee_number=f"E{i}") for i in range(3)]
    first = api.get("/enrolment/people?limit=1", role="auditor").get_json()
    assert [p["id"] for p in first["items"]] == ids[:1]
    rest = api.get(f"/enrolment/people?after={first['next_after']}").get_json()
    assert [p["id"] for p in rest["items"]] == ids[1:]


def test_a_participant_may_read_their_own_record(api: Api) -> None:
    person_id = api.person()
    response = api.get(f"/enrolment/people/{person_id}", role="participant", sub=person_id)
    assert response.status_code == 200
    assert response.get_json()["id"] == person_id


def test_enrolling_lists_people_in_enrolment_order(api: Api) -> None:
    cohort_id = api.cohort(capacity=2)
    first, second = api.person(), api.person()
    response = api.enrol(cohort_id, first)
    assert response.status_code == 201
    assert response.get_json()["person_id"] == first
    assert dt.datetime.fromisoformat(response.get_json()["enrolled_at"]).tzinfo is not None
    assert api.enrol(cohort_id, second).status_code == 201

    api.post(f"/enrolment/cohorts/{cohort_id}/coaches", {"coach": "alice"})
    listing = api.get(f"/enrolment/cohorts/{cohort_id}/enrolments", role="coach").get_json()
    assert [e["person_id"] for e in listing["items"]] == [first, second]
    assert listing["capacity"] == 2
    assert api.get(f"/enrolment/cohorts/{cohort_id}").get_json()["enrolled_count"] == 2


def test_the_event_feed_pages_through_the_log_for_a_service(api: Api) -> None:
    cohort_id = api.cohort()
    api.enrol(cohort_id, api.person())  # log: programme, cohort, person, enrolment
    service = bearer("service", "tracking")

    first = api.client.get("/enrolment/events?after=0&limit=3", headers=service).get_json()
    assert [e["position"] for e in first["events"]] == [1, 2, 3]
    assert (first["next_after"], first["head"]) == (3, 4)
    rest = api.client.get(f"/enrolment/events?after={first['next_after']}", headers=service)
    last = rest.get_json()
    assert [e["type"] for e in last["events"]] == ["fi.polku.enrolment.ParticipantEnrolled"]
    # The page that reaches the head says so: next_after is null, like every other list.
    assert (last["next_after"], last["head"]) == (None, 4)
    end = api.client.get("/enrolment/events?after=4", headers=service).get_json()
    assert (end["events"], end["next_after"], end["head"]) == ([], None, 4)
    assert all(e["specversion"] == "1.0" for e in first["events"] + last["events"])


def test_the_event_feed_carries_no_personal_data(api: Api) -> None:
    api.person(full_name="Quorra Vexholm", email="quorra.vexholm@example.fi")
    response = api.get("/enrolment/events", role="auditor")
    assert response.status_code == 200
    types = [e["type"] for e in response.get_json()["events"]]
    assert types == ["fi.polku.enrolment.PersonRegistered"]
    text = response.get_data(as_text=True)
    assert "Vexholm" not in text
    assert "quorra" not in text.lower()


# Bad input: every refusal writes nothing --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/enrolment/programmes", {}, {"name", "organisation"}),
        ("/enrolment/cohorts", {"name": "C"}, {"programme_id", "capacity", "start_date"}),
        ("/enrolment/people", {"full_name": "A"}, {"email", "employee_number", "department"}),
    ],
)
def test_missing_fields_are_named(api: Api, path: str, body: dict, fields: set[str]) -> None:
    with api.writes_nothing():
        assert_problem(api.post(path, body), 422, fields)


def test_a_missing_person_id_on_enrolment_is_named(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        assert_problem(
            api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", {}), 422, {"person_id"}
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10_001}, "capacity"),
        ({"programme_id": 5}, "programme_id"),
        ({"programme_id": "not-a-uuid"}, "programme_id"),
        ({"name": 123}, "name"),
        ({"name": ""}, "name"),
        ({"start_date": "March"}, "start_date"),
        ({"start_date": "2020-03-01T00:00:00"}, "start_date"),
        ({"end_date": None}, "end_date"),
        ({"full_name": "leak"}, "full_name"),  # unknown keys are refused, not ignored
    ],
)
def test_wrongly_typed_cohort_fields_are_named(api: Api, overrides: dict, field: str) -> None:
    body = {**cohort_body(api.programme()), **overrides}
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/cohorts", body), 422, {field})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"employee_number": ""}, "employee_number"),
        ({"department": ["Innovation"]}, "department"),
        ({"unit": "u" * 201}, "unit"),
    ],
)
def test_wrongly_typed_person_fields_are_named(api: Api, overrides: dict, field: str) -> None:
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/people", person_body(**overrides)), 422, {field})


def test_wrongly_typed_programme_goals_are_named(api: Api) -> None:
    body = {"name": "P", "organisation": "TEM", "goals": "grow"}
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/programmes", body), 422, {"goals"})


def test_a_person_id_that_is_not_a_uuid_is_named(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        response = api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", {"person_id": "bob"})
        assert_problem(response, 422, {"person_id"})


@pytest.mark.parametrize(
    "path", ["/enrolment/programmes", "/enrolment/cohorts", "/enrolment/people"]
)
def test_malformed_json_is_a_bad_request(api: Api, path: str) -> None:
    with api.writes_nothing():
        response = api.client.post(
            path, data=b'{"name": "P",', content_type="application/json", headers=bearer()
        )
        problem = assert_problem(response, 400)
        assert "JSON" in problem["detail"]  # the reason, not werkzeug's "the browser sent..."


@pytest.mark.parametrize("body", [[1, 2], "a string", 42, None])
def test_a_body_that_is_not_an_object_is_refused(api: Api, body: Any) -> None:
    with api.writes_nothing():
        problem = assert_problem(api.post("/enrolment/people", body), 422)
    if body is not None:  # no body at all is reported as each missing field instead
        # The body as a whole is at fault, so no field is named (not marshmallow's "_schema").
        assert problem["errors"] and all(e["field"] is None for e in problem["errors"])


def test_a_body_that_is_not_json_is_an_unsupported_media_type(api: Api) -> None:
    with api.writes_nothing():
        response = api.client.post(
            "/enrolment/programmes",
            data="name=TEMPO&organisation=TEM",
            content_type="application/x-www-form-urlencoded",
            headers=bearer(),
        )
        problem = assert_problem(response, 415)
    assert "application/json" in problem["detail"]


@pytest.mark.parametrize("end", ["2020-02-29", "2020-03-01"], ids=["before", "same-day"])
def test_a_cohort_ending_before_it_starts_names_end_date(api: Api, end: str) -> None:
    programme_id = api.programme()
    with api.writes_nothing():
        response = api.post("/enrolment/cohorts", cohort_body(programme_id, end_date=end))
        body = assert_problem(response, 422, {"end_date"})
    assert "end_date" in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/enrolment/programmes/{id}",
        "/enrolment/cohorts/{id}",
        "/enrolment/people/{id}",
        "/enrolment/cohorts/{id}/enrolments",
    ],
)
def test_reading_an_unknown_id_is_not_found(api: Api, path: str) -> None:
    assert_problem(api.get(path.format(id=unknown_id())), 404)


def test_an_id_of_the_wrong_kind_is_not_found(api: Api) -> None:
    # A programme id is a valid aggregate id, but not a cohort or a person.
    programme_id = api.programme()
    assert_problem(api.get(f"/enrolment/cohorts/{programme_id}"), 404)
    cohort_id = api.cohort(programme_id)
    with api.writes_nothing():
        assert_problem(api.enrol(cohort_id, programme_id), 404, {"person_id"})


def test_planning_a_cohort_of_an_unknown_programme_is_not_found(api: Api) -> None:
    with api.writes_nothing():
        response = api.post("/enrolment/cohorts", cohort_body(unknown_id()))
        assert_problem(response, 404, {"programme_id"})


def test_enrolling_in_an_unknown_cohort_is_not_found(api: Api) -> None:
    person_id = api.person()
    with api.writes_nothing():
        assert_problem(api.enrol(unknown_id(), person_id), 404)


def test_enrolling_an_unknown_person_is_not_found(api: Api) -> None:
    cohort_id = api.cohort()
    with api.writes_nothing():
        assert_problem(api.enrol(cohort_id, unknown_id()), 404, {"person_id"})


def test_enrolling_in_a_full_cohort_puts_the_person_on_the_waitlist(api: Api) -> None:
    cohort_id = api.cohort(capacity=1)
    assert api.enrol(cohort_id, api.person()).status_code == 201
    latecomer = api.person()
    response = api.enrol(cohort_id, latecomer)
    assert response.status_code == 201
    assert (response.get_json()["status"], response.get_json()["waitlist_position"]) == (
        "waitlisted",
        1,
    )
    cohort = api.get(f"/enrolment/cohorts/{cohort_id}").get_json()
    assert (cohort["enrolled_count"], cohort["waitlist_count"]) == (1, 1)


def test_enrolling_the_same_person_twice_is_a_conflict(api: Api) -> None:
    cohort_id, person_id = api.cohort(), api.person()
    assert api.enrol(cohort_id, person_id).status_code == 201
    with api.writes_nothing():
        assert_problem(api.enrol(cohort_id, person_id), 409, {"person_id"})


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("limit=many", "limit"), ("after=-1", "after")],
)
def test_a_page_size_or_cursor_out_of_range_is_named(api: Api, query: str, field: str) -> None:
    assert_problem(api.get(f"/enrolment/programmes?{query}"), 422, {field})


def test_a_feed_page_larger_than_allowed_is_named(api: Api) -> None:
    assert_problem(api.get("/enrolment/events?limit=1001", role="service"), 422, {"limit"})


@pytest.mark.parametrize("path", ["/enrolment/programmes", "/enrolment/events"])
def test_a_cursor_beyond_any_position_is_refused_not_a_crash(api: Api, path: str) -> None:
    assert_problem(api.get(f"{path}?after={2**64}", role="hr_admin"), 422, {"after"})


def test_a_string_with_a_lone_surrogate_is_refused_not_a_crash(api: Api) -> None:
    with api.writes_nothing():
        response = api.client.post(
            "/enrolment/programmes",
            data=b'{"name": "\\ud800", "organisation": "TEM"}',
            content_type="application/json",
            headers=bearer(),
        )
        assert_problem(response, 422, {"name"})


def test_deeply_nested_json_is_a_bad_request_not_a_crash(api: Api) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    with api.writes_nothing():
        response = api.client.post(
            "/enrolment/cohorts", data=nested, content_type="application/json", headers=bearer()
        )
        assert_problem(response, 400)


# Authentication and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        "Bearer ",
        "Basic YWxpY2U6c2VjcmV0",
        f"Bearer {issue_token('y' * 32, 'alice', 'hr_admin')}",  # another deployment's secret
        f"Bearer {issue_token(SECRET, 'alice', 'hr_admin', ttl=dt.timedelta(minutes=-2))}",
    ],
    ids=["none", "garbage", "empty", "basic", "wrong-secret", "expired"],
)
def test_a_request_without_a_valid_token_is_unauthorised(
    api: Api, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with api.writes_nothing():
        response = api.client.post(
            "/enrolment/programmes", json={"name": "P", "organisation": "TEM"}, headers=headers
        )
        assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_reads_need_a_token_too(api: Api) -> None:
    response = api.client.get("/enrolment/programmes")
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("role", ["coach", "auditor", "participant", "service"])
def test_only_hr_and_coordinators_may_write(api: Api, role: str) -> None:
    with api.writes_nothing():
        response = api.post("/enrolment/programmes", {"name": "P", "organisation": "T"}, role=role)
        assert_problem(response, 403)


def test_a_coach_may_not_enrol_anyone(api: Api) -> None:
    cohort_id, person_id = api.cohort(), api.person()
    with api.writes_nothing():
        response = api.post(
            f"/enrolment/cohorts/{cohort_id}/enrolments", {"person_id": person_id}, role="coach"
        )
        assert_problem(response, 403)


def test_a_participant_may_not_read_another_person(api: Api) -> None:
    me, other = api.person(), api.person()
    assert_problem(api.get(f"/enrolment/people/{other}", role="participant", sub=me), 404)


@pytest.mark.parametrize("role", ["participant", "coach"])
def test_the_people_list_is_closed_to_participants_and_coaches(api: Api, role: str) -> None:
    assert_problem(api.get("/enrolment/people", role=role), 403)


@pytest.mark.parametrize("role", ["coordinator", "coach", "participant"])
def test_the_event_feed_is_closed_to_other_roles(api: Api, role: str) -> None:
    assert_problem(api.get("/enrolment/events", role=role), 403)


# Correlation ids ---------------------------------------------------------------------------


def last_event_meta(api: Api) -> dict[str, str]:
    app = api.enrolment
    (notification,) = app.notifications_after(app.head() - 1, 1)
    return app.mapper.to_domain_event(notification).meta  # type: ignore[no-any-return]


def test_a_given_correlation_id_is_echoed_and_recorded(api: Api) -> None:
    response = api.post(
        "/enrolment/programmes",
        {"name": "P", "organisation": "TEM"},
        role="coordinator",
        headers={"X-Correlation-ID": "req-42_a", "X-Causation-ID": "cause-7"},
    )
    assert response.headers["X-Correlation-ID"] == "req-42_a"
    assert last_event_meta(api) == {
        "actor_sub": "alice",
        "actor_role": "coordinator",
        "correlation_id": "req-42_a",
        "causation_id": "cause-7",
    }


@pytest.mark.parametrize(
    "given_id",
    [None, "has spaces", "x" * 129, "caf\u00e9", "v\u00b2"],
    ids=["absent", "bad", "long", "latin letter", "superscript digit"],
)
def test_a_correlation_id_is_generated_when_absent_or_unusable(
    api: Api, given_id: str | None
) -> None:
    headers = {"X-Correlation-ID": given_id} if given_id else {}
    response = api.post(
        "/enrolment/programmes", {"name": "P", "organisation": "T"}, headers=headers
    )
    generated = response.headers["X-Correlation-ID"]
    uuid.UUID(generated)
    assert last_event_meta(api)["correlation_id"] == generated


@pytest.mark.parametrize("given_id", ["has spaces", "x" * 129, "caf\u00e9", "v\u00b2"])
def test_an_unusable_causation_id_is_left_out_of_the_event(api: Api, given_id: str) -> None:
    api.post(
        "/enrolment/programmes",
        {"name": "P", "organisation": "T"},
        headers={"X-Causation-ID": given_id},
    )
    assert "causation_id" not in last_event_meta(api)


def test_a_problem_carries_the_correlation_id(api: Api) -> None:
    response = api.post("/enrolment/programmes", {}, headers={"X-Correlation-ID": "req-1"})
    assert assert_problem(response, 422)["correlation_id"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "req-1"


# The surrounding app --------------------------------------------------------------------------


def test_the_openapi_document_lists_every_path_and_bearer_auth(api: Api) -> None:
    document = api.client.get("/enrolment/openapi.json").get_json()
    # People, careers and imports add their own paths; these are the programme and cohort side.
    assert set(document["paths"]) >= {
        "/enrolment/programmes",
        "/enrolment/programmes/{programme_id}",
        "/enrolment/programmes/{programme_id}/goals",
        "/enrolment/programmes/{programme_id}/retirement",
        "/enrolment/cohorts",
        "/enrolment/cohorts/{cohort_id}",
        "/enrolment/cohorts/{cohort_id}/open",
        "/enrolment/cohorts/{cohort_id}/start",
        "/enrolment/cohorts/{cohort_id}/complete",
        "/enrolment/cohorts/{cohort_id}/cancel",
        "/enrolment/cohorts/{cohort_id}/coaches",
        "/enrolment/cohorts/{cohort_id}/invitations",
        "/enrolment/cohorts/{cohort_id}/invitations/{person_id}/accept",
        "/enrolment/cohorts/{cohort_id}/invitations/{person_id}/decline",
        "/enrolment/cohorts/{cohort_id}/enrolments",
        "/enrolment/cohorts/{cohort_id}/enrolments/{person_id}/withdraw",
        "/enrolment/cohorts/{cohort_id}/enrolments/{person_id}/complete",
        "/enrolment/cohorts/{cohort_id}/waitlist",
        "/enrolment/cohorts/{cohort_id}/sessions",
        "/enrolment/cohorts/{cohort_id}/peer-groups",
        "/enrolment/sessions/{session_id}",
        "/enrolment/sessions/{session_id}/reschedule",
        "/enrolment/sessions/{session_id}/delivery",
        "/enrolment/sessions/{session_id}/hold",
        "/enrolment/sessions/{session_id}/cancel",
        "/enrolment/sessions/{session_id}/attendance",
        "/enrolment/peer-groups/{group_id}",
        "/enrolment/peer-groups/{group_id}/members",
        "/enrolment/peer-groups/{group_id}/members/{person_id}",
        "/enrolment/people",
        "/enrolment/people/{person_id}",
        "/enrolment/people/{person_id}/enrolments",
        "/enrolment/events",
    }
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in document["security"]


def test_the_openapi_document_describes_errors_as_problem_details(api: Api) -> None:
    document = api.client.get("/enrolment/openapi.json").get_json()
    default = document["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert default["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    problem = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem)
    enrol = document["paths"]["/enrolment/cohorts/{cohort_id}/enrolments"]["post"]["responses"]
    for status in ("404", "409"):
        assert "application/problem+json" in enrol[status]["content"]
    for path in document["paths"].values():
        for method, operation in path.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert "default" in operation["responses"]


@pytest.mark.parametrize("service", ["enrolment", "tracking"])
def test_every_guarded_operation_documents_401_and_403_and_each_lookup_its_404(
    api: Api, service: str
) -> None:
    document = api.client.get(f"/{service}/openapi.json").get_json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert operations
    for path, method, operation in operations:
        responses = operation["responses"]
        if operation.get("security") == []:  # open to all: the event contract
            continue
        for status in ("401", "403"):
            content = responses[status]["content"]["application/problem+json"]
            assert content["schema"]["$ref"].endswith("/Problem"), (path, method, status)
        assert "allowed:" in responses["403"]["description"], (path, method)
        if "{" in path:  # an id in the path: the thing may not exist
            assert "404" in responses, (path, method)


def test_health_and_readiness_of_the_combined_app(api: Api) -> None:
    health = api.client.get("/healthz")
    assert (health.status_code, health.get_json()) == (200, {"status": "ok"})
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.get_json()["checks"]
    assert {"enrolment.store", "assessment.store", "tracking.readmodels"} <= set(checks)
    assert set(checks.values()) == {"ok"}


@pytest.mark.parametrize("path", ["/nope", "/enrolment/nope", "/enrolment/cohorts/not-a-uuid"])
def test_an_unknown_path_is_a_not_found_problem(api: Api, path: str) -> None:
    assert_problem(api.get(path), 404)


def test_an_unsupported_method_is_a_problem(api: Api) -> None:
    response = api.client.delete("/enrolment/programmes", headers=bearer())
    assert_problem(response, 405)


# Never a 500: random JSON objects -------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    # Module scope: hypothesis runs many examples per test, and one runtime serves them all.
    embedded = build(Path(tmp_path_factory.mktemp("fuzz")))
    yield Api(embedded, Client(embedded.wsgi))
    embedded.close()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def dates(first: dt.date, last: dt.date) -> st.SearchStrategy[str]:
    return st.dates(first, last).map(dt.date.isoformat)


short_text = st.text(min_size=1, max_size=200)
extra_keys = st.dictionaries(st.text(max_size=12), json_values, min_size=1, max_size=2)


def random_object(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict]:
    """Each field valid, missing or any JSON value (mostly valid, so successes happen too),
    sometimes with extra keys."""

    @st.composite
    def build(draw: st.DrawFn) -> dict:
        with_extras = draw(st.sampled_from([False, False, False, True]))
        body = draw(extra_keys) if with_extras else {}
        for name, valid in fields.items():
            choice = draw(st.sampled_from(["valid"] * 8 + ["missing", "any"]))
            if choice == "valid":
                body[name] = draw(valid)
            elif choice == "any":
                body[name] = draw(json_values)
        return body

    return build()


def assert_no_crash(api: Api, path: str, body: dict) -> None:
    head = api.enrolment.head()
    response = api.post(path, body)
    assert response.status_code in (201, 404, 409, 422), (body, response.get_data(as_text=True))
    # A refusal writes nothing; a success writes exactly one event.
    assert api.enrolment.head() == head + (1 if response.status_code == 201 else 0)
    if response.status_code != 201:
        assert response.headers["Content-Type"] == "application/problem+json"
    event(f"{path} -> {response.status_code}")


@pytest.fixture(scope="module")
def known_programme(shared_api: Api) -> str:
    return shared_api.programme()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_cohort_bodies_never_crash(shared_api: Api, known_programme: str, data: Any) -> None:
    body = data.draw(
        random_object(
            {
                "programme_id": st.sampled_from([known_programme, unknown_id()]),
                "name": short_text,
                "capacity": st.integers(1, 10_000),
                # Overlapping ranges: mostly a valid window, sometimes an inverted one.
                "start_date": dates(dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
                "end_date": dates(dt.date(2020, 11, 1), dt.date(2022, 12, 31)),
            }
        )
    )
    assert_no_crash(shared_api, "/enrolment/cohorts", body)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_person_bodies_never_crash(shared_api: Api, data: Any) -> None:
    body = data.draw(
        random_object(
            {
                "full_name": short_text,
                "email": st.emails() | short_text,
                "employee_number": st.text(min_size=1, max_size=50),
                "organisation": short_text,
                "department": short_text,
                "unit": short_text,
            }
        )
    )
    assert_no_crash(shared_api, "/enrolment/people", body)


@pytest.mark.parametrize(
    ("encoding", "compress", "named"),
    [
        ("gzip", True, "gzip"),
        ("gzip", False, "gzip"),  # declared compressed but sent plain: not taken as it is
        ("br", False, "br"),
        ("identity, gzip", True, "gzip"),
        ("x-" + "a" * 200, False, "x-aaaa"),
    ],
    ids=["gzip", "gzip-plain", "br", "identity-then-gzip", "long"],
)
def test_a_compressed_body_is_an_unsupported_media_type(
    api: Api, encoding: str, compress: bool, named: str
) -> None:
    body = json.dumps({"name": "TEMPO", "organisation": "TEM"}).encode()
    with api.writes_nothing():
        response = api.client.post(
            "/enrolment/programmes",
            data=gzip.compress(body) if compress else body,
            content_type="application/json",
            headers={**bearer(), "Content-Encoding": encoding},
        )
        problem = assert_problem(response, 415)
    assert named in problem["detail"] and len(problem["detail"]) < 140
    assert response.headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("encoding", ["identity", "IDENTITY", ""])
def test_an_identity_encoded_body_is_read(api: Api, encoding: str) -> None:
    response = api.client.post(
        "/enrolment/programmes",
        data=json.dumps({"name": "TEMPO", "organisation": "TEM"}),
        content_type="application/json",
        headers={**bearer(), "Content-Encoding": encoding},
    )
    assert response.status_code == 201, response.get_json()


def test_every_operation_taking_a_body_documents_its_415(api: Api) -> None:
    spec = api.client.get("/enrolment/openapi.json").get_json()
    bodied = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch")
    ]
    assert bodied
    for path, method, operation in bodied:
        assert "Content-Encoding" in operation["responses"]["415"]["description"], (path, method)
