"""Loads the enrolment side of the administration through the enrolment application.

People go through ``register_people`` (the registration path itself: sealed personal fields,
keys in the key store), a thousand at a time. A cohort's whole life (plan, coach, open,
invitations, answers, start, sessions and their attendance, peer groups, withdrawals,
completions) is decided by the aggregates' own methods, so every domain rule is checked,
and saved with the application's ``save_all`` once per cohort: the command methods would
reload the cohort from all its events for each of its hundreds of commands. Career moves and
reorganisations load each person once and save them a few hundred at a time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from benchmarks.state.plan import (
    CAPACITY,
    ORGANISATION,
    PEER_GROUP_SIZE,
    SESSIONS,
    Administration,
    CohortPlan,
)
from services.enrolment.domain.attendance import Mark
from services.enrolment.domain.careers import MoveKind, Scope
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.groups import PeerGroup, PeerGroupsOfCohort
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from services.enrolment.domain.sessions import Session
from shared.auth import subject_reference

REGISTRATION_BATCH = 1000
CAREER_BATCH = 250
COACH = "coach-state"
META = {"actor_sub": "bench-state", "actor_role": "coordinator", "correlation_id": "bench-state"}
STATUSES = (("present", 0.80), ("partial", 0.88), ("excused", 0.95), ("absent", 1.0))


@dataclass
class LoadedCohort:
    """What the assessment loader needs of a cohort once it is saved."""

    id: UUID
    plan: CohortPlan
    completed: list[int] = field(default_factory=list)
    """Staff indexes of those who completed, who are rated and asked for a reaction."""


@dataclass
class Enrolled:
    person_ids: list[UUID]
    programme_ids: list[UUID]
    cohorts: list[LoadedCohort]


def load_enrolment(application: Any, plan: Administration, secret: str) -> Enrolled:
    person_ids = register_everyone(application, plan)
    programme_ids = []
    for number in range(plan.programmes):
        programme = Programme.define(
            f"State programme {number + 1:02d} (synthetic)",
            ORGANISATION,
            "A synthetic development programme of the state-scale benchmark.",
            ["Leadership across units", "Renewing skills"],
            META,
        )
        application.save_all(programme)
        programme_ids.append(programme.id)
    coach_ref = subject_reference(secret, COACH)
    cohorts = [
        load_cohort(application, cohort, programme_ids, person_ids, coach_ref, plan.seed)
        for cohort in plan.cohorts
    ]
    load_careers(application, plan, person_ids)
    return Enrolled(person_ids, programme_ids, cohorts)


def register_everyone(application: Any, plan: Administration) -> list[UUID]:
    ids: list[UUID] = []
    for first in range(0, plan.people, REGISTRATION_BATCH):
        batch = plan.staff[first : first + REGISTRATION_BATCH]
        records = application.register_people([s.registration(plan.seed) for s in batch], META)
        ids.extend(record.id for record in records)
    return ids


def _day(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)


def load_cohort(
    application: Any,
    plan: CohortPlan,
    programme_ids: list[UUID],
    person_ids: list[UUID],
    coach_ref: str,
    seed: int,
) -> LoadedCohort:
    rng = random.Random(f"{seed}/cohort/{plan.number}")
    cohort = Cohort.plan(
        programme_ids[plan.programme], plan.name, CAPACITY, plan.start, plan.end, META
    )
    cohort.assign_coach(COACH, coach_ref, META)
    cohort.open(META, _day(plan.start, -30))
    declined = set(rng.sample(plan.invited, len(plan.invited) - CAPACITY))
    for person in plan.invited:
        cohort.invite(person_ids[person], META, _day(plan.start, -28))
    for person in plan.invited:
        if person in declined:
            cohort.decline(person_ids[person], META, "Workload", _day(plan.start, -20))
        else:
            cohort.accept(person_ids[person], META, _day(plan.start, -20))
    cohort.start(META, plan.start)
    enrolled = [p for p in plan.invited if p not in declined]
    leaving = {p: rng.randrange(1, SESSIONS) for p in rng.sample(enrolled, rng.randrange(3))}
    sessions = list(_sessions(cohort, plan, enrolled, leaving, person_ids, rng))
    staying = [p for p in enrolled if p not in leaving]
    register = PeerGroupsOfCohort(cohort.id, META)
    groups = []
    for n, first in enumerate(range(0, len(staying), PEER_GROUP_SIZE)):
        members = [person_ids[p] for p in staying[first : first + PEER_GROUP_SIZE]]
        groups.append(PeerGroup.form(cohort, register, f"Group {n + 1}", members, META))
    for person in staying:
        cohort.complete_participation(person_ids[person], META, plan.end)
    cohort.complete(META, plan.end)
    application.save_all(cohort, *sessions, register, *groups)
    return LoadedCohort(cohort.id, plan, staying)


def _sessions(
    cohort: Cohort,
    plan: CohortPlan,
    enrolled: list[int],
    leaving: dict[int, int],
    person_ids: list[UUID],
    rng: random.Random,
) -> Iterator[Session]:
    """Six half days, two weeks apart, the first two in person; withdrawals between them."""
    for index in range(SESSIONS):
        day = _day(plan.start, 7 + 14 * index)
        for person, before in leaving.items():
            if before == index:
                cohort.withdraw(person_ids[person], "Workload", META, _day(day, -1))
        virtual = index >= 2
        session = Session.schedule(
            cohort.id,
            (plan.start, plan.end),
            f"Module {index + 1}",
            dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC),
            META,
            module=str(index + 1),
            delivery="virtual" if virtual else "in_person",
            location=None if virtual else "Main building (synthetic)",
            platform="Teams" if virtual else None,
        )
        marks = []
        for person in enrolled:
            if person in leaving and leaving[person] <= index:
                continue
            draw = rng.random()
            status = next(name for name, upto in STATUSES if draw < upto)
            marks.append(Mark(person_ids[person], status, 120 if status == "partial" else None))

        def enrolled_on_day(person_id: UUID, day: dt.date) -> bool:
            record = cohort.participations.get(person_id)
            return record is not None and record.enrolled_during(day)

        session.record_attendance(marks, None, enrolled_on_day, META)
        yield session


def load_careers(application: Any, plan: Administration, person_ids: list[UUID]) -> None:
    """Every career move and reorganisation, each person loaded once, saved in batches."""
    changes: dict[int, list[Any]] = {}
    for move in plan.moves:
        changes.setdefault(move.person, []).append(move)
    for placement in plan.placements:
        changes.setdefault(placement[0], []).append(placement)
    people = sorted(changes)
    for first in range(0, len(people), CAREER_BATCH):
        batch = []
        for index in people[first : first + CAREER_BATCH]:
            person: Person = application.repository.get(person_ids[index])
            for change in changes[index]:
                if isinstance(change, tuple):
                    _, department, unit, effective = change
                    person.change_placement(department, unit, effective, META, ORGANISATION)
                else:
                    person.record_move(
                        MoveKind(change.kind),
                        change.organisation,
                        change.start,
                        META,
                        department=change.department,
                        unit=change.unit,
                        planned_end_date=change.planned_end,
                        end_date=change.end,
                        scope=Scope(change.scope) if change.scope else None,
                    )
            batch.append(person)
        application.save_all(*batch)
