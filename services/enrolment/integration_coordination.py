"""The pure mapping of the coordinators' changes (capacity, window, invitations taken back,
personal details corrected) to integration events. A correction is published by the names of
the fields it changed: the sealed values stop here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.enrolment.domain.cohorts import Cohort
from shared.events import coordination as contract


def _capacity_changed(e: Any) -> tuple[str, dict[str, Any]]:
    return contract.COHORT_CAPACITY_CHANGED, {
        "cohort_id": e.originator_id,
        "capacity": e.capacity,
        "previous_capacity": e.previous,
        "on": e.on,
    }


def _window_moved(e: Any) -> tuple[str, dict[str, Any]]:
    return contract.COHORT_WINDOW_MOVED, {
        "cohort_id": e.originator_id,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "previous_start_date": e.previous_start_date,
        "previous_end_date": e.previous_end_date,
    }


def _invitation_withdrawn(e: Any) -> tuple[str, dict[str, Any]]:
    status, invited_on = (e.restored or [None, None])[:2]
    return contract.INVITATION_WITHDRAWN, {
        "cohort_id": e.originator_id,
        "person_id": e.person_id,
        "on": e.on,
        "reason": e.reason,
        "restored_status": status,
        "restored_invited_on": None if invited_on is None else dt.date.fromisoformat(invited_on),
    }


MAPPINGS: dict[type, Any] = {
    Cohort.CapacityChanged: _capacity_changed,  # type: ignore[attr-defined]
    Cohort.WindowMoved: _window_moved,  # type: ignore[attr-defined]
    Cohort.InvitationWithdrawn: _invitation_withdrawn,  # type: ignore[attr-defined]
}


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    mapping = MAPPINGS.get(type(event))
    return mapping(event) if mapping is not None else None
