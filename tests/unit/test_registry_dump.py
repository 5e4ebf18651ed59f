"""The registry's fast dump gives exactly what marshmallow's dump gives, for every event type."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields

from shared.events import default_registry, registry, restricted_registry
from shared.events.catalogue import restricted_only
from shared.events.registry import EventType, Registry

REGISTRY = default_registry()
# Every form published: the public types, and the restricted channel's full forms.
PUBLISHED = [*REGISTRY, *restricted_only(REGISTRY, restricted_registry())]

aware_datetimes = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2))]),
)


def values_for(schema_field: fields.Field) -> st.SearchStrategy[Any]:
    if isinstance(schema_field, fields.UUID):
        return st.uuids()
    if isinstance(schema_field, fields.DateTime):
        return aware_datetimes
    if isinstance(schema_field, fields.Date):
        return st.dates()
    if isinstance(schema_field, fields.Integer):
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if isinstance(schema_field, fields.Float):
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(schema_field, fields.Boolean):
        return st.booleans()
    if isinstance(schema_field, fields.List):
        return st.lists(values_for(schema_field.inner))
    if isinstance(schema_field, fields.Dict) and schema_field.value_field is not None:
        return st.dictionaries(st.text(), values_for(schema_field.value_field), max_size=4)
    if isinstance(schema_field, fields.Nested):
        nested = schema_field.schema
        return st.fixed_dictionaries({n: values_for(f) for n, f in nested.fields.items()})
    return st.text()


def data_for(event_type: EventType) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {name: values_for(f) for name, f in event_type.instance.fields.items()}
    )


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: f"{t.type}:{t.version}")
def test_every_published_type_takes_the_fast_path(event_type: EventType) -> None:
    assert event_type.converters is not None, "a new field kind needs a converter or a reason"


@pytest.mark.parametrize("event_type", PUBLISHED, ids=lambda t: f"{t.type}:{t.version}")
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fast_dump_equals_marshmallow_dump(event_type: EventType, data: st.DataObject) -> None:
    value = data.draw(data_for(event_type))
    expected = event_type.instance.dump(value)
    assert event_type.dump(value) == expected
    assert event_type.dump_declared(value) == expected  # every field is drawn


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(),
        st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats()),
        max_size=6,
    )
)
def test_a_dict_of_numbers_dumps_as_marshmallow_dumps_it(scores: dict[str, Any]) -> None:
    """Scores arrive as ints or floats (and may hold None or a bool): the same values, and the
    same types, as marshmallow's Float gives."""

    class Scored(Schema):
        scores = fields.Dict(keys=fields.String(), values=fields.Float())

    event_type = EventType("t.Scored", 1, Scored, "scored")
    assert event_type.converters is not None
    dumped = event_type.dump({"scores": scores})["scores"]
    expected = Scored().dump({"scores": scores})["scores"]
    assert dumped.keys() == expected.keys()
    for key, value in expected.items():
        got = dumped[key]
        assert type(got) is type(value)
        assert got == value or (value != value and got != got)  # NaN is not equal to itself


def test_schemas_with_renamed_or_unusual_fields_keep_marshmallow_dump() -> None:
    class Renamed(Schema):
        person_id = fields.UUID(required=True, data_key="personId")

    class Unusual(Schema):
        details = fields.Dict(required=True)

    registry = Registry()
    registry.register("t.Renamed", 1, Renamed, "renamed")
    registry.register("t.Unusual", 1, Unusual, "unusual")
    assert registry["t.Renamed"].converters is None
    assert registry["t.Unusual"].converters is None
    person = "8c8d4cf9-3b7f-4b43-8c5c-1f0f0b0d2f55"
    import uuid

    assert registry.dump("t.Renamed", {"person_id": uuid.UUID(person)}) == {"personId": person}
    assert registry.dump("t.Unusual", {"details": {"a": 1}}) == {"details": {"a": 1}}


def test_the_text_of_an_id_is_its_str_and_the_kept_texts_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "ID_TEXTS_KEPT", 3)
    monkeypatch.setattr(registry, "_ID_TEXTS", {})
    ids = [uuid.uuid4() for _ in range(7)]
    for value in [*ids, *ids]:
        again = uuid.UUID(str(value))  # a new object of the same number, as decoding makes
        assert registry.text(again) == str(value)
        assert len(registry._ID_TEXTS) <= 3
    assert registry.text("already text") == "already text"
    assert registry.text(7) == "7"


def test_a_remembered_text_is_used_only_when_it_is_the_str_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "ID_TEXTS_KEPT", 4)
    monkeypatch.setattr(registry, "_ID_TEXTS", {})
    value = uuid.uuid4()
    for other_form in (str(value).upper(), value.hex, "{" + str(value) + "}"):
        registry.remember_text(value, other_form)
        assert registry._ID_TEXTS == {}
    registry.remember_text(value, str(value))
    kept = registry._ID_TEXTS
    assert kept == {value.int: str(value)}
    assert registry.text(uuid.UUID(str(value))) == str(value)
    for _ in range(9):
        registry.remember_text(uuid.uuid4(), str(uuid.uuid4()).lower())
        assert len(registry._ID_TEXTS) <= 4
