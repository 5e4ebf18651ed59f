"""Integration-event contracts: the envelope, the type registry, and each service's schemas.

These schemas are the only thing the services share. :func:`default_registry` holds every
type as the public channels carry it; :func:`restricted_registry` holds the same types with the
assessment service's individual values, as its restricted channel carries them to tracking.
"""

from __future__ import annotations

from shared.events import assessment, assessment_public, coordination, enrolment, people
from shared.events.envelope import Envelope, event_id
from shared.events.registry import (
    DEFAULT_PUBLIC_BASE_URL,
    EventType,
    Registry,
    UnknownEventType,
)

__all__ = [
    "DEFAULT_PUBLIC_BASE_URL",
    "Envelope",
    "EventType",
    "Registry",
    "UnknownEventType",
    "default_registry",
    "event_id",
    "restricted_registry",
]


def default_registry(base_url: str = DEFAULT_PUBLIC_BASE_URL) -> Registry:
    """The public channels: ``polku.<service>.events`` and ``GET /<service>/events``.

    ``base_url`` is the public address the ``dataschema`` URLs start with.
    """
    registry = Registry(base_url)
    enrolment.register(registry)
    people.register(registry)
    coordination.register(registry)
    assessment_public.register(registry)
    return registry


def restricted_registry(base_url: str = DEFAULT_PUBLIC_BASE_URL) -> Registry:
    """What tracking reads: enrolment's public types, assessment's in full (restricted)."""
    registry = Registry(base_url)
    enrolment.register(registry)
    people.register(registry)
    coordination.register(registry)
    assessment.register(registry)
    return registry
