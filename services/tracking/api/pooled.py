"""Growth, mobility and staff survey of a programme's or the organisation's cohorts, by year."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields

from services.tracking.api.arguments import as_of_text
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
from services.tracking.api.growth import InstrumentGrowth
from services.tracking.api.headline import Multiplicity
from services.tracking.api.mobility import GroupMobility, MobilityDifference
from services.tracking.api.mobility_figures import DifferenceInterval, LogRanks
from services.tracking.api.organisation import NOTHING, POOLERS, Scope, ScopeArgs
from services.tracking.api.schemas import cell, cells
from services.tracking.api.surveys import DidInterval
from services.tracking.views import growth, mobility, pooled, pooled_funnel
from services.tracking.views.cohorts import programme_name
from shared.sql import Cursor
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-pooled",
    __name__,
    url_prefix="/tracking",
    description="Growth, mobility and staff survey of a programme or the organisation, by year.",
)

UNKNOWN = "The programme is not known to tracking (at as_of)."


class PooledGrowth(Scope):
    cohorts = fields.List(fields.String(), metadata={"description": "The cohorts of the scope."})
    participant_cohorts = fields.List(
        fields.String(), metadata={"description": "Cohorts with at least the minimum: pooled."}
    )
    people = cell(metadata={"description": "Participants the answer describes."})
    minimum = fields.Integer()
    instruments = fields.List(fields.Nested(InstrumentGrowth))
    multiplicity = fields.Nested(Multiplicity)


class PooledMobility(Scope):
    cohorts = fields.List(fields.String(), metadata={"description": "The cohorts pooled."})
    participant_cohorts = fields.List(
        fields.String(), metadata={"description": "Cohorts with at least the minimum."}
    )
    view_date = fields.String()
    participants = fields.Nested(GroupMobility)
    comparison = fields.Nested(GroupMobility)
    difference = fields.Nested(MobilityDifference)
    difference_interval = fields.Nested(DifferenceInterval)
    logrank = fields.Nested(LogRanks)


class CohortYears(Schema):
    before_year = fields.Integer(allow_none=True)
    after_year = fields.Integer(allow_none=True)


class PooledStaffSurvey(Scope):
    cohorts = fields.List(fields.String(), metadata={"description": "The cohorts pooled."})
    years = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Nested(CohortYears)),
        metadata={"description": "Per cohort and instrument, the years compared."},
    )
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    indices = cells(metadata={"description": "Per index: units' change minus organisation's."})
    intervals = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(DidInterval),
        metadata={"description": "Per index: the difference's 95% interval, each (cohort, unit)"
                  " one observation (docs/statistics.md)."},
    )  # fmt: skip
    total = cell()


View = Callable[[Cursor, list[str], dict[str, Any]], dict[str, Any]]


def _pooled(args: dict[str, Any], programme_id: str | None, view: View, csv: Any, name: str) -> Any:
    released = releases()
    args = {**args, "_released": released}
    with view_cursor(args) as cur:
        pooled_funnel.check_recorded(cur)
        title = "organisation" if programme_id is None else programme_name(cur, programme_id)
        ids = [
            c.cohort_id for c in pooled_funnel.scope_cohorts(cur, programme_id, args.get("year"))
        ]
        answer = {
            "scope": "organisation" if programme_id is None else "programme",
            "id": programme_id,
            "name": title,
            "year": args.get("year"),
            "as_of": as_of_text(args),
            "cohorts": ids,
            **view(cur, ids, args),
        }
    record(released)
    suffix = f"-{args['year']}" if args.get("year") else ""
    return respond(answer, args, csv, f"{name}-{programme_id or 'organisation'}{suffix}")


def _growth(cur: Cursor, ids: list[str], args: dict[str, Any]) -> dict[str, Any]:
    return pooled.pooled_growth(cur, ids, policy(), args["_released"], memo())


def _mobility(cur: Cursor, ids: list[str], args: dict[str, Any]) -> dict[str, Any]:
    day = view_date(args)
    return pooled.pooled_mobility(cur, ids, policy(), day, args["_released"], memo())


def _staff(cur: Cursor, ids: list[str], args: dict[str, Any]) -> dict[str, Any]:
    return pooled.pooled_staff_survey(cur, ids, policy(), memo())


VIEWS: dict[str, tuple[View, Any, Any, str]] = {
    "growth": (_growth, growth.csv_table, PooledGrowth, growth.__doc__ or ""),
    "mobility": (_mobility, mobility.csv_table, PooledMobility, pooled.__doc__ or ""),
    "staff-survey": (_staff, pooled.staff_csv, PooledStaffSurvey, pooled.__doc__ or ""),
}


def _register(kind: str) -> None:
    view, csv, schema, description = VIEWS[kind]

    class ProgrammeView(MethodView):
        @requires(*POOLERS)
        @blp.arguments(ScopeArgs(), location="query")
        @blp.response(200, schema(), description=description)
        @blp.doc(**CSV_DOC)
        @blp.alt_response(404, **problem_doc(UNKNOWN))
        def get(self, args: dict[str, Any], programme_id: UUID) -> Any:
            return _pooled(args, str(programme_id), view, csv, kind)

    class OrganisationView(MethodView):
        @requires(*POOLERS)
        @blp.arguments(ScopeArgs(), location="query")
        @blp.response(200, schema(), description=description)
        @blp.doc(**CSV_DOC)
        @blp.alt_response(404, **problem_doc(NOTHING))
        def get(self, args: dict[str, Any]) -> Any:
            return _pooled(args, None, view, csv, kind)

    title = kind.replace("-", " ")
    ProgrammeView.get.__doc__ = (
        f"The {title} of a programme's cohorts pooled, optionally those starting in one year."
        "\n\nThe same suppression and release ledger as a cohort's. CSV like the cohort view's."
    )
    OrganisationView.get.__doc__ = (
        f"The {title} of every cohort of the organisation pooled, optionally one year's."
        "\n\nThe same suppression and release ledger as a cohort's. CSV like the cohort view's."
    )
    name = kind.title().replace("-", "")
    ProgrammeView.__name__ = f"Programme{name}"
    OrganisationView.__name__ = f"Organisation{name}"
    blp.route(f"/programmes/<uuid:programme_id>/{kind}", endpoint=f"programme-{kind}")(
        ProgrammeView
    )
    blp.route(f"/organisation/{kind}", endpoint=f"organisation-{kind}")(OrganisationView)


for _kind in VIEWS:
    _register(_kind)
