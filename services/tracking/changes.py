"""Change counters: one number per fact table, raised in the transaction that changes the table.

A computation kept between requests (:mod:`services.tracking.views.memo`) names the tables it
reads and is kept under their counters, so it gives way only to a change of what it read: an
attendance mark leaves the comparison group of a mobility view kept, a new placement does not.

The projector collects the tables its handlers wrote (:class:`~.versions.Batched` notes each
table :mod:`~.versions` writes) and raises their counters with the positions, in the same
transaction as the facts, so a reader sees facts and counters of one moment. A swap of a rebuild
(``polku replay --swap``) raises every counter. A counter only grows while the tables exist; a
table missing from ``tr_changes`` reads as 0.

For the tables about people (:data:`~.versions.PERSON_TABLES`) each raise also logs whose rows
it changed (``tr_change_people``), so a kept computation made of per-person parts can be
brought up to date for those people alone (:func:`changed_people`). The log keeps the last
:data:`LOG_KEEP` raises per table; a raise that changed more than :data:`PEOPLE_LOGGED` people,
or someone it cannot name, is logged as anyone's (NULL), and a swap's raise logs nothing: either
way a computation kept from before it is made afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from services.tracking.schema import FACT_KEYS
from shared.sql import Cursor

__all__ = ["bump", "changed_people", "counters"]

LOG_KEEP = 64
"""Raises per table whose people are logged: a computation kept from before is made afresh."""
PEOPLE_LOGGED = 1_000
"""People logged per raise; a raise that changed more (an import, a rebuild) is anyone's."""


def bump(
    cur: Cursor, tables: Iterable[str], people: Mapping[str, Set[str | None]] | None = None
) -> None:
    """Raises the counters of ``tables`` by one (creating those not counted yet); logs
    ``people`` (per table, whose rows changed) beside the raise."""
    for table in sorted(set(tables)):
        cur.execute(
            "INSERT INTO tr_changes (name, version) VALUES (?, 1) ON CONFLICT (name)"
            " DO UPDATE SET version = tr_changes.version + 1",
            (table,),
        )
        if people is not None and table in people:
            _log(cur, table, people[table])


def _log(cur: Cursor, table: str, people: Set[str | None]) -> None:
    cur.execute("SELECT version FROM tr_changes WHERE name = ?", (table,))
    version = int(cur.fetchone()[0])
    named: list[str | None] = [p for p in sorted(str(p) for p in people if p is not None)]
    if None in people or len(named) > PEOPLE_LOGGED or not named:
        named = [None]
    cur.executemany(
        "INSERT INTO tr_change_people (name, version, person_id) VALUES (?, ?, ?)",
        [(table, version, person) for person in named],
    )
    cur.execute(
        "DELETE FROM tr_change_people WHERE name = ? AND version <= ?",
        (table, version - LOG_KEEP),
    )


def changed_people(
    cur: Cursor, before: Iterable[tuple[str, int]], now: Iterable[tuple[str, int]]
) -> frozenset[str] | None:
    """Whose rows changed between two readings of :func:`counters` (of the same tables), or
    None when the log cannot say (a raise not logged, or logged as anyone's)."""
    people: set[str] = set()
    for (table, old), (same, new) in zip(before, now, strict=True):
        if table != same or new < old:
            return None
        if new == old:
            continue
        cur.execute(
            "SELECT version, person_id FROM tr_change_people"
            " WHERE name = ? AND version > ? AND version <= ?",
            (table, old, new),
        )
        versions = set()
        for version, person in cur.fetchall():
            if person is None:
                return None
            versions.add(int(version))
            people.add(str(person))
        if len(versions) != new - old:
            return None
    return frozenset(people)


def bump_all(cur: Cursor) -> None:
    """Raises every fact table's counter: the whole read model was replaced."""
    bump(cur, FACT_KEYS)


def counters(cur: Cursor, tables: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The counters of ``tables`` (sorted by name) as the cursor's transaction sees them."""
    wanted = sorted(set(tables))
    if not wanted:
        return ()
    cur.execute(
        f"SELECT name, version FROM tr_changes WHERE name IN ({', '.join('?' * len(wanted))})",
        wanted,
    )
    found = {str(name): int(version) for name, version in cur.fetchall()}
    return tuple((table, found.get(table, 0)) for table in wanted)
