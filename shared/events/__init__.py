"""Integration-event contracts: the envelope, the type registry, and each service's schemas.

These schemas are the only thing the services share. :func:`default_registry` holds every
published type.
"""

from __future__ import annotations

from shared.events import assessment, enrolment, people
from shared.events.envelope import Envelope, event_id
from shared.events.registry import EventType, Registry, UnknownEventType

__all__ = ["Envelope", "EventType", "Registry", "UnknownEventType", "default_registry", "event_id"]


def default_registry() -> Registry:
    registry = Registry()
    enrolment.register(registry)
    people.register(registry)
    assessment.register(registry)
    return registry
