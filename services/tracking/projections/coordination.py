"""The coordinators' changes to a cohort: capacity, window, an invitation taken back.

An invitation taken back after a first invitation ends the person's participation fact: the
funnel counts them nowhere, as if never invited. After a repeat invitation it puts back the
status and invitation date from before it. A corrected name or e-mail address changes nothing
here: tracking never holds them.
"""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler
from services.tracking.versions import recorded_at, retire, revise
from shared.events import Envelope
from shared.events import coordination as c
from shared.sql import Cursor


def capacity_changed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"capacity": data["capacity"]}
    revise(cur, "tr_cohorts", (data["cohort_id"],), lambda _: change, recorded_at(env))


def window_moved(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"start_date": data["start_date"], "end_date": data["end_date"]}
    revise(cur, "tr_cohorts", (data["cohort_id"],), lambda _: change, recorded_at(env))


def invitation_withdrawn(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    key = (data["cohort_id"], data["person_id"])
    if data["restored_status"] is None:
        retire(cur, "tr_participation", key, recorded_at(env))
        return
    change = {"status": data["restored_status"], "invited_on": data["restored_invited_on"]}
    revise(cur, "tr_participation", key, lambda _: change, recorded_at(env))


HANDLERS: dict[str, Handler] = {
    c.COHORT_CAPACITY_CHANGED: capacity_changed,
    c.COHORT_WINDOW_MOVED: window_moved,
    c.INVITATION_WITHDRAWN: invitation_withdrawn,
}
