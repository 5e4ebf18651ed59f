"""Random but plausible logs of integration events from both write services, for property tests.

:class:`Logs` plays the two write services: each step picks something that could happen next
(a person registered, an attendance corrected, a result voided ...; the steps are in
:mod:`tests.unit.enrolment_steps` and :mod:`tests.unit.assessment_steps`) and appends the
event to its service's log, with the aggregate's next sequence, the log's next position and a
clock that only moves forward. Data is in the JSON form the feeds carry, valid for the registry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from shared.events import Envelope, event_id, restricted_registry
from tests.unit.assessment_steps import ASSESSMENT, AssessmentSteps
from tests.unit.enrolment_steps import ENROLMENT, EnrolmentSteps

Draw = Callable[[st.SearchStrategy[Any]], Any]

START = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
DAYS = [f"2020-{m:02d}-{d:02d}" for m in (2, 5, 9) for d in (3, 17)]
# What tracking reads: assessment events with their scores and answers (the restricted channel).
REGISTRY = restricted_registry()


@dataclass
class Logs(EnrolmentSteps, AssessmentSteps):
    """Two services' logs being written; ``events`` is each one's log order."""

    draw: Draw
    events: dict[str, list[Envelope]] = field(
        default_factory=lambda: {ENROLMENT: [], ASSESSMENT: []}
    )
    versions: dict[str, int] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=lambda: {ENROLMENT: 0, ASSESSMENT: 0})
    clock: dt.datetime = START
    ids: int = 0
    # What exists so far, for choosing what can happen next.
    programmes: list[str] = field(default_factory=list)
    cohorts: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)  # open move -> person
    sessions: dict[str, str] = field(default_factory=dict)  # session -> cohort
    attendance: dict[tuple[str, str], str] = field(default_factory=dict)  # -> status
    groups: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # cohort, members
    instruments: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    surveys: dict[str, tuple[str, str]] = field(default_factory=dict)  # instrument, cohort
    staff_results: list[str] = field(default_factory=list)

    def new_id(self) -> str:
        self.ids += 1
        return str(uuid.UUID(int=self.ids))

    def emit(self, source: str, subject: str, type_: str, data: dict[str, Any]) -> None:
        REGISTRY.load(type_, data)  # a generator bug must fail here, not as a dead letter
        self.versions[subject] = self.versions.get(subject, 0) + 1
        # Gaps: PostgreSQL ids skip, and some notifications publish nothing.
        self.heads[source] += self.draw(st.integers(1, 2))
        self.clock += dt.timedelta(seconds=self.draw(st.integers(1, 90_000)))
        version = self.versions[subject]
        self.events[source].append(
            Envelope(
                id=event_id(subject, version),
                source=f"/polku/{source}",
                type=type_,
                subject=subject,
                time=self.clock,
                dataschema=REGISTRY[type_].dataschema,
                aggregateversion=version,
                position=self.heads[source],
                actor="hr_admin:test",
                correlationid="c",
                causationid=None,
                data=data,
            )
        )

    def pick(self, options: Any) -> Any:
        return self.draw(st.sampled_from(sorted(options)))

    def day(self) -> str:
        return str(self.draw(st.sampled_from(DAYS)))

    def step(self) -> None:
        possible = [action for action, ready in self.actions() if ready]
        self.draw(st.sampled_from(possible))(self)

    def actions(self) -> list[tuple[Callable[[Logs], None], bool]]:
        return [
            (Logs.programme, True),
            (Logs.cohort, bool(self.programmes)),
            (Logs.cohort_status, bool(self.cohorts)),
            (Logs.coach, bool(self.cohorts)),
            (Logs.person, True),
            (Logs.attributes, bool(self.people)),
            (Logs.placement, bool(self.people)),
            (Logs.move, bool(self.people)),
            (Logs.move_ended, bool(self.moves)),
            (Logs.erased, bool(self.people)),
            (Logs.stage, bool(self.cohorts and self.people)),
            (Logs.coordination, bool(self.cohorts and self.people)),
            (Logs.session, bool(self.cohorts)),
            (Logs.session_change, bool(self.sessions)),
            (Logs.attendance_recorded, bool(self.sessions and self.people)),
            (Logs.attendance_corrected, bool(self.attendance)),
            (Logs.group, bool(self.cohorts and self.people)),
            (Logs.group_change, bool(self.groups and self.people)),
            (Logs.instrument, True),
            (Logs.instrument_change, bool(self.instruments)),
            (Logs.result, bool(self.instruments and self.people)),
            (Logs.result_change, bool(self.results)),
            (Logs.profile, bool(self.instruments and self.people)),
            (Logs.profile_corrected, bool(self.profiles)),
            (Logs.survey, bool(self.instruments and self.cohorts)),
            (Logs.survey_change, bool(self.surveys)),
            (Logs.staff_result, bool(self.instruments)),
            (Logs.staff_result_corrected, bool(self.staff_results)),
        ]
