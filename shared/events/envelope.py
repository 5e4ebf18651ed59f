"""The integration-event envelope: CloudEvents 1.0 plus Polku's extensions.

Extensions: ``sequence`` (the aggregate version), ``position`` (the notification id in the
source log), ``actor`` (``role:subject`` of whoever caused it), ``correlationid`` and
``causationid``. The id is derived from (subject, sequence), so re-publishing an event gives the
same id and consumers can ignore what they have already applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any, NamedTuple

from marshmallow import Schema, ValidationError, fields, validate

from shared.text import NoControlCharacters

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
ID_NAMESPACE = uuid.UUID("7d0f3b8e-3c41-4a8e-9a55-2a6b1f0b9c11")


_NAMESPACED = hashlib.sha1(ID_NAMESPACE.bytes, usedforsecurity=False)


def event_id(subject: str, sequence: int) -> str:
    """Deterministic: the same aggregate event always gets the same id.

    It is ``uuid5(ID_NAMESPACE, f"{subject}/{sequence}")``, computed from a pre-hashed
    namespace: every relayed and projected event derives one.
    """
    digest = _NAMESPACED.copy()
    digest.update(f"{subject}/{sequence}".encode())
    raw = bytearray(digest.digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = raw.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


class Envelope(NamedTuple):
    """One integration event, immutable.

    A NamedTuple rather than a frozen dataclass: every relayed and projected event builds one,
    and a frozen dataclass's ``__init__`` cost four times as much.
    """

    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime
    dataschema: str
    sequence: int
    position: int
    actor: str
    correlationid: str
    causationid: str | None
    data: dict[str, Any]
    specversion: str = SPECVERSION
    datacontenttype: str = CONTENT_TYPE

    def to_dict(self) -> dict[str, Any]:
        """The CloudEvents JSON object; built directly, it is on every event's hot path."""
        return {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
            "sequence": self.sequence,
            "position": self.position,
            "actor": self.actor,
            "correlationid": self.correlationid,
            "causationid": self.causationid,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        # to_dict() builds keys in a fixed order, so the bytes are deterministic unsorted.
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Envelope:
        """Validates the envelope; raises marshmallow's ValidationError naming bad fields."""
        return cls(**_SCHEMA.load(raw))

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> Envelope:
        if raw is None:
            raise ValidationError("no value (a tombstone?)")
        try:
            decoded = json.loads(raw)
        except ValueError as exc:  # also invalid UTF-8, and over-long integers
            raise ValidationError(f"not JSON: {exc}") from None
        except RecursionError:
            raise ValidationError("JSON nested too deeply") from None
        if not isinstance(decoded, dict):
            raise ValidationError("a CloudEvent must be a JSON object")
        return cls.from_dict(decoded)

    def comparable(self) -> dict[str, Any]:
        """Everything but transport details, for checking that two feeds agree."""
        return self._asdict()


MAX_POSITION = 2**63 - 1
"""The largest sequence or position a BIGINT column (and a Kafka offset) can hold."""


def _attribute(min_length: int = 0) -> list[validate.Validator]:
    # An attribute the projector stores as text: PostgreSQL cannot hold NUL, and a record it
    # cannot even park as a dead letter would stop projection for good.
    return [validate.Length(min=min_length, max=1000), NoControlCharacters()]


class EnvelopeSchema(Schema):
    """CloudEvents 1.0 JSON format (structured mode) with Polku's extension attributes."""

    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=_attribute(1))
    source = fields.String(required=True, validate=_attribute(1))
    type = fields.String(required=True, validate=_attribute(1))
    subject = fields.String(required=True, validate=_attribute(1))
    time = fields.AwareDateTime(required=True, format="iso")
    datacontenttype = fields.String(required=True, validate=validate.Equal(CONTENT_TYPE))
    dataschema = fields.String(required=True, validate=_attribute())
    sequence = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_POSITION)
    )
    position = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_POSITION)
    )
    actor = fields.String(required=True, validate=_attribute())
    correlationid = fields.String(required=True, validate=_attribute())
    causationid = fields.String(required=True, allow_none=True, validate=_attribute())
    data = fields.Dict(keys=fields.String(), required=True)


_SCHEMA = EnvelopeSchema()
