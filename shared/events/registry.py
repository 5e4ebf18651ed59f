"""The registry of integration-event types: each type's data schema and version.

Producers validate data against it before publishing, consumers before applying, so a type
unknown to the registry or data that breaks its schema never crosses a service boundary.

A type has one *current* version, the one published. Older versions stay registered beside it
(:meth:`Registry.register_previous`) with an *upcaster* to the next version: their schemas are
still served and documented, and :meth:`Registry.upcast` turns old data, read back from a topic
or a journal, into the current version (``docs/events.md``, "Evolution").
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields

Converter = Callable[[Any], Any]
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns one version's data into the next version's."""

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
"""Where ``polku up`` serves by default: the base of every ``dataschema`` URL unless
``POLKU_PUBLIC_BASE_URL`` names the public address."""


def service_of(type_: str) -> str:
    """The service that publishes ``type_``: ``fi.polku.<service>.<Name>``."""
    parts = type_.split(".")
    return parts[2] if len(parts) > 3 else "unknown"


def version_of(dataschema: str) -> int | None:
    """The version a ``dataschema`` URL names (its last segment), or None for another form."""
    last = dataschema.rstrip("/").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() and len(last) < 6 else None


def schema_url(base_url: str, type_: str, version: int) -> str:
    """Where the JSON Schema of ``type_`` in ``version`` is served."""
    return f"{base_url.rstrip('/')}/{service_of(type_)}/schemas/{type_}/{version}"


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
    found = _ID_TEXTS.get(value.int)
    return _keep(value.int, str(value)) if found is None else found


def remember_text(value: uuid.UUID, written: str) -> None:
    """Keeps ``written`` as the text of ``value`` when it is ``str(value)``'s form (a stored
    event's originator id is): :func:`text` then finds it instead of formatting it."""
    if len(written) == 36 and written[8] == "-" and written == written.lower():
        _keep(value.int, written)


def _keep(number: int, written: str) -> str:
    """Keeps an id's text by its number, starting over once :data:`ID_TEXTS_KEPT` are kept."""
    if len(_ID_TEXTS) >= ID_TEXTS_KEPT:
        _ID_TEXTS.clear()
    _ID_TEXTS[number] = written
    return written


def _text(value: Any) -> Any:
    """:func:`text` of a field's value, or None; a kept id's text without a second call."""
    if type(value) is uuid.UUID:
        found = _ID_TEXTS.get(value.int)
        if found is not None:
            return found
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
        values = schema_field.value_field
        if type(values) is fields.Float and not values.as_string:  # scores: the common case
            return _float_dict
        inner = _converter(values) if values else _same
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


def _float_dict(value: Any) -> Any:
    """A dict of numbers by text (scores, indices) as marshmallow dumps it, without a call per
    item: most keys are text and many values floats already."""
    if value is None:
        return None
    return {
        (k if type(k) is str else str(k)): (v if type(v) is float or v is None else float(v))
        for k, v in value.items()
    }


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    schema: builtins.type[Schema]
    description: str
    base_url: str = DEFAULT_PUBLIC_BASE_URL
    deprecated: bool = False
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

    def dump_declared(self, data: dict[str, Any]) -> dict[str, Any]:
        """:meth:`dump` of data holding every declared field and nothing else."""
        if self.converters is None:
            return self.instance.dump(data)  # type: ignore[no-any-return]
        return {name: convert(data[name]) for name, convert in self.converters.items()}

    @property
    def dataschema(self) -> str:
        return schema_url(self.base_url, self.type, self.version)


class UnknownEventType(ValidationError):
    pass


class Registry:
    def __init__(self, base_url: str = DEFAULT_PUBLIC_BASE_URL) -> None:
        self.base_url = base_url
        self._types: dict[str, EventType] = {}
        self._previous: dict[tuple[str, int], tuple[EventType, Upcaster]] = {}
        self._still_published: dict[str, list[tuple[EventType, Upcaster]]] = {}
        """Per type, its previous versions still published beside the current one, with the
        function that derives each one's data from the current version's (a *downcaster*)."""

    def register(self, type_: str, version: int, schema: type[Schema], description: str) -> None:
        if type_ in self._types:
            raise ValueError(f"event type {type_} is already registered")
        self._types[type_] = EventType(type_, version, schema, description, self.base_url)

    def register_previous(
        self,
        type_: str,
        version: int,
        schema: type[Schema],
        description: str,
        upcast: Upcaster,
    ) -> None:
        """An older version of a registered type, with the function that makes it the next one."""
        current = self[type_]
        if version >= current.version or (type_, version) in self._previous:
            raise ValueError(f"{type_} version {version} is not an older, new version")
        event_type = EventType(type_, version, schema, description, self.base_url, True)
        self._previous[(type_, version)] = (event_type, upcast)

    def evolve(
        self,
        type_: str,
        version: int,
        schema: type[Schema],
        description: str,
        upcast: Upcaster,
        downcast: Upcaster | None = None,
    ) -> None:
        """Makes ``version`` the current version of ``type_``; the current one becomes previous.

        ``upcast`` turns the previous version's data into the new one's. With ``downcast`` (the
        other way), the previous version is still published beside the new one, for its
        deprecation period: the same event (same id, position and sequence) is sent once in
        each version, the current one first.
        """
        previous = self[type_]
        if version != previous.version + 1:
            raise ValueError(f"{type_}: version {version} must follow {previous.version}")
        del self._types[type_]
        self.register(type_, version, schema, description)
        self.register_previous(
            type_, previous.version, previous.schema, previous.description, upcast
        )
        if downcast is not None:
            older = self._still_published.get(type_, [])
            kept = [(t, lambda data, d=d: d(downcast(data))) for t, d in older]
            self._still_published[type_] = [
                (self.version(type_, previous.version), downcast),
                *kept,
            ]

    def still_published(self, type_: str) -> list[tuple[EventType, Upcaster]]:
        """The previous versions of ``type_`` published beside the current one."""
        return self._still_published.get(type_, [])

    @property
    def publishes_previous_versions(self) -> bool:
        return bool(self._still_published)

    def versions(self) -> list[EventType]:
        """Every version of every type, current and previous, by type then version."""
        every = [*self._types.values(), *(t for t, _ in self._previous.values())]
        return sorted(every, key=lambda t: (t.type, t.version))

    def version(self, type_: str, version: int) -> EventType:
        current = self[type_]
        if version == current.version:
            return current
        try:
            return self._previous[(type_, version)][0]
        except KeyError:
            raise UnknownEventType(f"unknown version {version} of event type {type_!r}") from None

    def upcast(self, type_: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` of ``version`` (JSON form) as the current version's, validated at each step.

        Raises ValidationError (UnknownEventType for a version never registered), so a consumer
        dead-letters what it cannot read as it does any invalid event.
        """
        current = self[type_].version
        self.version(type_, version).instance.load(data)
        while version < current:
            data = self._previous[(type_, version)][1](data)
            version += 1
            self.version(type_, version).instance.load(data)
        return data

    def current_data(self, type_: str, dataschema: str, data: dict[str, Any]) -> dict[str, Any]:
        """The data of an event as the current version: upcast when ``dataschema`` is older.

        The version is the last segment of the ``dataschema`` URL; any other form (an old
        ``urn:`` one) is taken as the current version, validated as such by the caller.
        """
        version = version_of(dataschema)
        if version is None or version == self[type_].version:
            return data
        return self.upcast(type_, version, data)

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
            return event_type.dump_declared(data)
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
