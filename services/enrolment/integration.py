"""The pure mapping from enrolment domain events to public integration events.

Personal fields (name, e-mail, employee number) stop here: no mapping below copies them.
"""

from __future__ import annotations

from typing import Any

from services.enrolment import integration_cohorts, integration_coordination, integration_people


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    coordination_event = integration_coordination.translate(event)
    if coordination_event is not None:
        return coordination_event
    cohort_event = integration_cohorts.translate(event)
    if cohort_event is not None:
        return cohort_event
    return integration_people.translate(event)
