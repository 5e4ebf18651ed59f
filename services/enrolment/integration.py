"""The pure mapping from enrolment domain events to public integration events.

Personal fields (name, e-mail, employee number) stop here: no mapping below copies them.
"""

from __future__ import annotations

from typing import Any

from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from shared.events import enrolment as contract


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, Programme.Defined):  # type: ignore[attr-defined]
        return contract.PROGRAMME_DEFINED, {
            "programme_id": event.originator_id,
            "name": event.name,
            "organisation": event.organisation,
        }
    if isinstance(event, Cohort.Planned):  # type: ignore[attr-defined]
        return contract.COHORT_PLANNED, {
            "cohort_id": event.originator_id,
            "programme_id": event.programme_id,
            "name": event.name,
            "capacity": event.capacity,
            "start_date": event.start_date,
            "end_date": event.end_date,
        }
    if isinstance(event, Person.Registered):  # type: ignore[attr-defined]
        return contract.PERSON_REGISTERED, {
            "person_id": event.originator_id,
            "organisation": event.organisation,
            "department": event.department,
            "unit": event.unit,
        }
    if isinstance(event, Cohort.ParticipantEnrolled):  # type: ignore[attr-defined]
        return contract.PARTICIPANT_ENROLLED, {
            "cohort_id": event.originator_id,
            "person_id": event.person_id,
            "enrolled_at": event.enrolled_at,
        }
    return None
