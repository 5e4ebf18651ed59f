"""Cohort commands and queries: planning, the lifecycle, coaches, invitations and enrolment.

Commands on one cohort return the cohort as saved, so callers read the outcome (a person's
status, a waitlist position) from it without loading it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.enrolments import Participation
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from shared.eventstore import ServiceApplication

TRANSITIONS = ("open", "start", "complete", "cancel")
ENTRY_TOPICS = (
    "polku.enrolment:Cohort.ParticipantInvited",
    "polku.enrolment:Cohort.ParticipantWaitlisted",
    "polku.enrolment:Cohort.ParticipantEnrolled",
)
"""The events by which a person first appears in a cohort."""


class CohortCommands(ServiceApplication):
    def plan_cohort(
        self,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
        funding_source: str | None = None,
    ) -> Cohort:
        programme: Programme = self.get(programme_id, Programme, "programme", field="programme_id")
        programme.check_not_retired("plan cohorts")
        cohort = Cohort.plan(
            programme_id, name, capacity, start_date, end_date, meta, funding_source
        )
        self.save_all(cohort)
        return cohort

    def cohort(self, cohort_id: UUID, version: int | None = None) -> Cohort:
        return self.get(cohort_id, Cohort, "cohort", version=version)  # type: ignore[no-any-return]

    def _change(
        self,
        cohort_id: UUID,
        expected_version: int | None,
        decide: Callable[[Cohort], object],
    ) -> Cohort:
        """Load, decide, save, again on fresh state if another command won a race."""

        def attempt() -> Cohort:
            cohort: Cohort = self.get(
                cohort_id, Cohort, "cohort", expected_version=expected_version
            )
            decide(cohort)
            self.save_all(cohort)
            return cohort

        return self.retrying(attempt, key=cohort_id)

    # Lifecycle -----------------------------------------------------------------------------------

    def change_cohort_status(
        self,
        cohort_id: UUID,
        transition: str,
        meta: Meta,
        reason: str | None = None,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        """``transition`` is one of open, start, complete, cancel (which needs a reason)."""

        def decide(cohort: Cohort) -> None:
            if transition == "open":
                # A retired programme opens no new cohorts, even ones planned before it retired.
                programme: Programme = self.get(cohort.programme_id, Programme, "programme")
                programme.check_not_retired("open cohorts")
                cohort.open(meta, on)
            elif transition == "start":
                cohort.start(meta, on)
            elif transition == "complete":
                cohort.complete(meta, on)
            elif transition == "cancel":
                assert reason is not None
                cohort.cancel(reason, meta, on)
            else:
                raise ValueError(f"no transition called {transition}")

        return self._change(cohort_id, expected_version, decide)

    def assign_coach(
        self,
        cohort_id: UUID,
        coach: str,
        coach_ref: str,
        meta: Meta,
        expected_version: int | None = None,
    ) -> Cohort:
        """``coach_ref``: :func:`shared.auth.subject_reference` of ``coach``, published instead."""
        return self._change(
            cohort_id, expected_version, lambda c: c.assign_coach(coach, coach_ref, meta)
        )

    # Invitations and enrolment ---------------------------------------------------------------

    def _admitting(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        expected_version: int | None,
        decide: Callable[[Cohort], object],
    ) -> Cohort:
        """A command that may bring a registered person into the cohort."""

        def admit(cohort: Cohort) -> object:
            self.get(person_id, Person, "person", field="person_id")
            return decide(cohort)

        return self._change(cohort_id, expected_version, admit)

    def invite(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        return self._admitting(
            cohort_id, person_id, meta, expected_version, lambda c: c.invite(person_id, meta, on)
        )

    def accept_invitation(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        return self._change(cohort_id, expected_version, lambda c: c.accept(person_id, meta, on))

    def decline_invitation(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        reason: str | None = None,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        return self._change(
            cohort_id, expected_version, lambda c: c.decline(person_id, meta, reason, on)
        )

    def admit(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        """Direct enrolment: a place if there is one, else the end of the waitlist."""
        return self._admitting(
            cohort_id, person_id, meta, expected_version, lambda c: c.enrol(person_id, meta, on)
        )

    def enrol(
        self, cohort_id: UUID, person_id: UUID, meta: Meta, on: dt.date | None = None
    ) -> dt.datetime | None:
        """:meth:`admit`, answering only when the person was enrolled (None: waitlisted)."""
        cohort = self.admit(cohort_id, person_id, meta, on)
        return cohort.participation(person_id).enrolled_at

    def withdraw(
        self,
        cohort_id: UUID,
        person_id: UUID,
        reason: str,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> tuple[Cohort, UUID | None]:
        """Withdraws someone enrolled or waitlisted; also answers whom that promoted from the
        waitlist (nobody when the person was only waiting)."""
        promoted: list[UUID | None] = []

        def decide(cohort: Cohort) -> None:
            promoted[:] = [cohort.withdraw(person_id, reason, meta, on)]

        cohort = self._change(cohort_id, expected_version, decide)
        return cohort, promoted[0]

    def withdraw_invitation(
        self,
        cohort_id: UUID,
        person_id: UUID,
        reason: str,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        """Takes back an invitation sent by mistake (see :meth:`Cohort.withdraw_invitation`)."""
        return self._change(
            cohort_id,
            expected_version,
            lambda c: c.withdraw_invitation(person_id, reason, meta, on),
        )

    # Capacity and window -------------------------------------------------------------------------

    def change_capacity(
        self,
        cohort_id: UUID,
        capacity: int,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> tuple[Cohort, list[UUID]]:
        """Also answers whom the change seated from the waitlist, in their order."""
        promoted: list[UUID] = []

        def decide(cohort: Cohort) -> None:
            promoted[:] = cohort.change_capacity(capacity, meta, on)  # the last attempt's

        return self._change(cohort_id, expected_version, decide), promoted

    def complete_participation(
        self,
        cohort_id: UUID,
        person_id: UUID,
        meta: Meta,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> Cohort:
        return self._change(
            cohort_id,
            expected_version,
            lambda c: c.complete_participation(person_id, meta, on),
        )

    def participations_of(
        self, person_id: UUID, after: int, limit: int
    ) -> tuple[list[tuple[Cohort, Participation]], int | None]:
        """A person's place in each cohort they were ever invited to or joined, oldest first.

        The cursor counts cohorts: ``after=10`` starts at the 11th. The cohorts are found by
        reading the log's invitation, waitlist and enrolment events (a participant's own
        view, read rarely); the tracking read models answer such questions at scale.
        """
        self.get(person_id, Person, "person")
        first_seen: dict[UUID, None] = {}  # insertion-ordered, constant-time membership
        position = 0
        while True:
            batch = self.notifications_after(position, 1000, topics=ENTRY_TOPICS)
            for notification in batch:
                event: Any = self.mapper.to_domain_event(notification)
                if event.person_id == person_id:
                    first_seen.setdefault(event.originator_id, None)
            if len(batch) < 1000:
                break
            position = batch[-1].id
        cohort_ids = list(first_seen)
        page = []
        for cohort_id in cohort_ids[after : after + limit]:
            cohort = self.cohort(cohort_id)
            if person_id in cohort.participations:  # not if only invited, and that taken back
                page.append((cohort, cohort.participation(person_id)))
        more = after + limit < len(cohort_ids)
        return page, after + limit if more else None
