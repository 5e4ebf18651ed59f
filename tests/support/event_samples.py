"""One valid envelope of every published event type and version, built from its schema.

Values are deterministic and derived from each field's kind and validators, so every type the
registries hold (public and restricted forms) has a sample without a running service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from marshmallow import Schema, fields, validate

from shared.events import Envelope, Registry, default_registry, event_id, restricted_registry
from shared.events.registry import EventType, service_of

TIME = dt.datetime(2020, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def _value(name: str, schema_field: fields.Field) -> Any:
    for validator in schema_field.validators:
        if isinstance(validator, validate.OneOf):
            return next(iter(validator.choices))
        if isinstance(validator, validate.Regexp):  # the one pattern: a 32-hex-digit hash
            return uuid.uuid5(uuid.NAMESPACE_URL, name).hex
    if isinstance(schema_field, fields.UUID):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    if isinstance(schema_field, fields.DateTime):
        return TIME.isoformat()
    if isinstance(schema_field, fields.Date):
        return "2020-03-01"
    if isinstance(schema_field, fields.Boolean):
        return True
    if isinstance(schema_field, fields.Integer):
        ranges = [v for v in schema_field.validators if isinstance(v, validate.Range)]
        return max([1, *(v.min for v in ranges if v.min is not None)])
    if isinstance(schema_field, fields.Float):
        return 3.5
    if isinstance(schema_field, fields.List):
        return [_value(name, schema_field.inner)]
    if isinstance(schema_field, fields.Dict):
        inner = schema_field.value_field
        key = _value(name, schema_field.key_field) if schema_field.key_field else "first"
        return {key: _value(name, inner) if inner is not None else "x"}
    if isinstance(schema_field, fields.Nested) and isinstance(schema_field.schema, Schema):
        return sample_data_of(schema_field.schema)
    return f"{name} text"


def sample_data_of(schema: Schema) -> dict[str, Any]:
    return {name: _value(name, f) for name, f in schema.fields.items()}


def sample(event_type: EventType, position: int = 7) -> Envelope:
    data = sample_data_of(event_type.instance)
    event_type.instance.load(data)  # a sample the schema refuses is a bug here
    subject = str(uuid.uuid5(uuid.NAMESPACE_URL, event_type.type))
    return Envelope(
        id=event_id(subject, 3),
        source=f"/polku/{service_of(event_type.type)}",
        type=event_type.type,
        subject=subject,
        time=TIME,
        dataschema=event_type.dataschema,
        aggregateversion=3,
        position=position,
        actor="coordinator:alice",
        correlationid="corr-1",
        causationid=None,
        data=data,
    )


def every_published(base_url: str = "http://127.0.0.1:8000") -> list[EventType]:
    """Every type in every form a channel carries: public, and the restricted full forms."""
    public, restricted = default_registry(base_url), restricted_registry(base_url)
    found: dict[tuple[str, int], EventType] = {}
    for registry in (public, restricted):
        for event_type in registry.versions():
            found.setdefault((event_type.type, event_type.version), event_type)
    return sorted(found.values(), key=lambda t: (t.type, t.version))


def registries(base_url: str = "http://127.0.0.1:8000") -> list[Registry]:
    return [default_registry(base_url), restricted_registry(base_url)]
