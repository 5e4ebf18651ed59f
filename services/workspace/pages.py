"""The pages: the cohort list, a cohort's dashboard, a programme and a person.

Each page asks tracking's views for what it shows (:mod:`.access`), as the signed-in person at
the page's "as of", and renders them with their charts (:mod:`.charts`) and tables. Who may
open what follows the API: cohort and programme pages for the roles that read aggregates (a
coach only their cohorts), a person's page for those roles and for the participant themselves.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _

from services.workspace import dashboard
from services.workspace.access import READERS, as_of, identity, optional_view, signed_in, view
from services.workspace.charts import person_growth

bp = Blueprint("pages", __name__)

FILTERS = ("q", "programme_id", "year", "status", "funding_source")
STATUSES = ("planned", "open", "running", "completed", "cancelled")
DEMO_COHORT = "TEMPO 2020 pilot"


def names() -> dict[str, Any]:
    return {
        "stages": dashboard.stage_names(),
        "rates": dashboard.rate_names(),
        "modes": dashboard.mode_names(),
        "groups": dashboard.group_names(),
        "levels": dashboard.level_names(),
        "figures": dashboard.figure_names(),
    }


def dimension_labels(instrument: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["label"] for d in instrument.get("dimensions", [])}


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    return {"dimension_labels": dimension_labels, "figure_kind": dashboard.figure_kind}


def _id(value: str, what: str) -> str:
    try:
        return str(UUID(value))
    except ValueError:
        abort(404, description=_("No such %(what)s: %(id)s", what=what, id=value[:40]))


@bp.get("/app/")
@signed_in()
def cohorts() -> Any:
    who = identity()
    if who.role == "participant":
        return redirect(f"/app/people/{who.person_id}", 303)
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    listed = view("/cohorts", **chosen)
    programmes = view("/programmes")["programmes"]
    return render_template(
        "cohorts.html",
        title=_("Cohorts"),
        listed=listed,
        programmes=programmes,
        chosen=chosen,
        as_of=as_of(),
        statuses=STATUSES,
    )


@bp.get("/app/demo")
@signed_in(*READERS)
def demo() -> Any:
    """The demo cohort's dashboard, wherever its id is."""
    listed = view("/cohorts", q=DEMO_COHORT)
    if not listed["cohorts"]:
        abort(404, description=_("The demo cohort is not loaded (yet); try again in a moment."))
    return redirect(f"/app/cohorts/{listed['cohorts'][0]['cohort_id']}", 303)


@bp.get("/app/cohorts/<cohort_id>")
@signed_in(*READERS)
def cohort(cohort_id: str) -> Any:
    cohort_id = _id(cohort_id, _("cohort"))
    board = dashboard.build(cohort_id)
    roster, _reason = optional_view(f"/cohorts/{cohort_id}/roster", limit=500)
    moment = as_of()
    return render_template(
        "dashboard.html",
        title=board.header.get("name", _("Cohort")),
        board=board,
        summary=board.kirkpatrick,
        names=names(),
        as_of=moment,
        keep=moment.query,
        people=(roster or {}).get("participants", []),
    )


@bp.get("/app/programmes/<programme_id>")
@signed_in(*READERS)
def programme(programme_id: str) -> Any:
    programme_id = _id(programme_id, _("programme"))
    summary = view(f"/programmes/{programme_id}/kirkpatrick")
    listed = view("/cohorts", programme_id=programme_id)
    moment = as_of()
    return render_template(
        "programme.html",
        title=summary["name"],
        summary=summary,
        listed=listed,
        names=names(),
        as_of=moment,
        keep=moment.query,
    )


@bp.get("/app/people/<person_id>")
@signed_in()
def person(person_id: str) -> Any:
    person_id = _id(person_id, _("person"))
    timeline = view(f"/people/{person_id}/timeline", limit=500)
    growth, reason = optional_view(f"/people/{person_id}/growth")
    chart = person_growth(growth, dashboard.group_names()) if growth else None
    moment = as_of()
    return render_template(
        "person.html",
        title=_("Person"),
        person_id=person_id,
        timeline=timeline,
        growth=growth,
        growth_refused=reason,
        growth_chart=chart,
        names=names(),
        as_of=moment,
        keep=moment.query,
        own=identity().role == "participant",
    )
