"""The list of programmes: where a reader starts (the cohorts' list is in :mod:`.cohort_list`)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from services.tracking.api.arguments import AsOf, as_of_text
from services.tracking.api.base import VIEWERS, principal, view_cursor
from services.tracking.views import listing
from shared.auth import subject_reference
from shared.sql import Cursor
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-listing",
    __name__,
    url_prefix="/tracking",
    description="The programmes tracking knows.",
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
