"""Idempotency-Key on POSTs, and If-Match / ?version= on aggregates, through the real app."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, bearer


def programme(name: str = "Leadership") -> dict[str, Any]:
    return {"name": name, "organisation": "TEM"}


def keyed(key: str, role: str = "hr_admin", sub: str = "alice") -> dict[str, str]:
    return {**bearer(role, sub), "Idempotency-Key": key}


def test_a_retry_with_the_same_key_returns_the_first_answer_and_writes_nothing(api: Api) -> None:
    first = api.client.post("/enrolment/programmes", json=programme(), headers=keyed("k-1"))
    assert first.status_code == 201
    head = api.enrolment.head()
    again = api.client.post("/enrolment/programmes", json=programme(), headers=keyed("k-1"))
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.enrolment.head() == head


def test_without_a_key_every_post_is_a_new_request(api: Api) -> None:
    first = api.post("/enrolment/programmes", programme()).get_json()
    second = api.post("/enrolment/programmes", programme()).get_json()
    assert first["id"] != second["id"]


def test_reusing_a_key_for_a_different_request_is_refused(api: Api) -> None:
    api.client.post("/enrolment/programmes", json=programme("A"), headers=keyed("k-2"))
    with api.writes_nothing():
        other = api.client.post("/enrolment/programmes", json=programme("B"), headers=keyed("k-2"))
    body = assert_problem(other, 422)
    assert "different request" in body["detail"]


def test_keys_belong_to_their_caller(api: Api) -> None:
    mine = api.client.post("/enrolment/programmes", json=programme(), headers=keyed("k-3"))
    theirs = api.client.post(
        "/enrolment/programmes", json=programme(), headers=keyed("k-3", sub="bob")
    )
    assert theirs.status_code == 201
    assert theirs.get_json()["id"] != mine.get_json()["id"]


def test_a_failed_request_releases_its_key(api: Api) -> None:
    bad = api.client.post("/enrolment/programmes", json={"name": ""}, headers=keyed("k-4"))
    assert_problem(bad, 422)
    good = api.client.post("/enrolment/programmes", json=programme(), headers=keyed("k-4"))
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"], ids=repr)
def test_a_malformed_key_is_a_400_naming_the_header(api: Api, key: str) -> None:
    with api.writes_nothing():
        response = api.client.post("/enrolment/programmes", json=programme(), headers=keyed(key))
    assert "Idempotency-Key" in assert_problem(response, 400)["detail"]


def test_a_key_without_a_token_is_still_a_401(api: Api) -> None:
    response = api.client.post(
        "/enrolment/programmes", json=programme(), headers={"Idempotency-Key": "k"}
    )
    assert_problem(response, 401)


def test_concurrent_requests_with_one_key_write_once(api: Api) -> None:
    answers: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        response = api.client.post("/enrolment/programmes", json=programme(), headers=keyed("k-5"))
        answers.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert api.enrolment.head() == 1  # exactly one programme defined
    assert set(answers) <= {201, 409}
    assert 201 in answers


def documented_with_the_header(spec: dict[str, Any]) -> dict[str, bool]:
    ref = "#/components/parameters/IdempotencyKey"
    return {
        path: ref in [p.get("$ref") for p in ops["post"].get("parameters", [])]
        for path, ops in spec["paths"].items()
        if "post" in ops
    }


def test_the_header_is_documented_on_every_post_but_the_import(api: Api) -> None:
    spec = api.client.get("/enrolment/openapi.json").get_json()
    documented = documented_with_the_header(spec)
    assert len(documented) > 10
    assert [path for path, has in documented.items() if not has] == ["/enrolment/people/imports"]
    assert spec["components"]["parameters"]["IdempotencyKey"]["in"] == "header"


def test_an_anonymous_submission_neither_keeps_nor_documents_the_key(api: Api) -> None:
    spec = api.client.get("/assessment/openapi.json").get_json()
    documented = documented_with_the_header(spec)
    traceless = [path for path, has in documented.items() if not has]
    assert sorted(traceless) == [
        "/assessment/imports/results",
        "/assessment/imports/staff-survey",
        "/assessment/reaction-surveys/tokens",
        "/assessment/reaction-surveys/{survey_id}/responses",
    ]
    assert documented["/assessment/instruments"]


# ?version= and If-Match -----------------------------------------------------------------------


def test_version_shows_an_earlier_state_and_a_future_one_is_not_found(api: Api) -> None:
    cohort_id = api.cohort(capacity=3)
    person_id = api.person()
    assert api.enrol(cohort_id, person_id).status_code == 201
    now = api.get(f"/enrolment/cohorts/{cohort_id}").get_json()
    assert now["enrolled_count"] == 1
    then = api.get(f"/enrolment/cohorts/{cohort_id}?version=1").get_json()
    assert then["enrolled_count"] == 0
    missing = api.get(f"/enrolment/cohorts/{cohort_id}?version=99")
    body = assert_problem(missing, 404, {"version"})
    assert "latest" in body["detail"]
    assert_problem(api.get(f"/enrolment/cohorts/{cohort_id}?version=0"), 422, {"version"})


def test_if_match_must_be_a_version_number(api: Api) -> None:
    from shared.web.versions import expected_version

    with api.embedded.apps["enrolment"].test_request_context(headers={"If-Match": '"7"'}):
        assert expected_version() == 7
    with api.embedded.apps["enrolment"].test_request_context(headers={}):
        assert expected_version() is None
    with (
        api.embedded.apps["enrolment"].test_request_context(headers={"If-Match": "*"}),
        pytest.raises(Exception) as refused,
    ):
        expected_version()
    assert getattr(refused.value, "code", None) == 400


def test_a_retried_registration_of_an_erased_person_writes_nothing(api: Api) -> None:
    """The kept answer of a registration is not forgotten with the person: a retry with the
    same key and body after the erasure is refused with 410, and no one is registered again."""
    body = {
        "full_name": "Erased Retry",
        "email": "erased.retry@example.org",
        "employee_number": "E-RETRY-1",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
    }
    first = api.client.post("/enrolment/people", json=body, headers=keyed("k-erased"))
    assert first.status_code == 201, first.get_json()
    person_id = first.get_json()["id"]
    api.post(f"/enrolment/people/{person_id}/erasure", None)
    with api.writes_nothing():
        retry = api.client.post("/enrolment/people", json=body, headers=keyed("k-erased"))
        other = api.client.post(
            "/enrolment/people", json={**body, "unit": "Other"}, headers=keyed("k-erased")
        )
    problem = assert_problem(retry, 410)
    assert "erased" in problem["detail"]
    assert person_id not in retry.get_data(as_text=True)
    assert_problem(other, 410)
    people = api.get("/enrolment/people").get_json()["items"]
    assert [(p["id"], p["employee_number"]) for p in people] == [(person_id, None)]


def test_after_an_erasure_a_new_key_registers_the_number_again(api: Api) -> None:
    """Only the erased key's retries are refused: once that key is expired (or with a new key)
    the same employee number is a new, legitimate registration."""
    body = {
        "full_name": "Back Again",
        "email": "back.again@example.org",
        "employee_number": "E-RETRY-2",
        "organisation": "TEM",
        "department": "Innovation",
        "unit": "Digital",
    }
    first = api.client.post("/enrolment/people", json=body, headers=keyed("k-old"))
    api.post(f"/enrolment/people/{first.get_json()['id']}/erasure", None)
    again = api.client.post("/enrolment/people", json=body, headers=keyed("k-new"))
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["id"] != first.get_json()["id"]
    assert again.get_json()["employee_number"] == "E-RETRY-2"
