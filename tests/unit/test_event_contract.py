"""The machine-readable contract: JSON Schemas, AsyncAPI documents, and the CloudEvents SDK.

Every type in every published form is checked against a stock JSON Schema validator, the
AsyncAPI documents against the official AsyncAPI 3.0 schema (vendored), and every event is
round-tripped through the official ``cloudevents`` SDK over HTTP, in both modes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http
from flask import Flask, request
from jsonschema import Draft7Validator, Draft202012Validator, ValidationError

from shared.events import Envelope, default_registry, restricted_registry
from shared.events.asyncapi import message_name
from shared.events.catalogue import documents
from shared.events.jsonschemas import json_schema
from shared.events.registry import EventType
from tests.support.event_samples import every_published, sample

VENDORED = Path(__file__).resolve().parents[1] / "support" / "vendor"
ASYNCAPI_SCHEMA = json.loads((VENDORED / "asyncapi-3.0.0-without-id.json").read_text())
PUBLISHED = every_published()
FORMATS = Draft202012Validator.FORMAT_CHECKER


def ids(event_type: EventType) -> str:
    return f"{event_type.type.rsplit('.', 1)[-1]}:{event_type.version}"


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, dict[str, Any]]:
    return documents(default_registry(), restricted_registry())


def test_every_type_of_both_services_is_published() -> None:
    services = {t.type.split(".")[2] for t in PUBLISHED}
    assert services == {"enrolment", "assessment"}
    assert len(PUBLISHED) == len({(t.type, t.version) for t in PUBLISHED})


@pytest.mark.parametrize("event_type", PUBLISHED, ids=ids)
def test_a_stock_validator_accepts_the_data_and_refuses_what_the_schema_refuses(
    event_type: EventType,
) -> None:
    schema = json_schema(event_type)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FORMATS)
    data = sample(event_type).data
    validator.validate(data)
    with pytest.raises(ValidationError):  # strict, like the marshmallow schema: no extra field
        validator.validate({**data, "email": "someone@example.org"})
    required = schema.get("required", [])
    if required:
        with pytest.raises(ValidationError):
            validator.validate({k: v for k, v in data.items() if k != required[0]})
    assert schema["$id"] == event_type.dataschema


def test_nested_types_are_named_and_described() -> None:
    scheduled = default_registry()["fi.polku.enrolment.SessionScheduled"]
    schema = json_schema(scheduled)
    assert schema["properties"]["facilitators"]["items"] == {"$ref": "#/$defs/FacilitatorV1"}
    assert "never by name" in schema["$defs"]["FacilitatorV1"]["description"]
    instrument = json_schema(restricted_registry()["fi.polku.assessment.InstrumentDefined"])
    assert set(instrument["$defs"]) == {"DimensionV1", "ScaleV1", "QuestionV1"}
    assert all(d.get("description") for d in instrument["$defs"].values())


def test_dataschema_urls_start_with_the_configured_base() -> None:
    registry = default_registry("https://polku.example.org")
    event_type = registry["fi.polku.enrolment.CohortPlanned"]
    assert event_type.dataschema == (
        "https://polku.example.org/enrolment/schemas/fi.polku.enrolment.CohortPlanned/1"
    )


@pytest.mark.parametrize("service", ["enrolment", "assessment"])
def test_the_asyncapi_document_is_valid_against_the_official_schema(
    asyncapi: dict[str, dict[str, Any]], service: str
) -> None:
    document = asyncapi[service]
    errors = sorted(Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert document["channels"]["events"]["address"] == f"polku.{service}.events"
    assert ("restricted" in document["channels"]) == (service == "assessment")


def test_the_official_schema_catches_a_broken_document(asyncapi: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(asyncapi["enrolment"]))
    broken["operations"]["receive-events"]["action"] = "consume"  # only send or receive
    assert list(Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(broken))


@pytest.mark.parametrize("event_type", PUBLISHED, ids=ids)
def test_each_event_validates_against_its_asyncapi_message(
    asyncapi: dict[str, dict[str, Any]], event_type: EventType
) -> None:
    document = asyncapi[event_type.type.split(".")[2]]
    message = document["components"]["messages"][message_name(event_type)]
    payload = message["payload"]["schema"]
    Draft202012Validator(payload, format_checker=FORMATS).validate(sample(event_type).to_dict())
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    headers = message["headers"]["properties"]["content-type"]["const"]
    assert headers.startswith("application/cloudevents+json")


def test_a_public_message_carries_no_individual_values(asyncapi: dict[str, Any]) -> None:
    public = asyncapi["assessment"]["channels"]["events"]["messages"]
    messages = asyncapi["assessment"]["components"]["messages"]
    for name in public:
        data = messages[name]["payload"]["schema"]["properties"]["data"]["properties"]
        assert not {"scores", "comments", "answers", "primary"} & set(data), name


# The official CloudEvents SDK, over HTTP -----------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> tuple[Flask, list[CloudEvent]]:
    """An HTTP endpoint that reads what it is sent with the SDK, as a subscriber would."""
    app = Flask("receiver")
    received: list[CloudEvent] = []

    @app.post("/inbox")
    def inbox() -> tuple[str, int]:
        received.append(from_http(dict(request.headers), request.get_data()))
        return "", 204

    return app, received


def _over_http(receiver: tuple[Flask, list[CloudEvent]], headers: Any, body: Any) -> CloudEvent:
    app, received = receiver
    received.clear()
    response = app.test_client().post("/inbox", headers=dict(headers), data=body)
    assert response.status_code == 204
    return received[0]


@pytest.mark.parametrize("mode", ["structured", "binary"])
@pytest.mark.parametrize("event_type", PUBLISHED, ids=ids)
def test_every_event_round_trips_through_the_sdk_over_http(
    receiver: tuple[Flask, list[CloudEvent]], event_type: EventType, mode: str
) -> None:
    original = sample(event_type)
    # Binary mode carries every attribute as a header, so as text.
    attributes = original.attributes() if mode == "structured" else original.text_attributes()
    event = CloudEvent(attributes, original.data)
    headers, body = (to_structured if mode == "structured" else to_binary)(event)
    if mode == "binary":
        assert "ce-causationid" not in headers  # a null extension is left out, not "None"
        assert headers["ce-sequence"] == "00000000000000000007"
    back = _over_http(receiver, headers, body)
    assert Envelope.from_attributes(back.get_attributes(), back.data) == original


def test_our_own_structured_bytes_are_read_by_the_sdk(
    receiver: tuple[Flask, list[CloudEvent]],
) -> None:
    original = sample(PUBLISHED[0])
    headers = {"content-type": "application/cloudevents+json; charset=utf-8"}
    back = _over_http(receiver, headers, original.to_json())
    assert back["sequence"] == original.sequence
    assert "causationid" not in back.get_attributes()
    assert Envelope.from_attributes(back.get_attributes(), back.data) == original
