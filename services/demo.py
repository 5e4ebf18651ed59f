"""The demo: the TEMPO 2020 pilot (synthetic people, clearly labelled) loaded through the API.

It replays the enrolment side (the programme, 60 people, the cohort's sessions, attendance,
peer groups, completions, careers) and the assessment side (behaviour assessments, styles, the
reaction survey, staff-survey indices), then waits until tracking shows the cohort's roster
and has applied every event, and fetches the cohort's Kirkpatrick summary.

A Polku that already holds the pilot is not loaded again. A load that was interrupted is
refused with advice: its reaction-survey tokens are shown once and stored nowhere, so it
cannot be resumed without answering twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from services.scenario import assessment, enrolment
from services.scenario.client import Call, HttpCall, ScenarioError
from shared.auth import ROLES, issue_token

KEYS = "polku-demo"
"""The prefix of the demo's idempotency keys."""


class DemoError(RuntimeError):
    pass


def tokens(secret: str) -> dict[str, str]:
    """A token per role; the coach's subject is the one the scenario assigns to the cohort."""
    subjects = {"coach": enrolment.COACH}
    return {role: issue_token(secret, subjects.get(role, f"demo-{role}"), role) for role in ROLES}


def load(base_url: str, secret: str, timeout: float = 60.0) -> dict[str, Any]:
    """Loads the pilot into the Polku at ``base_url`` (unless it holds it) and returns the
    cohort, the counts loaded and the tracking roster."""
    call = HttpCall(base_url, tokens(secret), correlation_id="polku-demo")
    try:
        cohort = _loaded_cohort(call)
        if cohort is None:
            loaded = enrolment.load(call, prefix=KEYS)
            assessed = assessment.load(call, loaded.cohort_id, loaded.people)
            cohort_id = loaded.cohort_id
            summary: dict[str, Any] = {
                "cohort_id": cohort_id,
                "loaded": True,
                "people": len(loaded.people),
                "sessions": len(loaded.sessions),
                "career_moves": len(loaded.moves),
                "staff_survey_refused": len(assessed["staff_survey_refused"]),
            }
        else:
            cohort_id = cohort["id"]
            summary = {"cohort_id": cohort_id, "loaded": False}
    except ScenarioError as exc:
        raise DemoError(str(exc)) from None
    summary["roster"] = _wait_for_roster(call, cohort_id, timeout)
    _wait_until_projected(call, timeout)
    summary["kirkpatrick"] = call(
        "GET", f"/tracking/cohorts/{cohort_id}/kirkpatrick", role="coordinator"
    )
    return summary


def _loaded_cohort(call: Call) -> dict[str, Any] | None:
    """The pilot's cohort if an earlier load completed it; None if nothing was loaded."""
    programme = next(
        (
            p
            for p in _listed(call, "/enrolment/programmes")
            if p["name"] == enrolment.PROGRAMME["name"]
        ),
        None,
    )
    if programme is None:
        return None
    cohort = next(
        (
            c
            for c in _listed(call, "/enrolment/cohorts")
            if c["programme_id"] == programme["id"] and c["name"] == enrolment.COHORT["name"]
        ),
        None,
    )
    if cohort is None or cohort["status"] != "completed":
        raise DemoError(
            "an earlier demo load was interrupted, and it cannot be resumed safely; "
            "stop Polku, remove its data (make clean) and load the demo again"
        )
    return cohort


def _listed(call: Call, path: str) -> Iterator[dict[str, Any]]:
    after: int | None = 0
    while after is not None:
        page = call("GET", f"{path}?after={after}&limit=500")
        yield from page["items"]
        after = page["next_after"]


def _wait_until_projected(call: Call, timeout: float) -> None:
    """Waits until tracking has applied everything both services have published."""
    deadline = time.monotonic() + timeout
    while True:
        status = call("GET", "/tracking/status", role="coordinator")
        sources = status["sources"]
        if sources and all(s["head"] is not None and s["lag"] == 0 for s in sources):
            return
        if time.monotonic() > deadline:
            raise DemoError(f"tracking did not catch up within {timeout:.0f} s")
        time.sleep(0.1)


def _wait_for_roster(call: Call, cohort_id: str, timeout: float) -> dict[str, Any]:
    expected = len(enrolment.PARTICIPANTS)
    deadline = time.monotonic() + timeout
    while True:
        try:
            roster: dict[str, Any] = call(
                "GET", f"/tracking/cohorts/{cohort_id}/roster?limit=500", role="coordinator"
            )
            if roster["count"] == expected and all(p["department"] for p in roster["participants"]):
                return roster
        except ScenarioError:
            pass  # the cohort is not projected yet
        if time.monotonic() > deadline:
            raise DemoError(f"the roster did not show {expected} people within {timeout:.0f} s")
        time.sleep(0.1)
