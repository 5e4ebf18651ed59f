"""Concurrent commands over real HTTP: capacity holds, the waitlist keeps first-come order,
nothing is half-written."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

from werkzeug.serving import make_server

from services.runtime import Embedded
from shared.auth import issue_token
from shared.settings import Settings
from tests.support.slice import SECRET, Http


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        assert error.headers["Content-Type"] == "application/problem+json"
        return int(error.code), json.loads(error.read())


def race_to_enrol(
    runtime: Embedded, capacity: int, racers: int
) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """``racers`` people enrol in one cohort at the same moment over real HTTP."""
    http = Http(runtime.wsgi)
    programme = http.post("/enrolment/programmes", {"name": "T", "organisation": "TEM"})
    cohort = http.post(
        "/enrolment/cohorts",
        {
            "programme_id": programme["id"],
            "name": "raced",
            "capacity": capacity,
            "start_date": "2020-02-01",
            "end_date": "2020-06-30",
        },
    )
    people = [
        http.post(
            "/enrolment/people",
            {
                "full_name": f"Kilpailija {n}",
                "email": f"k{n}@example.invalid",
                "employee_number": f"K{n}",
                "organisation": "TEM",
                "department": "D",
                "unit": "U",
            },
        )["id"]
        for n in range(racers)
    ]
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/enrolment/cohorts/{cohort['id']}/enrolments"
    token = issue_token(SECRET, "racer", "coordinator")
    answers: list[tuple[int, dict[str, Any]]] = []
    barrier = threading.Barrier(len(people))

    def enrol(person_id: str) -> None:
        barrier.wait(timeout=30)
        answers.append(post(url, token, {"person_id": person_id}))

    threads = [threading.Thread(target=enrol, args=(p,)) for p in people]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.shutdown()
    return cohort["id"], answers


def test_concurrent_enrolments_never_exceed_capacity(
    embedded_settings: Settings, start: Callable[[Settings], Embedded]
) -> None:
    runtime = start(embedded_settings)
    cohort_id, answers = race_to_enrol(runtime, capacity=5, racers=16)
    # A command that loses a race is re-run on fresh state, so the answers are what they
    # would have been one after another: exactly five places taken, the rest waitlisted in
    # the order their commands won, each with its own position.
    assert Counter(code for code, _ in answers) == {201: 16}, answers
    statuses = Counter(body["status"] for _, body in answers)
    assert statuses == {"enrolled": 5, "waitlisted": 11}, answers
    positions = sorted(b["waitlist_position"] for _, b in answers if b["status"] == "waitlisted")
    assert positions == list(range(1, 12))
    cohort = runtime.services["enrolment"].application.cohort(UUID(cohort_id))
    assert len(cohort.enrolled) == 5
    assert len(cohort.waitlist) == 11


def test_simultaneous_enrolments_with_room_for_all_all_succeed(
    embedded_settings: Settings, start: Callable[[Settings], Embedded]
) -> None:
    """Losing a race is never the caller's problem when the answer in sequence is "yes"."""
    runtime = start(embedded_settings)
    cohort_id, answers = race_to_enrol(runtime, capacity=100, racers=32)
    assert Counter(code for code, _ in answers) == {201: 32}, answers
    assert {body["status"] for _, body in answers} == {"enrolled"}
    enrolled = runtime.services["enrolment"].application.cohort(UUID(cohort_id)).enrolled
    assert len(enrolled) == 32
