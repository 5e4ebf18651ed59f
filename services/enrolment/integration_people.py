"""The pure mapping of a person's domain events to public integration events.

The sealed personal fields stop here: ``Registered`` carries them, and no mapping below copies
them (the contracts' schemas would refuse the unknown keys anyway).
"""

from __future__ import annotations

from typing import Any

from services.enrolment.domain.people import Person
from shared.events import coordination, people
from shared.events import enrolment as contract


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(event, Person.Event):
        return None
    person_id = event.originator_id
    if isinstance(event, Person.Registered):  # type: ignore[attr-defined]
        return contract.PERSON_REGISTERED, {
            "person_id": person_id,
            "organisation": event.organisation,
            "department": event.department,
            "unit": event.unit,
        }
    if isinstance(event, Person.AttributesRecorded):  # type: ignore[attr-defined]
        return people.PERSON_ATTRIBUTES_RECORDED, {
            "person_id": person_id,
            "role": event.role,
            "profession_category": event.profession_category,
            "education_level": event.education_level,
        }
    if isinstance(event, Person.PlacementChanged):  # type: ignore[attr-defined]
        return people.PLACEMENT_CHANGED, {
            "person_id": person_id,
            "organisation": event.organisation,
            "department": event.department,
            "unit": event.unit,
            "effective_date": event.effective_date,
            "move_id": event.move_id,
        }
    if isinstance(event, Person.CareerMoveRecorded):  # type: ignore[attr-defined]
        return people.CAREER_MOVE_RECORDED, {
            "person_id": person_id,
            "move_id": event.move_id,
            "kind": event.kind,
            "organisation": event.organisation,
            "department": event.department,
            "unit": event.unit,
            "scope": event.scope,
            "start_date": event.start_date,
            "planned_end_date": event.planned_end_date,
            "end_date": event.end_date,
        }
    if isinstance(event, Person.CareerMoveEnded):  # type: ignore[attr-defined]
        return people.CAREER_MOVE_ENDED, {
            "person_id": person_id,
            "move_id": event.move_id,
            "end_date": event.end_date,
        }
    if isinstance(event, Person.PersonalCorrected):  # type: ignore[attr-defined]
        # The names of the fields only: the sealed values stop here.
        return coordination.PERSON_DETAILS_CORRECTED, {
            "person_id": person_id,
            "corrected": list(event.corrected),
        }
    if isinstance(event, Person.Erased):  # type: ignore[attr-defined]
        return people.PERSON_ERASED, {"person_id": person_id, "erased_at": event.erased_at}
    return None
