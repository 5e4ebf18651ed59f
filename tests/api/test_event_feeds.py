"""The event feeds and the contract a subscriber reads over HTTP.

Every event on every feed validates, with a stock JSON Schema validator, against the schema its
``dataschema`` URL serves; the feed ends (``next_after`` null), filters and long-polls; the
OpenAPI documents reference the served schemas.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from werkzeug.test import Client

from services.runtime import Embedded
from shared.auth import issue_token
from shared.web import feed as feed_module
from tests.api.helpers import SECRET, Api, build
from tests.api.test_feed_minimised import caller
from tests.support import planted as scene

FEEDS = ("/enrolment/events", "/assessment/events", "/assessment/restricted/events")
TRACKING = {"Authorization": f"Bearer {issue_token(SECRET, 'tracking', 'service')}"}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    built = build(Path(tmp_path_factory.mktemp("feeds")))
    try:
        scene.plant(caller(Client(built.wsgi)), SECRET)
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def client(runtime: Embedded) -> Client:
    return Client(runtime.wsgi)


def get(client: Client, path: str, status: int = 200) -> Any:
    response = client.get(path, headers=TRACKING)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def every_event(client: Client, path: str, query: str = "", limit: int = 13) -> list[Any]:
    events, after, pages = [], 0, 0
    while True:
        page = get(client, f"{path}?after={after}&limit={limit}{query}")
        events += page["events"]
        pages += 1
        assert pages < 500, "the feed never signalled its end"
        if page["next_after"] is None:
            assert page["head"] >= after
            return events
        after = page["next_after"]


@pytest.mark.parametrize("path", FEEDS)
def test_every_event_validates_against_the_schema_its_dataschema_serves(
    client: Client, path: str
) -> None:
    events = every_event(client, path)
    assert len(events) > 10
    validators: dict[str, Draft202012Validator] = {}
    for event in events:
        url = event["dataschema"]
        if url not in validators:
            response = client.get(urlsplit(url).path)  # served without a token
            assert response.status_code == 200, url
            assert response.headers["Content-Type"] == "application/schema+json"
            validators[url] = Draft202012Validator(
                response.get_json(), format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        validators[url].validate(event["data"])
        assert isinstance(event["sequence"], str) and event["sequence"] == (
            f"{event['position']:020d}"
        )
        assert None not in event.values()  # null extensions are left out
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences)


def test_an_unknown_schema_is_a_404_naming_the_types(client: Client) -> None:
    response = client.get("/enrolment/schemas/fi.polku.enrolment.CohortPlanned/9")
    assert response.status_code == 404
    assert "fi.polku.enrolment.CohortPlanned" in response.get_json()["detail"]
    other = client.get("/enrolment/schemas/fi.polku.assessment.InstrumentDefined/1")
    assert other.status_code == 404  # each service serves only its own types


def test_the_openapi_document_references_the_served_schemas(client: Client) -> None:
    document = get(client, "/assessment/openapi.json")
    page = document["components"]["schemas"]["FeedPage"]
    assert page["properties"]["events"]["items"] == {"$ref": "#/components/schemas/CloudEvent"}
    data = document["components"]["schemas"]["CloudEvent"]["properties"]["data"]["anyOf"]
    refs = {item["$ref"] for item in data}
    assert "http://127.0.0.1:8000/assessment/schemas/fi.polku.assessment.InstrumentDefined/1" in (
        refs
    )
    restricted = document["components"]["schemas"]["RestrictedCloudEvent"]
    assert any(
        r["$ref"].endswith("AssessmentResultRecorded/1")
        for r in restricted["properties"]["data"]["anyOf"]
    )
    feed = document["paths"]["/assessment/events"]["get"]
    assert {p["name"] for p in feed["parameters"]} >= {"type", "subject", "since", "until", "wait"}


def test_the_asyncapi_document_is_served(client: Client) -> None:
    document = get(client, "/assessment/asyncapi.json")
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {"events", "restricted"}


def test_filters_by_types_subject_and_time(client: Client) -> None:
    everything = every_event(client, "/enrolment/events")
    wanted = ["fi.polku.enrolment.ParticipantEnrolled", "fi.polku.enrolment.CohortPlanned"]
    query = "".join(f"&type={t}" for t in wanted)
    typed = every_event(client, "/enrolment/events", query, limit=2)
    assert typed == [e for e in everything if e["type"] in wanted]
    assert {e["type"] for e in typed} == set(wanted)
    subject = typed[-1]["subject"]
    about = every_event(client, "/enrolment/events", f"&subject={subject}")
    assert about == [e for e in everything if e["subject"] == subject]
    middle = everything[len(everything) // 2]["time"]
    since = every_event(client, "/enrolment/events", f"&since={middle.replace('+', '%2B')}")
    until = every_event(client, "/enrolment/events", f"&until={middle.replace('+', '%2B')}")
    assert sorted(since + until, key=lambda e: e["position"]) == everything
    assert since and until and all(e["time"] >= middle for e in since)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("type=fi.polku.enrolment.Nope", "type"),
        ("since=2020-01-01T00:00:00", "since"),  # no offset: ambiguous
        ("since=2020-01-02T00:00:00Z&until=2020-01-01T00:00:00Z", "until"),
        ("wait=21", "wait"),
        ("wait=-1", "wait"),
        ("subject=", "subject"),
    ],
)
def test_bad_feed_parameters_are_a_422_naming_them(client: Client, query: str, named: str) -> None:
    response = client.get(f"/enrolment/events?{query}", headers=TRACKING)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert named in response.get_data(as_text=True)


def test_a_long_poll_answers_when_an_event_arrives(client: Client, runtime: Embedded) -> None:
    head = get(client, "/enrolment/events?after=0&limit=1")["head"]
    api = Api(runtime, client)
    timer = threading.Timer(0.5, api.programme, kwargs={"name": "Arrives while waiting"})
    timer.start()
    try:
        page = get(client, f"/enrolment/events?after={head}&wait=10")
    finally:
        timer.join()
    assert [e["type"] for e in page["events"]] == ["fi.polku.enrolment.ProgrammeDefined"]
    assert page["next_after"] is None


def test_a_long_poll_with_nothing_new_answers_empty_at_its_deadline(client: Client) -> None:
    head = get(client, "/enrolment/events?after=0&limit=1")["head"]
    page = get(client, f"/enrolment/events?after={head}&wait=1")
    assert (page["events"], page["next_after"], page["head"]) == ([], None, head)


def test_long_polls_beyond_the_limit_are_answered_at_once(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every waiting slot is taken: a request must not wait, so its thread stays free.
    monkeypatch.setattr(feed_module, "_waiters", threading.BoundedSemaphore(1))

    def no_waiting(seconds: float) -> None:
        raise AssertionError("a long-poll waited beyond the limit of waiting requests")

    feed_module._waiters.acquire()
    try:
        head = get(client, "/enrolment/events?after=0&limit=1")["head"]
        monkeypatch.setattr(feed_module.time, "sleep", no_waiting)
        page = get(client, f"/enrolment/events?after={head}&wait=20")
    finally:
        feed_module._waiters.release()
    assert (page["events"], page["next_after"]) == ([], None)
