"""How each integration event changes the read models: one small function per event type.

Handlers receive the event's data in its JSON form (ids and dates as strings), exactly as it
travels on every feed, so the rows are the same whichever feed delivered it. Each handler
touches only rows of its own aggregate (or adds to them in a way whose order does not matter),
so interleaving the two services' feeds differently gives the same views: a property test
checks this against a full rebuild.
"""

from __future__ import annotations

from services.tracking.projections import assessment, coordination, enrolment, people, sessions
from services.tracking.projections.base import Handler

HANDLERS: dict[str, Handler] = {
    **enrolment.HANDLERS,
    **people.HANDLERS,
    **sessions.HANDLERS,
    **assessment.HANDLERS,
    **coordination.HANDLERS,
}

__all__ = ["HANDLERS", "Handler"]
