"""The funnel and attendance view on the TEMPO pilot, against figures from the scenario data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from services.scenario import enrolment
from services.scenario.organisation import PARTICIPANTS
from tests.api.helpers import assert_problem
from tests.support.pilot import Pilot

ATTENDED = ("present", "partial")


def expected_sessions() -> list[tuple[str, str, int, int]]:
    """(title, delivery, attended, expected) per session, from the scenario's own data."""
    rows = []
    for index, session in enumerate(enrolment.SESSIONS):
        statuses = [enrolment.attendance(m.key, index) for m in PARTICIPANTS]
        recorded = [s[0] for s in statuses if s is not None]
        delivery = "in_person" if index == 0 else "virtual"
        rows.append((session.title, delivery, sum(s in ATTENDED for s in recorded), len(recorded)))
    return rows


def test_the_funnel_counts_every_stage_of_the_pilot(pilot: Pilot) -> None:
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel")
    stages = {name: c["value"] for name, c in view["stages"].items()}
    n = len(PARTICIPANTS)
    assert stages == {
        "invited": n,
        "accepted": n,
        "declined": 0,
        "waitlisted": 0,
        "enrolled": n,
        "completed": n - 1,
        "withdrawn": 1,
    }
    assert view["rates"]["completion"]["value"] == round((n - 1) / n, 4)
    assert view["rates"]["withdrawal"]["value"] == round(1 / n, 4)
    assert view["status"] == "completed"


def test_attendance_per_session_and_by_delivery_match_the_scenario(pilot: Pilot) -> None:
    attendance = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel")["attendance"]
    expected = expected_sessions()
    got = [
        (s["title"], s["delivery"], sum(s["counts"][k]["value"] for k in ATTENDED),
         s["expected"]["value"])
        for s in attendance["sessions"]
    ]  # fmt: skip
    assert got == expected
    for mode in ("in_person", "virtual"):
        attended = sum(a for _, d, a, _ in expected if d == mode)
        total = sum(e for _, d, _, e in expected if d == mode)
        assert attendance["by_delivery"][mode]["rate"]["value"] == round(attended / total, 4)
    difference = attendance["virtual_minus_in_person"]["value"]
    assert difference == pytest.approx(
        attendance["by_delivery"]["virtual"]["rate"]["value"]
        - attendance["by_delivery"]["in_person"]["rate"]["value"],
        abs=1e-4,
    )
    assert attendance["sessions"][1]["original_delivery"] == "in_person"


def test_each_participant_has_an_attendance_rate_for_coordinators(pilot: Pilot) -> None:
    attendance = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel", "coordinator")[
        "attendance"
    ]
    by_key = {pilot.key_of(p["person_id"]): p for p in attendance["participants"]}
    withdrawn = by_key[enrolment.WITHDRAWN]
    recorded = [
        enrolment.attendance(enrolment.WITHDRAWN, i) for i in range(len(enrolment.SESSIONS))
    ]
    assert withdrawn["sessions"] == sum(r is not None for r in recorded)
    assert withdrawn["attended"] == sum(r is not None and r[0] in ATTENDED for r in recorded)


def test_the_funnel_exports_one_csv_row_per_session(pilot: Pilot) -> None:
    response = pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/funnel", "auditor", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["title"] for r in rows] == [s.title for s in enrolment.SESSIONS]
    assert rows[0]["delivery"] == "in_person" and rows[1]["original_delivery"] == "in_person"


def test_as_of_answers_from_the_events_recorded_by_then(pilot: Pilot) -> None:
    before_anything = "2000-01-01T00:00:00+00:00"
    response = pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/funnel", as_of=before_anything)
    assert_problem(response, 404)
    now = dt.datetime.now(dt.UTC).isoformat()
    then = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel", as_of=now)
    live = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel")
    assert then["as_of"] is not None
    assert {k: v for k, v in then.items() if k != "as_of"} == {
        k: v for k, v in live.items() if k != "as_of"
    }


def test_as_of_in_the_future_or_malformed_is_a_named_422(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/funnel"
    assert_problem(pilot.get(path, as_of="2999-01-01T00:00:00+00:00"), 422, {"as_of"})
    assert_problem(pilot.get(path, as_of="yesterday"), 422, {"as_of"})
    assert_problem(pilot.get(path, as_of="2020-01-01T00:00:00"), 422, {"as_of"})  # no offset
    assert_problem(pilot.get(path, format="xml"), 422, {"format"})


@pytest.mark.parametrize("role", ["participant", "service"])
def test_participants_and_services_may_not_read_cohort_aggregates(pilot: Pilot, role: str) -> None:
    assert_problem(pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/funnel", role), 403)
