"""One group's mobility outcomes: first moves, rotation, retention and moves by scope.

Each person of a group is followed from their origin ``t0`` to the view date ``D``
(:mod:`services.tracking.views.mobility` says who the groups are). A person's first move is
their earliest career move starting after ``t0`` and by ``D`` (any kind; separately, the first
job rotation); its time is the days since ``t0``; who has not moved by ``D`` is censored there.
Leaving the state ends the follow-up of any other kind of move (a competing risk). Retention is
one minus the Kaplan-Meier share who left the state. Moves by scope count every move after
``t0`` by ``D``. Every figure is a cell with the group's size behind it
(:func:`~services.tracking.views.survival.time_to_event`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from services.tracking.views.cohorts import CHUNK
from services.tracking.views.mobility_stats import (
    competing_figures,
    month_table,
    moved_counts,
    variances,
)
from services.tracking.views.privacy import cell, figure
from services.tracking.views.survival import NO_FOLLOW_UP, Observation, time_to_event
from shared.events.people import SCOPES
from shared.sql import Cursor

HORIZONS = (6, 12, 24)
"""Months after the cohort's end at which first moves and rotation are reported."""
RETENTION_HORIZONS = (12, 24)
STATS = "_stats"
"""A group's key for what the difference's interval and the log-rank test need; never shown."""


class Move(NamedTuple):
    start: dt.date
    kind: str
    scope: str


def moves_between(
    cur: Cursor, since: dt.date, until: dt.date, people: Iterable[str] | None = None
) -> dict[str, list[Move]]:
    """Every move starting after ``since`` and by ``until``; with ``people``, only theirs (read
    by the moves' person index, so the cost follows the group)."""
    sql = (
        "SELECT person_id, start_date, kind, scope FROM tr_moves"
        " WHERE start_date > ? AND start_date <= ?"
    )
    window = (since.isoformat(), until.isoformat())
    moves: dict[str, list[Move]] = defaultdict(list)
    if people is None:
        chunks: list[list[str]] = [[]]
    else:
        wanted = sorted(set(people))
        chunks = [wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK)]
    for chunk in chunks:
        among = f" AND person_id IN ({', '.join('?' * len(chunk))})" if people is not None else ""
        cur.execute(f"{sql}{among} ORDER BY person_id, start_date, move_id", (*window, *chunk))
        for person_id, start, kind, scope in cur.fetchall():
            moves[person_id].append(Move(dt.date.fromisoformat(start), kind, scope))
    return moves


def _observed(moves: list[Move], t0: dt.date, day: dt.date, kinds: set[str] | None) -> Observation:
    """The first move of ``kinds`` (any, if None) after ``t0``, else censored at ``day``.

    Leaving the state ends the follow-up of any other kind of move: someone who left can no
    longer rotate, so they are censored on the day they left (a competing risk), not kept at
    risk until the view's date.
    """
    for move in moves:
        if not t0 < move.start <= day:
            continue
        if kinds is None or move.kind in kinds:
            return Observation((move.start - t0).days, True)
        if move.kind == "left_state":
            return Observation((move.start - t0).days, False)
    return Observation((day - t0).days, False)


def group_figures(
    origins: dict[str, dt.date], moves: Mapping[str, list[Move]], view_day: dt.date, minimum: int
) -> dict[str, Any]:
    """Every mobility figure of one group, each a cell with the group's size behind it.

    Only the people with moves are followed one by one. Everyone else is censored at the view
    date, so they are counted by origin (a few end dates, however large the group): the work
    follows the movers, not the group (a comparison group is most of the organisation)."""
    by_origin = Counter(origins.values())
    followed = {t0: count for t0, count in by_origin.items() if t0 < view_day}
    movers = [
        (p, t0)
        for p, mine in moves.items()
        if mine and (t0 := origins.get(p)) is not None and t0 < view_day
    ]
    unmoved = Counter(followed)
    unmoved.subtract(t0 for _, t0 in movers)
    size = sum(followed.values())
    n = size or len(origins)

    def observe(kinds: set[str] | None) -> Counter[tuple[dt.date, Observation]]:
        counted = Counter(
            {(t0, Observation((view_day - t0).days, False)): c for t0, c in unmoved.items() if c}
        )
        for p, t0 in movers:
            counted[t0, _observed(moves[p], t0, view_day, kinds)] += 1
        return counted

    scopes: dict[str, int | None] = dict.fromkeys(SCOPES, 0 if followed else None)
    for person_id, t0 in movers:
        for move in moves[person_id]:
            if t0 < move.start <= view_day and move.scope in scopes:
                scopes[move.scope] = (scopes[move.scope] or 0) + 1
    first_move, first_rotation = observe(None), observe({"job_rotation"})
    leaving = observe({"left_state"})
    observed = {"first_move": first_move, "first_rotation": first_rotation, "left_state": leaving}
    return {
        "people": cell(len(origins), len(origins), minimum),
        "followed": cell(size, len(origins), minimum),
        "first_move": time_to_event(first_move, n, view_day, minimum, HORIZONS),
        "first_rotation": time_to_event(first_rotation, n, view_day, minimum, HORIZONS),
        "scopes": {
            scope: figure(count, n, minimum, NO_FOLLOW_UP) for scope, count in scopes.items()
        },
        "retention": time_to_event(
            leaving, n, view_day, minimum, RETENTION_HORIZONS, complement=True
        ),
        "moved": {
            kind: moved_counts(found, n, view_day, HORIZONS, minimum)
            for kind, found in observed.items()
        },
        "competing": competing_figures(movers, unmoved, moves, view_day, n, HORIZONS, minimum),
        STATS: {
            "variances": {kind: variances(found, HORIZONS) for kind, found in observed.items()},
            "months": {kind: month_table(found) for kind, found in observed.items()},
        },
    }
