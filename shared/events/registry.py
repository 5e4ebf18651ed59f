"""The registry of integration-event types: each type's data schema and version.

Producers validate data against it before publishing, consumers before applying, so a type
unknown to the registry or data that breaks its schema never crosses a service boundary.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    schema: builtins.type[Schema]
    description: str
    instance: Schema = field(init=False, repr=False, compare=False)
    declared: frozenset[str] = field(init=False, repr=False, compare=False)
    required: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Building a marshmallow schema costs more than using one; build it once per type.
        instance = self.schema()
        object.__setattr__(self, "instance", instance)
        object.__setattr__(self, "declared", frozenset(instance.fields))
        required = frozenset(name for name, f in instance.fields.items() if f.required)
        object.__setattr__(self, "required", required)

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
        keys = set(data)
        undeclared = sorted(keys - event_type.declared)
        missing = sorted(event_type.required - keys)
        if undeclared or missing:
            # dump() would drop or skip them silently; a mapping bug must fail loudly here.
            raise ValidationError(
                {key: ["Unknown field."] for key in undeclared}
                | {key: ["Missing data for required field."] for key in missing}
            )
        return event_type.instance.dump(data)  # type: ignore[no-any-return]

    def load(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        """Deserialises and validates incoming data for ``type_``."""
        return self[type_].instance.load(data)  # type: ignore[no-any-return]
