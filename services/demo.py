"""A small, clearly synthetic example loaded through the public HTTP API.

It defines the TEMPO programme, plans a 2020 cohort, registers a few made-up people, enrols
them, and waits until the tracking roster shows them: the whole slice, end to end.

Loading it again (``polku up --demo`` on the same ``var/``) finds the programme, the cohort and
the people it made before and adds only what is missing, so nothing is duplicated.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

PEOPLE = [
    ("Synthetic Expert 1", "Enterprise and Innovation Department", "Innovation Policy Unit"),
    ("Synthetic Expert 2", "Employment and Wellbeing Department", "Labour Market Unit"),
    ("Synthetic Expert 3", "Energy Department", "Energy Markets Unit"),
    ("Synthetic Expert 4", "Enterprise and Innovation Department", "Industrial Policy Unit"),
    ("Synthetic Expert 5", "Administrative Department", "Legal Affairs Unit"),
]


class DemoError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "X-Correlation-ID": "polku-demo",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise DemoError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None


PROGRAMME = {
    "name": "TEMPO expert coaching (synthetic demo)",
    "organisation": "Ministry of Economic Affairs and Employment",
    "description": "Coaching for experts; the people below are made up.",
    "goals": ["Networks across unit boundaries", "Self-leadership"],
}
COHORT = {
    "name": "TEMPO 2020 pilot",
    "capacity": 20,
    "start_date": "2020-02-01",
    "end_date": "2020-06-30",
}


def _listed(client: Client, path: str) -> Iterator[dict[str, Any]]:
    after: int | None = 0
    while after is not None:
        page = client.call("GET", f"{path}?after={after}&limit=500")
        yield from page["items"]
        after = page["next_after"]


def _find_or_create(
    client: Client, path: str, matches: Callable[[dict[str, Any]], bool], body: dict[str, Any]
) -> dict[str, Any]:
    found = next((item for item in _listed(client, path) if matches(item)), None)
    return found if found is not None else client.call("POST", path, body)


def load(base_url: str, token: str, timeout: float = 30.0) -> dict[str, Any]:
    """Loads the example (or completes an earlier load) and returns the cohort and roster.

    ``token`` must be allowed to list people (hr_admin): an earlier load may have registered
    someone it did not get to enrol, and they are found by employee number, not registered
    twice.
    """
    client = Client(base_url, token)
    programme = _find_or_create(
        client, "/enrolment/programmes", lambda p: p["name"] == PROGRAMME["name"], PROGRAMME
    )
    cohort = _find_or_create(
        client,
        "/enrolment/cohorts",
        lambda c: c["programme_id"] == programme["id"] and c["name"] == COHORT["name"],
        {"programme_id": programme["id"], **COHORT},
    )
    registered = {
        person["employee_number"]: person["id"] for person in _listed(client, "/enrolment/people")
    }
    enrolments = f"/enrolment/cohorts/{cohort['id']}/enrolments"
    enrolled = {item["person_id"] for item in _listed(client, enrolments)}
    for number, (name, department, unit) in enumerate(PEOPLE, start=1):
        employee_number = f"DEMO-{number:04d}"
        person_id = registered.get(employee_number)
        if person_id is None:  # not even registered by an earlier, interrupted load
            person_id = client.call(
                "POST",
                "/enrolment/people",
                {
                    "full_name": name,
                    "email": f"synthetic.expert{number}@example.invalid",
                    "employee_number": employee_number,
                    "organisation": "Ministry of Economic Affairs and Employment",
                    "department": department,
                    "unit": unit,
                },
            )["id"]
        if person_id not in enrolled:
            client.call("POST", enrolments, {"person_id": person_id})
    deadline = time.monotonic() + timeout
    while True:
        try:
            roster = client.call("GET", f"/tracking/cohorts/{cohort['id']}/roster")
            if roster["count"] == len(PEOPLE) and all(
                p["department"] for p in roster["participants"]
            ):
                return {"cohort_id": cohort["id"], "roster": roster}
        except DemoError:
            pass  # the cohort is not projected yet
        if time.monotonic() > deadline:
            raise DemoError(f"the roster did not show {len(PEOPLE)} people within {timeout}s")
        time.sleep(0.1)
