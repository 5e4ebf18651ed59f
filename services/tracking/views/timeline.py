"""The participant timeline: everything that happened to one person, in order.

It reads the journal (every applied event that names the person), turns each event into an
entry (:mod:`.timeline_entries` says how, and which fields may be shown), and orders the
entries by the day they took effect, then by when they were recorded, then by source log and
position, so the order is total and repeatable. Reaction responses are anonymous and are
never linked to anyone. Corrections and voids name a result or profile rather than a person,
so they are found through the person's results and profiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.tracking.views.timeline_entries import DESCRIBE, Lookups
from shared.errors import NotFoundError
from shared.events import assessment as a
from shared.sql import Cursor

LOOKUP_CHUNK = 500
"""Ids per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's parameter limits."""

CORRECTIONS = (a.RESULT_CORRECTED, a.RESULT_VOIDED, a.STYLE_PROFILE_CORRECTED)
"""Events about a person's result or profile that do not carry the person's id."""


class UnknownPerson(NotFoundError):
    """The person is not (yet) known to tracking, or was not at ``as_of``."""


@dataclass(frozen=True)
class Row:
    source: str
    position: int
    type: str
    recorded_at: str
    data: dict[str, Any]
    actor: str | None = None


def check_person(cur: Cursor, person_id: str) -> bool:
    """Raises :class:`UnknownPerson` unless tracking knows the person; says if erased."""
    cur.execute("SELECT erased FROM tr_people WHERE person_id = ?", (person_id,))
    row = cur.fetchone()
    if row is None:
        raise UnknownPerson(
            f"person {person_id} is not known to tracking (at that time)", field="person_id"
        )
    return bool(row[0])


def cohorts_enrolled(cur: Cursor, person_id: str) -> list[str]:
    """The cohorts the person is or was enrolled in (withdrawn or completed included)."""
    cur.execute(
        "SELECT cohort_id FROM tr_participation WHERE person_id = ? AND enrolled_at IS NOT NULL"
        " ORDER BY cohort_id",
        (person_id,),
    )
    return [str(row[0]) for row in cur.fetchall()]


def timeline(
    cur: Cursor,
    person_id: str,
    visible_cohorts: set[str] | None = None,
    until: str | None = None,
    actors: bool = False,
) -> dict[str, Any]:
    """The person's whole timeline; ``visible_cohorts`` (a coach's) hides other cohorts'
    entries, None shows all; ``until`` (an ISO date) keeps the entries dated on or before it.
    ``actors`` adds who recorded each entry (``recorded_by``)."""
    erased = check_person(cur, person_id)
    look = Lookups()
    rows = _journal(cur, person_id) + _corrections(cur, person_id, look)
    rows = [row for row in rows if row.type in DESCRIBE]
    _look_up(cur, person_id, rows, look)
    entries = []
    for row in rows:
        kind, on, cohort_id, details = DESCRIBE[row.type](row.data, look)
        hidden = visible_cohorts is not None and cohort_id not in visible_cohorts
        if cohort_id is not None and hidden:
            continue
        dated = str(on or row.recorded_at[:10])
        if until is not None and dated[:10] > until:
            continue
        entry = {
            "on": dated,
            "recorded_at": row.recorded_at,
            "kind": kind,
            "cohort_id": cohort_id,
            "details": details,
        }
        if actors:
            entry["recorded_by"] = row.actor
        entries.append(((entry["on"], row.recorded_at, row.source, row.position), entry))
    entries.sort(key=lambda pair: pair[0])
    return {
        "person_id": person_id,
        "erased": erased,
        "count": len(entries),
        "entries": [entry for _, entry in entries],
    }


def page(view: dict[str, Any], after: int, limit: int) -> dict[str, Any]:
    """One page of the timeline: ``after`` is how many entries came before it."""
    entries = view["entries"]
    more = len(entries) > after + limit
    return view | {
        "entries": entries[after : after + limit],
        "next_after": after + limit if more else None,
    }


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per entry; ``details`` as `key: value; ...` text."""
    columns = ["on", "recorded_at", "kind", "cohort_id", "details"]
    rows = [[entry[c] for c in columns] for entry in view["entries"]]
    return columns, rows


# Reading ------------------------------------------------------------------------------------


def _rows(found: Iterable[tuple[Any, ...]]) -> list[Row]:
    return [
        Row(str(r[0]), int(r[1]), str(r[2]), str(r[3]), json.loads(r[4]), *r[5:6]) for r in found
    ]


def _journal(cur: Cursor, person_id: str) -> list[Row]:
    cur.execute(
        "SELECT a.source, a.position, a.type, a.time, a.data, a.actor FROM tr_event_people p"
        " JOIN tr_applied_events a ON a.event_id = p.event_id WHERE p.person_id = ?",
        (person_id,),
    )
    return _rows(cur.fetchall())


def _corrections(cur: Cursor, person_id: str, look: Lookups) -> list[Row]:
    """Corrections and voids of the person's results and profiles.

    The journal is searched only when the facts say there is something to find, which is
    rare: most people's results are never corrected.
    """
    cur.execute(
        "SELECT result_id, cohort_id, instrument_id, wave, follow_up_months, wave_label,"
        " rater_group, corrections, voided FROM tr_results WHERE person_id = ?",
        (person_id,),
    )
    changed = False
    for rid, cohort_id, instrument_id, wave, months, label, group, fixes, voided in cur.fetchall():
        look.results[str(rid)] = {
            "cohort_id": cohort_id,
            "instrument_id": instrument_id,
            "wave": wave,
            "follow_up_months": months,
            "wave_label": label,
            "rater_group": group,
        }
        changed = changed or bool(fixes) or bool(voided)
    cur.execute(
        "SELECT profile_id, cohort_id, instrument_id, administered_on, corrections"
        " FROM tr_profiles WHERE person_id = ?",
        (person_id,),
    )
    for pid, cohort_id, instrument_id, administered_on, fixes in cur.fetchall():
        look.profiles[str(pid)] = {
            "cohort_id": cohort_id,
            "instrument_id": instrument_id,
            "administered_on": administered_on,
        }
        changed = changed or bool(fixes)
    if not changed:
        return []
    marks = ", ".join("?" * len(CORRECTIONS))
    cur.execute(
        f"SELECT source, position, type, time, data, actor FROM tr_applied_events"
        f" WHERE type IN ({marks})",
        CORRECTIONS,
    )
    return [
        row
        for row in _rows(cur.fetchall())
        if row.data.get("result_id") in look.results or row.data.get("profile_id") in look.profiles
    ]


def _look_up(cur: Cursor, person_id: str, rows: list[Row], look: Lookups) -> None:
    sessions = sorted({str(r.data["session_id"]) for r in rows if "session_id" in r.data})
    for chunk in _chunks(sessions):
        marks = ", ".join("?" * len(chunk))
        cur.execute(
            "SELECT session_id, title, starts_at, delivery FROM tr_sessions"
            f" WHERE session_id IN ({marks})",
            chunk,
        )
        look.sessions.update({str(r[0]): (r[1], r[2], r[3]) for r in cur.fetchall()})
    groups = sorted({str(r.data["group_id"]) for r in rows if "group_id" in r.data})
    for chunk in _chunks(groups):
        marks = ", ".join("?" * len(chunk))
        cur.execute(f"SELECT group_id, name FROM tr_groups WHERE group_id IN ({marks})", chunk)
        look.groups.update({str(r[0]): r[1] for r in cur.fetchall()})
    cur.execute("SELECT instrument_id, name FROM tr_instruments")
    look.instruments.update({str(r[0]): r[1] for r in cur.fetchall()})
    cur.execute("SELECT move_id, kind FROM tr_moves WHERE person_id = ?", (person_id,))
    look.moves.update({str(r[0]): r[1] for r in cur.fetchall()})


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), LOOKUP_CHUNK):
        yield ids[start : start + LOOKUP_CHUNK]
