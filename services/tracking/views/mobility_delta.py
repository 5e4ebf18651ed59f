"""Bringing the kept parts of a mobility comparison group up to date, person by person.

Everything organisation-sized behind a comparison group is made of per-person parts: whether
and from which end date someone joins (their placements and departures), whether they were
ever enrolled, their attributes, their moves in the window, and their matching stratum. An
event changes only the rows of the people it is about, and the projector logs who they were
(:func:`services.tracking.changes.changed_people`). So after a registration, a placement change
or a career move, a kept part is brought up to date by reading those people's facts alone and
putting them in place of their old parts (:meth:`services.tracking.views.memo.Memo.get`'s
``update``), instead of reading every placement and move of the organisation again.

Each update gives exactly what the fresh computation gives, order included: the group keeps
its join order (by end date, then person id; :class:`Placed` keeps the ranks for it), and the
figures are computed from the same inputs. The reads go through the request's cursor, so an
``as_of`` or ``on`` answer is brought up to date in its own timeframe. The tests compare every
update with a fresh computation after random events (``tests/unit/test_mobility_delta.py`` on
SQLite, ``tests/integration/test_mobility_delta_postgres.py`` on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from services.tracking.views.cohorts import CHUNK, Placement, placements_on
from services.tracking.views.comparison_group import Joined, Ranks, joined_over
from services.tracking.views.ledger import Population, interned
from services.tracking.views.matching import strata_of
from services.tracking.views.mobility_outcomes import Move, moves_between
from shared.sql import Cursor

Origins = dict[str, dt.date]
Ends = Sequence[tuple[str, str | None]]


class Placed(NamedTuple):
    """Who qualifies on the end dates by placements and departures, with their ranks."""

    joined: Joined
    ranks: Ranks
    order: list[tuple[int, str]]
    """(rank, person id) of each member, sorted: the join order."""


def placed(cur: Cursor, ends: Ends) -> Placed:
    joined, ranks = joined_over(cur, ends, frozenset())
    return Placed(joined, ranks, [(ranks[p], p) for p in joined])


def placed_update(cur: Cursor, ends: Ends, old: Placed, changed: frozenset[str]) -> Placed:
    """``old`` with the people of ``changed`` joined again from their own facts."""
    fresh, ranks = joined_over(cur, ends, frozenset(), changed)
    if all(old.ranks.get(p) == ranks.get(p) for p in changed):
        joined = dict(old.joined)  # the same members in the same places
        joined.update(fresh)
        return Placed(joined, old.ranks, old.order)
    order = list(old.order)
    new_ranks = dict(old.ranks)
    for person in changed:
        rank = new_ranks.pop(person, None)
        if rank is not None:
            del order[bisect_left(order, (rank, person))]
    for person, rank in ranks.items():
        insort(order, (rank, person))
        new_ranks[person] = rank
    before = old.joined
    return Placed({p: fresh[p] if p in fresh else before[p] for _, p in order}, new_ranks, order)


def enrolled_among(cur: Cursor, people: frozenset[str]) -> set[str]:
    """Who of ``people`` was ever enrolled in any cohort (:func:`.cohorts.ever_enrolled`)."""
    return set(
        _column(
            cur,
            "SELECT DISTINCT person_id FROM tr_participation WHERE enrolled_at IS NOT NULL",
            people,
        )
    )


def not_enrolled_update(now: Placed, cur: Cursor, old: Joined, changed: frozenset[str]) -> Joined:
    """``now`` less the ever enrolled, from ``old`` (the same less them before ``changed``)."""
    enrolled = enrolled_among(cur, changed)
    return {
        p: joined
        for p, joined in now.joined.items()
        if (p not in enrolled if p in changed else p in old)
    }


Attributes = dict[str, dict[str, Any]]
_ATTRIBUTES = ("organisation", "department", "unit", "role", "profession", "education")


def attributes_update(cur: Cursor, old: Attributes, changed: frozenset[str]) -> Attributes:
    """``old`` (:func:`.cohorts.attributes`) with the attributes of ``changed`` read again."""
    found = _rows(
        cur,
        f"SELECT person_id, {', '.join(_ATTRIBUTES)} FROM tr_people WHERE 1 = 1",
        changed,
    )
    new = dict(old)
    for person in changed:
        new.pop(person, None)
    for row in found:
        new[row[0]] = dict(zip(_ATTRIBUTES, row[1:], strict=True))
    return new


Compared = tuple[Origins, Mapping[str, Mapping[str, Any]], Origins]
"""The unfiltered comparison group, its members' traits, and the filtered group."""


def compared_update(
    joined: Joined,
    known: Mapping[str, Mapping[str, Any]],
    chosen: Mapping[str, str],
    old: Compared,
    changed: frozenset[str],
) -> Compared:
    """:func:`.mobility._compared`'s answer from ``old`` and the group now (``joined``)."""
    old_base, old_traits, old_kept = old
    base: Origins = {
        p: old_base[p] if p not in changed else dt.date.fromisoformat(day)
        for p, (day, _) in joined.items()
    }
    traits = {
        p: old_traits[p] if p not in changed else {**known.get(p, {}), "department": placed_in}
        for p, (_, placed_in) in joined.items()
    }

    def kept(p: str) -> bool:
        if p not in changed:
            return p in old_kept
        return all(traits[p].get(k) == v for k, v in chosen.items())

    return base, traits, {p: t0 for p, t0 in base.items() if kept(p)}


class Window(NamedTuple):
    """A group's moves in its window: after its earliest origin, by the view date."""

    since: dt.date
    moves: dict[str, list[Move]]


def window(
    read: Callable[[Origins, dt.date], dict[str, list[Move]]], origins: Origins, view_day: dt.date
) -> Window:
    return Window(min(origins.values(), default=view_day), read(origins, view_day))


def window_update(
    cur: Cursor,
    read: Callable[[Origins, dt.date], dict[str, list[Move]]],
    origins: Origins,
    view_day: dt.date,
    old: Window,
    changed: frozenset[str],
) -> Window:
    """``old`` with the moves of ``changed`` read again (made afresh if the window moved)."""
    since = min(origins.values(), default=view_day)
    if since != old.since:
        return window(read, origins, view_day)
    moves: dict[str, list[Move]] = defaultdict(list, old.moves)
    for person in changed:
        moves.pop(person, None)
    wanted = [p for p in changed if p in origins]
    if wanted and since < view_day:
        moves.update(moves_between(cur, since, view_day, wanted))
    return Window(since, moves)


def followed_update(
    origins: Origins,
    days: frozenset[str],
    view_day: dt.date,
    old: Population,
    changed: frozenset[str],
) -> Population:
    """:func:`.mobility_release.followed_from` of ``origins`` from ``old`` (of the group
    before ``changed``, whose origins were among ``days``)."""
    gone = {f"{p}@{day}" for p in changed for day in days}
    new = {
        f"{p}@{origins[p].isoformat()}" for p in changed if p in origins and origins[p] < view_day
    }
    return interned((old - gone) | new)


Strata = dict[str, tuple[str | None, ...]]


def strata_update(
    cur: Cursor,
    day: str,
    comparison: list[str],
    known: Mapping[str, Mapping[str, Any]],
    old: Strata,
    changed: frozenset[str],
) -> Strata:
    """The matching candidates' strata (:func:`.matching.strata_of`) from ``old``."""
    wanted = [p for p in comparison if p in changed]
    places: dict[str, Placement] = placements_on(cur, day, wanted) if wanted else {}
    fresh = strata_of(wanted, {p: placed.department for p, placed in places.items()}, known)
    return {p: fresh[p] if p in changed else old[p] for p in comparison}


def _rows(cur: Cursor, sql: str, people: frozenset[str]) -> list[tuple[Any, ...]]:
    wanted = sorted(people)
    found: list[tuple[Any, ...]] = []
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        cur.execute(f"{sql} AND person_id IN ({', '.join('?' * len(chunk))})", chunk)
        found.extend(cur.fetchall())
    return found


def _column(cur: Cursor, sql: str, people: frozenset[str]) -> list[str]:
    return [str(row[0]) for row in _rows(cur, sql, people)]
