"""The tracking cohort list: ``GET /tracking/cohorts``, filtered, paginated, with headlines."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from services.tracking.api.arguments import ViewArgs, id_filter, text_filter, text_id
from services.tracking.api.base import (
    CSV_DOC,
    VIEWERS,
    coaches,
    policy,
    principal,
    respond,
    view_cursor,
)
from services.tracking.api.organisation import NOTHING
from services.tracking.api.schemas import CohortHeader, cell
from services.tracking.views import cohort_list, pooled_funnel
from services.tracking.views.cohorts import programme_name
from shared.web.blueprint import Blueprint
from shared.web.pagination import PageArgs, PageSchema
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-cohort-list",
    __name__,
    url_prefix="/tracking",
    description="The cohorts tracking knows, with their headline figures.",
)


class CohortListArgs(ViewArgs, PageArgs):
    programme_id = id_filter("Only the cohorts of this programme.")
    q = text_filter("Text in the cohort's or its programme's name (any case).")
    funding_source = text_filter("Only the cohorts with this funding source (exact).")
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1900, max=9999),
        metadata={"description": "Only the cohorts starting in this calendar year."},
    )
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(cohort_list.STATUSES),
        metadata={
            "description": "Only the cohorts in this status (with `on`: the status then): "
            + ", ".join(cohort_list.STATUSES)
            + "."
        },
    )


class CohortRow(CohortHeader):
    programme = fields.String(allow_none=True, metadata={"description": "The programme's name."})
    funding_source = fields.String(allow_none=True)
    capacity = fields.Integer()
    size = fields.Integer(
        metadata={"description": "People enrolled (still enrolled or completed): a count."}
    )
    people = cell(metadata={"description": "Everyone invited, waitlisted or enrolled."})
    enrolled = cell()
    completed = cell()
    withdrawn = cell()
    completion_rate = cell(metadata={"description": "Completed / enrolled."})
    attendance_rate = cell(
        metadata={"description": "Present or partial / records, of held sessions shown."}
    )


class CohortList(PageSchema):
    as_of = fields.String(allow_none=True)
    on = fields.String(allow_none=True)
    count = fields.Integer(metadata={"description": "Cohorts matching, every page."})
    cohorts = fields.List(fields.Nested(CohortRow), metadata={"description": "This page."})
    funding_sources = fields.List(
        fields.String(), metadata={"description": "Every funding source among the cohorts."}
    )
    years = fields.List(
        fields.Integer(), metadata={"description": "The years the cohorts start in."}
    )


@blp.route("/cohorts")
class Cohorts(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(CohortListArgs(), location="query")
    @blp.response(200, CohortList(), description=cohort_list.__doc__ or "")
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc(f"{NOTHING} Or the programme is not known."))
    @blp.alt_response(422, **problem_doc("A bad filter, page, as_of, on or format (named)."))
    def get(self, args: dict[str, Any]) -> Any:
        """The cohorts, filtered by programme, start year, status, funding source and a text
        search, in start order, a page at a time, each with its size and headline figures (the
        cohort funnel's cells, suppressed below the minimum as there).

        A coach sees only the cohorts they coach. Pages: pass `next_after` back as `after`.
        CSV: this page, one row per cohort, with labelled columns.
        """
        with view_cursor(args) as cur:
            if args.get("as_of") is not None:  # live, an empty system lists no cohorts
                pooled_funnel.check_recorded(cur)
            programme = text_id(args, "programme_id")
            if programme is not None:
                programme_name(cur, programme)  # an unknown one is a 404, not an empty list
            found = cohort_list.matching(
                cur,
                programme,
                args.get("year"),
                args.get("status"),
                args.get("funding_source"),
                args.get("q"),
            )
            coach = principal().role == "coach"
            view = cohort_list.cohort_list(
                cur,
                found,
                policy(),
                args["after"],
                args["limit"],
                (lambda cohort_id: coaches(cur, cohort_id)) if coach else (lambda _: True),
            )
        return respond(view, args, cohort_list.csv_table, "cohorts")
