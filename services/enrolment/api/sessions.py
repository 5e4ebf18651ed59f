"""Sessions of a cohort and their attendance."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.enrolment.api import session_schemas as s
from services.enrolment.api.access import (
    ATTENDANCE_TAKERS,
    READERS,
    WRITERS,
    app_,
    check_cohort_access,
    offset_page,
)
from services.enrolment.api.cohorts import readable_cohort
from services.enrolment.domain.attendance import Mark
from services.enrolment.domain.sessions import Session
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "sessions",
    __name__,
    url_prefix="/enrolment",
    description="Sessions: schedule, reschedule, change delivery, hold, cancel; attendance.",
)

NO_SESSION = problem_doc("No such session.")
STATE = problem_doc(
    "Not allowed in the session's (or, for changes of plan, the cohort's) current status "
    "(named), or stale If-Match."
)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def session_view(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "cohort_id": session.cohort_id,
        "title": session.title,
        "module": session.module,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "delivery": session.delivery,
        "location": session.location,
        "platform": session.platform,
        "facilitators": session.facilitators,
        "status": session.status,
        "cancellation_reason": session.cancellation_reason,
        "history": [
            {**h, "from_": _plain(h["from"]), "to": _plain(h["to"])} for h in session.history
        ],
        "version": session.version,
        "created_on": session.created_on,
    }


def readable_session(session_id: UUID, version: int | None = None) -> Session:
    session = app_().session(session_id, version=version)
    check_cohort_access(app_().cohort(session.cohort_id).coaches, "session")
    return session


@blp.route("/cohorts/<uuid:cohort_id>/sessions")
class CohortSessions(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.SessionIn())
    @blp.response(201, s.SessionOut())
    @blp.alt_response(404, **problem_doc("No such cohort."))
    @blp.alt_response(409, **problem_doc("The cohort is completed or cancelled."))
    @blp.alt_response(422, **problem_doc("Outside the cohort's window, or ends before it starts."))
    def post(self, body: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """Schedule a session inside the cohort's window; half a day unless ``ends_at``."""
        details: dict[str, Any] = {
            k: body[k] for k in ("ends_at", "module", "location", "platform") if k in body
        }
        details |= {"delivery": body["delivery"], "facilitators": body["facilitators"]}
        session = app_().schedule_session(
            cohort_id, body["title"], body["starts_at"], event_meta(), details
        )
        return session_view(session)

    @requires(*READERS)
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, s.SessionPage())
    @blp.alt_response(404, **problem_doc("No such cohort."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> dict[str, Any]:
        """The cohort's sessions in chronological order; the cursor counts sessions."""
        readable_cohort(cohort_id)
        items, next_after = offset_page(app_().sessions_of(cohort_id), args)
        return {"items": [session_view(x) for x in items], "next_after": next_after}


@blp.route("/sessions/<uuid:session_id>")
class SessionById(MethodView):
    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.SessionOut())
    @blp.alt_response(404, **problem_doc("No such session, or no such version of it."))
    def get(self, args: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """One session, as it is now or as it was at ``?version=``."""
        return session_view(readable_session(session_id, args.get("version")))


@blp.route("/sessions/<uuid:session_id>/reschedule")
class Reschedule(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.RescheduleIn())
    @blp.response(200, s.SessionOut())
    @blp.alt_response(404, **NO_SESSION)
    @blp.alt_response(409, **STATE)
    @blp.alt_response(422, **problem_doc("Outside the cohort's window, or no reason."))
    def post(self, body: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """Move a scheduled session (it keeps its length unless ``ends_at``); kept in history."""
        session = app_().reschedule_session(
            session_id,
            body["starts_at"],
            body["reason"],
            event_meta(),
            ends_at=body.get("ends_at"),
            expected_version=expected_version(),
        )
        return session_view(session)


@blp.route("/sessions/<uuid:session_id>/delivery")
class Delivery(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.DeliveryIn())
    @blp.response(200, s.SessionOut())
    @blp.alt_response(404, **NO_SESSION)
    @blp.alt_response(409, **STATE)
    @blp.alt_response(422, **problem_doc("No reason, or an unknown delivery."))
    def post(self, body: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """Change how a scheduled session is delivered (e.g. to virtual on Skype); kept in
        history with the reason. Platform and location are replaced, not merged."""
        session = app_().change_session_delivery(
            session_id,
            body["delivery"],
            body["reason"],
            event_meta(),
            platform=body.get("platform"),
            location=body.get("location"),
            expected_version=expected_version(),
        )
        return session_view(session)


@blp.route("/sessions/<uuid:session_id>/hold")
class Hold(MethodView):
    @requires(*WRITERS)
    @blp.response(200, s.SessionOut())
    @blp.alt_response(404, **NO_SESSION)
    @blp.alt_response(409, **STATE)
    def post(self, session_id: UUID) -> dict[str, Any]:
        """Mark a scheduled session held (once it has started)."""
        session = app_().hold_session(session_id, event_meta(), expected_version())
        return session_view(session)


@blp.route("/sessions/<uuid:session_id>/cancel")
class Cancel(MethodView):
    @requires(*WRITERS)
    @blp.arguments(s.CancelIn())
    @blp.response(200, s.SessionOut())
    @blp.alt_response(404, **NO_SESSION)
    @blp.alt_response(409, **STATE)
    def post(self, body: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """Cancel a scheduled session, with the reason."""
        session = app_().cancel_session(
            session_id, body["reason"], event_meta(), expected_version()
        )
        return session_view(session)


@blp.route("/sessions/<uuid:session_id>/attendance")
class Attendance(MethodView):
    @requires(*ATTENDANCE_TAKERS)
    @blp.arguments(s.AttendanceIn())
    @blp.response(200, s.AttendanceTally())
    @blp.alt_response(404, **NO_SESSION)
    @blp.alt_response(409, **problem_doc("Cancelled, not yet started, or stale If-Match."))
    @blp.alt_response(
        422,
        **problem_doc("Records break rules; each is named (records.N.person_id, .minutes)."),
    )
    def post(self, body: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """Record attendance, all records or none. Everyone must have been enrolled on the
        session's day. A record for someone already recorded corrects it (needs ``reason``)
        and keeps the original. A scheduled session that has started is marked held first.
        Coaches may record for the cohorts they are assigned to."""
        readable_session(session_id)
        marks = [Mark(r["person_id"], r["status"], r.get("minutes")) for r in body["records"]]
        tally = app_().record_attendance(
            session_id, marks, body.get("reason"), event_meta(), expected_version()
        )
        return {
            "session_id": session_id,
            "recorded": tally.recorded,
            "corrected": tally.corrected,
            "unchanged": tally.unchanged,
        }

    @requires(*READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.AttendanceOut())
    @blp.alt_response(404, **problem_doc("No such session, or no such version of it."))
    def get(self, args: dict[str, Any], session_id: UUID) -> dict[str, Any]:
        """Each person's current attendance with its corrections, and who is still unrecorded
        among those enrolled on the day (people enrolled later are not expected). With
        ``?version=``, the records as the session held them at that version."""
        session = readable_session(session_id, args.get("version"))
        cohort = app_().cohort(session.cohort_id)
        expected = [p.person_id for p in cohort.ever_enrolled() if p.enrolled_during(session.day)]
        records = [
            {
                "person_id": person_id,
                "status": entries[-1]["status"],
                "minutes": entries[-1]["minutes"],
                "history": entries,
            }
            for person_id, entries in session.attendance.items()
        ]
        return {
            "session_id": session.id,
            "cohort_id": session.cohort_id,
            "day": session.day,
            "status": session.status,
            "expected": len(expected),
            "records": records,
            "unrecorded": [p for p in expected if p not in session.attendance],
        }
