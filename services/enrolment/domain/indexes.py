"""Listings: which aggregates belong to another one (a cohort's sessions).

An event store finds aggregates by id only. A listing's id derives from what it lists for
(``kind`` and the owner's id), so it is found without a search, and it is saved in the same
transaction as the aggregate it gains, so it is never out of step.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta

NAMESPACE = UUID("0b1f5f0e-6a43-4d0e-9a35-7c6d1c2f4e11")

SESSIONS_OF_COHORT = "sessions-of-cohort"


def listing_id(kind: str, owner_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"{kind}:{owner_id}")


class Listing(Aggregate):
    """The ids of one kind of thing belonging to ``owner_id``, in the order they were added."""

    TOPIC = "polku.enrolment:Listing"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Listing.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Listing.Created"

    @staticmethod
    def create_id(kind: str, owner_id: UUID) -> UUID:
        return listing_id(kind, owner_id)

    @event("Started", topic="polku.enrolment:Listing.Started")
    def __init__(self, kind: str, owner_id: UUID, meta: Meta) -> None:
        self.kind = kind
        self.owner_id = owner_id
        self.item_ids: list[UUID] = []

    def add(self, item_id: UUID, meta: Meta) -> None:
        """Adds ``item_id`` once; adding it again changes nothing."""
        if item_id not in self.item_ids:
            self._added(item_id, meta)

    @event("Added", topic="polku.enrolment:Listing.Added")
    def _added(self, item_id: UUID, meta: Meta) -> None:
        self.item_ids.append(item_id)
