"""Evolution without breakage: a version 2 of a real event type, added the documented way.

``fi.polku.enrolment.ProgrammeDefined`` gets a version 2 whose ``organisation`` becomes an
``owner`` object (not additive, so a new version). The stored domain event gains
``class_version = 2`` with eventsourcing's ``upcast_v1_v2``; the registry is evolved with an
upcaster and a downcaster, so version 1 is still published beside version 2. Events stored
before the change replay as version 2, both versions are in the AsyncAPI document, and a
subscriber written for version 1 reads exactly what it read before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from marshmallow import Schema, fields

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.programmes import Programme
from services.enrolment.integration import translate
from shared.events import Envelope, Registry, default_registry
from shared.events import enrolment as contract
from shared.events.asyncapi import asyncapi_document
from shared.events.jsonschemas import json_schema
from shared.outbox import Outbox
from tests.unit.factories import meta

ASYNCAPI_SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[1] / "support/vendor/asyncapi-3.0.0-without-id.json"
    ).read_text()
)


class OwnerV2(Schema):
    """Who owns a programme: the organisation, and the unit inside it when known."""

    organisation = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)


class ProgrammeDefinedV2(Schema):
    programme_id = fields.UUID(required=True)
    name = fields.String(required=True)
    owner = fields.Nested(OwnerV2, required=True)


def up(data: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k != "organisation"}
    return {**rest, "owner": {"organisation": data["organisation"], "unit": None}}


def down(data: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k != "owner"}
    return {**rest, "organisation": data["owner"]["organisation"]}


def evolved_registry() -> Registry:
    registry = default_registry()
    registry.evolve(
        contract.PROGRAMME_DEFINED,
        2,
        ProgrammeDefinedV2,
        "A programme was defined, with its owner.",
        upcast=up,
        downcast=down,
    )
    return registry


def translate_v2(domain_event: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(domain_event, Programme.Defined):  # type: ignore[attr-defined]
        return contract.PROGRAMME_DEFINED, {
            "programme_id": domain_event.originator_id,
            "name": domain_event.name,
            "owner": domain_event.owner,
        }
    return translate(domain_event)


def v1_subscriber(events: list[dict[str, Any]], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A subscriber written before version 2: it reads the version its schema names.

    It skips events of a version it does not know (as the policy asks) and ignores an id it
    has already handled.
    """
    validator = Draft202012Validator(schema)
    seen, handled = set(), []
    for event in events:
        if event["type"] != contract.PROGRAMME_DEFINED or event["dataschema"] != schema["$id"]:
            continue
        if event["id"] in seen:
            continue
        validator.validate(event["data"])
        seen.add(event["id"])
        handled.append(event["data"])
    return handled


@pytest.fixture
def stored_before(enrolment: EnrolmentApplication) -> list[dict[str, Any]]:
    """Two programmes stored by version-1 code, and what the v1 subscriber read then."""
    for name in ("Leadership", "Coaching"):
        enrolment.define_programme(name, "TEM", meta("hr-1", "hr_admin", "corr"))
    outbox = Outbox("enrolment", enrolment, translate, default_registry())
    return [e.to_dict() for e in outbox.read(0, 100).envelopes]


@pytest.fixture
def version_2(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The domain event's class version 2 and its upcaster; records what it upcast."""
    upcast: list[dict[str, Any]] = []

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["owner"] = {"organisation": state["organisation"], "unit": None}
        upcast.append(state)

    defined = Programme.Defined  # type: ignore[attr-defined]
    monkeypatch.setattr(defined, "class_version", 2, raising=False)
    monkeypatch.setattr(defined, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    return upcast


def test_old_stored_events_replay_as_version_2_and_version_1_is_still_published(
    enrolment: EnrolmentApplication,
    stored_before: list[dict[str, Any]],
    version_2: list[dict[str, Any]],
) -> None:
    v1_schema = json_schema(default_registry()[contract.PROGRAMME_DEFINED])
    before = v1_subscriber(stored_before, v1_schema)
    assert [d["name"] for d in before] == ["Leadership", "Coaching"]

    registry = evolved_registry()
    outbox = Outbox("enrolment", enrolment, translate_v2, registry)
    replayed = [e.to_dict() for e in outbox.read(0, 100).envelopes]
    assert len(version_2) == 2, "the stored events did not go through upcast_v1_v2"

    defined = [e for e in replayed if e["type"] == contract.PROGRAMME_DEFINED]
    v2 = [e for e in defined if e["dataschema"].endswith("/2")]
    assert [e["data"]["owner"] for e in v2] == [{"organisation": "TEM", "unit": None}] * 2
    v2_validator = Draft202012Validator(json_schema(registry[contract.PROGRAMME_DEFINED]))
    for event in v2:
        v2_validator.validate(event["data"])
    # The same event in both versions: same id, position and sequence, the current one first.
    assert [(e["id"], e["position"], e["dataschema"][-1]) for e in defined] == [
        (v["id"], v["position"], version) for v in v2 for version in "21"
    ]
    # The subscriber written for version 1 reads exactly what it read before.
    assert v1_subscriber(replayed, v1_schema) == before


def test_a_consumer_on_the_current_version_upcasts_old_events_from_the_log(
    stored_before: list[dict[str, Any]],
) -> None:
    registry = evolved_registry()
    old = next(e for e in stored_before if e["type"] == contract.PROGRAMME_DEFINED)
    envelope = Envelope.from_dict(old)
    data = registry.current_data(envelope.type, envelope.dataschema, envelope.data)
    assert data == up(old["data"])
    registry.load(envelope.type, data)  # valid as the current version
    with pytest.raises(Exception, match="version"):
        registry.upcast(envelope.type, 7, old["data"])


def test_both_versions_are_in_the_asyncapi_document() -> None:
    registry = evolved_registry()
    document = asyncapi_document(
        "enrolment", {"events": ("polku.enrolment.events", "public", registry)}, registry.base_url
    )
    assert not list(Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(document))
    messages = document["components"]["messages"]
    assert {"ProgrammeDefined.v1", "ProgrammeDefined.v2"} <= set(messages)
    assert messages["ProgrammeDefined.v1"]["x-deprecated"] is True
    assert "x-deprecated" not in messages["ProgrammeDefined.v2"]
    channel = document["channels"]["events"]["messages"]
    assert {"ProgrammeDefined.v1", "ProgrammeDefined.v2"} <= set(channel)


def test_a_version_must_follow_the_current_one() -> None:
    registry = default_registry()
    with pytest.raises(ValueError, match="must follow"):
        registry.evolve(contract.PROGRAMME_DEFINED, 3, ProgrammeDefinedV2, "skips", upcast=up)
