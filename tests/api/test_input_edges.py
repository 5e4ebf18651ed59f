"""Input at the edges: numbers too long to convert, control characters, oversized addresses,
and methods a path does not take. Each is refused with a problem+json naming it, never a 500,
and nothing is written.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from werkzeug.test import Client

import shared.web
from tests.api.helpers import Api, assert_problem, bearer, cohort_body, person_body

JSON = {"Content-Type": "application/json"}


def post_raw(api: Api, path: str, data: str, role: str = "coordinator") -> Any:
    return api.client.post(path, data=data, headers={**bearer(role), **JSON})


def digits_over_the_limit() -> int:
    limit = sys.get_int_max_str_digits()
    assert limit, "the interpreter converts integers of any length; nothing to test"
    return limit + 700  # 5000 with the default limit of 4300


# Integers with more digits than Python converts ------------------------------------------------


def test_a_number_too_long_to_convert_is_refused_naming_the_field(api: Api) -> None:
    data = '{"capacity": 1' + "0" * 5000 + "}"
    with api.writes_nothing():
        body = assert_problem(post_raw(api, "/enrolment/cohorts", data), 422, {"capacity"})
    (error,) = [e for e in body["errors"] if e["field"] == "capacity"]
    assert "too long" in error["message"]


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ('{{"capacity": -1{zeros}}}', "capacity"),
        ('{{"name": "P", "goals": ["g", 1{zeros}]}}', "goals.1"),
        ('{{"nested": {{"deeper": [1{zeros}]}}}}', "nested.deeper.0"),
    ],
    ids=["negative", "in-a-list", "nested"],
)
def test_a_number_too_long_anywhere_in_the_body_is_named(
    api: Api, template: str, field: str
) -> None:
    data = template.format(zeros="0" * digits_over_the_limit())
    with api.writes_nothing():
        assert_problem(post_raw(api, "/enrolment/programmes", data), 422, {field})


def test_a_body_that_is_only_a_number_too_long_is_refused(api: Api) -> None:
    with api.writes_nothing():
        body = assert_problem(post_raw(api, "/enrolment/cohorts", "9" * 5000), 422)
    assert "too long" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "data",
    ['{"capacity": 1' + "0" * 5000, "[1" + "0" * 5000 + ",", '{"capacity": 1' + "0" * 5000 + "]"],
    ids=["unterminated", "trailing-comma", "wrong-bracket"],
)
def test_invalid_json_holding_a_number_too_long_is_a_bad_request(api: Api, data: str) -> None:
    with api.writes_nothing():
        assert_problem(post_raw(api, "/enrolment/cohorts", data), 400)


def test_a_number_at_the_limit_is_only_out_of_range(api: Api) -> None:
    limit = sys.get_int_max_str_digits()
    data = json.dumps(cohort_body(api.programme(), capacity=0))
    data = data.replace('"capacity": 0', '"capacity": 1' + "0" * (limit - 1))
    with api.writes_nothing():
        body = assert_problem(post_raw(api, "/enrolment/cohorts", data), 422, {"capacity"})
    assert all("too long" not in e["message"] for e in body["errors"])


def test_long_runs_of_digits_inside_text_are_not_numbers(api: Api) -> None:
    description = "1" * 4999
    response = api.post(
        "/enrolment/programmes", {"name": "P", "organisation": "T", "description": description}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["description"] == description


class CountingJson:
    """Stands in for the json module in shared.web, counting the parses it is asked for."""

    def __init__(self) -> None:
        self.calls = 0

    def loads(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return json.loads(*args, **kwargs)


def test_ordinary_bodies_are_not_parsed_before_webargs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingJson()
    monkeypatch.setattr(shared.web, "json", counting)
    programme = {"name": "P", "organisation": "T", "description": "year 2020 " * 490}
    assert api.post("/enrolment/programmes", programme).status_code == 201
    assert api.post("/enrolment/people", person_body(), role="coordinator").status_code == 201
    assert counting.calls == 0
    post_raw(api, "/enrolment/cohorts", '{"capacity": 1' + "0" * 5000 + "}")
    assert counting.calls == 1


# Control characters and oversized text --------------------------------------------------------

SINGLE_LINE_FIELDS = [
    ("/enrolment/programmes", "name"),
    ("/enrolment/programmes", "organisation"),
    ("/enrolment/cohorts", "name"),
    ("/enrolment/people", "full_name"),
    ("/enrolment/people", "employee_number"),
    ("/enrolment/people", "organisation"),
    ("/enrolment/people", "department"),
    ("/enrolment/people", "unit"),
]


def valid_body(api: Api, path: str) -> dict[str, Any]:
    if path == "/enrolment/programmes":
        return {"name": "Leadership", "organisation": "TEM", "description": "d", "goals": ["g"]}
    if path == "/enrolment/cohorts":
        return cohort_body(api.programme())
    return person_body()


@pytest.mark.parametrize(("path", "field"), SINGLE_LINE_FIELDS)
@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\t", "\n", "\r", "\u202e", "\u2066"],
    ids=["nul", "soh", "esc", "del", "nel", "tab", "lf", "cr", "rlo", "lri"],
)
def test_a_single_line_field_refuses_control_characters(
    api: Api, path: str, field: str, bad: str
) -> None:
    body = valid_body(api, path)
    body[field] = f"A{bad}B"
    with api.writes_nothing():
        problem = assert_problem(api.post(path, body, role="coordinator"), 422, {field})
    (error,) = [e for e in problem["errors"] if e["field"] == field]
    assert "control character" in error["message"]
    assert f"U+{ord(bad):04X}" in error["message"]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("description", "one\x00two", "description"),
        ("description", "bell\x07", "description"),
        ("goals", ["fine", "not\x00fine"], "goals.1"),
        ("description", "gnp\u202eexe.txt", "description"),
    ],
    ids=["description-nul", "description-bell", "goal-nul", "description-override"],
)
def test_free_text_refuses_control_characters(api: Api, field: str, value: Any, named: str) -> None:
    body = {"name": "P", "organisation": "T", field: value}
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/programmes", body), 422, {named})


def test_a_moment_with_anything_after_it_is_refused_in_a_body(api: Api) -> None:
    """Python's ISO parser stops at a NUL after a ``Z``: what follows must not pass unseen."""
    cohort = api.cohort()
    body = {"title": "S", "starts_at": "2020-04-01T09:00:00Z\x00junk"}
    with api.writes_nothing():
        problem = assert_problem(api.post(f"/enrolment/cohorts/{cohort}/sessions", body), 422)
    assert [e["field"] for e in problem["errors"]] == ["starts_at"]
    assert "U+0000" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/enrolment/audit/access", "from"),
        ("/tracking/audit/access", "to"),
        ("/assessment/audit/events", "from"),
        ("/enrolment/events", "since"),
        ("/assessment/events", "until"),
    ],
)
def test_a_moment_with_anything_after_it_is_refused_in_a_query(
    api: Api, path: str, name: str
) -> None:
    response = api.get(path, role="auditor", query_string={name: "2020-01-01T00:00:00Z\x00x"})
    assert_problem(response, 422, {name})
    fine = api.get(path, role="auditor", query_string={name: "2020-01-01T00:00:00Z"})
    assert fine.status_code == 200


def test_free_text_keeps_tabs_and_line_breaks(api: Api) -> None:
    body = {
        "name": "P",
        "organisation": "T",
        "description": "first line\r\nsecond\tline\n",
        "goals": ["grow\nand learn"],
    }
    response = api.post("/enrolment/programmes", body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert (created["description"], created["goals"]) == (body["description"], body["goals"])


def test_letters_beyond_ascii_are_still_welcome(api: Api) -> None:
    response = api.post(
        "/enrolment/people", person_body(full_name="Åsa Öberg-Ñúñez 李 🙂", unit="R&D • Ops")
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "email",
    ['"a\x00b"@example.fi', '"a\x01b"@example.fi', "anna\x00@example.fi", "anna@exa\x00mple.fi"],
    ids=["quoted-nul", "quoted-soh", "local-nul", "domain-nul"],
)
def test_an_email_address_refuses_control_characters(api: Api, email: str) -> None:
    with api.writes_nothing():
        assert_problem(api.post("/enrolment/people", person_body(email=email)), 422, {"email"})


def address(length: int) -> str:
    domain = "@example.fi"
    return "a" * (length - len(domain)) + domain


def test_an_email_address_may_be_254_characters(api: Api) -> None:
    response = api.post("/enrolment/people", person_body(email=address(254)))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("length", [255, 100_000], ids=["one-over", "100kB"])
def test_a_longer_email_address_is_refused(api: Api, length: int) -> None:
    with api.writes_nothing():
        problem = assert_problem(
            api.post("/enrolment/people", person_body(email=address(length))), 422, {"email"}
        )
    assert "254" in problem["errors"][0]["message"]


def test_the_openapi_document_gives_the_email_limit(api: Api) -> None:
    document = api.client.get("/enrolment/openapi.json").get_json()
    person = document["components"]["schemas"]["PersonIn"]["properties"]
    assert person["email"]["maxLength"] == 254


# Methods a path does not take ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/", "GET"),
        ("DELETE", "/healthz", "GET"),
        ("PUT", "/readyz", "GET"),
        ("DELETE", "/enrolment/programmes", "POST"),
        ("PATCH", "/enrolment/cohorts", "POST"),
        ("PUT", "/tracking/status", "GET"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_problem_with_allow(
    api: Api, method: str, path: str, allowed: str
) -> None:
    with api.writes_nothing():
        response = api.client.open(path, method=method, headers=bearer(), json={})
        problem = assert_problem(response, 405)
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed in allow
    assert method not in allow
    assert method in problem["detail"]
    assert problem["type"].endswith("/method-not-allowed")


def test_a_service_app_on_its_own_answers_405_as_a_problem(api: Api) -> None:
    client = Client(api.embedded.apps["enrolment"])
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_the_root_still_answers_unknown_paths_with_where_the_services_are(api: Api) -> None:
    body = assert_problem(api.client.get("/nope"), 404)
    assert "/enrolment" in body["detail"]
    assert body["instance"] == "/nope"


@pytest.mark.parametrize("given", ["1_0", "+5", " 5", "5 ", "\u0663", "\uff11", "0x10"])
def test_a_query_integer_is_ascii_digits_only(api: Api, given: str) -> None:
    """``int()`` alone would read each of these as a number."""
    problem = assert_problem(api.get("/enrolment/cohorts", query_string={"limit": given}), 422)
    assert [(e["location"], e["field"]) for e in problem["errors"]] == [("query", "limit")]
    assert api.get("/enrolment/cohorts", query_string={"limit": "5"}).status_code == 200
    assert api.get("/enrolment/cohorts", query_string={"limit": "-1"}).status_code == 422  # range
