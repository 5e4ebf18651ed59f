"""Import endpoints' shared shape: small files answered at once, large ones as a polled job.

``POST .../imports`` with at most :data:`SYNC_ROWS` data rows runs the import in the request and
answers 200 with its result (or 422 with every row's problem). A larger file answers
``202 Accepted`` at once with the job (:class:`ImportJobOut`) and a ``Location`` to poll; the
import runs on a thread of its own (:mod:`shared.jobs`). ``GET .../imports/{id}`` reports the
job's state, rows done and total, and in the end the result or every problem. A job is read
by the subject that started it, or by an hr_admin; to anyone else it does not exist (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Response, current_app, g, jsonify, request
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from shared.imports import ImportResult, Progress
from shared.jobs import FAILED, RUNNING, SUCCEEDED, Job, Jobs

SYNC_ROWS = 1000
"""Files of up to this many data rows are imported within the request (one atomic save)."""
JOBS = "polku.jobs"
JOB_READERS_OF_ANYONES = ("hr_admin",)


class JobProblem(Schema):
    location = fields.String()
    field = fields.String()
    message = fields.String()


class ImportJobOut(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "What is imported: people, results, ..."})
    state = fields.String(validate=validate.OneOf([RUNNING, SUCCEEDED, FAILED]))
    rows_total = fields.Integer(metadata={"description": "Data rows in the file."})
    rows_checked = fields.Integer(metadata={"description": "Rows checked so far."})
    rows_done = fields.Integer(
        metadata={"description": "Rows written (or found written before) so far."}
    )
    result = fields.Dict(
        allow_none=True,
        metadata={"description": "Once succeeded: rows, recorded, unchanged, dry_run."},
    )
    errors = fields.List(
        fields.Nested(JobProblem),
        metadata={
            "description": "Once failed on bad input: every row's problem; nothing was written."
        },
    )
    message = fields.String(allow_none=True, metadata={"description": "Why it failed."})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


def jobs() -> Jobs:
    return current_app.extensions[JOBS]  # type: ignore[no-any-return]


def import_now_or_later(
    kind: str, rows: int, run: Callable[[Progress | None], ImportResult], location: str
) -> dict[str, Any] | Response:
    """The result of ``run`` now for a small file; a 202 with a started job for a large one.

    ``run`` must not need the request: it runs on the job's thread after the request ended.
    ``location`` is the path under which the job is polled (``/enrolment/people/imports``).
    """
    if rows <= SYNC_ROWS:
        return run(None).as_dict()
    job = jobs().start(kind, g.principal.sub, rows, run)
    response = jsonify(ImportJobOut().dump(job.view()))
    response.status_code = 202
    response.headers["Location"] = f"{request.script_root}{location}/{job.id}"
    return response


def job_view(job_id: UUID) -> dict[str, Any]:
    """The job as its owner (or an hr_admin) sees it; a 404 for anyone else."""
    job: Job | None = jobs().get(job_id)
    principal = g.principal
    if job is None or (job.owner != principal.sub and principal.role not in JOB_READERS_OF_ANYONES):
        abort(404, message=f"no import job {job_id} (or not yours)")
        raise AssertionError("unreachable")  # abort raises; this tells the type checker
    return job.view()
