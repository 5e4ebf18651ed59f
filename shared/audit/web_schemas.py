"""The HTTP schemas of the ``/<service>/audit`` routes (:mod:`shared.audit.web`)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.envelope import MAX_POSITION
from shared.web.validation import Moment, SingleLine

PURPOSE_HEADER = "X-Purpose"


class StatusEntry(Schema):
    log = fields.String(
        metadata={"description": "The log: the service's events, or <service>.access."}
    )
    verified_to = fields.Integer(metadata={"description": "The last position verified."})
    outcome = fields.String(
        metadata={
            "description": "ok, changed, missing, extra, reordered, rewritten, bad-signature "
            "or no-checkpoint."
        }
    )
    position = fields.Integer(
        allow_none=True, metadata={"description": "The first differing position."}
    )
    detail = fields.String()
    checked_at = fields.String(metadata={"description": "When it was last verified (ISO 8601)."})
    last_checkpoint = fields.Integer(
        allow_none=True, metadata={"description": "Position of the last signed checkpoint."}
    )


class StatusPage(Schema):
    logs = fields.List(fields.Nested(StatusEntry))


class CheckpointOut(Schema):
    log = fields.String()
    position = fields.Integer()
    link = fields.String(metadata={"description": "Hex of the chain's link at the position."})
    time = fields.String()
    key_id = fields.String()
    signature = fields.String(metadata={"description": "Ed25519 over the other fields (hex)."})


class CheckpointArgs(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Only checkpoints after this position."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class CheckpointPage(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointOut))
    public_key = fields.String(
        metadata={"description": "The signing key's Ed25519 public key (hex)."}
    )
    key_id = fields.String()


class AccessArgs(Schema):
    """The filters are compared in SQL, and PostgreSQL's text cannot hold a NUL: a control
    character in one is refused (422), not a 500."""

    actor = fields.String(
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={"description": "A token subject, or role:subject."},
    )
    role = fields.String(validate=[validate.Length(min=1, max=40), SingleLine])
    person = fields.UUID(
        metadata={
            "description": "Entries that read this person's data (a participant: only their own)."
        }
    )
    operation = fields.String(
        validate=[validate.Length(min=1, max=200), SingleLine],
        metadata={
            "description": "A part of the operation, e.g. GET /enrolment/people (case ignored)."
        },
    )
    since = Moment(
        data_key="from",
        format="iso",
        metadata={"description": "Entries at or after (ISO 8601 with offset)."},
    )
    until = Moment(
        data_key="to",
        format="iso",
        metadata={"description": "Entries before (ISO 8601 with offset)."},
    )
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Cursor: entries after this position."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class AccessEntry(Schema):
    position = fields.Integer()
    at = fields.String()
    service = fields.String()
    role = fields.String()
    subject = fields.String()
    operation = fields.String()
    resource = fields.String()
    person_ids = fields.List(fields.String())
    outcome = fields.Integer(metadata={"description": "The HTTP status of the read."})
    purpose = fields.String(metadata={"description": f"The caller's {PURPOSE_HEADER} header."})


class AccessPage(Schema):
    entries = fields.List(fields.Nested(AccessEntry))
    next_after = fields.Integer(
        allow_none=True,
        metadata={"description": "Pass as ?after= for the next page; null on the last page."},
    )


CSV_COLUMNS = (
    "position",
    "at",
    "service",
    "role",
    "subject",
    "operation",
    "resource",
    "person_ids",
    "outcome",
    "purpose",
)
