"""The lists of cohorts and programmes, with their filters: where a reader starts."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from services.tracking.api.arguments import AsOf, as_of_text, id_filter, text_filter, text_id
from services.tracking.api.base import VIEWERS, principal, view_cursor
from services.tracking.views import listing
from services.tracking.views.cohorts import programme_name
from shared.auth import subject_reference
from shared.sql import Cursor
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-listing",
    __name__,
    url_prefix="/tracking",
    description="The cohorts and programmes tracking knows, filtered.",
)

NOTHING_KNOWN = "With as_of: tracking had recorded no programme or cohort by then."
UNKNOWN_PROGRAMME = (
    f"{NOTHING_KNOWN} Or programme_id names a programme tracking does not know (at as_of)."
)
STATUSES = ("planned", "open", "running", "completed", "cancelled")


class ListArgs(Schema):
    as_of = AsOf(
        load_default=None,
        metadata={"description": "The list as recorded up to this moment. Default: now."},
    )


class CohortListArgs(ListArgs):
    q = text_filter("Text in the cohort's or its programme's name (any case).")
    programme_id = id_filter("Only this programme's cohorts.")
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1900, max=2200),
        metadata={"description": "Only cohorts running during this year (start to end)."},
    )
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(STATUSES),
        metadata={"description": ", ".join(STATUSES)},
    )
    funding_source = text_filter("Only cohorts with this funding source (exact).")


class CohortRow(Schema):
    cohort_id = fields.String()
    programme_id = fields.String()
    programme = fields.String(allow_none=True, metadata={"description": "The programme's name."})
    name = fields.String()
    start_date = fields.String()
    end_date = fields.String()
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    funding_source = fields.String(allow_none=True)
    capacity = fields.Integer()
    size = fields.Integer(metadata={"description": "People enrolled (enrolled or completed)."})


class CohortList(Schema):
    as_of = fields.String(allow_none=True)
    count = fields.Integer()
    cohorts = fields.List(fields.Nested(CohortRow))
    funding_sources = fields.List(
        fields.String(), metadata={"description": "Every funding source among the cohorts."}
    )
    years = fields.List(fields.Integer(), metadata={"description": "Years the cohorts span."})


class ProgrammeRow(Schema):
    programme_id = fields.String()
    name = fields.String()
    organisation = fields.String()
    retired_on = fields.String(allow_none=True)
    cohorts = fields.Integer()


class ProgrammeList(Schema):
    as_of = fields.String(allow_none=True)
    programmes = fields.List(fields.Nested(ProgrammeRow))


def check_known(cur: Cursor, args: dict[str, Any]) -> None:
    """An ``as_of`` before tracking recorded any programme is a 404, as for every view."""
    if args.get("as_of") is None:
        return
    cur.execute("SELECT 1 FROM tr_programmes LIMIT 1")
    if cur.fetchone() is None:
        abort(404, message=f"tracking knew no programme or cohort at {as_of_text(args)}")


def coached(cur: Cursor) -> set[str] | None:
    """The cohorts a coach coaches; None for the roles that see every cohort."""
    who = principal()
    if who.role != "coach":
        return None
    secret = current_app.extensions["polku.jwt_secret"]
    cur.execute(
        "SELECT cohort_id FROM tr_cohort_coaches WHERE coach_ref = ?",
        (subject_reference(secret, who.sub),),
    )
    return {row[0] for row in cur.fetchall()}


@blp.route("/cohorts")
class Cohorts(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(CohortListArgs(), location="query")
    @blp.response(200, CohortList())
    @blp.alt_response(404, **problem_doc(UNKNOWN_PROGRAMME))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The cohorts, filtered; each with its programme, dates, status, funding and size.

        A coach lists only the cohorts they coach. ``funding_sources`` and ``years`` offer the
        values the filters can take, over all the cohorts the caller may list.
        """
        with view_cursor(args) as cur:
            check_known(cur, args)
            if args.get("programme_id") is not None:
                programme_name(cur, str(args["programme_id"]))  # an unknown one is a 404
            only = coached(cur)
            every = listing.cohorts(cur, only=only)
            rows = listing.cohorts(
                cur,
                search=args.get("q"),
                programme_id=text_id(args, "programme_id"),
                year=args.get("year"),
                status=args.get("status"),
                funding_source=args.get("funding_source"),
                only=only,
            )
        years = sorted(
            {
                year
                for row in every
                for year in range(int(row["start_date"][:4]), int(row["end_date"][:4]) + 1)
            }
        )
        return {
            "as_of": as_of_text(args),
            "count": len(rows),
            "cohorts": rows,
            "funding_sources": sorted({r["funding_source"] for r in every if r["funding_source"]}),
            "years": years,
        }


@blp.route("/programmes")
class Programmes(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(ListArgs(), location="query")
    @blp.response(200, ProgrammeList())
    @blp.alt_response(404, **problem_doc(NOTHING_KNOWN))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The programmes with their cohorts counted (a coach: only those with theirs)."""
        with view_cursor(args) as cur:
            check_known(cur, args)
            rows = listing.programmes(cur, coached(cur))
        return {"as_of": as_of_text(args), "programmes": rows}
