"""A cohort with people enrolled, written straight through the enrolment application: the
event mix the relay and projector tests publish, each person a subject of their own."""

from __future__ import annotations

import datetime as dt
import uuid

from services.runtime import WriteService

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}


def enrol_cohort(
    service: WriteService,
    people: int,
    tag: str = "2020",
    *,
    departments: int = 1,
    withdraw_every: int = 0,
) -> int:
    """Plans a cohort of ``people`` and enrols each (spread over ``departments``); with
    ``withdraw_every`` N, every Nth withdraws. Returns how many events that recorded."""
    app = service.application
    programme = app.define_programme(f"P{tag}", "TEM", META).id
    cohort = app.plan_cohort(
        programme, tag, people, dt.date(2020, 2, 1), dt.date(2020, 6, 30), META
    ).id
    events = 2
    for n in range(people):
        person = app.register_person(
            {
                "full_name": f"P {tag} {n}",
                "email": f"p{n}@example.invalid",
                "employee_number": f"E-{uuid.uuid4()}",
                "organisation": "TEM",
                "department": f"D{n % departments}",
                "unit": "U",
            },
            META,
        ).id
        app.enrol(cohort, person, META)
        events += 2
        if withdraw_every and n % withdraw_every == 0:
            app.withdraw(cohort, person, "moved", META)
            events += 1
    return events
