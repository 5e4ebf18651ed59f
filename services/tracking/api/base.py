"""What every tracking view endpoint shares: ``as_of``, CSV export, roles and the audit log.

A view runs on a read-only cursor: the live read models, or for ``as_of`` a snapshot replayed
from the journal up to that moment. ``?format=csv`` returns the view's main table as CSV.
Every request an auditor makes is written to the query log, whatever its outcome.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, current_app, g, request
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.tracking.readmodels import ReadModels
from services.tracking.views.privacy import Policy
from shared.errors import NotFoundError
from shared.sql import Cursor

VIEWERS = ("hr_admin", "coordinator", "coach", "auditor")
"""Who reads aggregates; coaches only of the cohorts they coach."""
INDIVIDUAL = ("hr_admin", "coordinator", "coach", "auditor")
"""Who also sees per-participant rows inside a cohort view (coaches: their cohorts)."""

CsvTable = Callable[[dict[str, Any]], tuple[list[str], list[list[Any]]]]


class ViewArgs(Schema):
    as_of = fields.AwareDateTime(
        load_default=None,
        format="iso",
        metadata={
            "description": "Answer from the events recorded up to this moment (ISO 8601 with"
            " offset), as the organisation could have answered then. Default: now."
        },
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` returns the view's main table as text/csv."},
    )

    @validates("as_of")
    def _not_in_the_future(self, value: dt.datetime | None, **_: Any) -> None:
        if value is not None and value > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
            raise ValidationError("as_of is in the future; nothing is known about it yet")


CSV_DOC = {
    "responses": {
        "200": {"content": {"text/csv": {"schema": {"type": "string"}}}},
    }
}
"""Merged into a view's 200 response: the same view as CSV with ``?format=csv``."""


def readmodels() -> ReadModels:
    return current_app.extensions["polku.readmodels"]  # type: ignore[no-any-return]


def policy() -> Policy:
    return current_app.extensions["polku.privacy"]  # type: ignore[no-any-return]


def principal() -> Any:
    return g.principal


def view_date(args: dict[str, Any]) -> dt.date:
    """The day a view is answered for: ``as_of``'s (in UTC), or today."""
    moment = args.get("as_of") or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).date()


@contextmanager
def view_cursor(args: dict[str, Any]) -> Iterator[Cursor]:
    as_of = args.get("as_of")
    if as_of is None:
        with readmodels().database.transaction(write=False) as cur:
            yield cur
    else:
        with readmodels().snapshots.cursor(as_of) as cur:
            yield cur


def check_cohort_access(cur: Cursor, cohort_id: str) -> None:
    """A coach sees only the cohorts they coach; to them others do not exist."""
    who = principal()
    if who.role != "coach":
        return
    from shared.auth import subject_reference

    cur.execute(
        "SELECT 1 FROM tr_cohort_coaches WHERE cohort_id = ? AND coach_ref = ?",
        (cohort_id, subject_reference(current_app.extensions["polku.jwt_secret"], who.sub)),
    )
    if cur.fetchone() is None:
        raise NotFoundError(f"cohort {cohort_id} is not one you coach", field="cohort_id")


def individual() -> bool:
    return bool(principal().role in INDIVIDUAL)


def respond(view: dict[str, Any], args: dict[str, Any], table: CsvTable, name: str) -> Any:
    """The view as JSON (returned for the schema to dump), or its main table as CSV."""
    if args.get("format") != "csv":
        return view
    columns, rows = table(view)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[_csv_value(v) for v in row] for row in rows])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _csv_value(value: Any) -> Any:
    """Cells starting with = + - @ would be formulas in a spreadsheet: quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def log_auditor_queries(app: Flask) -> None:
    """Writes every tracking request an auditor makes, with its outcome, to the query log."""

    @app.after_request
    def record(response: Response) -> Response:
        who = getattr(g, "principal", None)
        if who is None or who.role != "auditor" or not request.path.startswith("/tracking"):
            return response
        with readmodels().database.transaction() as cur:
            cur.execute(
                "INSERT INTO tr_query_log (id, at, subject, role, method, path, query, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                    who.sub,
                    who.role,
                    request.method,
                    request.path,
                    request.query_string.decode("utf-8", "replace")[:2000],
                    response.status_code,
                ),
            )
        return response
