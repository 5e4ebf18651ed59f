"""What every cohort view starts from: the cohort, its people and their placements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import NotFoundError
from shared.sql import Cursor


@dataclass(frozen=True)
class CohortFacts:
    cohort_id: str
    programme_id: str
    name: str
    capacity: int
    start_date: str
    end_date: str
    status: str

    def header(self) -> dict[str, Any]:
        return {
            "cohort_id": self.cohort_id,
            "programme_id": self.programme_id,
            "name": self.name,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "status": self.status,
        }


class UnknownCohort(NotFoundError):
    """The cohort is not (yet) known to tracking, or was not at ``as_of``."""


def cohort(cur: Cursor, cohort_id: str) -> CohortFacts:
    cur.execute(
        "SELECT cohort_id, programme_id, name, capacity, start_date, end_date, status"
        " FROM tr_cohorts WHERE cohort_id = ?",
        (cohort_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise UnknownCohort(f"cohort {cohort_id} is not known to tracking (at that time)")
    return CohortFacts(*row)


class UnknownProgramme(NotFoundError):
    """The programme is not (yet) known to tracking, or was not at ``as_of``."""


def programme_name(cur: Cursor, programme_id: str) -> str:
    cur.execute("SELECT name FROM tr_programmes WHERE programme_id = ?", (programme_id,))
    row = cur.fetchone()
    if row is None:
        raise UnknownProgramme(
            f"programme {programme_id} is not known to tracking (at that time)",
            field="programme_id",
        )
    return str(row[0])


def cohorts_of_programme(cur: Cursor, programme_id: str) -> list[CohortFacts]:
    cur.execute(
        "SELECT cohort_id, programme_id, name, capacity, start_date, end_date, status"
        " FROM tr_cohorts WHERE programme_id = ? ORDER BY start_date, cohort_id",
        (programme_id,),
    )
    return [CohortFacts(*row) for row in cur.fetchall()]


def participants(cur: Cursor, cohort_id: str) -> list[str]:
    """Who took part: enrolled and not withdrawn (still enrolled, or completed)."""
    cur.execute(
        "SELECT person_id FROM tr_participation WHERE cohort_id = ?"
        " AND status IN ('enrolled', 'completed') ORDER BY person_id",
        (cohort_id,),
    )
    return [row[0] for row in cur.fetchall()]


def ever_enrolled(cur: Cursor) -> set[str]:
    """Everyone who was ever enrolled in any cohort: never part of a comparison group."""
    cur.execute("SELECT DISTINCT person_id FROM tr_participation WHERE enrolled_at IS NOT NULL")
    return {row[0] for row in cur.fetchall()}


@dataclass(frozen=True)
class Placement:
    organisation: str
    department: str | None
    unit: str | None


CHUNK = 500
"""People per ``IN (...)`` list: well under every supported database's parameter limit."""


def placements_on(cur: Cursor, day: str, people: list[str] | None = None) -> dict[str, Placement]:
    """Each person's placement on ``day`` (ISO date): the latest effective on or before it.

    With ``people``, only theirs are read, by the placements' primary key (person first), so
    the cost follows those people, not everyone placed in the state.
    """
    if people is None:
        return _placed(cur, _PLACEMENTS, (day,))
    placed: dict[str, Placement] = {}
    wanted = sorted(set(people))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        placed.update(_placed(cur, f"{_PLACEMENTS} AND person_id IN ({marks})", (day, *chunk)))
    return placed


_PLACEMENTS = (
    "SELECT person_id, effective_date, position, organisation, department, unit"
    " FROM tr_placements WHERE effective_date <= ?"
)


def _placed(cur: Cursor, sql: str, params: tuple[str, ...]) -> dict[str, Placement]:
    cur.execute(f"{sql} ORDER BY person_id, effective_date, position", params)
    return {
        person_id: Placement(organisation, department, unit)
        for person_id, _, _, organisation, department, unit in cur.fetchall()
    }


def attributes(cur: Cursor) -> dict[str, dict[str, Any]]:
    """Role, profession and education per person, with the registered organisation."""
    cur.execute(
        "SELECT person_id, organisation, department, unit, role, profession, education"
        " FROM tr_people"
    )
    keys = ("organisation", "department", "unit", "role", "profession", "education")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in cur.fetchall()}
