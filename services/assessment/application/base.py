"""What every assessment command mixin shares: the key store, instruments, and filtered lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.assessment.application.keys import KeyStore, database_url
from services.assessment.domain.instruments import Instrument
from shared.eventstore import ServiceApplication
from shared.sql import Database

SCAN_BATCH = 500


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_after: int | None


class AssessmentBase(ServiceApplication):
    name = "assessment"

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self._key_database: Database | None = None
        self._keys: KeyStore | None = None

    @property
    def keys(self) -> KeyStore:
        """Opened on first use, so an application that never needs a key opens no tables."""
        if self._keys is None:
            self._key_database = Database(database_url(dict(self.env.items())))
            self._keys = KeyStore(self._key_database)
        return self._keys

    def close(self) -> None:
        if self._key_database is not None:
            self._key_database.close()
            self._key_database = None
            self._keys = None
        super().close()

    def instrument(
        self, instrument_id: UUID, version: int | None = None, field: str | None = None
    ) -> Instrument:
        return self.get(instrument_id, Instrument, "instrument", field=field, version=version)  # type: ignore[no-any-return]

    def existing(self, aggregate_id: UUID, kind: type[Any]) -> Any | None:
        """The aggregate with a derived id, or None when there is none yet."""
        from eventsourcing.application import AggregateNotFoundError

        try:
            aggregate: Any = self.load(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def scan(
        self, topic: str, after: int, limit: int, keep: Callable[[Any], bool] = lambda _: True
    ) -> Page:
        """A page of aggregates whose creation event (of ``topic``) ``keep`` accepts.

        The creation topics double as an index, read in log order; ``next_after`` is the
        position of the last item returned when more may follow.
        """
        found: list[tuple[int, UUID]] = []
        position = after
        while len(found) <= limit:
            batch = self.notifications_after(position, SCAN_BATCH, topics=[topic])
            for notification in batch:
                if keep(self.mapper.to_domain_event(notification)):
                    found.append((notification.id, UUID(str(notification.originator_id))))
                    if len(found) > limit:
                        break
            if len(batch) < SCAN_BATCH:
                break
            position = batch[-1].id
        page = found[:limit]
        items: list[Any] = [self.load(aggregate_id) for _, aggregate_id in page]
        more = len(found) > limit
        return Page(items, page[-1][0] if more and page else None)
