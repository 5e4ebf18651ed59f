"""The CloudEvents envelope schema and the event-type registry."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from shared.events import Envelope, UnknownEventType, default_registry, event_id
from shared.events import enrolment as contract
from shared.events.envelope import ID_NAMESPACE


def envelope(**changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "id": event_id("subject-1", 3),
        "source": "/polku/enrolment",
        "type": contract.PARTICIPANT_ENROLLED,
        "subject": "subject-1",
        "time": dt.datetime(2020, 3, 1, 9, 30, tzinfo=dt.UTC),
        "dataschema": f"urn:polku:schema:{contract.PARTICIPANT_ENROLLED}:1",
        "aggregateversion": 3,
        "position": 17,
        "actor": "coordinator:alice",
        "correlationid": "corr-1",
        "causationid": None,
        "data": {"cohort_id": "c", "person_id": "p"},
    }
    fields.update(changes)
    return Envelope(**fields)


def valid_dict(**changes: Any) -> dict[str, Any]:
    raw = envelope().to_dict()
    raw.update(changes)
    return raw


def field_errors(raw: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Envelope.from_json(json.dumps(raw))
    return caught.value.messages  # type: ignore[return-value]


def test_round_trip_through_json_is_lossless() -> None:
    original = envelope(causationid="cause-1")
    assert Envelope.from_json(original.to_json()) == original


def test_json_carries_the_cloudevents_attributes() -> None:
    raw = json.loads(envelope().to_json())
    assert raw["specversion"] == "1.0"
    assert raw["datacontenttype"] == "application/json"
    assert raw["time"] == "2020-03-01T09:30:00+00:00"
    assert "causationid" not in raw  # a null extension is left out, never sent as null


def test_sequence_is_a_string_that_sorts_in_log_order() -> None:
    positions = [9, 10, 11, 99, 100, 2**63 - 1]
    sequences = [json.loads(envelope(position=p).to_json())["sequence"] for p in positions]
    assert all(isinstance(s, str) for s in sequences)
    assert sorted(sequences) == sequences
    assert sequences[0] == "00000000000000000009"


def test_a_sequence_that_is_not_the_padded_position_is_refused() -> None:
    assert "sequence" in field_errors(valid_dict(sequence="00000000000000000018"))


def test_an_empty_correlation_id_is_left_out_and_reads_back() -> None:
    original = envelope(correlationid="")
    assert "correlationid" not in original.to_dict()
    assert Envelope.from_json(original.to_json()) == original


def test_binary_mode_strings_of_the_integer_extensions_are_accepted() -> None:
    attributes = {**envelope().attributes(), "position": "17", "aggregateversion": "3"}
    assert Envelope.from_attributes(attributes, envelope().data) == envelope()
    with pytest.raises(ValidationError):
        Envelope.from_attributes({**attributes, "position": "017"}, envelope().data)


@pytest.mark.parametrize(
    "attribute",
    [
        "id",
        "source",
        "type",
        "subject",
        "time",
        "specversion",
        "sequence",
        "position",
        "aggregateversion",
        "data",
    ],
)
def test_a_missing_required_attribute_is_named(attribute: str) -> None:
    raw = valid_dict()
    del raw[attribute]
    assert attribute in field_errors(raw)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("specversion", "0.3"),
        ("time", "2020-03-01T09:30:00"),  # naive: positions in time must be unambiguous
        ("time", "yesterday"),
        ("sequence", 17),  # the CloudEvents sequence extension is a string
        ("sequence", "17"),  # not zero-padded: would not sort in log order
        ("aggregateversion", "3"),  # a string is not an integer, even if it looks like one
        ("aggregateversion", 3.5),
        ("aggregateversion", 0),  # aggregate versions start at 1
        ("position", "17"),
        ("datacontenttype", "text/plain"),
        ("data", ["not", "an", "object"]),
        ("id", ""),
    ],
)
def test_a_malformed_attribute_is_named(attribute: str, value: Any) -> None:
    assert attribute in field_errors(valid_dict(**{attribute: value}))


def test_unknown_attributes_are_rejected() -> None:
    assert "surprise" in field_errors(valid_dict(surprise=1))


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"a string"', b"42", b"null"])
def test_a_non_object_is_rejected(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_json(raw)


def test_bytes_that_are_not_json_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Envelope.from_json(b"{not json")


def test_event_ids_depend_on_subject_and_aggregate_version_only() -> None:
    assert event_id("a", 1) == event_id("a", 1)
    assert len({event_id("a", 1), event_id("a", 2), event_id("b", 1)}) == 3


# The registry ---------------------------------------------------------------------------------


def test_registry_lookup_of_an_unknown_type_raises_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType):
        default_registry()["fi.polku.enrolment.Nope"]


@pytest.mark.parametrize("operation", ["dump", "load"])
def test_registry_dump_and_load_of_an_unknown_type_raise(operation: str) -> None:
    registry = default_registry()
    with pytest.raises(UnknownEventType):
        getattr(registry, operation)("fi.polku.enrolment.Nope", {})


def test_unknown_event_type_is_a_validation_error() -> None:
    # Consumers catch ValidationError to dead-letter; an unknown type must be caught the same way.
    assert issubclass(UnknownEventType, ValidationError)


def test_registry_lists_every_type_once_in_order() -> None:
    registry = default_registry()
    types = [t.type for t in registry]
    assert types == sorted(set(types))
    assert {
        contract.COHORT_PLANNED,
        contract.PARTICIPANT_ENROLLED,
        contract.PERSON_REGISTERED,
        contract.PROGRAMME_DEFINED,
    } <= set(types)
    assert contract.COHORT_PLANNED in registry
    assert "fi.polku.enrolment.Nope" not in registry


def test_registering_a_type_twice_is_refused() -> None:
    registry = default_registry()
    with pytest.raises(ValueError):
        contract.register(registry)


@given(subject=st.text(), sequence=st.integers(min_value=1, max_value=2**63))
def test_event_ids_are_the_uuid5_of_subject_and_sequence(subject: str, sequence: int) -> None:
    expected = uuid.uuid5(ID_NAMESPACE, f"{subject}/{sequence}")
    assert event_id(subject, sequence) == str(expected)
