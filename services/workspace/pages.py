"""The pages: the cohort list, a cohort's dashboard, a programme and a person.

Each page asks tracking's views for what it shows (:mod:`.access`), as the signed-in person at
the page's "as of" day, and renders them with their charts (:mod:`.charts`) and tables.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask_babel import gettext as _

from services.workspace.access import (
    READERS,
    as_of_day,
    identity,
    signed_in,
    view,
)

bp = Blueprint("pages", __name__)

FILTERS = ("q", "programme_id", "year", "status", "funding_source")


@bp.get("/app/")
@signed_in()
def cohorts() -> Any:
    who = identity()
    if who.role == "participant":
        return redirect(f"/app/people/{who.person_id}", 303)
    if who.role not in READERS:
        return render_template("error.html", code=403, name="", detail="", title=_("Cohorts")), 403
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    listed = view("/cohorts", **chosen)
    programmes = view("/programmes")["programmes"]
    return render_template(
        "cohorts.html",
        title=_("Cohorts"),
        listed=listed,
        programmes=programmes,
        chosen=chosen,
        as_of=as_of_day(),
        statuses=("planned", "open", "running", "completed", "cancelled"),
    )
