"""The integration-event envelope: CloudEvents 1.0 plus Polku's extensions.

Extensions: ``sequence`` (the CloudEvents sequence extension: the position zero-padded to
:data:`SEQUENCE_DIGITS` digits, a string that sorts in log order), ``position`` (the notification
id in the source log), ``aggregateversion`` (the version of the aggregate named by ``subject``),
``actor`` (``role:subject`` of whoever caused it), ``correlationid`` and ``causationid``. An
extension without a value is left out, never sent as null. The id is derived from (subject,
aggregate version), so re-publishing an event gives the same id and consumers can ignore what
they have already applied.
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


SEQUENCE_DIGITS = 20
"""Digits of ``sequence``: enough for any BIGINT position, so the strings sort as the numbers."""

OPTIONAL_EXTENSIONS = ("correlationid", "causationid")
"""Extensions left out of an event that has no value for them."""


def sequence_of(position: int) -> str:
    """The CloudEvents ``sequence`` of a position: zero-padded, so it sorts lexicographically."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


def event_id(subject: str, version: int) -> str:
    """Deterministic: the same aggregate event always gets the same id.

    It is ``uuid5(ID_NAMESPACE, f"{subject}/{version}")`` of the aggregate's version, computed
    from a pre-hashed namespace: every relayed and projected event derives one.
    """
    digest = _NAMESPACED.copy()
    digest.update(f"{subject}/{version}".encode())
    h = digest.hexdigest()  # the first 32 of its 40 digits, with the version and variant set
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}
"""The digit of the RFC 4122 variant (binary 10xx) for each hex digit of the hash."""


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
    aggregateversion: int
    position: int
    actor: str
    correlationid: str
    causationid: str | None
    data: dict[str, Any]
    specversion: str = SPECVERSION
    datacontenttype: str = CONTENT_TYPE

    @property
    def sequence(self) -> str:
        """The CloudEvents sequence extension: the position as a string in log order."""
        return sequence_of(self.position)

    def to_dict(self) -> dict[str, Any]:
        """The CloudEvents JSON object; built directly, it is on every event's hot path."""
        raw = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
            "sequence": sequence_of(self.position),
            "position": self.position,
            "aggregateversion": self.aggregateversion,
            "actor": self.actor,
        }
        if self.correlationid:
            raw["correlationid"] = self.correlationid
        if self.causationid:
            raw["causationid"] = self.causationid
        raw["data"] = self.data
        return raw

    def attributes(self) -> dict[str, Any]:
        """The context attributes alone (no ``data``): what a CloudEvents SDK event is built of."""
        raw = self.to_dict()
        del raw["data"]
        return raw

    def text_attributes(self) -> dict[str, str]:
        """The attributes as binary mode carries them: every value its canonical string.

        A header is text, so the integer extensions travel as decimal strings;
        :meth:`from_attributes` reads them back.
        """
        return {name: str(value) for name, value in self.attributes().items()}

    def to_json(self) -> bytes:
        # to_dict() builds keys in a fixed order, so the bytes are deterministic unsorted.
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Envelope:
        """Validates the envelope; raises marshmallow's ValidationError naming bad fields."""
        loaded = _SCHEMA.load(raw)
        if loaded.pop("sequence") != sequence_of(loaded["position"]):
            raise ValidationError(
                {"sequence": [f"must be the position zero-padded to {SEQUENCE_DIGITS} digits"]}
            )
        loaded["causationid"] = loaded["causationid"] or None
        return cls(**loaded)

    @classmethod
    def from_attributes(cls, attributes: dict[str, Any], data: Any) -> Envelope:
        """An event read through a CloudEvents SDK, in either mode.

        Binary mode carries every attribute as a string (a Kafka or HTTP header), so the
        integer extensions are accepted here in their canonical decimal form as well.
        """
        raw = {key: value for key, value in attributes.items() if value is not None}
        for name in INTEGER_EXTENSIONS:
            value = raw.get(name)
            if isinstance(value, str) and value.isdigit() and str(int(value)) == value:
                raw[name] = int(value)
        time = raw.get("time")
        if isinstance(time, dt.datetime):
            raw["time"] = time.isoformat()
        return cls.from_dict({**raw, "data": data})

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


INTEGER_EXTENSIONS = ("position", "aggregateversion")

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
    dataschema = fields.String(required=True, validate=_attribute(1))
    sequence = fields.String(
        required=True,
        validate=[validate.Regexp(rf"^[0-9]{{{SEQUENCE_DIGITS}}}$")],
        metadata={"description": "The position zero-padded to 20 digits: sorts in log order."},
    )
    position = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_POSITION)
    )
    aggregateversion = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_POSITION)
    )
    actor = fields.String(required=True, validate=_attribute())
    # Optional: absent when there is no value (an empty or null one is read as absent too).
    correlationid = fields.String(load_default="", validate=_attribute())
    causationid = fields.String(load_default=None, allow_none=True, validate=_attribute())
    data = fields.Dict(keys=fields.String(), required=True)


_SCHEMA = EnvelopeSchema()
