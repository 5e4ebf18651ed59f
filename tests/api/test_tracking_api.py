"""The tracking API: the roster projected from enrolment events, and the projector's status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from tests.api.helpers import Api, assert_problem, unknown_id

NAMES = ("Ilmari Kivijärvi", "Saga Lindqvist-Berg")
EMAILS = ("ilmari.kivijarvi@example.fi", "saga.lindqvist@example.fi")
NUMBERS = ("EMP-77001", "EMP-77002")


@dataclass
class Scene:
    cohort_id: str
    people: list[str]


@pytest.fixture
def scene(api: Api) -> Scene:
    """Two people registered and enrolled through the API, then projected."""
    cohort_id = api.cohort(capacity=5)
    people = []
    for name, email, number, department in zip(
        NAMES, EMAILS, NUMBERS, ("Innovation", "Energy"), strict=True
    ):
        person_id = api.person(
            full_name=name, email=email, employee_number=number, department=department
        )
        assert api.enrol(cohort_id, person_id).status_code == 201
        people.append(person_id)
    api.embedded.tracking.projector.drain()
    return Scene(cohort_id, people)


def test_the_roster_lists_enrolled_people_by_pseudonymous_id(api: Api, scene: Scene) -> None:
    # A coach reads only the rosters of cohorts they coach: assign ``alice`` (the token's subject).
    api.post(f"/enrolment/cohorts/{scene.cohort_id}/coaches", {"coach": "alice"}, "coordinator")
    api.embedded.tracking.projector.drain()
    response = api.get(f"/tracking/cohorts/{scene.cohort_id}/roster", role="coach", sub="alice")
    assert response.status_code == 200
    roster = response.get_json()
    assert roster["cohort_id"] == scene.cohort_id
    assert roster["count"] == 2
    assert [(p["person_id"], p["department"], p["unit"]) for p in roster["participants"]] == [
        (scene.people[0], "Innovation", "Digital"),
        (scene.people[1], "Energy", "Digital"),
    ]
    for participant in roster["participants"]:
        assert dt.datetime.fromisoformat(participant["enrolled_at"]).tzinfo is not None


def test_the_roster_enrolment_times_match_the_write_side(api: Api, scene: Scene) -> None:
    listing = api.get(f"/enrolment/cohorts/{scene.cohort_id}/enrolments").get_json()
    written = {
        e["person_id"]: dt.datetime.fromisoformat(e["enrolled_at"]) for e in listing["items"]
    }
    roster = api.get(f"/tracking/cohorts/{scene.cohort_id}/roster").get_json()
    projected = {
        p["person_id"]: dt.datetime.fromisoformat(p["enrolled_at"]) for p in roster["participants"]
    }
    assert projected == written


def test_the_roster_contains_no_names_or_contact_details(api: Api, scene: Scene) -> None:
    response = api.get(f"/tracking/cohorts/{scene.cohort_id}/roster")
    assert response.status_code == 200
    assert [p["person_id"] for p in response.get_json()["participants"]] == scene.people
    text = response.get_data(as_text=True)
    for secret in (*NAMES, *EMAILS, *NUMBERS, "Kivij", "Lindqvist"):
        assert secret.lower() not in text.lower()


def test_a_cohort_unknown_to_tracking_is_a_not_found_problem(api: Api, scene: Scene) -> None:
    assert_problem(api.get(f"/tracking/cohorts/{unknown_id()}/roster"), 404)


def test_a_cohort_not_yet_projected_is_not_found(api: Api) -> None:
    # Written but not drained: tracking says "not known yet" rather than an empty roster.
    cohort_id = api.cohort()
    assert_problem(api.get(f"/tracking/cohorts/{cohort_id}/roster"), 404)
    api.embedded.tracking.projector.drain()
    assert api.get(f"/tracking/cohorts/{cohort_id}/roster").get_json()["count"] == 0


def test_draining_twice_changes_nothing(api: Api, scene: Scene) -> None:
    before = api.get(f"/tracking/cohorts/{scene.cohort_id}/roster").get_json()
    assert api.embedded.tracking.projector.drain() == 0
    assert api.get(f"/tracking/cohorts/{scene.cohort_id}/roster").get_json() == before


@pytest.mark.parametrize("role", ["participant", "service"])
def test_the_roster_is_closed_to_participants_and_services(
    api: Api, scene: Scene, role: str
) -> None:
    response = api.get(f"/tracking/cohorts/{scene.cohort_id}/roster", role=role)
    assert_problem(response, 403)


def test_the_roster_needs_a_token(api: Api, scene: Scene) -> None:
    response = api.client.get(f"/tracking/cohorts/{scene.cohort_id}/roster")
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


# Status --------------------------------------------------------------------------------------


def sources(api: Api, role: str = "coordinator") -> dict[str, dict]:
    response = api.get("/tracking/status", role=role)
    assert response.status_code == 200
    body = response.get_json()
    assert body["feed"] == "embedded"
    return {s["source"]: s for s in body["sources"]}


def test_status_shows_no_lag_after_a_drain(api: Api, scene: Scene) -> None:
    enrolment = sources(api)["enrolment"]
    head = api.enrolment.head()  # 1 programme + 1 cohort + 2 people + 2 enrolments
    assert head == 6
    assert (enrolment["position"], enrolment["head"], enrolment["lag"]) == (head, head, 0)
    assert enrolment["events_applied"] == 6
    assert enrolment["last_event_position"] == head
    assert enrolment["dead_lettered"] == 0
    assert enrolment["last_error"] is None
    assert sources(api)["assessment"]["lag"] == 0


def test_status_shows_lag_after_a_command_until_the_next_drain(api: Api, scene: Scene) -> None:
    api.person(employee_number="E-late")
    api.embedded.tracking.projector.refresh_heads()
    enrolment = sources(api, role="service")["enrolment"]
    assert (enrolment["position"], enrolment["head"], enrolment["lag"]) == (6, 7, 1)

    api.embedded.tracking.projector.drain()
    enrolment = sources(api, role="auditor")["enrolment"]
    assert (enrolment["position"], enrolment["head"], enrolment["lag"]) == (7, 7, 0)


def test_status_before_anything_is_projected_shows_the_full_backlog(api: Api) -> None:
    api.programme()
    api.programme()
    api.embedded.tracking.projector.refresh_heads()
    enrolment = sources(api)["enrolment"]
    assert (enrolment["position"], enrolment["head"], enrolment["lag"]) == (None, 2, 2)


@pytest.mark.parametrize("role", ["participant", "coach"])
def test_status_is_closed_to_participants_and_coaches(api: Api, role: str) -> None:
    assert_problem(api.get("/tracking/status", role=role), 403)


def test_status_reports_the_projector_errors_newest_first(api: Api) -> None:
    # A feed outage is recorded against the feed, not a source: it must still be visible.
    api.embedded.tracking.readmodels.record_error("embedded", "OSError: first")
    api.embedded.tracking.readmodels.record_error("enrolment", "dead-lettered offset 3: bad")
    body = api.get("/tracking/status", role="auditor").get_json()
    assert [(e["source"], e["error"]) for e in body["errors"]] == [
        ("enrolment", "dead-lettered offset 3: bad"),
        ("embedded", "OSError: first"),
    ]
    assert all(e["at"] for e in body["errors"])


def enrol_people(api: Api, cohort_id: str, count: int) -> list[str]:
    people = []
    for n in range(count):
        person_id = api.person(employee_number=f"PAGE-{n}")
        assert api.enrol(cohort_id, person_id).status_code == 201
        people.append(person_id)
    return people


def test_the_roster_and_the_enrolment_list_page_through_everyone_once_in_order(
    api: Api,
) -> None:
    cohort_id = api.cohort(capacity=20)
    people = enrol_people(api, cohort_id, 7)
    api.embedded.tracking.projector.drain()
    for path, key in (
        (f"/tracking/cohorts/{cohort_id}/roster", "participants"),
        (f"/enrolment/cohorts/{cohort_id}/enrolments", "items"),
    ):
        seen: list[str] = []
        after: int | None = 0
        pages = 0
        while after is not None:
            page = api.get(f"{path}?after={after}&limit=3").get_json()
            assert page["count"] == 7
            assert len(page[key]) <= 3
            seen.extend(p["person_id"] for p in page[key])
            after = page["next_after"]
            pages += 1
        assert seen == people, path
        assert pages == 3, path


def test_a_full_last_page_says_there_is_nothing_after_it(api: Api) -> None:
    cohort_id = api.cohort(capacity=5)
    enrol_people(api, cohort_id, 4)
    api.embedded.tracking.projector.drain()
    roster = api.get(f"/tracking/cohorts/{cohort_id}/roster?limit=4").get_json()
    listing = api.get(f"/enrolment/cohorts/{cohort_id}/enrolments?limit=4").get_json()
    assert len(roster["participants"]) == len(listing["items"]) == 4
    assert roster["next_after"] is None and listing["next_after"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1", "limit=lots"])
def test_bad_page_arguments_are_named_in_a_422(api: Api, scene: Scene, query: str) -> None:
    field = query.split("=")[0]
    for path in (
        f"/tracking/cohorts/{scene.cohort_id}/roster",
        f"/enrolment/cohorts/{scene.cohort_id}/enrolments",
    ):
        assert_problem(api.get(f"{path}?{query}"), 422, {field})


def test_every_auditor_query_is_logged_and_readable(api: Api, scene: Scene) -> None:
    path = f"/tracking/cohorts/{scene.cohort_id}/funnel"
    assert api.get(path, role="auditor", sub="auditor-a").status_code == 200
    assert api.get(path + "?format=xml", role="auditor", sub="auditor-a").status_code == 422
    assert api.get(path, role="coordinator").status_code == 200  # not an auditor: not logged
    log = api.get("/tracking/audit/queries", role="hr_admin").get_json()
    assert [(q["subject"], q["path"], q["query"], q["status"]) for q in log["items"]] == [
        ("auditor-a", path, "", 200),
        ("auditor-a", path, "format=xml", 422),
    ]
    assert log["count"] == 2 and log["next_after"] is None
    page = api.get("/tracking/audit/queries?limit=1", role="auditor").get_json()
    assert page["next_after"] == 1 and len(page["items"]) == 1
    assert api.get("/tracking/audit/queries", role="coordinator").status_code == 403
