"""Finding or starting the listing that indexes one owner's aggregates (see ``domain.indexes``)."""

from __future__ import annotations

from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.indexes import Listing, listing_id
from shared.errors import NotFoundError
from shared.eventstore import ServiceApplication


class ListingLookups(ServiceApplication):
    def listing(self, kind: str, owner_id: UUID, meta: Meta | None = None) -> Listing:
        """The owner's listing; an empty new one (saved with what it first lists) if none yet."""
        try:
            return self.get(listing_id(kind, owner_id), Listing, "listing")  # type: ignore[no-any-return]
        except NotFoundError:
            return Listing(kind, owner_id, meta or {})

    def listed(self, kind: str, owner_id: UUID) -> list[UUID]:
        try:
            found: Listing = self.get(listing_id(kind, owner_id), Listing, "listing")
        except NotFoundError:
            return []
        return list(found.item_ids)
