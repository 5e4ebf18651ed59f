"""JSON Schema (2020-12) of every integration-event type and version, from its marshmallow schema.

apispec's MarshmallowPlugin turns the schema into JSON Schema; nested types become named
``$defs`` entries described by their class docstrings. Each document's ``$id`` is the type's
``dataschema`` URL, where the service serves it (``GET /<service>/schemas/<type>/<version>``),
so a subscriber validates ``data`` with any stock JSON Schema validator.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from shared.events.envelope import EnvelopeSchema
from shared.events.registry import EventType, Registry, service_of

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_CONTENT_TYPE = "application/schema+json"
COMPONENTS_REF = "#/components/schemas/"


def _nested_classes(schema: Schema, found: dict[str, type[Schema]]) -> dict[str, type[Schema]]:
    for schema_field in schema.fields.values():
        inner: Any = schema_field
        while isinstance(inner, fields.List):
            inner = inner.inner
        if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
            found[type(inner.schema).__name__] = type(inner.schema)
            _nested_classes(inner.schema, found)
    return found


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                "#/$defs/" + item[len(COMPONENTS_REF) :]
                if key == "$ref" and isinstance(item, str) and item.startswith(COMPONENTS_REF)
                else _rewrite_refs(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item) for item in value]
    return value


def _converted(schema: type[Schema]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema's JSON Schema and the nested types it references, by name."""
    plugin = MarshmallowPlugin(schema_name_resolver=lambda s: _class_of(s).__name__)
    spec = APISpec("polku-events", "1", "3.1.0", plugins=[plugin])
    assert plugin.converter is not None  # set by APISpec when the plugin is registered
    body = plugin.converter.schema2jsonschema(schema)
    nested = spec.to_dict().get("components", {}).get("schemas", {})
    return _rewrite_refs(body), _rewrite_refs(nested)


def _class_of(schema: Any) -> type[Schema]:
    return schema if isinstance(schema, type) else type(schema)


def _described(schema: type[Schema]) -> str | None:
    doc = schema.__dict__.get("__doc__")
    return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ") if doc else None


@functools.lru_cache(maxsize=512)
def json_schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema document of one type's ``data`` in one version."""
    body, nested = _converted(event_type.schema)
    classes = _nested_classes(event_type.instance, {})
    for name, definition in nested.items():
        described = _described(classes[name]) if name in classes else None
        if described:
            definition["description"] = described
    document: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": event_type.dataschema,
        "title": f"{event_type.type} version {event_type.version}",
        "description": event_type.description,
        **body,
    }
    if event_type.deprecated:
        document["deprecated"] = True
    if nested:
        document["$defs"] = nested
    return document


def envelope_schema(base_url: str) -> dict[str, Any]:
    """The CloudEvents envelope as JSON Schema (its ``data`` is the type's schema)."""
    body, _ = _converted(EnvelopeSchema)
    body["properties"]["data"] = {"type": "object"}
    body["required"] = sorted(set(body.get("required", [])) - {"correlationid", "causationid"})
    return {
        "$schema": DIALECT,
        "$id": f"{base_url.rstrip('/')}/schemas/cloudevent",
        "title": "Polku CloudEvent (structured mode)",
        **body,
    }


def schemas_of(registries: list[Registry], service: str) -> dict[tuple[str, int], EventType]:
    """Every version of every type ``service`` publishes on any of its channels."""
    found: dict[tuple[str, int], EventType] = {}
    for registry in registries:
        for event_type in registry.versions():
            if service_of(event_type.type) == service:
                found.setdefault((event_type.type, event_type.version), event_type)
    return found
