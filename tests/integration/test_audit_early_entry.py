"""The access log on PostgreSQL sends a read's entry as soon as the view has its result and
waits for its commit before the answer leaves (shared/audit/web.py): on a real PostgreSQL with
the pilot loaded, every personal read of the three services is logged once, naming exactly the
people the answer sent names; a read whose entry cannot be written is refused (503) with no
personal data in it; and an answer that differs from the view's result gets a second entry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Response

from services.audit_routes import PERSONAL_READS
from services.runtime import Embedded, build_embedded
from shared.audit.access import AccessLog, Filters
from shared.audit.people import people_in
from shared.audit.setup import Audit
from shared.auth import issue_token
from shared.settings import Settings
from tests.support.pilot import Pilot, load_pilot
from tests.support.postgres_server import scratch_database

SECRET = "early-entry-secret-0123456789abcdef"
SERVICES = ("enrolment", "assessment", "tracking")


@pytest.fixture(scope="module")
def early_url(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url) as url:
        yield url


def runtime_on(url: str, data_dir: Path) -> Embedded:
    return build_embedded(Settings(data_dir=data_dir, jwt_secret=SECRET, database_url=url))


@pytest.fixture(scope="module")
def pilot(early_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pilot]:
    runtime = runtime_on(early_url, tmp_path_factory.mktemp("early"))
    loaded = load_pilot(runtime, SECRET)
    runtime.tracking.projector.drain()
    yield loaded
    runtime.close()


def audit_of(pilot: Pilot, service: str) -> Audit:
    return pilot.runtime.apps[service].extensions["polku.audit"]  # type: ignore[no-any-return]


def last_entry(log: AccessLog) -> dict[str, Any] | None:
    entries = log.query(Filters(), 0, 1_000_000)
    return entries[-1] if entries else None


def auth(pilot: Pilot) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(pilot.secret, 'hr-early', 'hr_admin')}"}


def personal_paths(pilot: Pilot) -> list[tuple[str, str]]:
    """Every personal GET route of the three services, its ids filled from the pilot."""
    ids = {
        "person_id": next(iter(pilot.loaded.people.values())),
        "cohort_id": pilot.loaded.cohort_id,
        "programme_id": pilot.loaded.programme_id,
        "session_id": pilot.loaded.sessions[0],
        "group_id": next(iter(pilot.loaded.groups.values())),
    }
    results = pilot.json("/assessment/results", "hr_admin")["items"]
    ids |= {"result_id": results[0]["id"], "instrument_id": results[0]["instrument_id"]}
    profiles = pilot.json("/assessment/style-profiles", "hr_admin")["items"]
    if profiles:
        ids["profile_id"] = profiles[0]["id"]
    found = []
    for service in SERVICES:
        app, personal = pilot.runtime.apps[service], PERSONAL_READS[service]
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or not personal.matches(rule.rule):
                continue
            path = rule.rule
            for name in rule.arguments:
                value = ids.get(name, str(uuid.uuid4()))
                path = path.replace(f"<uuid:{name}>", value).replace(f"<{name}>", value)
            found.append((service, path))
    return found


def test_every_personal_read_is_logged_once_with_the_people_it_sent(pilot: Pilot) -> None:
    paths = personal_paths(pilot)
    assert len(paths) > 30
    begun = {service: audit_of(pilot, service).access.begun for service in SERVICES}
    checked = 0
    for service, path in paths:
        log = audit_of(pilot, service).access
        before = last_entry(log)
        response = pilot.get(path, "hr_admin")
        entry = last_entry(log)
        assert entry is not None and entry != before, path
        assert (entry["outcome"], entry["resource"].split("?")[0]) == (response.status_code, path)
        named = people_in(response.get_data(), path.endswith("/people"))
        assert set(entry["person_ids"]) - set(named) <= {p for p in path.split("/") if len(p) == 36}
        assert set(named) <= set(entry["person_ids"]), path
        checked += response.status_code == 200
    assert checked > 25
    for service in SERVICES:
        audit = audit_of(pilot, service)
        assert audit.corrected == 0, service
        assert audit.access.begun > begun[service], f"{service}: no entry was sent early"


def test_a_purpose_postgresql_could_not_store_is_refused_before_anything_is_sent(
    pilot: Pilot,
) -> None:
    person = next(iter(pilot.loaded.people.values()))
    log = audit_of(pilot, "tracking").access
    assert pilot.get(f"/tracking/people/{person}/timeline", "hr_admin").status_code == 200
    before, begun = last_entry(log), log.begun
    response = pilot.client.get(
        f"/tracking/people/{person}/timeline",
        headers={**auth(pilot), "X-Purpose": "case\x0042"},
    )
    assert response.status_code == 400
    assert "entries" not in response.get_json()
    assert (last_entry(log), log.begun) == (before, begun)


def test_a_read_whose_entry_cannot_be_written_is_refused(pilot: Pilot, early_url: str) -> None:
    person = next(iter(pilot.loaded.people.values()))
    path = f"/tracking/people/{person}/timeline"
    assert pilot.get(path, "hr_admin").status_code == 200  # the head is known: sent early
    with psycopg.connect(early_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE tracking_access_log RENAME TO tracking_access_log_away")
        try:
            refused = pilot.get(path, "hr_admin")
        finally:
            admin.execute("ALTER TABLE tracking_access_log_away RENAME TO tracking_access_log")
    assert refused.status_code == 503
    assert refused.get_json()["title"] == "Service Unavailable"
    assert "entries" not in refused.get_json()  # nothing of the timeline went out
    again = pilot.get(path, "hr_admin")
    assert again.status_code == 200
    assert last_entry(audit_of(pilot, "tracking").access)["resource"] == path  # type: ignore[index]


def test_an_answer_that_differs_from_the_result_gets_a_second_entry(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    runtime = runtime_on(fresh_postgres_url, tmp_path)
    try:
        pilot = load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
        stranger = str(uuid.uuid4())
        app = runtime.apps["tracking"]

        @app.after_request  # runs before the access log's hook (registered later, run first)
        def rewrite(response: Response) -> Response:
            if "/timeline" in (app.extensions.get("test.rewrite") or ""):
                response.set_data(response.get_data().replace(b'"count"', b'"x_person_id": "'
                                  + stranger.encode() + b'", "count"'))  # fmt: skip
            return response

        person = next(iter(pilot.loaded.people.values()))
        path = f"/tracking/people/{person}/timeline"
        app.extensions["test.rewrite"] = path
        audit = audit_of(pilot, "tracking")
        before = len(audit.access.query(Filters(), 0, 1_000_000))
        assert pilot.get(path, "hr_admin").status_code == 200
        entries = audit.access.query(Filters(), 0, 1_000_000)[before:]
        assert [e["person_ids"] for e in entries] == [[person], [person, stranger]]
        assert audit.corrected == 1
    finally:
        runtime.close()
