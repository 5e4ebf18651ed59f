"""The AsyncAPI 3.0 document of a write service's events, generated from the registries.

One channel per Kafka topic (``<prefix>.<service>.events``, and the restricted one where the
service has it), keyed by subject, each record a structured-mode CloudEvent with a
``content-type`` header. One message per type and version: its payload is the CloudEvent with
``type`` and ``dataschema`` fixed and ``data`` the type's JSON Schema (:mod:`jsonschemas`), so
the document validates events offline. Every version a registry still holds is listed; older
ones are marked deprecated (``docs/events.md``, "Evolution").
"""

from __future__ import annotations

import copy
from typing import Any

from shared.events.envelope import STRUCTURED_CONTENT_TYPE
from shared.events.jsonschemas import DIALECT, envelope_schema, json_schema
from shared.events.registry import EventType, Registry, service_of

KAFKA_BINDING = "0.5.0"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


def message_name(event_type: EventType) -> str:
    """``<Name>.v<version>``: unique per type and version, and a valid component key."""
    return f"{event_type.type.rsplit('.', 1)[-1]}.v{event_type.version}"


def _payload(event_type: EventType, base_url: str) -> dict[str, Any]:
    envelope = copy.deepcopy(envelope_schema(base_url))
    envelope.pop("$id")
    envelope["title"] = f"{event_type.type} version {event_type.version}"
    properties = envelope["properties"]
    properties["type"] = {"const": event_type.type}
    properties["dataschema"] = {"const": event_type.dataschema}
    properties["data"] = json_schema(event_type)
    return {"schemaFormat": SCHEMA_FORMAT, "schema": {"$schema": DIALECT, **envelope}}


def _message(event_type: EventType, base_url: str) -> dict[str, Any]:
    deprecated = " Deprecated: a newer version is published beside it." * event_type.deprecated
    message: dict[str, Any] = {
        "name": event_type.type,
        "title": f"{event_type.type} v{event_type.version}",
        "summary": event_type.description,
        "description": f"Data schema: {event_type.dataschema}.{deprecated}",
        "contentType": STRUCTURED_CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {
                    "type": "string",
                    "const": STRUCTURED_CONTENT_TYPE,
                    "description": "Structured mode: the record value is the whole CloudEvent.",
                }
            },
        },
        "payload": _payload(event_type, base_url),
        "correlationId": {
            "description": "The request that caused the event (absent when none was given).",
            "location": "$message.payload#/correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The event's subject (aggregate id)."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    if event_type.deprecated:
        message["x-deprecated"] = True
    return message


def _channel_types(registry: Registry, service: str) -> list[EventType]:
    return [t for t in registry.versions() if service_of(t.type) == service]


def asyncapi_document(
    service: str,
    channels: dict[str, tuple[str, str, Registry]],
    base_url: str,
    bootstrap_servers: str | None = None,
    partitions: int = 6,
) -> dict[str, Any]:
    """``channels``: ``{channel id: (topic, description, registry)}``."""
    messages: dict[str, Any] = {}
    document_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel_id, (topic, description, registry) in channels.items():
        types = _channel_types(registry, service)
        for event_type in types:
            messages.setdefault(message_name(event_type), _message(event_type, base_url))
        document_channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": description,
            "messages": {
                message_name(t): {"$ref": f"#/components/messages/{message_name(t)}"} for t in types
            },
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "partitions": partitions,
                    "replicas": 1,
                    "topicConfiguration": {"retention.ms": -1, "retention.bytes": -1},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        operations[f"receive-{channel_id}"] = {
            "action": "receive",
            "title": f"Consume {topic}",
            "summary": "Read the service's events in a consumer group; dedupe by event id.",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{message_name(t)}"} for t in types
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "id": f"urn:polku:{service}:events",
        "info": {
            "title": f"Polku {service} events",
            "version": "1.0.0",
            "description": (
                f"The integration events of Polku's {service} service, as CloudEvents 1.0 in "
                f"structured mode, keyed by subject. The same events are served over HTTP at "
                f"{base_url}/{service}/events; each data schema at "
                f"{base_url}/{service}/schemas/<type>/<version>."
            ),
            "externalDocs": {"url": f"{base_url}/{service}/docs"},
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": bootstrap_servers or "localhost:9092",
                "protocol": "kafka",
                "description": "The Kafka cluster Polku relays to (POLKU_KAFKA_BOOTSTRAP_SERVERS).",
            }
        },
        "channels": document_channels,
        "operations": operations,
        "components": {"messages": messages},
    }
