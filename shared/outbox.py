"""The outbox: a write service's notification log read as integration events.

The relay, the in-process feed and the HTTP feed all read through :class:`Outbox`, so all
three give identical envelopes. A service supplies a pure *translation* from its domain events
to ``(type, data)``; this module adds the envelope and validates the data against the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared.events import Envelope, Registry, event_id


class DomainEvent(Protocol):
    originator_id: Any
    originator_version: int
    timestamp: Any


Translation = Callable[[Any], "tuple[str, dict[str, Any]] | None"]
"""Maps one domain event to ``(integration type, data)``, or None when it is not published."""


def actor_of(meta: Mapping[str, str]) -> str:
    return f"{meta.get('actor_role', 'system')}:{meta.get('actor_sub', 'system')}"


@dataclass(frozen=True)
class Batch:
    envelopes: list[Envelope]
    last_position: int
    """The last notification id scanned (published or not); the next read starts after it."""


class Outbox:
    def __init__(self, service: str, app: Any, translate: Translation, registry: Registry) -> None:
        self.service = service
        self.source = f"/polku/{service}"
        self.app = app
        self.translate = translate
        self.registry = registry

    def read(self, after: int, limit: int) -> Batch:
        notifications = self.app.notifications_after(after, limit)
        envelopes = []
        for notification in notifications:
            envelope = self.to_envelope(notification)
            if envelope is not None:
                envelopes.append(envelope)
        last = notifications[-1].id if notifications else after
        return Batch(envelopes, last)

    def head(self) -> int:
        return int(self.app.head())

    def to_envelope(self, notification: Any) -> Envelope | None:
        domain_event = self.app.mapper.to_domain_event(notification)
        translated = self.translate(domain_event)
        if translated is None:
            return None
        type_, data = translated
        subject = str(domain_event.originator_id)
        meta: Mapping[str, str] = getattr(domain_event, "meta", {}) or {}
        return Envelope(
            id=event_id(subject, domain_event.originator_version),
            source=self.source,
            type=type_,
            subject=subject,
            time=domain_event.timestamp,
            dataschema=self.registry[type_].dataschema,
            sequence=domain_event.originator_version,
            position=notification.id,
            actor=actor_of(meta),
            correlationid=meta.get("correlation_id", ""),
            causationid=meta.get("causation_id") or None,
            data=self.registry.dump(type_, data),
        )
