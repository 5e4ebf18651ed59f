"""What every tracking view endpoint shares: the cursor for ``as_of``, who may see what, CSV
export and the audit log.

A view runs on a read-only cursor that sees the read models live, or for ``as_of`` as they were
recorded at that moment (:mod:`services.tracking.temporal`: a ``WHERE`` clause, not a replay).
``?format=csv`` returns the view's main table as CSV.
Every request an auditor makes is written to the query log, whatever its outcome.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from flask import Flask, Response, current_app, g, request

from services.tracking import temporal
from services.tracking.api.arguments import as_of_text, on_text
from services.tracking.readmodels import ReadModels
from services.tracking.views import csv_cells, ledger, trajectory
from services.tracking.views import memo as memos
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy
from shared.auth import subject_reference
from shared.errors import NotFoundError
from shared.sql import Cursor

VIEWERS = ("hr_admin", "coordinator", "coach", "auditor")
"""Who reads aggregates; coaches only of the cohorts they coach."""
INDIVIDUAL = ("hr_admin", "coordinator", "coach", "auditor")
"""Who also sees per-participant rows inside a cohort view (coaches: their cohorts)."""
PERSON_READERS = (*VIEWERS, "participant")
"""Who reads one person's views: participants only their own, coaches only their people."""

CsvTable = Callable[[dict[str, Any]], tuple[list[str], list[list[Any]]]]

CSV_DOC = {
    "responses": {
        # The int key merges into ``@blp.response(200, ...)``'s entry; "200" would replace it.
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    }
}
"""Merged into a view's 200 response: the same view as CSV with ``?format=csv``."""


def readmodels() -> ReadModels:
    return current_app.extensions["polku.readmodels"]  # type: ignore[no-any-return]


def policy() -> Policy:
    return current_app.extensions["polku.privacy"]  # type: ignore[no-any-return]


def memo() -> Memo:
    """This application's kept organisation-wide computations (:mod:`~.views.memo`)."""
    return current_app.extensions.setdefault("polku.tracking.memo", Memo())  # type: ignore[no-any-return]


def principal() -> Any:
    return g.principal


def view_date(args: dict[str, Any]) -> dt.date:
    """The day a view is answered for: ``on``, else ``as_of``'s (in UTC), else today."""
    if args.get("on") is not None:
        return args["on"]  # type: ignore[no-any-return]
    moment = args.get("as_of") or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).date()


@contextmanager
def view_cursor(args: dict[str, Any]) -> Iterator[Cursor]:
    """A read cursor that sees the facts live, or as recorded at ``as_of``, and ``on`` a day."""
    with temporal.reading(readmodels().database, args.get("as_of"), args.get("on")) as cur:
        yield cur


def coaches(cur: Cursor, cohort_id: str) -> bool:
    """Whether the calling coach coaches the cohort."""
    secret = current_app.extensions["polku.jwt_secret"]
    cur.execute(
        "SELECT 1 FROM tr_cohort_coaches WHERE cohort_id = ? AND coach_ref = ?",
        (cohort_id, subject_reference(secret, principal().sub)),
    )
    return cur.fetchone() is not None


def check_cohort_access(cur: Cursor, cohort_id: str) -> None:
    """A coach sees only the cohorts they coach; to them others do not exist."""
    if principal().role == "coach" and not coaches(cur, cohort_id):
        raise NotFoundError(f"cohort {cohort_id} is not one you coach", field="cohort_id")


def person_scope(cur: Cursor, person_id: str, what: str) -> list[str] | None:
    """Of one person's ``what``, the cohorts the caller may see; None: all of it.

    A participant reads only their own (anyone else is a 404, asked before anything is
    looked up); hr_admin, coordinators and auditors anyone's; a coach someone who is or was
    enrolled in a cohort they coach, and then only what is tied to those cohorts or to none.
    An unknown person, to a coach anyone not theirs, and to a participant anyone else, is a
    404: outside the caller's scope a person does not exist, in every service.
    """
    who = principal()
    if who.role == "participant" and who.sub != person_id:
        raise NotFoundError(f"no {what} of person {person_id} for you", field="person_id")
    cohorts = trajectory.cohorts_of_person(cur, person_id)
    if cohorts is None:
        raise NotFoundError(
            f"person {person_id} is not known to tracking (at that time)", field="person_id"
        )
    if who.role != "coach":
        return None
    mine = [cohort_id for cohort_id in cohorts if coaches(cur, cohort_id)]
    if not mine:
        raise NotFoundError(f"person {person_id} is not in a cohort you coach", field="person_id")
    return mine


def individual() -> bool:
    return bool(principal().role in INDIVIDUAL)


@contextmanager
def cohort_cursor(args: dict[str, Any], cohort_id: uuid.UUID) -> Iterator[Cursor]:
    """The cursor for ``as_of``, once a coach is known to coach the cohort."""
    with view_cursor(args) as cur:
        check_cohort_access(cur, str(cohort_id))
        yield cur


def releases() -> ledger.Releases:
    """An answer's releases, checked against the shared ledger on the live read models.

    Read on its own connection, so an ``as_of`` answer is checked against the same (current)
    ledger as a live one: the ledger is bookkeeping, not a temporal fact.
    """

    kept = memo()

    def load(family: str) -> list[tuple[str, ledger.Population]]:
        # Kept while no release is recorded: a family's populations are read and decoded
        # once, not per request (ledger.Releases.record raises the ledger's counter).
        with readmodels().database.transaction(write=False) as cur:
            return memos.get(
                kept, cur, ("releases", family), partial(ledger.load, cur, family), [ledger.LEDGER]
            )

    return ledger.Releases(load)


def record(released: ledger.Releases) -> None:
    """Writes an answer's new releases to the ledger, once the view's cursor is closed."""
    if released.new:
        with readmodels().database.transaction() as cur:
            released.record(cur)


def respond(view: dict[str, Any], args: dict[str, Any], table: CsvTable, name: str) -> Any:
    """The view with the ``as_of`` asked for as JSON (returned for the schema to dump), or its
    main table as ``<name>.csv``."""
    view["as_of"] = as_of_text(args)
    view["on"] = on_text(args)
    if args.get("format") != "csv":
        return view
    columns, rows = csv_cells.labelled(*table(view))
    finnish = args.get("csv_dialect") == "fi"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", delimiter=";" if finnish else ",")
    value = _finnish_value if finnish else csv_cells.text
    writer.writerow(columns)
    writer.writerows([[value(v) for v in row] for row in rows])
    if args.get("csv_tables") == "all":
        writer.writerow([])
        writer.writerow(["figure", "value", "n", "suppressed", "reason"])
        writer.writerows([[value(v) for v in row] for row in headline_rows(view)])
    text = ("\ufeff" if finnish else "") + out.getvalue()
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _finnish_value(value: Any) -> Any:
    """A cell for Excel in Finnish: decimal commas."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return csv_cells.text(value)


_CELL = {"value", "n", "suppressed", "reason"}
_LABELS = ("label", "title", "name", "key", "dimension", "index", "year", "group_id")


def headline_rows(view: Any, path: str = "") -> list[list[Any]]:
    """Every figure of a view (each suppressible cell), named by its path in the JSON: list
    items by their label, title, name or key where they have one. The per-row tables' cells
    are figures too."""
    if isinstance(view, dict):
        if set(view) >= _CELL:
            shown = view["value"] if not isinstance(view["value"], dict | list) else None
            return [[path, shown, view["n"], view["suppressed"], view["reason"]]]
        rows = []
        for key, child in view.items():
            rows += headline_rows(child, f"{path}.{key}" if path else str(key))
        return rows
    if isinstance(view, list):
        rows = []
        for index, item in enumerate(view):
            name = next(
                (str(item[k]) for k in _LABELS if isinstance(item, dict) and item.get(k)),
                str(index),
            )
            if isinstance(item, dict) and "rater_group" in item:
                name += f" {item['rater_group']}"
            rows += headline_rows(item, f"{path}[{name}]")
        return rows
    return []


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
