"""Views over many cohorts: a programme's or the whole organisation's, optionally one year's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services.tracking.api.arguments import ViewArgs, as_of_text
from services.tracking.api.base import (
    CSV_DOC,
    memo,
    policy,
    record,
    releases,
    respond,
    view_cursor,
    view_date,
)
from services.tracking.api.cohorts import DeliveryMode
from services.tracking.api.kirkpatrick import Level
from services.tracking.api.schemas import cell, cells
from services.tracking.views import kirkpatrick, pooled_funnel
from services.tracking.views.cohorts import programme_name
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

POOLERS = ("hr_admin", "coordinator", "auditor")
"""Who reads views over many cohorts (a coach sees only the cohorts they coach)."""

NOTHING = "Tracking knew no one by as_of (or knows no one yet)."

blp = Blueprint(
    "tracking-organisation",
    __name__,
    url_prefix="/tracking",
    description="Funnel and Kirkpatrick summary of a programme or the whole organisation, by year.",
)


class ScopeArgs(ViewArgs):
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1900, max=9999),
        metadata={
            "description": "Only the cohorts starting in this calendar year. A filter like any"
            " other: the views' disclosure rules hold for it."
        },
    )


class PooledCohort(Schema):
    cohort_id = fields.String()
    programme_id = fields.String()
    name = fields.String()
    start_date = fields.String()
    end_date = fields.String()
    pooled = fields.Boolean(metadata={"description": "False: too few people to pool."})
    reason = fields.String(allow_none=True)
    people = cell()
    stages = cells()
    rates = cells()


class PooledAttendance(Schema):
    sessions = fields.Integer(metadata={"description": "Held sessions pooled."})
    overall = cell()
    by_delivery = fields.Dict(keys=fields.String(), values=fields.Nested(DeliveryMode))
    virtual_minus_in_person = cell()


class Scope(Schema):
    scope = fields.String(metadata={"description": "programme or organisation."})
    id = fields.String(allow_none=True)
    name = fields.String()
    year = fields.Integer(allow_none=True)
    as_of = fields.String(allow_none=True)
    on = fields.String(allow_none=True, metadata={"description": "The on asked for, if any."})


class PooledFunnel(Scope):
    cohorts = fields.List(fields.Nested(PooledCohort))
    people = cell(metadata={"description": "Invited, waitlisted or enrolled, once per cohort."})
    stages = cells(metadata={"description": ", ".join(pooled_funnel.STAGES)})
    rates = cells(metadata={"description": ", ".join(pooled_funnel.RATES)})
    attendance = fields.Nested(PooledAttendance)


class PooledSummary(Scope):
    cohorts = fields.List(fields.String(), metadata={"description": "The cohorts pooled."})
    view_date = fields.String()
    levels = fields.List(fields.Nested(Level))


def _header(args: dict[str, Any], scope: str, id_: str | None, name: str) -> dict[str, Any]:
    return {
        "scope": scope,
        "id": id_,
        "name": name,
        "year": args.get("year"),
        "as_of": as_of_text(args),
    }


def _funnel(args: dict[str, Any], programme_id: str | None) -> Any:
    with view_cursor(args) as cur:
        pooled_funnel.check_recorded(cur)
        name = "organisation" if programme_id is None else programme_name(cur, programme_id)
        cohorts = pooled_funnel.scope_cohorts(cur, programme_id, args.get("year"))
        view = {
            **_header(
                args, "organisation" if programme_id is None else "programme", programme_id, name
            ),
            **pooled_funnel.pooled_funnel(cur, cohorts, policy(), memo()),
        }
    suffix = f"-{args['year']}" if args.get("year") else ""
    return respond(
        view, args, pooled_funnel.csv_table, f"funnel-{programme_id or 'organisation'}{suffix}"
    )


def _kirkpatrick(args: dict[str, Any]) -> Any:
    released = releases()
    day = view_date(args)
    with view_cursor(args) as cur:
        pooled_funnel.check_recorded(cur)
        ids = [c.cohort_id for c in pooled_funnel.scope_cohorts(cur, None, args.get("year"))]
        levels = kirkpatrick.levels(cur, ids, policy(), day, released, memo())
        view = {
            **_header(args, "organisation", None, "organisation"),
            "cohorts": ids,
            "view_date": day.isoformat(),
            "levels": levels,
        }
    record(released)
    suffix = f"-{args['year']}" if args.get("year") else ""
    return respond(view, args, kirkpatrick.csv_table, f"kirkpatrick-organisation{suffix}")


@blp.route("/programmes/<uuid:programme_id>/funnel")
class ProgrammeFunnel(MethodView):
    @requires(*POOLERS)
    @blp.arguments(ScopeArgs(), location="query")
    @blp.response(200, PooledFunnel(), description=pooled_funnel.__doc__)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The programme is not known to tracking (at as_of)."))
    def get(self, args: dict[str, Any], programme_id: UUID) -> Any:
        """The funnel of a programme's cohorts pooled, optionally those starting in one year.

        Cohorts with fewer people than the minimum are left out of the pool. CSV: one row per
        cohort, then the totals.
        """
        return _funnel(args, str(programme_id))


@blp.route("/organisation/funnel")
class OrganisationFunnel(MethodView):
    @requires(*POOLERS)
    @blp.arguments(ScopeArgs(), location="query")
    @blp.response(200, PooledFunnel(), description=pooled_funnel.__doc__)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc(NOTHING))
    def get(self, args: dict[str, Any]) -> Any:
        """The funnel of every cohort of the organisation pooled, optionally one year's.

        Cohorts with fewer people than the minimum are left out of the pool. CSV: one row per
        cohort, then the totals.
        """
        return _funnel(args, None)


@blp.route("/organisation/kirkpatrick")
class OrganisationKirkpatrick(MethodView):
    @requires(*POOLERS)
    @blp.arguments(ScopeArgs(), location="query")
    @blp.response(200, PooledSummary(), description=kirkpatrick.__doc__)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc(NOTHING))
    def get(self, args: dict[str, Any]) -> Any:
        """Reaction, learning, behaviour and results of every cohort pooled (or one year's).

        As the programme summary: each participant counts once per cohort, from their own
        cohort's end; the same suppression and release ledger apply. CSV: one row per figure.
        """
        return _kirkpatrick(args)
