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

Some tables are also counted **per cohort** (:data:`SCOPED`): a write to ``tr_results`` of
cohort C raises ``tr_results@C`` as well, so a computation kept per cohort (a programme's or the
organisation's growth is pooled from them, :mod:`services.tracking.views.growth_parts`) gives
way only where a cohort's own facts changed. A swap raises the scoped counters too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from services.tracking.schema import FACT_KEYS
from shared.sql import Cursor

__all__ = ["SCOPED", "bump", "changed_people", "counters", "scoped"]

LOG_KEEP = 64
"""Raises per table whose people are logged: a computation kept from before is made afresh."""
PEOPLE_LOGGED = 1_000
"""People logged per raise; a raise that changed more (an import, a rebuild) is anyone's."""

SCOPED = {"tr_results": "cohort_id", "tr_participation": "cohort_id"}
"""Tables counted per cohort too, by the column naming the cohort."""


def scoped(table: str, cohort_id: str) -> str:
    """The name of ``table``'s counter for one cohort's rows."""
    return f"{table}@{cohort_id}"


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
    """Raises every fact table's counter, and every scoped one: the whole read model was
    replaced."""
    bump(cur, FACT_KEYS)
    cur.execute("UPDATE tr_changes SET version = version + 1 WHERE name LIKE ?", ("%@%",))


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


CHUNK = 500
"""Names per ``IN (...)`` list: well under every supported database's parameter limit."""


def many_counters(cur: Cursor, tables: Iterable[str]) -> dict[str, int]:
    """The counters of many ``tables`` (a programme's or the organisation's cohorts' scoped
    ones) in a few queries; a table not counted yet reads as 0."""
    wanted = sorted(set(tables))
    found = dict.fromkeys(wanted, 0)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        cur.execute(
            f"SELECT name, version FROM tr_changes WHERE name IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update({str(name): int(version) for name, version in cur.fetchall()})
    return found
