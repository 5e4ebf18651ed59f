"""The test oracle for ``on``: the journal's events that had taken effect by a day, replayed.

Tracking answers ``on`` D with predicates over the temporal tables (services/tracking/effective.py).
This oracle answers it the slow, obvious way, from the events themselves: it reads every event
the journal holds, keeps those whose own date is on or before D, and replays them in recorded
order into fresh read models. An event's date, here, is read from its data:

- a stage, a status change, a retirement: ``on``; an enrolment: ``enrolled_at``'s date;
- a placement: ``effective_date``; a career move: ``start_date`` (an ``end_date`` after D is
  dropped from it), its ending: ``end_date``;
- anything about a session (its scheduling, changes, holding, attendance): the day the session
  starts, as last scheduled; a result's or profile's events: its administration day as last
  recorded; a staff-survey result: its year;
- reaction surveys and responses: the day they were recorded;
- a definition or an attribute (a person, a programme, a cohort, an instrument, a group, a
  coach, an erasure): always.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from services.tracking.journal import Journal, handle
from services.tracking.schema import SCHEMA
from shared.events import Envelope
from shared.events import assessment as a
from shared.events import enrolment as e
from shared.events import people as p
from shared.events import sessions as s
from shared.sql import Cursor
from tests.support.replayed import JournalRow, recorded_until

ALWAYS = {
    e.PROGRAMME_DEFINED, e.PROGRAMME_GOAL_ADDED, e.COHORT_PLANNED, e.COHORT_COACH_ASSIGNED,
    e.PERSON_REGISTERED, p.PERSON_ATTRIBUTES_RECORDED, p.PERSON_ERASED, a.INSTRUMENT_DEFINED,
    a.INSTRUMENT_REVISED, a.INSTRUMENT_RETIRED, s.PEER_GROUP_FORMED, s.PEER_GROUP_MEMBER_ADDED,
    s.PEER_GROUP_MEMBER_REMOVED,
}  # fmt: skip
ON = {
    e.PROGRAMME_RETIRED, e.COHORT_STATUS_CHANGED, e.PARTICIPANT_INVITED, e.INVITATION_ACCEPTED,
    e.INVITATION_DECLINED, e.PARTICIPANT_WAITLISTED, e.PARTICIPANT_WITHDRAWN,
    e.PARTICIPANT_LEFT_WAITLIST, e.PARTICIPANT_COMPLETED,
}  # fmt: skip
SESSION = {
    s.SESSION_SCHEDULED, s.SESSION_RESCHEDULED, s.SESSION_DELIVERY_CHANGED, s.SESSION_HELD,
    s.SESSION_CANCELLED, s.ATTENDANCE_RECORDED, s.ATTENDANCE_CORRECTED,
}  # fmt: skip
RESULT = {a.RESULT_RECORDED, a.RESULT_CORRECTED, a.RESULT_VOIDED}
PROFILE = {a.STYLE_PROFILE_RECORDED, a.STYLE_PROFILE_CORRECTED}
RECORDED = {a.REACTION_TOKENS_ISSUED, a.REACTION_SURVEY_CLOSED, a.REACTION_RESPONSE_SUBMITTED}
LATEST = "9999-12-31T23:59:59.999999+00:00"
STAFF = {a.STAFF_SURVEY_RESULT_RECORDED, a.STAFF_SURVEY_RESULT_CORRECTED}


def _last(rows: list[JournalRow], types: set[str], key: str, date: str) -> dict[str, str]:
    """Per fact (``key``), the date its events last carried."""
    found: dict[str, str] = {}
    for row in rows:
        data = row.envelope.data
        if row.envelope.type in types and date in data:
            found[data[key]] = str(data[date])[:10]
    return found


def _dated(row: JournalRow, day: str, last: dict[str, dict[str, str]]) -> Envelope | None:
    """The event as it stood on ``day``, or None when it had not taken effect by then."""
    env, data = row.envelope, row.envelope.data
    kind = env.type
    if kind in ALWAYS:
        return env
    when: str | None
    if kind in ON:
        when = data["on"]
    elif kind == e.PARTICIPANT_ENROLLED:
        when = str(data["enrolled_at"])[:10]
    elif kind == p.PLACEMENT_CHANGED:
        when = data["effective_date"]
    elif kind == p.CAREER_MOVE_RECORDED:
        when = data["start_date"]
        if data.get("end_date") and data["end_date"] > day:
            env = _with(env, end_date=None)
    elif kind == p.CAREER_MOVE_ENDED:
        when = data["end_date"]
    elif kind in SESSION:
        when = last["sessions"][data["session_id"]]
    elif kind in RESULT:
        when = last["results"][data["result_id"]]
    elif kind in PROFILE:
        when = last["profiles"][data["profile_id"]]
    elif kind in STAFF:
        when = f"{int(data['year']):04d}-01-01"
    elif kind in RECORDED:
        when = env.time.astimezone(dt.UTC).date().isoformat()
    else:
        raise AssertionError(f"the oracle does not know how {kind} is dated")
    return env if str(when) <= day else None


def _with(env: Envelope, **changes: Any) -> Envelope:
    return env._replace(data={**env.data, **changes})


def replayed_on(live: Cursor, day: dt.date, until: str = LATEST) -> sqlite3.Connection:
    """A private in-memory database: every event recorded by ``until`` (UTC text) and dated by
    ``day``, replayed in recorded order."""
    rows = list(recorded_until(live, until))
    last = {
        "sessions": _last(rows, {s.SESSION_SCHEDULED, s.SESSION_RESCHEDULED}, "session_id",
                          "starts_at"),
        "results": _last(rows, {a.RESULT_RECORDED, a.RESULT_CORRECTED}, "result_id",
                         "administered_on"),
        "profiles": _last(rows, {a.STYLE_PROFILE_RECORDED}, "profile_id", "administered_on"),
    }  # fmt: skip
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    cur = conn.cursor()
    cur.execute("BEGIN")
    journal = Journal()
    for row in rows:
        env = _dated(row, day.isoformat(), last)
        if env is not None:
            handle(cur, env)
            journal.add(row.source, env)
    journal.write(cur)
    cur.execute("COMMIT")
    return conn
