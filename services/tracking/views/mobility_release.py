"""Which mobility figures of a group may be shown, against the release ledger.

The measures are the outcomes each person is followed for: the first move, the first
rotation, leaving the state (retention) and moves by scope. The family is the programme's
organisation, not the cohort: a comparison group is everyone of the organisation never
enrolled, followed from a cohort's end, so any cohort of the organisation ending that day (a
new, empty one included) yields the same people. A person is counted with the day they are
followed from (``person@t0``): followed from another day, their outcome is another value.

A group's figures share one population (those followed by the view date), so they are
released or withheld together; the counts of people stay, the outcomes go.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.tracking.views.ledger import Releases, interned, withheld

MEASURES = ("first_move", "first_rotation", "retention", "scopes")


def followed_from(origins: dict[str, dt.date], view_day: dt.date) -> frozenset[str]:
    """The population of a group's outcomes: each person followed by ``view_day``, with the
    day they are followed from."""
    return interned(f"{person}@{t0.isoformat()}" for person, t0 in origins.items() if t0 < view_day)


def release(
    organisation: str,
    origins: dict[str, dt.date],
    view_day: dt.date,
    group: dict[str, Any],
    releases: Releases,
    minimum: int,
    followed: frozenset[str] | None = None,
) -> str | None:
    """Withholds ``group``'s outcome figures when the ledger refuses its population; why
    (``followed``: :func:`followed_from` of ``origins``, when already made)."""
    if followed is None:
        followed = followed_from(origins, view_day)
    if len(followed) < minimum:
        return None  # primary suppression has already withheld them
    reason = releases.admit(f"mobility:{organisation}", MEASURES, followed, minimum)
    if reason is None:
        return None
    for kind in ("first_move", "first_rotation", "retention"):
        for name, figures in group[kind].items():
            if name in ("curve", "median_days", "median_months"):
                group[kind][name] = withheld(reason)
            else:
                group[kind][name] = {m: withheld(reason) for m in figures}
    group["scopes"] = {scope: withheld(reason) for scope in group["scopes"]}
    for kind, counts in group.get("moved", {}).items():
        group["moved"][kind] = {
            "by_view_date": withheld(reason),
            "within": {m: withheld(reason) for m in counts["within"]},
        }
    for kind, figures in group.get("competing", {}).items():
        group["competing"][kind] = {
            name: {m: withheld(reason) for m in cells} for name, cells in figures.items()
        }
    return reason
