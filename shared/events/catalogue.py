"""The event catalogue: every published integration event, rendered from the AsyncAPI documents.

``polku events`` prints it; ``docs/events.md`` is its committed copy, which a test keeps in step.
It is rendered from the same AsyncAPI documents (:mod:`shared.events.asyncapi`) and JSON Schemas
the services serve, so the Markdown cannot say anything the machine-readable contract does not.
It lists the public channels' types, then the restricted channel's forms of the types that
differ there (the assessment types carrying individual values).
"""

from __future__ import annotations

from typing import Any

from shared.events.asyncapi import asyncapi_document, message_name
from shared.events.jsonschemas import envelope_schema
from shared.events.registry import EventType, Registry, service_of
from shared.settings import RESTRICTED_CHANNELS


def restricted_only(public: Registry, restricted: Registry) -> list[EventType]:
    """The restricted channel's types whose form differs from the public one."""
    return [t for t in restricted if t.type in public and public[t.type].version != t.version]


def documents(
    public: Registry, restricted: Registry, prefix: str = "polku"
) -> dict[str, dict[str, Any]]:
    """The AsyncAPI document of every service with events, by service."""
    services = sorted({service_of(t.type) for t in public})
    found = {}
    for service in services:
        channels = {
            "events": (f"{prefix}.{service}.events", "The public channel.", public),
        }
        if service in RESTRICTED_CHANNELS:
            channels["restricted"] = (
                f"{prefix}.{service}.restricted",
                "The restricted channel, for tracking only.",
                restricted,
            )
        found[service] = asyncapi_document(service, channels, public.base_url)
    return found


def json_type(prop: dict[str, Any]) -> str:
    """A JSON Schema property in words: ``string (uuid) or null``, ``array of `ScaleV1```."""
    if "$ref" in prop:
        return f"`{prop['$ref'].rsplit('/', 1)[-1]}`"
    kinds = prop.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    nullable = "null" in kinds
    kind = next((k for k in kinds if k != "null"), "any")
    name = kind
    if kind == "string" and "format" in prop:
        name = f"string ({prop['format']})"
    elif kind == "array":
        name = f"array of {json_type(prop.get('items', {}))}"
    elif kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        name = f"object of {json_type(prop['additionalProperties'])}"
    if "enum" in prop:
        name += ": " + ", ".join(f"`{v}`" for v in prop["enum"] if v is not None)
    return f"{name} or null" if nullable else name


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {"name": name, "type": json_type(prop), "required": name in required}
        for name, prop in schema.get("properties", {}).items()
    ]


def describe_message(message: dict[str, Any], channel: str) -> dict[str, Any]:
    payload = message["payload"]["schema"]
    data = payload["properties"]["data"]
    return {
        "type": message["name"],
        "channel": channel,
        "version": int(message["title"].rsplit("v", 1)[-1]),
        "dataschema": payload["properties"]["dataschema"]["const"],
        "description": message["summary"],
        "deprecated": bool(message.get("x-deprecated")),
        "data": _fields(data),
        "nested": {
            name: {"description": nested.get("description", ""), "data": _fields(nested)}
            for name, nested in data.get("$defs", {}).items()
        },
    }


def _entries(public: Registry, restricted: Registry) -> tuple[list[dict[str, Any]], ...]:
    found = documents(public, restricted)
    public_entries, restricted_entries = [], []
    for document in found.values():
        messages = document["components"]["messages"]
        on_public = set(document["channels"]["events"]["messages"])
        for name in on_public:
            public_entries.append(describe_message(messages[name], "public"))
        if "restricted" in document["channels"]:
            for name in set(document["channels"]["restricted"]["messages"]) - on_public:
                restricted_entries.append(describe_message(messages[name], "restricted"))
    key = lambda e: (e["type"], e["version"])  # noqa: E731
    return sorted(public_entries, key=key), sorted(restricted_entries, key=key)


def describe_all(public: Registry, restricted: Registry) -> list[dict[str, Any]]:
    public_entries, restricted_entries = _entries(public, restricted)
    return public_entries + restricted_entries


CHANNELS = [
    "## Channels",
    "",
    "- **Public**: the topic `polku.<service>.events` and `GET /<service>/events` (roles",
    "  `service`, `auditor`, `hr_admin`). Every type below in its listed version. Events announce",
    "  facts without individual values: ids, wave, rater group, instrument, cohort, dates and",
    "  counts. No score, style category, answer or comment text.",
    "- **Restricted** (assessment only): the topic `polku.assessment.restricted` and",
    "  `GET /assessment/restricted/events`, readable only by tracking's identity (the Kafka",
    "  principal `tracking` by broker ACL; a `service` token whose subject is in",
    "  `POLKU_RESTRICTED_READERS`). The same events, with the same ids, sequences and positions,",
    "  carrying the individual values the tracking views aggregate. Every assessment type appears",
    "  there; the types under *Restricted channel* below in their full version 1 form, the others",
    "  exactly as on the public channel. Enrolment has no restricted channel.",
    "",
    "Why a restricted channel rather than encrypted fields: `docs/privacy.md`, section 1.",
    "",
]

MEANINGS = {
    "specversion": "always `1.0`",
    "id": "uuid5 of subject and aggregate version: republishing gives the same id",
    "source": "`/polku/<service>`",
    "type": "one of the types below",
    "subject": "the aggregate's id (a pseudonymous id for people); also the Kafka record key",
    "time": "when the event happened (the domain event's timestamp)",
    "datacontenttype": "always `application/json`",
    "dataschema": "URL of the JSON Schema of `data`: "
    "`<POLKU_PUBLIC_BASE_URL>/<service>/schemas/<type>/<version>`",
    "sequence": "CloudEvents sequence extension: the position zero-padded to 20 digits, so the "
    "strings sort in log order",
    "position": "the notification id in the source service's log (may have gaps)",
    "aggregateversion": "the version of the aggregate named by `subject` (1, 2, ...)",
    "actor": "`role:subject` of whoever caused the event",
    "correlationid": "the request's `X-Correlation-ID`; left out when there is none",
    "causationid": "the request's `X-Causation-ID`; left out when it sent none",
    "data": "the type's fields, below: ids and attributes, never personal data",
}
"""What each envelope attribute means; its type comes from the envelope's JSON Schema."""


def as_markdown(registry: Registry, restricted: Registry | None = None) -> str:
    restricted = restricted if restricted is not None else registry
    payload = envelope_schema(registry.base_url)
    required = set(payload.get("required", []))
    lines = [
        "# Integration event catalogue",
        "",
        "Generated by `polku events` from the services' AsyncAPI documents",
        "(`/<service>/asyncapi.json`, built from `shared/events/`); do not edit by hand.",
        "",
        "Every event is a CloudEvents 1.0 JSON object (structured mode) on the topic",
        "`polku.<service>.events`, keyed by `subject`, and on `GET /<service>/events`. Each",
        "type's `data` is described by the JSON Schema (2020-12) its `dataschema` URL serves.",
        "How to consume them, when a feed ends, and the evolution policy: `docs/subscribing.md`.",
        "",
        *CHANNELS,
        "## Envelope",
        "",
        "| attribute | type | required | meaning |",
        "|---|---|---|---|",
    ]
    for name, prop in payload["properties"].items():
        kind = "object" if name == "data" else json_type(prop)
        needed = "yes" if name in required else "no"
        lines.append(f"| `{name}` | {kind} | {needed} | {MEANINGS.get(name, '')} |")
    public_entries, restricted_entries = _entries(registry, restricted)
    for entry in public_entries:
        lines += _section(entry, "##", "")
    if restricted_entries:
        lines += [
            "",
            "## Restricted channel",
            "",
            "These types carry individual values, so the public channel has their minimised",
            "form (above), and only `polku.assessment.restricted` and",
            "`GET /assessment/restricted/events` carry the full one, which tracking reads.",
        ]
        for entry in restricted_entries:
            lines += _section(entry, "###", ", restricted")
    return "\n".join(lines) + "\n"


def _table(data: list[dict[str, Any]]) -> list[str]:
    return [
        "| data field | type | required |",
        "|---|---|---|",
        *(f"| `{f['name']}` | {f['type']} | {'yes' if f['required'] else 'no'} |" for f in data),
    ]


def _section(entry: dict[str, Any], level: str, channel: str) -> list[str]:
    deprecated = ", deprecated" if entry["deprecated"] else ""
    lines = [
        "",
        f"{level} `{entry['type']}` (version {entry['version']}{channel}{deprecated})",
        "",
        entry["description"],
        "",
        f"Schema: `/{entry['dataschema'].split('/', 3)[-1]}`",
        "",
        *_table(entry["data"]),
    ]
    for name, nested in entry["nested"].items():
        lines += ["", f"`{name}`: {nested['description']}", "", *_table(nested["data"])]
    return lines


__all__ = ["as_markdown", "describe_all", "documents", "message_name", "restricted_only"]
