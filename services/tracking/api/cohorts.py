"""Cohort views: the funnel with attendance."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields

from services.tracking.api.arguments import ViewArgs
from services.tracking.api.base import (
    CSV_DOC,
    VIEWERS,
    cohort_cursor,
    individual,
    policy,
    respond,
)
from services.tracking.api.schemas import CohortHeader, cell, cells
from services.tracking.views import funnel
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-cohorts", __name__, url_prefix="/tracking/cohorts", description="Cohort views."
)


class SessionAttendance(Schema):
    session_id = fields.String()
    title = fields.String()
    module = fields.String(allow_none=True)
    starts_at = fields.String()
    ends_at = fields.String()
    delivery = fields.String(metadata={"description": "in_person, virtual or hybrid (now)."})
    original_delivery = fields.String(metadata={"description": "As first scheduled."})
    status = fields.String(metadata={"description": "scheduled, held or cancelled."})
    reschedules = fields.Integer()
    delivery_changes = fields.Integer()
    expected = cell(
        allow_none=True, metadata={"description": "People with a record; null if cancelled."}
    )
    counts = cells(allow_none=True, metadata={"description": "present, partial, absent, excused."})
    rate = cell(allow_none=True, metadata={"description": "(present + partial) / expected."})


class DeliveryMode(Schema):
    sessions = fields.Integer()
    person_sessions = cell()
    rate = cell()


class ParticipantAttendance(Schema):
    person_id = fields.String()
    sessions = fields.Integer()
    attended = fields.Integer()
    rate = fields.Float(allow_none=True)


class VirtualInPersonInterval(Schema):
    low = cell()
    high = cell()


class Attendance(Schema):
    sessions = fields.List(fields.Nested(SessionAttendance))
    overall = cell()
    by_delivery = fields.Dict(keys=fields.String(), values=fields.Nested(DeliveryMode))
    virtual_minus_in_person = cell()
    virtual_minus_in_person_ci = fields.Nested(
        VirtualInPersonInterval,
        metadata={"description": "95% Newcombe hybrid score interval of the difference"
                  " (statsmodels confint_proportions_2indep), over person-sessions."},
    )  # fmt: skip
    virtual_minus_in_person_warning = fields.String(
        allow_none=True,
        metadata={"description": "Set when either mode has fewer than 3 sessions shown."},
    )
    participants = fields.List(
        fields.Nested(ParticipantAttendance),
        metadata={"description": "Per participant; not shown to participants themselves."},
    )


class Funnel(CohortHeader):
    capacity = fields.Integer()
    people = cell(metadata={"description": "Everyone invited, waitlisted or enrolled."})
    stages = cells(metadata={"description": ", ".join(funnel.STAGES)})
    rates = cells(metadata={"description": ", ".join(funnel.RATES)})
    attendance = fields.Nested(Attendance)


@blp.route("/<uuid:cohort_id>/funnel")
class CohortFunnel(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(ViewArgs(), location="query")
    @blp.response(200, Funnel())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The cohort is not known to tracking (at as_of)."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """Funnel counts and rates, attendance per session and participant, virtual vs in person.

        CSV: one row per session.
        """
        with cohort_cursor(args, cohort_id) as cur:
            view = funnel.funnel(cur, str(cohort_id), policy(), individual())
        return respond(view, args, funnel.csv_table, f"funnel-{cohort_id}")
