"""The outbox: a write service's notification log read as integration events.

The relay, the in-process feed and the HTTP feed all read through :class:`Outbox`, so all
three give identical envelopes. A service supplies a pure *translation* from its domain events
to ``(type, data)``; this module adds the envelope and validates the data against the registry.

A service may have two outboxes over the same log, one per *channel*: the public one, and a
restricted one with the individual values only tracking may read (the assessment service). The
two give the same ids and positions; :meth:`Outbox.read_channels` maps one read through both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.events import Envelope, Registry, event_id
from shared.events.registry import text
from shared.stored_events import StoredEventDecoder


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
        self._decoder: StoredEventDecoder | None = None
        self._dataschemas: dict[str, str] = {}
        """Each type's ``dataschema`` URL, made once: every envelope carries one."""

    @property
    def decode(self) -> StoredEventDecoder:
        """The log's stored events as domain events (made on first use: tests swap ``app``)."""
        decoder = self._decoder
        if decoder is None or decoder.mapper is not self.app.mapper:
            decoder = self._decoder = StoredEventDecoder(self.app.mapper)
        return decoder

    def read(self, after: int, limit: int) -> Batch:
        return self.read_channels((), after, limit)[0]

    def read_channels(self, others: Sequence[Outbox], after: int, limit: int) -> list[Batch]:
        """One read of the log mapped through this outbox and ``others`` (same app, same log).

        The batches share ``last_position``, so a relay publishing every channel of a service
        keeps one position for it.
        """
        outboxes = (self, *others)
        if any(other.app is not self.app for other in others):
            raise ValueError("the channels of one read must share the application's log")
        decode = self.decode
        notifications = decode.read(self.app, after, limit)
        envelopes: list[list[Envelope]] = [[] for _ in outboxes]
        for notification in notifications:
            domain_event = decode(notification)
            for outbox, found in zip(outboxes, envelopes, strict=True):
                envelope = outbox.envelope_of(domain_event, notification.id)
                if envelope is not None:
                    found.append(envelope)
                    if outbox.registry.publishes_previous_versions:
                        found.extend(outbox.previous_versions_of(envelope))
        last = notifications[-1].id if notifications else after
        return [Batch(found, last) for found in envelopes]

    def head(self) -> int:
        return int(self.app.head())

    def previous_versions_of(self, envelope: Envelope) -> list[Envelope]:
        """The event in each previous version still published (a deprecation period).

        The same event, so the same id, position and sequence: a subscriber reads the version
        it knows by ``dataschema``, and one that knows both dedupes by id.
        """
        forms = []
        for event_type, downcast in self.registry.still_published(envelope.type):
            data = downcast(envelope.data)
            event_type.instance.load(data)  # a downcaster bug must fail here, not downstream
            forms.append(envelope._replace(dataschema=event_type.dataschema, data=data))
        return forms

    def envelope_of(self, domain_event: Any, position: int) -> Envelope | None:
        translated = self.translate(domain_event)
        if translated is None:
            return None
        type_, data = translated
        dataschema = self._dataschemas.get(type_)
        if dataschema is None:
            dataschema = self._dataschemas[type_] = self.registry[type_].dataschema
        subject = text(domain_event.originator_id)
        meta: Mapping[str, str] = getattr(domain_event, "meta", {}) or {}
        version = domain_event.originator_version
        # Positional: keywords cost a NamedTuple three times as much, once per event read.
        return Envelope(
            event_id(subject, version),  # id
            self.source,  # source
            type_,  # type
            subject,  # subject
            domain_event.timestamp,  # time
            dataschema,  # dataschema
            version,  # aggregateversion
            position,  # position
            actor_of(meta),  # actor
            meta.get("correlation_id", ""),  # correlationid
            meta.get("causation_id") or None,  # causationid
            self.registry.dump(type_, data),  # data
        )
