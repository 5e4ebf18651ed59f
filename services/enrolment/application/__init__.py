"""The enrolment application: thin commands (load, ask the domain, save) and plain-value queries.

Commands are grouped by concept in this package's modules, one mixin each, and composed here.
Each mixin relies only on :class:`~shared.eventstore.ServiceApplication`'s helpers (``get``,
``save_all``, ``retrying``, ``notifications_after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from services.enrolment.application.careers import CareerCommands
from services.enrolment.application.cohorts import CohortCommands
from services.enrolment.application.corrections import CorrectionCommands
from services.enrolment.application.groups import PeerGroupCommands
from services.enrolment.application.people import PeopleCommands
from services.enrolment.application.programmes import ProgrammeCommands
from services.enrolment.application.sessions import SessionCommands
from services.enrolment.domain.cohorts import Cohort
from shared.errors import NotFoundError
from shared.eventstore import ServiceApplication

# The "created" topics double as an index: listing a kind reads only its creation events.
LISTABLE = {
    "programmes": "polku.enrolment:Programme.Defined",
    "cohorts": "polku.enrolment:Cohort.Planned",
    "people": "polku.enrolment:Person.Registered",
}


COHORT_SNAPSHOT_EVERY = 50
"""A cohort is loaded from its latest snapshot and at most this many events after it: a command's
cost no longer grows with the cohort's history (one snapshot is written per that many events)."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_after: int | None


class EnrolmentApplication(
    ProgrammeCommands,
    CohortCommands,
    SessionCommands,
    PeerGroupCommands,
    CorrectionCommands,
    PeopleCommands,
    CareerCommands,
    ServiceApplication,
):
    """Commands return what they saved, so callers need not read it back."""

    name = "enrolment"
    snapshotting_intervals: ClassVar[dict[Any, int]] = {Cohort: COHORT_SNAPSHOT_EVERY}

    def list(self, kind: str, after: int, limit: int) -> Page:
        """A page of one kind of aggregate, in creation order; ``next_after`` is the cursor."""
        if kind not in LISTABLE:
            raise NotFoundError(f"nothing called {kind}")
        notifications = self.notifications_after(after, limit + 1, topics=[LISTABLE[kind]])
        page = notifications[:limit]
        items: list[Any] = [self.load(UUID(str(n.originator_id))) for n in page]
        more = len(notifications) > limit
        return Page(items, page[-1].id if more and page else None)
