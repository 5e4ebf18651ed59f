"""How each kind of event appears on a participant's timeline: its kind, date and details.

One small function per event type turns the event's data (plus a few looked-up names) into
``(kind, on, cohort_id, details)``. ``on`` is when it took effect: the event's ``on``,
``effective_date``, ``start_date``, ``end_date`` or ``administered_on``, the session's day for
attendance, or None for "the day it was recorded" (registration, attributes, peer groups,
voids). Details hold non-identifying fields only: scores only for the person's own
(``self``) ratings, peer groups by name rather than by their other members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.events import assessment as a
from shared.events import coordination as c
from shared.events import enrolment as e
from shared.events import people as p
from shared.events import sessions as s


@dataclass
class Lookups:
    """What entries need from other rows: titles, names, the rater group of a result."""

    sessions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """session_id -> (title, starts_at, delivery)"""
    instruments: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    moves: dict[str, str] = field(default_factory=dict)
    """move_id -> kind"""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)


Entry = tuple[str, str | None, str | None, dict[str, Any]]
"""(kind, on, cohort_id, details); ``on`` None means "the day it was recorded"."""
Describe = Callable[[dict[str, Any], Lookups], Entry]


def _utc_day(moment: str) -> str:
    return dt.datetime.fromisoformat(moment).astimezone(dt.UTC).date().isoformat()


def _local_day(moment: str) -> str:
    """A session's day where it was held (its own offset), as the organisation saw it."""
    return dt.datetime.fromisoformat(moment).date().isoformat()


def _pick(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data.get(name) for name in names}


def _stage(kind: str, *extra: str) -> Describe:
    def describe(d: dict[str, Any], _: Lookups) -> Entry:
        return kind, d["on"], d["cohort_id"], _pick(d, *extra)

    return describe


def _enrolled(d: dict[str, Any], _: Lookups) -> Entry:
    return "enrolled", _utc_day(d["enrolled_at"]), d["cohort_id"], _pick(d, "enrolled_at")


def _attendance(kind: str, *extra: str) -> Describe:
    def describe(d: dict[str, Any], look: Lookups) -> Entry:
        title, starts_at, delivery = look.sessions.get(d["session_id"], (None, None, None))
        details = {
            "session_id": d["session_id"],
            "title": title,
            "delivery": delivery,
            "starts_at": starts_at,
            **_pick(d, "status", "minutes", *extra),
        }
        return kind, starts_at and _local_day(starts_at), d["cohort_id"], details

    return describe


def _group(kind: str) -> Describe:
    def describe(d: dict[str, Any], look: Lookups) -> Entry:
        name = d.get("name") or look.groups.get(d["group_id"])
        return kind, None, d["cohort_id"], {"group_id": d["group_id"], "name": name}

    return describe


def _scores(rater_group: str | None, scores: Any) -> dict[str, Any]:
    """Only the person's own ratings: others' scores are never shown one by one."""
    return {"scores": scores} if rater_group == "self" else {}


def _about(
    what: str, ident: str, facts: dict[str, Any], look: Lookups, *names: str
) -> dict[str, Any]:
    """What a result or profile entry says of the instrument it was taken with."""
    return {
        f"{what}_id": ident,
        "instrument_id": facts["instrument_id"],
        "instrument": look.instruments.get(facts["instrument_id"]),
        **_pick(facts, *names),
    }


WAVE = ("wave", "follow_up_months", "wave_label")


def _result(d: dict[str, Any], look: Lookups) -> Entry:
    details = _about("result", d["result_id"], d, look, *WAVE, "rater_group")
    details |= _scores(d["rater_group"], d["scores"])
    return "result_recorded", d["administered_on"], d.get("cohort_id"), details


def _result_changed(kind: str) -> Describe:
    def describe(d: dict[str, Any], look: Lookups) -> Entry:
        result = look.results[d["result_id"]]
        details = _about("result", d["result_id"], result, look, *WAVE, "rater_group")
        if kind == "result_voided":
            return kind, None, result["cohort_id"], details | {"reason": d["reason"]}
        details |= _scores(result["rater_group"], d["scores"])
        return kind, d["administered_on"], result["cohort_id"], details

    return describe


def _profile(d: dict[str, Any], look: Lookups) -> Entry:
    names = (*WAVE, "primary", "secondary", "scores")
    details = _about("profile", d["profile_id"], d, look, *names)
    return "style_profile_recorded", d["administered_on"], d.get("cohort_id"), details


def _profile_corrected(d: dict[str, Any], look: Lookups) -> Entry:
    profile = look.profiles[d["profile_id"]]
    details = _about("profile", d["profile_id"], profile, look) | _pick(
        d, "primary", "secondary", "scores"
    )
    return "style_profile_corrected", profile["administered_on"], profile["cohort_id"], details


def _move(d: dict[str, Any], _: Lookups) -> Entry:
    details = _pick(
        d,
        "move_id",
        "kind",
        "scope",
        "organisation",
        "department",
        "unit",
        "start_date",
        "planned_end_date",
        "end_date",
    )
    return "career_move_recorded", d["start_date"], None, details


def _move_ended(d: dict[str, Any], look: Lookups) -> Entry:
    details = {"move_id": d["move_id"], "kind": look.moves.get(d["move_id"])}
    return "career_move_ended", d["end_date"], None, details | {"end_date": d["end_date"]}


def _placement(d: dict[str, Any], _: Lookups) -> Entry:
    details = _pick(d, "organisation", "department", "unit", "move_id")
    return "placement_changed", d["effective_date"], None, details


def _registered(d: dict[str, Any], _: Lookups) -> Entry:
    return "registered", None, None, _pick(d, "organisation", "department", "unit")


def _attributes(d: dict[str, Any], _: Lookups) -> Entry:
    details = _pick(d, "role", "profession_category", "education_level")
    return "attributes_recorded", None, None, details


def _erased(d: dict[str, Any], _: Lookups) -> Entry:
    return "erased", _utc_day(d["erased_at"]), None, {}


DESCRIBE: dict[str, Describe] = {
    e.PERSON_REGISTERED: _registered,
    p.PERSON_ATTRIBUTES_RECORDED: _attributes,
    p.PLACEMENT_CHANGED: _placement,
    p.CAREER_MOVE_RECORDED: _move,
    p.CAREER_MOVE_ENDED: _move_ended,
    p.PERSON_ERASED: _erased,
    e.PARTICIPANT_INVITED: _stage("invited"),
    e.INVITATION_ACCEPTED: _stage("accepted"),
    e.INVITATION_DECLINED: _stage("declined", "reason"),
    e.PARTICIPANT_WAITLISTED: _stage("waitlisted"),
    e.PARTICIPANT_LEFT_WAITLIST: _stage("left_waitlist", "reason"),
    e.PARTICIPANT_ENROLLED: _enrolled,
    e.PARTICIPANT_WITHDRAWN: _stage("withdrawn", "reason"),
    e.PARTICIPANT_COMPLETED: _stage("completed"),
    c.INVITATION_WITHDRAWN: _stage("invitation_withdrawn", "reason"),
    s.ATTENDANCE_RECORDED: _attendance("attendance_recorded"),
    s.ATTENDANCE_CORRECTED: _attendance(
        "attendance_corrected", "previous_status", "previous_minutes", "reason"
    ),
    s.PEER_GROUP_FORMED: _group("peer_group_joined"),
    s.PEER_GROUP_MEMBER_ADDED: _group("peer_group_joined"),
    s.PEER_GROUP_MEMBER_REMOVED: _group("peer_group_left"),
    a.RESULT_RECORDED: _result,
    a.RESULT_CORRECTED: _result_changed("result_corrected"),
    a.RESULT_VOIDED: _result_changed("result_voided"),
    a.STYLE_PROFILE_RECORDED: _profile,
    a.STYLE_PROFILE_CORRECTED: _profile_corrected,
}
"""Every event type that can appear, and how; other types (new ones) are left out until
someone decides what of them a timeline may show."""

KINDS = (
    "registered",
    "attributes_recorded",
    "placement_changed",
    "career_move_recorded",
    "career_move_ended",
    "erased",
    "invited",
    "accepted",
    "declined",
    "waitlisted",
    "left_waitlist",
    "enrolled",
    "withdrawn",
    "completed",
    "invitation_withdrawn",
    "attendance_recorded",
    "attendance_corrected",
    "peer_group_joined",
    "peer_group_left",
    "result_recorded",
    "result_corrected",
    "result_voided",
    "style_profile_recorded",
    "style_profile_corrected",
)
"""Every ``kind`` an entry can have."""
