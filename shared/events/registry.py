"""The registry of integration-event types: each type's data schema and version.

Producers validate data against it before publishing, consumers before applying, so a type
unknown to the registry or data that breaks its schema never crosses a service boundary.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields

Converter = Callable[[Any], Any]


def _isoformat(value: Any) -> Any:
    return None if value is None else value.isoformat()


_ID_TEXTS: dict[int, str] = {}
ID_TEXTS_KEPT = 16384
"""How many ids' text :func:`text` keeps; then it starts over."""


def text(value: Any) -> str:
    """``str(value)``, with the text of recent UUIDs kept by their number.

    ``UUID.__str__`` is Python code, and the same ids (a cohort's, a person's) recur in event
    after event: the relay and the rebuild turn every id of every event into text. Each decoded
    event brings new UUID objects, so the key is the number, not the object.
    """
    if type(value) is not uuid.UUID:
        return str(value)
    number = value.int
    found = _ID_TEXTS.get(number)
    if found is None:
        if len(_ID_TEXTS) >= ID_TEXTS_KEPT:
            _ID_TEXTS.clear()
        found = _ID_TEXTS[number] = str(value)
    return found


def _text(value: Any) -> Any:
    return None if value is None else text(value)


def _same(value: Any) -> Any:
    return value


def _converters(schema: Schema) -> dict[str, Converter] | None:
    """A converter per field when every field is a simple kind dumped under its own name."""
    converters = {}
    for name, schema_field in schema.fields.items():
        convert = _converter(schema_field)
        renamed = schema_field.data_key not in (None, name)
        if convert is None or renamed or schema_field.load_only or schema_field.dump_only:
            return None
        converters[name] = convert
    return converters


def _converter(schema_field: fields.Field) -> Converter | None:
    """What marshmallow's dump does to a value of this field, for the simple field kinds.

    The relay and the rebuild serialise every event; marshmallow's generic dump machinery was
    a quarter of their time. Kinds not listed here return None and keep marshmallow's dump.
    """
    if isinstance(schema_field, fields.UUID):
        return _text
    if isinstance(schema_field, fields.DateTime | fields.Date) and schema_field.format in (
        None,
        "iso",
    ):
        return _isoformat
    if type(schema_field) in (fields.String, fields.Integer) and not getattr(
        schema_field, "as_string", False
    ):
        return _same
    if isinstance(schema_field, fields.List) and type(schema_field.inner) is fields.String:
        return lambda value: None if value is None else list(value)
    return _structured_converter(schema_field)


def _structured_converter(schema_field: fields.Field) -> Converter | None:
    """Numbers, flags, lists, dicts and nested schemas built of the simple kinds above."""
    if type(schema_field) is fields.Float and not schema_field.as_string:
        return lambda value: None if value is None else float(value)
    if type(schema_field) is fields.Boolean:
        return lambda value: None if value is None else bool(value)
    if isinstance(schema_field, fields.List):
        item = _converter(schema_field.inner)
        if item is None:
            return None
        return lambda value: None if value is None else [item(v) for v in value]
    if type(schema_field) is fields.Dict and type(schema_field.key_field) is fields.String:
        inner = _converter(schema_field.value_field) if schema_field.value_field else _same
        if inner is None:
            return None
        return lambda value: None if value is None else {str(k): inner(v) for k, v in value.items()}
    if type(schema_field) is fields.Nested and not schema_field.many:
        nested = schema_field.schema
        members = _converters(nested) if isinstance(nested, Schema) else None
        if members is None:
            return None
        return lambda value: (
            None
            if value is None
            else {name: convert(value[name]) for name, convert in members.items() if name in value}
        )
    return None


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    schema: builtins.type[Schema]
    description: str
    instance: Schema = field(init=False, repr=False, compare=False)
    declared: frozenset[str] = field(init=False, repr=False, compare=False)
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    converters: dict[str, Converter] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Building a marshmallow schema costs more than using one; build it once per type.
        instance = self.schema()
        object.__setattr__(self, "instance", instance)
        object.__setattr__(self, "declared", frozenset(instance.fields))
        required = frozenset(name for name, f in instance.fields.items() if f.required)
        object.__setattr__(self, "required", required)
        object.__setattr__(self, "converters", _converters(instance))

    def dump(self, data: dict[str, Any]) -> dict[str, Any]:
        """The JSON form of ``data``: what ``schema.dump`` gives, without its overhead."""
        if self.converters is None:
            return self.instance.dump(data)  # type: ignore[no-any-return]
        return {
            name: convert(data[name]) for name, convert in self.converters.items() if name in data
        }

    @property
    def dataschema(self) -> str:
        return f"urn:polku:schema:{self.type}:{self.version}"


class UnknownEventType(ValidationError):
    pass


class Registry:
    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(self, type_: str, version: int, schema: type[Schema], description: str) -> None:
        if type_ in self._types:
            raise ValueError(f"event type {type_} is already registered")
        self._types[type_] = EventType(type_, version, schema, description)

    def __getitem__(self, type_: str) -> EventType:
        try:
            return self._types[type_]
        except KeyError:
            raise UnknownEventType(f"unknown event type {type_!r}") from None

    def __contains__(self, type_: object) -> bool:
        return type_ in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter(sorted(self._types.values(), key=lambda t: t.type))

    def dump(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        """Serialises outgoing data for ``type_``, refusing undeclared or missing fields.

        Values are not re-validated here (every consumer loads what it receives, and the
        mapping tests load every type); the key checks are what keep personal data out.
        """
        event_type = self[type_]
        if data.keys() == event_type.declared:  # the usual case: every field, nothing else
            return event_type.dump(data)
        keys = set(data)
        undeclared = sorted(keys - event_type.declared)
        missing = sorted(event_type.required - keys)
        if undeclared or missing:
            # dump() would drop or skip them silently; a mapping bug must fail loudly here.
            raise ValidationError(
                {key: ["Unknown field."] for key in undeclared}
                | {key: ["Missing data for required field."] for key in missing}
            )
        return event_type.dump(data)

    def load(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        """Deserialises and validates incoming data for ``type_``."""
        return self[type_].instance.load(data)  # type: ignore[no-any-return]
