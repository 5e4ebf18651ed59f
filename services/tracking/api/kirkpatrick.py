"""The Kirkpatrick L1-L4 summary of a cohort, or of a programme's cohorts pooled."""

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
    memo,
    policy,
    record,
    releases,
    respond,
    view_cursor,
    view_date,
)
from services.tracking.api.schemas import Cell
from services.tracking.views import kirkpatrick
from services.tracking.views.cohorts import cohort, cohorts_of_programme, programme_name
from services.tracking.views.ledger import Releases
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-kirkpatrick",
    __name__,
    url_prefix="/tracking",
    description="Kirkpatrick L1-L4 summaries of cohorts and programmes.",
)


class Figure(Cell):
    key = fields.String()
    label = fields.String()
    unit = fields.String(metadata={"description": "scale points, share, index points, ..."})


class Level(Schema):
    level = fields.Integer(
        metadata={"description": "1 reaction, 2 learning, 3 behaviour, 4 results."}
    )
    name = fields.String()
    figures = fields.List(fields.Nested(Figure))


class Summary(Schema):
    scope = fields.String(metadata={"description": "cohort or programme."})
    id = fields.String()
    name = fields.String()
    cohorts = fields.List(fields.String(), metadata={"description": "The cohorts pooled."})
    view_date = fields.String(metadata={"description": "The day the figures are for."})
    as_of = fields.String(allow_none=True)
    on = fields.String(allow_none=True, metadata={"description": "The on asked for, if any."})
    levels = fields.List(fields.Nested(Level))


DESCRIPTION = kirkpatrick.__doc__


def _answer(
    args: dict[str, Any],
    scope: str,
    id_: str,
    name: str,
    cohort_ids: list[str],
    cur: Any,
    released: Releases,
) -> dict[str, Any]:
    day = view_date(args)
    return {
        "scope": scope,
        "id": id_,
        "name": name,
        "cohorts": cohort_ids,
        "view_date": day.isoformat(),
        "levels": kirkpatrick.levels(cur, cohort_ids, policy(), day, released, memo()),
    }


@blp.route("/cohorts/<uuid:cohort_id>/kirkpatrick")
class CohortKirkpatrick(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(ViewArgs(), location="query")
    @blp.response(200, Summary(), description=DESCRIPTION)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The cohort is not known to tracking (at as_of)."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """Reaction, learning, behaviour and results of one cohort, in headline figures.

        Each figure is a cell: null with the reason when fewer people than the minimum are
        behind it. CSV: one row per figure.
        """
        released = releases()
        with cohort_cursor(args, cohort_id) as cur:
            facts = cohort(cur, str(cohort_id))
            ids = [facts.cohort_id]
            view = _answer(args, "cohort", facts.cohort_id, facts.name, ids, cur, released)
        record(released)
        return respond(view, args, kirkpatrick.csv_table, f"kirkpatrick-{cohort_id}")


@blp.route("/programmes/<uuid:programme_id>/kirkpatrick")
class ProgrammeKirkpatrick(MethodView):
    @requires("hr_admin", "coordinator", "auditor")
    @blp.arguments(ViewArgs(), location="query")
    @blp.response(200, Summary(), description=DESCRIPTION)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The programme is not known to tracking (at as_of)."))
    def get(self, args: dict[str, Any], programme_id: UUID) -> Any:
        """The same summary for every cohort of a programme, pooled.

        Each participant counts once per cohort, measured from their own cohort's end.
        """
        released = releases()
        with view_cursor(args) as cur:
            name = programme_name(cur, str(programme_id))
            ids = [c.cohort_id for c in cohorts_of_programme(cur, str(programme_id))]
            view = _answer(args, "programme", str(programme_id), name, ids, cur, released)
        record(released)
        return respond(view, args, kirkpatrick.csv_table, f"kirkpatrick-{programme_id}")
