"""Who forms a mobility comparison group, for any number of cohort end dates in one pass.

A person qualifies on a day ``D`` for an organisation when their placement on ``D`` (the latest
effective on or before it, then the latest position) is in that organisation (names compared
trimmed and case-folded), they were never enrolled in any cohort, and they had not left the
state by ``D`` (a ``left_state`` move on or before ``D`` with no placement dated after it). Over
several cohorts in end order, each person joins the group once, from the first end date on
which they qualify for that cohort's organisation, with their department then
(:func:`services.tracking.views.mobility.groups`).

One pass: the placements and departures up to the last end date are read once, in date order,
and replayed while stepping through the end dates, keeping per organisation who was placed there
since its last end date. The cost is one read of the placements, not one per end date, and each
end date looks only at its new placements, so a programme or the whole organisation costs about
as much as a cohort.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from services.tracking.views.cohorts import CHUNK, ever_enrolled
from shared.sql import Cursor

Joined = dict[str, tuple[str, str | None]]
"""Person id -> (the end date they are followed from, their department on it), in join order."""


def folded(name: str | None) -> str | None:
    return None if name is None else name.strip().casefold()


def comparison_over(
    cur: Cursor, ends: Sequence[tuple[str, str | None]], enrolled: AbstractSet[str] | None = None
) -> Joined:
    """The comparison group of cohorts ending on ``ends`` (see :func:`joined_over`)."""
    return joined_over(cur, ends, enrolled)[0]


Ranks = dict[str, int]
"""Person id -> the index in ``ends`` of the end date they joined on."""


def joined_over(
    cur: Cursor,
    ends: Sequence[tuple[str, str | None]],
    enrolled: AbstractSet[str] | None = None,
    people: AbstractSet[str] | None = None,
) -> tuple[Joined, Ranks]:
    """The comparison group of cohorts ending on ``ends`` ((end date, organisation), in end
    order): who qualifies, from the first of those days they do (see the module's note).

    ``enrolled`` (default: everyone ever enrolled) are left out. Leaving them out afterwards
    gives the same group: whether someone was enrolled does not depend on the day, and no one
    else's day depends on theirs. For the same reason, with ``people`` only their placements
    and departures are read and the group's part of them is given: each person's day depends
    on their own facts alone. Also gives the index in ``ends`` each one joined on."""
    if not ends:
        return {}, {}
    last = max(day for day, _ in ends)
    placements = _rows(
        cur,
        "SELECT person_id, effective_date, organisation, department FROM tr_placements"
        " WHERE effective_date <= ?",
        (last,),
        " ORDER BY effective_date, position, person_id",
        people,
    )
    departures = _rows(
        cur,
        "SELECT person_id, start_date FROM tr_moves WHERE kind = 'left_state' AND start_date <= ?",
        (last,),
        " ORDER BY start_date",
        people,
    )
    if enrolled is None:
        enrolled = ever_enrolled(cur)
    placed: dict[str, tuple[str, str | None, str | None]] = {}  # date, organisation, dept
    # Per organisation, who was placed there since its last end day was looked at: only they
    # can join on its next one. Everyone else placed there then either joined, was enrolled,
    # or had left the state with no placement since, and stays so until placed again; so each
    # end day costs its new placements, not the organisation's size.
    pending: dict[str | None, set[str]] = defaultdict(set)
    left: dict[str, str] = {}
    joined: Joined = {}
    ranks: Ranks = {}
    p = d = 0
    for rank, (day, organisation) in enumerate(ends):
        while p < len(placements) and placements[p][1] <= day:
            person, date, named, department = placements[p]
            if person in placed:
                pending[folded(placed[person][1])].discard(person)
            placed[person] = (date, named, department)
            pending[folded(named)].add(person)
            p += 1
        while d < len(departures) and departures[d][1] <= day:
            left[departures[d][0]] = departures[d][1]
            d += 1
        if organisation is None:
            continue
        waiting = pending.pop(folded(organisation), set())
        for person in sorted(waiting - joined.keys()):
            if person in enrolled:
                continue
            if person in left and placed[person][0] <= left[person]:
                continue  # left the state by then, and placed nowhere since
            joined[person] = (day, placed[person][2])
            ranks[person] = rank
    return joined, ranks


def _rows(
    cur: Cursor,
    sql: str,
    params: tuple[str, ...],
    order: str,
    people: AbstractSet[str] | None,
) -> list[tuple[Any, ...]]:
    """``sql``'s rows in ``order``, of ``people`` only if given. Their chunks are put in date
    order (the second column) by a stable sort: each person's rows come from one chunk in
    their order, and the pass does not depend on the order of different people's rows."""
    if people is None:
        cur.execute(sql + order, params)
        return list(cur.fetchall())
    wanted = sorted(people)
    found: list[tuple[Any, ...]] = []
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        among = f" AND person_id IN ({', '.join('?' * len(chunk))})"
        cur.execute(sql + among + order, (*params, *chunk))
        found.extend(cur.fetchall())
    if len(wanted) > CHUNK:
        found.sort(key=lambda row: row[1])
    return found
