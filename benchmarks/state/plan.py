"""The synthetic state administration, as plain values drawn from one seed.

For ``people`` staff: units of about 25 people, eight units to a department, one organisation;
about ``people / 100`` cohorts spread over 2019-2024 in up to 20 programmes, each cohort inviting
26 people who were in no cohort before (the rest of the staff is the comparison group); and a
career move for about one person in six (more often for participants). Everything here is a
function of ``(people, seed)``; the loaders draw the details of each cohort (attendance,
ratings, responses) from ``random.Random`` seeded with the seed and the cohort's number, so
the same arguments always load the same facts (only the ids the services give differ).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

ORGANISATION = "State Administration (synthetic)"
OTHER_ORGANISATION = "Other State Agency (synthetic)"
GROUP_AGENCY = "Group Agency (synthetic)"
PRIVATE_SECTOR = "Private sector (synthetic)"
MIN_PEOPLE = 50
YEARS = tuple(range(2019, 2025))
UNIT_SIZE = 25
UNITS_PER_DEPARTMENT = 8
PEOPLE_PER_COHORT = 100
MAX_PROGRAMMES = 20
INVITED = 26
CAPACITY = 24
SESSIONS = 6
PEER_GROUP_SIZE = 5
ROLES = ("expert", "expert", "expert", "manager")
PROFESSIONS = ("lawyer", "political_scientist", "economist", "engineer")
EDUCATION = ("master", "master", "master", "doctorate")


@dataclass(frozen=True)
class Staff:
    """One person of the administration, by their index in :attr:`Administration.staff`."""

    index: int
    department: str
    unit: str
    role: str
    profession: str
    education: str

    def registration(self, seed: int) -> dict[str, str]:
        """The fields of a registration, as ``POST /enrolment/people`` takes them."""
        return {
            "full_name": f"Synthetic Person {self.index:06d}",
            "email": f"person{self.index:06d}.s{seed}@example.invalid",
            "employee_number": f"STATE-{seed}-{self.index:06d}",
            "organisation": ORGANISATION,
            "department": self.department,
            "unit": self.unit,
            "role": self.role,
            "profession_category": self.profession,
            "education_level": self.education,
        }


@dataclass(frozen=True)
class CohortPlan:
    number: int
    programme: int
    start: dt.date
    end: dt.date
    invited: tuple[int, ...]
    """Staff indexes, in invitation order."""

    @property
    def name(self) -> str:
        return f"State cohort {self.number + 1:04d} ({self.start.year})"


@dataclass(frozen=True)
class MovePlan:
    person: int
    kind: str
    organisation: str
    department: str | None
    unit: str | None
    start: dt.date
    planned_end: dt.date | None = None
    end: dt.date | None = None
    scope: str | None = None


@dataclass(frozen=True)
class ViewPlan:
    """What the views are asked about: one cohort, its programme, one of its completers."""

    cohort_id: str
    programme_id: str
    person_id: str
    cohorts_in_programme: int


@dataclass(frozen=True)
class Administration:
    people: int
    seed: int
    units: tuple[tuple[str, str], ...]
    staff: tuple[Staff, ...]
    programmes: int
    cohorts: tuple[CohortPlan, ...]
    moves: tuple[MovePlan, ...]
    placements: tuple[tuple[int, str, str, dt.date], ...]
    """Reorganisations: (person, department, unit, effective date), no career move."""

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(sorted({department for department, _ in self.units}))


def administration(people: int, seed: int = 2024) -> Administration:
    """The whole plan for ``people`` staff (at least :data:`MIN_PEOPLE`)."""
    if people < MIN_PEOPLE:
        raise ValueError(f"the state-scale scenario needs at least {MIN_PEOPLE} people")
    rng = random.Random(f"{seed}/administration")
    units = _units(people)
    staff = tuple(
        Staff(
            index,
            *units[rng.randrange(len(units))],
            rng.choice(ROLES),
            rng.choice(PROFESSIONS),
            rng.choice(EDUCATION),
        )
        for index in range(people)
    )
    cohort_count = max(2, people // PEOPLE_PER_COHORT)
    programmes = max(1, min(MAX_PROGRAMMES, cohort_count // 5))
    pool = list(range(people))
    rng.shuffle(pool)
    cohorts = []
    for number in range(cohort_count):
        year = YEARS[number % len(YEARS)]
        month = (2, 9)[(number // len(YEARS)) % 2]
        start = dt.date(year, month, 1) + dt.timedelta(days=rng.randrange(21))
        invited = tuple(pool[(number * INVITED + k) % people] for k in range(INVITED))
        cohorts.append(
            CohortPlan(number, number % programmes, start, start + dt.timedelta(days=120), invited)
        )
    participants = {person for cohort in cohorts for person in cohort.invited}
    moves = tuple(_moves(staff, units, participants, rng))
    placements = tuple(
        (person.index, *units[rng.randrange(len(units))], dt.date(rng.choice(YEARS[1:]), 1, 1))
        for person in staff
        if rng.random() < 0.03
    )
    return Administration(people, seed, units, staff, programmes, tuple(cohorts), moves, placements)


def _units(people: int) -> tuple[tuple[str, str], ...]:
    count = max(4, people // UNIT_SIZE)
    departments = max(2, count // UNITS_PER_DEPARTMENT)
    return tuple(
        (f"Department {n % departments + 1:03d}", f"Unit {n + 1:05d}") for n in range(count)
    )


def _moves(
    staff: tuple[Staff, ...],
    units: tuple[tuple[str, str], ...],
    participants: set[int],
    rng: random.Random,
) -> list[MovePlan]:
    """At most one move each: 30% of participants, 15% of the others, in 2020-2024."""
    moves = []
    for person in staff:
        if rng.random() >= (0.30 if person.index in participants else 0.15):
            continue
        start = dt.date(rng.choice(YEARS[1:]), rng.randrange(1, 13), 1)
        draw = rng.random()
        other = units[rng.randrange(len(units))]
        if other == (person.department, person.unit):
            other = units[(units.index(other) + 1) % len(units)]
        if draw < 0.30:
            end = start + dt.timedelta(days=180)
            moves.append(
                MovePlan(person.index, "job_rotation", ORGANISATION, *other, start, end, end)
            )
        elif draw < 0.50:
            moves.append(MovePlan(person.index, "transfer", ORGANISATION, *other, start))
        elif draw < 0.65:
            moves.append(
                MovePlan(
                    person.index, "promotion", ORGANISATION, person.department, person.unit, start
                )
            )
        elif draw < 0.75:
            end = start + dt.timedelta(days=300)
            moves.append(
                MovePlan(
                    person.index,
                    "secondment",
                    OTHER_ORGANISATION,
                    "Budget Department",
                    "Economic Policy Unit",
                    start,
                    end,
                    end,
                    scope="other_state_organisation",
                )
            )
        elif draw < 0.85:
            end = start + dt.timedelta(days=240)
            moves.append(
                MovePlan(
                    person.index,
                    "job_rotation",
                    GROUP_AGENCY,
                    "Regional Services",
                    "Customer Unit",
                    start,
                    end,
                    end,
                    scope="group_agency",
                )
            )
        elif draw < 0.93:
            moves.append(MovePlan(person.index, "new_post", ORGANISATION, *other, start))
        else:
            moves.append(MovePlan(person.index, "left_state", PRIVATE_SECTOR, None, None, start))
    return moves
