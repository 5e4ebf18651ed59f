"""The machine-readable event contract a write service serves, without authentication.

``GET /<service>/schemas/<type>/<version>`` is the JSON Schema of one type's ``data`` (the URL
every event's ``dataschema`` names), ``GET /<service>/schemas/cloudevent`` the envelope's, and
``GET /<service>/asyncapi.json`` the AsyncAPI 3.0 document of the service's Kafka channels.
They describe shapes, never values, so they are public like the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from shared.events import Registry
from shared.events.asyncapi import asyncapi_document
from shared.events.jsonschemas import SCHEMA_CONTENT_TYPE, envelope_schema, json_schema, schemas_of
from shared.kafka import restricted_topic_of, topic_of
from shared.outbox import Outbox
from shared.web.blueprint import Blueprint

CONTRACT = "polku.contract"
"""App extension: ``{"prefix": topic prefix, "servers": bootstrap servers or None}``."""


def _registries() -> list[Registry]:
    outboxes = ["polku.outbox", "polku.restricted_outbox"]
    return [
        current_app.extensions[name].registry for name in outboxes if name in current_app.extensions
    ]


def _json(document: dict[str, Any], content_type: str) -> Response:
    return Response(json.dumps(document, indent=1), content_type=content_type)


def asyncapi_of(app: Flask) -> dict[str, Any]:
    """The service's AsyncAPI document, as ``/<service>/asyncapi.json`` serves it."""
    with app.app_context():
        service = current_app.extensions["polku.service"]
        settings = current_app.extensions.get(CONTRACT, {})
        prefix = settings.get("prefix", "polku")
        public: Outbox = current_app.extensions["polku.outbox"]
        channels = {
            "events": (
                topic_of(service, prefix),
                "Every public event of the service: no personal data, no individual values.",
                public.registry,
            )
        }
        restricted: Outbox | None = current_app.extensions.get("polku.restricted_outbox")
        if restricted is not None:
            channels["restricted"] = (
                restricted_topic_of(service, prefix),
                "The restricted channel: the same events with individual values, readable "
                "only by tracking's Kafka principal (broker ACL).",
                restricted.registry,
            )
        return asyncapi_document(
            service,
            channels,
            public.registry.base_url,
            settings.get("servers"),
            settings.get("partitions", 6),
        )


def contract_blueprint(service: str) -> Blueprint:
    blp = Blueprint(
        f"{service}_contract",
        __name__,
        url_prefix=f"/{service}",
        description="The event contract: JSON Schemas of the events and the AsyncAPI document.",
    )

    @blp.route("/schemas/<string:type_>/<int:version>")
    class EventSchema(MethodView):
        @blp.doc(security=[])
        @blp.response(
            200,
            content_type=SCHEMA_CONTENT_TYPE,
            description="The JSON Schema (2020-12) of the type's data in that version.",
        )
        @blp.alt_response(404, description="No such type or version in this service.")
        def get(self, type_: str, version: int) -> Response:
            """The JSON Schema of one event type's ``data``: what its ``dataschema`` names."""
            found = schemas_of(_registries(), service).get((type_, version))
            if found is None:
                known = sorted({t for t, _ in schemas_of(_registries(), service)})
                abort(
                    404,
                    message=f"{service} publishes no event type {type_!r} in version {version}; "
                    f"its types are {', '.join(known)}",
                )
            return _json(json_schema(found), SCHEMA_CONTENT_TYPE)

    @blp.route("/schemas/cloudevent")
    class CloudEventSchema(MethodView):
        @blp.doc(security=[])
        @blp.response(
            200,
            content_type=SCHEMA_CONTENT_TYPE,
            description="The JSON Schema of the CloudEvents envelope.",
        )
        def get(self) -> Response:
            """The CloudEvents envelope (structured mode) with Polku's extensions."""
            base_url = current_app.extensions["polku.outbox"].registry.base_url
            return _json(envelope_schema(base_url), SCHEMA_CONTENT_TYPE)

    @blp.route("/asyncapi.json")
    class AsyncApi(MethodView):
        @blp.doc(security=[])
        @blp.response(200, description="The AsyncAPI 3.0 document of the service's topics.")
        def get(self) -> Response:
            """The service's Kafka channels and messages (AsyncAPI 3.0)."""
            return _json(asyncapi_of(current_app._get_current_object()), "application/json")  # type: ignore[attr-defined]

    return blp


def cloudevent_component(registries: list[Registry], service: str) -> dict[str, Any]:
    """The OpenAPI component the feed pages' items reference."""
    base_url = registries[0].base_url
    envelope = envelope_schema(base_url)
    envelope.pop("$schema")
    envelope["properties"]["data"] = {
        "description": "Valid against the JSON Schema its dataschema URL serves.",
        "anyOf": [
            {"$ref": t.dataschema}
            for t in sorted(
                schemas_of(registries, service).values(), key=lambda t: (t.type, t.version)
            )
        ],
    }
    return envelope
