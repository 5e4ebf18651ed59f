"""The TEMPO 2020 pilot replayed through the enrolment API: its states and events match the
scenario's own data (computed here from the data, never from what the service stored)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from services.scenario import enrolment as scenario
from services.scenario.enrolment import Loaded
from services.scenario.organisation import DEPARTMENTS, MEMBERS, PARTICIPANTS
from shared.auth import subject_reference
from tests.api.helpers import SECRET, Api
from tests.support.scenario import ClientCall


@pytest.fixture
def pilot(api: Api) -> tuple[Api, ClientCall, Loaded]:
    call = ClientCall(api.client, SECRET)
    return api, call, scenario.load(call)


def listed(call: ClientCall, path: str, key: str = "items") -> Iterator[dict[str, Any]]:
    after: int | None = 0
    while after is not None:
        separator = "&" if "?" in path else "?"
        page = call("GET", f"{path}{separator}after={after}&limit=7")  # small: pages are tested
        yield from page[key]
        after = page["next_after"]


def published(call: ClientCall) -> list[dict[str, Any]]:
    events, after = [], 0
    while True:
        page = call("GET", f"/enrolment/events?after={after}&limit=200")
        if not page["events"]:
            return events
        events += page["events"]
        if page["next_after"] is None:  # the head
            return events
        after = page["next_after"]


def expected_scope(move: scenario.Move) -> str:
    """What the scope must be, from the scenario's own placements."""
    if move.scope:
        return move.scope
    if move.kind == "left_state":
        return "outside_state"
    member = MEMBERS[move.key]
    department, unit = member.department, member.unit
    key, new_department, new_unit, effective = scenario.PLACEMENT_CHANGE
    if move.key == key and move.start_date >= effective:
        department, unit = new_department, new_unit
    permanent = ("transfer", "new_post", "promotion")
    for earlier in scenario.MOVES:  # permanent moves change the placement from their start
        if (
            earlier.key == move.key
            and earlier.kind in permanent
            and earlier.start_date <= move.start_date
            and earlier is not move
        ):
            department, unit = earlier.department or department, earlier.unit or unit
    if move.department != department:
        return "other_department"
    return "same_unit" if move.unit == unit else "other_unit"


def test_the_cohort_runs_its_whole_lifecycle(pilot: tuple[Api, ClientCall, Loaded]) -> None:
    _, call, loaded = pilot
    cohort = call("GET", f"/enrolment/cohorts/{loaded.cohort_id}")
    assert cohort["status"] == "completed"
    assert [c["status"] for c in cohort["status_changes"]] == ["open", "running", "completed"]
    assert cohort["funding_source"] == "Kaiku"
    assert cohort["coaches"] == [scenario.COACH]
    programme = call("GET", f"/enrolment/programmes/{loaded.programme_id}")
    assert programme["goals"] == [*scenario.PROGRAMME["goals"], scenario.LATER_GOAL]

    enrolments = {
        e["person_id"]: e for e in listed(call, f"/enrolment/cohorts/{loaded.cohort_id}/enrolments")
    }
    assert set(enrolments) == {loaded.people[m.key] for m in PARTICIPANTS}
    withdrawn = enrolments[loaded.people[scenario.WITHDRAWN]]
    assert (withdrawn["status"], withdrawn["withdrawn_on"], withdrawn["withdrawal_reason"]) == (
        "withdrawn",
        scenario.WITHDRAWN_ON.isoformat(),
        scenario.WITHDRAWAL_REASON,
    )
    completed = [e for e in enrolments.values() if e["status"] == "completed"]
    assert len(completed) == len(PARTICIPANTS) - 1
    assert {e["completed_on"] for e in completed} == {scenario.COMPLETED_ON.isoformat()}
    assert {e["invited_on"] for e in enrolments.values()} == {scenario.INVITED_ON.isoformat()}


def test_ten_half_day_sessions_nine_moved_online(pilot: tuple[Api, ClientCall, Loaded]) -> None:
    _, call, loaded = pilot
    sessions = list(listed(call, f"/enrolment/cohorts/{loaded.cohort_id}/sessions"))
    assert [s["id"] for s in sessions] == loaded.sessions  # chronological
    assert [s["title"] for s in sessions] == [s.title for s in scenario.SESSIONS]
    deliveries = Counter(s["delivery"] for s in sessions)
    assert deliveries == {"in_person": 1, "virtual": 9}
    assert sessions[0]["delivery"] == "in_person"
    for session, planned in zip(sessions, scenario.SESSIONS, strict=True):
        assert session["status"] == "held"
        assert session["starts_at"] == planned.starts_at.isoformat()
        hours = (
            dt.datetime.fromisoformat(session["ends_at"])
            - dt.datetime.fromisoformat(session["starts_at"])
        ).total_seconds() / 3600
        assert hours == 4  # half a day
        changes = {h["change"]: h for h in session["history"]}
        if session["delivery"] == "virtual":
            assert session["platform"] == scenario.VIRTUAL_PLATFORM
            assert changes["delivery_changed"]["reason"] == scenario.VIRTUAL_REASON
            assert changes["delivery_changed"]["from"]["delivery"] == "in_person"
        if planned.moved_from is not None:
            assert changes["rescheduled"]["reason"] == scenario.RESCHEDULE_REASON
            assert changes["rescheduled"]["from"]["starts_at"] == planned.moved_from.isoformat()
    guests = Counter(
        (f["role"], f["organisation"])
        for s in sessions
        for f in s["facilitators"]
        if f["kind"] == "guest_speaker"
    )
    heads = sum(n for (role, _), n in guests.items() if role == scenario.HEAD)
    finance = sum(n for (_, org), n in guests.items() if org == "Ministry of Finance")
    assert (heads, finance) == (4, 1)
    assert all(any(f["kind"] == "coach" for f in s["facilitators"]) for s in sessions)


def test_attendance_is_what_the_scenario_recorded(pilot: tuple[Api, ClientCall, Loaded]) -> None:
    _, call, loaded = pilot
    person_key = {person_id: key for key, person_id in loaded.people.items()}
    for index, session_id in enumerate(loaded.sessions):
        sheet = call("GET", f"/enrolment/sessions/{session_id}/attendance")
        recorded = {
            person_key[r["person_id"]]: (r["status"], r["minutes"]) for r in sheet["records"]
        }
        expected = {
            m.key: scenario.attendance(m.key, index)
            for m in PARTICIPANTS
            if scenario.attendance(m.key, index) is not None
        }
        assert recorded == expected, f"session {index + 1}"
        withdrawn_by_then = scenario.SESSIONS[index].starts_at.date() > scenario.WITHDRAWN_ON
        assert sheet["expected"] == len(PARTICIPANTS) - withdrawn_by_then


def test_peer_groups_span_units_and_lose_the_withdrawn(
    pilot: tuple[Api, ClientCall, Loaded],
) -> None:
    _, call, loaded = pilot
    groups = {
        g["name"]: g for g in listed(call, f"/enrolment/cohorts/{loaded.cohort_id}/peer-groups")
    }
    assert set(groups) == set(scenario.PEER_GROUPS)
    for name, keys in scenario.PEER_GROUPS.items():
        expected = {loaded.people[k] for k in keys if k != scenario.WITHDRAWN}
        assert set(groups[name]["members"]) == expected
        assert len({MEMBERS[k].unit for k in keys}) > 1  # cross-unit by design


def test_career_moves_have_the_scope_their_data_implies(
    pilot: tuple[Api, ClientCall, Loaded],
) -> None:
    _, call, loaded = pilot
    for move in scenario.MOVES:
        moves = call("GET", f"/enrolment/people/{loaded.people[move.key]}/career-moves")["items"]
        recorded = next(m for m in moves if m["start_date"] == move.start_date.isoformat())
        assert recorded["kind"] == move.kind
        assert recorded["scope"] == expected_scope(move), move
        assert recorded["scope_derived"] is (move.scope is None)
        assert recorded["end_date"] == (move.end_date and move.end_date.isoformat())
    key, department, unit, _ = scenario.PLACEMENT_CHANGE
    person = call("GET", f"/enrolment/people/{loaded.people[key]}")
    assert (person["department"], person["unit"]) == (department, unit)
    assert unit in DEPARTMENTS[department]


def test_the_published_events_tell_the_same_story_without_personal_data(
    pilot: tuple[Api, ClientCall, Loaded],
) -> None:
    _, call, _ = pilot
    events = published(call)
    types = Counter(e["type"].rsplit(".", 1)[1] for e in events)
    attendance_records = sum(
        scenario.attendance(m.key, i) is not None
        for m in PARTICIPANTS
        for i in range(len(scenario.SESSIONS))
    )
    permanent = sum(m.kind in ("transfer", "new_post", "promotion") for m in scenario.MOVES)
    assert types["PersonRegistered"] == len(MEMBERS)
    assert types["SessionScheduled"] == len(scenario.SESSIONS)
    assert types["SessionDeliveryChanged"] == len(scenario.SESSIONS) - scenario.IN_PERSON_SESSIONS
    assert types["SessionRescheduled"] == 1
    assert types["AttendanceRecorded"] == attendance_records
    assert types["ParticipantInvited"] == types["InvitationAccepted"] == len(PARTICIPANTS)
    assert types["ParticipantEnrolled"] == len(PARTICIPANTS)
    assert types["ParticipantWithdrawn"] == 1
    assert types["ParticipantCompleted"] == len(PARTICIPANTS) - 1
    assert types["PeerGroupFormed"] == len(scenario.PEER_GROUPS)
    assert types["CareerMoveRecorded"] == len(scenario.MOVES)
    assert types["CareerMoveEnded"] == sum(m.end_date is not None for m in scenario.MOVES)
    assert types["PlacementChanged"] == 1 + permanent
    assert types["CohortCoachAssigned"] == 1  # the one coach, scenario.COACH
    (assigned,) = (e for e in events if e["type"].endswith(".CohortCoachAssigned"))
    assert assigned["data"]["coach_ref"] == subject_reference(SECRET, scenario.COACH)
    assert scenario.COACH not in str([e["data"] for e in events])
    raw = str(events)
    for member in MEMBERS.values():
        for personal in (member.full_name, member.email, member.employee_number):
            assert personal not in raw


def test_loading_again_with_the_same_keys_writes_nothing(
    pilot: tuple[Api, ClientCall, Loaded],
) -> None:
    api, call, loaded = pilot
    head = api.enrolment.head()
    again = scenario.load(call)
    assert again.as_dict() == loaded.as_dict()
    assert api.enrolment.head() == head
