"""A small, clearly synthetic example loaded through the public HTTP API.

It defines the TEMPO programme, plans a 2020 cohort, registers a few made-up people, enrols
them, and waits until the tracking roster shows them: the whole slice, end to end.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
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


def load(base_url: str, token: str, timeout: float = 30.0) -> dict[str, Any]:
    """Loads the example and returns the cohort id and the roster tracking reports."""
    client = Client(base_url, token)
    programme = client.call(
        "POST",
        "/enrolment/programmes",
        {
            "name": "TEMPO expert coaching (synthetic demo)",
            "organisation": "Ministry of Economic Affairs and Employment",
            "description": "Coaching for experts; the people below are made up.",
            "goals": ["Networks across unit boundaries", "Self-leadership"],
        },
    )
    cohort = client.call(
        "POST",
        "/enrolment/cohorts",
        {
            "programme_id": programme["id"],
            "name": "TEMPO 2020 pilot",
            "capacity": 20,
            "start_date": "2020-02-01",
            "end_date": "2020-06-30",
        },
    )
    for number, (name, department, unit) in enumerate(PEOPLE, start=1):
        person = client.call(
            "POST",
            "/enrolment/people",
            {
                "full_name": name,
                "email": f"synthetic.expert{number}@example.invalid",
                "employee_number": f"DEMO-{number:04d}",
                "organisation": "Ministry of Economic Affairs and Employment",
                "department": department,
                "unit": unit,
            },
        )
        client.call(
            "POST", f"/enrolment/cohorts/{cohort['id']}/enrolments", {"person_id": person["id"]}
        )
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
