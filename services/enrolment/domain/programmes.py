"""Programmes: what a development programme is for, who owns it, and whether it still runs."""

from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta
from services.enrolment.domain.dates import effective
from shared.errors import ConflictError, RuleViolation


class ProgrammeRetired(ConflictError):
    pass


class GoalAlreadyListed(ConflictError):
    pass


class GoalRepeated(RuleViolation):
    pass


class Programme(Aggregate):
    TOPIC = "polku.enrolment:Programme"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Programme.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Programme.Created"

    @staticmethod
    def check_goals(goals: list[str]) -> None:
        for n, goal in enumerate(goals):
            if goal in goals[:n]:
                raise GoalRepeated(f"the goal {goal!r} is listed twice", field=f"goals.{n}")

    @classmethod
    def define(
        cls, name: str, organisation: str, description: str, goals: list[str], meta: Meta
    ) -> Programme:
        """A new programme; each of its goals listed once."""
        cls.check_goals(goals)
        return cls(name, organisation, description, goals, meta)

    @event("Defined", topic="polku.enrolment:Programme.Defined")
    def __init__(
        self, name: str, organisation: str, description: str, goals: list[str], meta: Meta
    ) -> None:
        self.name = name
        self.organisation = organisation
        self.description = description
        self.goals = list(goals)
        self.retired_on: dt.date | None = None
        self.retirement_reason: str | None = None

    @property
    def retired(self) -> bool:
        return self.retired_on is not None

    def check_not_retired(self, doing: str) -> None:
        if self.retired_on is not None:
            raise ProgrammeRetired(
                f"programme {self.id} was retired on {self.retired_on.isoformat()}; "
                f"it can {doing} no longer",
                field="programme_id",
            )

    def add_goal(self, goal: str, meta: Meta) -> None:
        self.check_not_retired("gain goals")
        if goal in self.goals:
            raise GoalAlreadyListed(f"the programme already has the goal {goal!r}", field="goal")
        self._goal_added(goal, meta)

    @event("GoalAdded", topic="polku.enrolment:Programme.GoalAdded")
    def _goal_added(self, goal: str, meta: Meta) -> None:
        self.goals.append(goal)

    def retire(self, reason: str, meta: Meta, on: dt.date | None = None) -> None:
        self.check_not_retired("be retired")
        self._retired(reason, effective(on), meta)

    @event("Retired", topic="polku.enrolment:Programme.Retired")
    def _retired(self, reason: str, on: dt.date, meta: Meta) -> None:
        self.retired_on = on
        self.retirement_reason = reason
