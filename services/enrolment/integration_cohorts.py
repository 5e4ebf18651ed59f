"""The pure mapping of programme, cohort, session and peer-group domain events to integration
events; ``integration.translate`` consults it first.

Internal bookkeeping (listings, the peer-group register) is not published. A coach assignment
is, but only with the coach's reference (a keyed hash of the token subject, made when the
command was handled): a subject may identify someone, so it never leaves the service.
Assignments stored before references existed carry none and are not published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.groups import PeerGroup
from services.enrolment.domain.programmes import Programme
from services.enrolment.domain.sessions import Session
from shared.events import enrolment as contract
from shared.events import sessions as session_contract

Mapping = Callable[[Any], tuple[str, dict[str, Any]] | None]


def _person_in_cohort(type_: str, *extra: str) -> Mapping:
    def mapping(e: Any) -> tuple[str, dict[str, Any]]:
        data = {"cohort_id": e.originator_id, "person_id": e.person_id, "on": e.on}
        return type_, data | {name: getattr(e, name) for name in extra}

    return mapping


def _status(status: str) -> Mapping:
    def mapping(e: Any) -> tuple[str, dict[str, Any]]:
        data = {"cohort_id": e.originator_id, "status": status, "on": e.on}
        return contract.COHORT_STATUS_CHANGED, data | {"reason": getattr(e, "reason", None)}

    return mapping


def _cohort_planned(e: Any) -> tuple[str, dict[str, Any]]:
    data = {
        "cohort_id": e.originator_id,
        "programme_id": e.programme_id,
        "name": e.name,
        "capacity": e.capacity,
        "start_date": e.start_date,
        "end_date": e.end_date,
    }
    # Optional in the contract, so consumers of the first CohortPlanned shape see no change.
    if getattr(e, "funding_source", None):
        data["funding_source"] = e.funding_source
    return contract.COHORT_PLANNED, data


def _coach_assigned(e: Any) -> tuple[str, dict[str, Any]] | None:
    if e.coach_ref is None:
        return None
    return contract.COHORT_COACH_ASSIGNED, {"cohort_id": e.originator_id, "coach_ref": e.coach_ref}


def _session_scheduled(e: Any) -> tuple[str, dict[str, Any]]:
    return session_contract.SESSION_SCHEDULED, {
        "session_id": e.originator_id,
        "cohort_id": e.cohort_id,
        "title": e.title,
        "module": e.module,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "delivery": e.delivery,
        "platform": e.platform,
        "location": e.location,
        # Kind, role and organisation only: a facilitator's name is personal data.
        "facilitators": [
            {"kind": f["kind"], "role": f.get("role"), "organisation": f.get("organisation")}
            for f in e.facilitators
        ],
    }


def _attendance(e: Any) -> dict[str, Any]:
    return {
        "session_id": e.originator_id,
        "cohort_id": e.cohort_id,
        "person_id": e.person_id,
        "status": e.status,
        "minutes": e.minutes,
    }


def _group_member(type_: str) -> Mapping:
    def mapping(e: Any) -> tuple[str, dict[str, Any]]:
        return type_, {
            "group_id": e.originator_id,
            "cohort_id": e.cohort_id,
            "person_id": e.person_id,
        }

    return mapping


MAPPINGS: dict[type, Mapping] = {
    Programme.Defined: lambda e: (  # type: ignore[attr-defined]
        contract.PROGRAMME_DEFINED,
        {"programme_id": e.originator_id, "name": e.name, "organisation": e.organisation},
    ),
    Programme.GoalAdded: lambda e: (  # type: ignore[attr-defined]
        contract.PROGRAMME_GOAL_ADDED,
        {"programme_id": e.originator_id, "goal": e.goal},
    ),
    Programme.Retired: lambda e: (  # type: ignore[attr-defined]
        contract.PROGRAMME_RETIRED,
        {"programme_id": e.originator_id, "reason": e.reason, "on": e.on},
    ),
    Cohort.Planned: _cohort_planned,  # type: ignore[attr-defined]
    Cohort.Opened: _status("open"),  # type: ignore[attr-defined]
    Cohort.Started: _status("running"),  # type: ignore[attr-defined]
    Cohort.Completed: _status("completed"),  # type: ignore[attr-defined]
    Cohort.Cancelled: _status("cancelled"),  # type: ignore[attr-defined]
    Cohort.CoachAssigned: _coach_assigned,
    Cohort.ParticipantInvited: _person_in_cohort(contract.PARTICIPANT_INVITED),  # type: ignore[attr-defined]
    Cohort.InvitationAccepted: _person_in_cohort(contract.INVITATION_ACCEPTED),  # type: ignore[attr-defined]
    Cohort.InvitationDeclined: _person_in_cohort(contract.INVITATION_DECLINED, "reason"),  # type: ignore[attr-defined]
    Cohort.ParticipantWaitlisted: _person_in_cohort(contract.PARTICIPANT_WAITLISTED),  # type: ignore[attr-defined]
    Cohort.ParticipantEnrolled: lambda e: (  # type: ignore[attr-defined]
        contract.PARTICIPANT_ENROLLED,
        {"cohort_id": e.originator_id, "person_id": e.person_id, "enrolled_at": e.enrolled_at},
    ),
    Cohort.ParticipantWithdrawn: _person_in_cohort(contract.PARTICIPANT_WITHDRAWN, "reason"),  # type: ignore[attr-defined]
    Cohort.ParticipantLeftWaitlist: _person_in_cohort(contract.PARTICIPANT_LEFT_WAITLIST, "reason"),  # type: ignore[attr-defined]
    Cohort.ParticipantCompleted: _person_in_cohort(contract.PARTICIPANT_COMPLETED),  # type: ignore[attr-defined]
    Session.Scheduled: _session_scheduled,  # type: ignore[attr-defined]
    Session.Rescheduled: lambda e: (  # type: ignore[attr-defined]
        session_contract.SESSION_RESCHEDULED,
        {
            "session_id": e.originator_id,
            "starts_at": e.starts_at,
            "ends_at": e.ends_at,
            "previous_starts_at": e.previous_starts_at,
            "previous_ends_at": e.previous_ends_at,
            "reason": e.reason,
        },
    ),
    Session.DeliveryChanged: lambda e: (  # type: ignore[attr-defined]
        session_contract.SESSION_DELIVERY_CHANGED,
        {
            "session_id": e.originator_id,
            "previous_delivery": e.previous_delivery,
            "delivery": e.delivery,
            "platform": e.platform,
            "location": e.location,
            "reason": e.reason,
        },
    ),
    Session.Held: lambda e: (session_contract.SESSION_HELD, {"session_id": e.originator_id}),  # type: ignore[attr-defined]
    Session.Cancelled: lambda e: (  # type: ignore[attr-defined]
        session_contract.SESSION_CANCELLED,
        {"session_id": e.originator_id, "reason": e.reason},
    ),
    Session.AttendanceRecorded: lambda e: (  # type: ignore[attr-defined]
        session_contract.ATTENDANCE_RECORDED,
        _attendance(e),
    ),
    Session.AttendanceCorrected: lambda e: (  # type: ignore[attr-defined]
        session_contract.ATTENDANCE_CORRECTED,
        _attendance(e)
        | {
            "previous_status": e.previous_status,
            "previous_minutes": e.previous_minutes,
            "reason": e.reason,
        },
    ),
    PeerGroup.Formed: lambda e: (  # type: ignore[attr-defined]
        session_contract.PEER_GROUP_FORMED,
        {
            "group_id": e.originator_id,
            "cohort_id": e.cohort_id,
            "name": e.name,
            "members": e.members,
        },
    ),
    PeerGroup.MemberAdded: _group_member(session_contract.PEER_GROUP_MEMBER_ADDED),  # type: ignore[attr-defined]
    PeerGroup.MemberRemoved: _group_member(session_contract.PEER_GROUP_MEMBER_REMOVED),  # type: ignore[attr-defined]
}


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    mapping = MAPPINGS.get(type(event))
    return mapping(event) if mapping is not None else None
