"""The registry of integration-event types: each type's data schema and version.

Producers validate data against it before publishing, consumers before applying, so a type
unknown to the registry or data that breaks its schema never crosses a service boundary.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    schema: builtins.type[Schema]
    description: str

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
        """Serialises and validates outgoing data for ``type_``."""
        schema = self[type_].schema()
        undeclared = sorted(set(data) - set(schema.fields))
        if undeclared:
            # dump() would drop them silently; a mapping that leaks a field must fail loudly.
            raise ValidationError({key: ["Unknown field."] for key in undeclared})
        dumped = schema.dump(data)
        schema.load(dumped)  # a mapping bug must fail here, not in a consumer
        return dumped  # type: ignore[no-any-return]

    def load(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        """Deserialises and validates incoming data for ``type_``."""
        return self[type_].schema().load(data)  # type: ignore[no-any-return]
