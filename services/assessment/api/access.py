"""What every assessment resource module shares: the roles, the application, pages, privacy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import current_app, g
from flask_smorest import abort

from services.assessment.application import AssessmentApplication, Page
from services.assessment.domain.instruments import Instrument

INSTRUMENT_WRITERS = ("hr_admin", "coordinator")
RECORDERS = ("hr_admin", "coordinator", "coach")
READERS = ("hr_admin", "coordinator", "coach", "auditor")
SUMMARY_READERS = ("hr_admin", "participant")


def app_() -> AssessmentApplication:
    return current_app.extensions["polku.assessment"]  # type: ignore[no-any-return]


def as_page(page: Page, view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {"items": [view(item) for item in page.items], "next_after": page.next_after}


def is_participant() -> bool:
    return bool(g.principal.role == "participant")


def require_self(person_id: UUID | None, what: str) -> None:
    """A participant may read only what is about themselves."""
    if is_participant() and (person_id is None or g.principal.sub != str(person_id)):
        abort(403, message=f"participants may read only their own {what}: pass person_id=<you>")


def named_instruments() -> set[UUID]:
    """The instruments whose answers a participant may read as themselves (privacy named)."""
    cache: set[UUID] | None = g.get("named_instruments")
    if cache is None:
        cache, after = set(), 0
        while True:
            page = app_().instruments(after, 500)
            cache |= {i.id for i in page.items if i.privacy == "named"}
            if page.next_after is None:
                break
            after = page.next_after
        g.named_instruments = cache
    return cache


def instrument_of(instrument_id: UUID) -> Instrument:
    """An instrument, loaded once per request."""
    loaded: dict[UUID, Instrument] = g.setdefault("instruments", {})
    if instrument_id not in loaded:
        loaded[instrument_id] = app_().instrument(instrument_id)
    return loaded[instrument_id]
