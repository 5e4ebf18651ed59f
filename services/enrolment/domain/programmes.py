"""Programmes: what a development programme is for and who owns it."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta


class Programme(Aggregate):
    TOPIC = "polku.enrolment:Programme"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Programme.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Programme.Created"

    @event("Defined", topic="polku.enrolment:Programme.Defined")
    def __init__(
        self, name: str, organisation: str, description: str, goals: list[str], meta: Meta
    ) -> None:
        self.name = name
        self.organisation = organisation
        self.description = description
        self.goals = list(goals)
