"""Known people and cohorts: the ids a result, profile or import may name.

Assessment never reads enrolment's store. It learns which people and cohorts exist from
enrolment's public integration events (``PersonRegistered``, ``CohortPlanned``), through the
same feed, transaction and cursor as the coach scope (:mod:`services.assessment.scope`): the
in-process outbox in embedded mode, Kafka or the HTTP events endpoint when distributed. Rows are
only ever added, so a replayed event changes nothing; an erased person stays known (their id is
a pseudonym, and results recorded before the erasure still name it).

While the reference is catching up, an id enrolment created a moment ago may not be known yet:
the request is refused (422 naming the field) and can simply be retried. In one process the API
catches up first (one cheap read of the in-process outbox), so there is no such window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from shared.events import Envelope
from shared.events import enrolment as e
from shared.sql import Cursor, Database, dialect_of

FOLLOWED = (e.PERSON_REGISTERED, e.COHORT_PLANNED)

PEOPLE, COHORTS = "assessment_known_people", "assessment_known_cohorts"
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {PEOPLE} (person_id TEXT PRIMARY KEY)",
    f"CREATE TABLE IF NOT EXISTS {COHORTS} (cohort_id TEXT PRIMARY KEY)",
)


class KnownIds(Protocol):
    """What an import asks of the reference (the coach scope implements it)."""

    def unknown_people(self, ids: Iterable[str]) -> set[str]: ...

    def unknown_cohorts(self, ids: Iterable[str]) -> set[str]: ...


def create(cur: Cursor) -> bool:
    """Creates the tables; True when they are new (a store that predates them must replay
    enrolment's feed from its start to fill them)."""
    if dialect_of(cur) == "sqlite":
        cur.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (PEOPLE,)
        )
    else:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.tables"
            " WHERE table_name = ? AND table_schema = current_schema()",
            (PEOPLE,),
        )
    existed = int(cur.fetchone()[0]) > 0
    for statement in SCHEMA:
        cur.execute(statement)
    return not existed


def apply_one(cur: Cursor, envelope: Envelope) -> None:
    if envelope.type == e.PERSON_REGISTERED:
        table, column, value = PEOPLE, "person_id", envelope.data["person_id"]
    else:
        table, column, value = COHORTS, "cohort_id", envelope.data["cohort_id"]
    cur.execute(
        f"INSERT INTO {table} ({column}) VALUES (?) ON CONFLICT ({column}) DO NOTHING",
        (str(value),),
    )


def unknown(database: Database, table: str, column: str, ids: Iterable[str]) -> set[str]:
    """The ``ids`` the reference does not hold."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    known: set[str] = set()
    with database.transaction(write=False) as cur:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            cur.execute(
                f"SELECT {column} FROM {table} WHERE {column} IN ({marks})",
                chunk,
            )
            known |= {str(row[0]) for row in cur.fetchall()}
    return set(wanted) - known


def unknown_people(database: Database, ids: Iterable[str]) -> set[str]:
    return unknown(database, PEOPLE, "person_id", ids)


def unknown_cohorts(database: Database, ids: Iterable[str]) -> set[str]:
    return unknown(database, COHORTS, "cohort_id", ids)
