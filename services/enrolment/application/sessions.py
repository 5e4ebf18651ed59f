"""Session commands and queries: schedule, reschedule, change delivery, hold, cancel, and
attendance (recorded against the cohort's enrolments on the session's day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from services.enrolment.application.listings import ListingLookups
from services.enrolment.domain import Meta
from services.enrolment.domain.attendance import Mark, Tally
from services.enrolment.domain.cohorts import LIVE, Cohort
from services.enrolment.domain.indexes import SESSIONS_OF_COHORT
from services.enrolment.domain.sessions import CANCELLED, Session


class SessionCommands(ListingLookups):
    def schedule_session(
        self,
        cohort_id: UUID,
        title: str,
        starts_at: dt.datetime,
        meta: Meta,
        details: Mapping[str, Any] | None = None,
    ) -> Session:
        """``details``: ends_at, module, delivery, location, platform, facilitators."""

        def attempt() -> Session:
            cohort: Cohort = self.get(cohort_id, Cohort, "cohort")
            cohort.check_status(LIVE, "schedule sessions")
            session = Session.schedule(
                cohort_id,
                (cohort.start_date, cohort.end_date),
                title,
                starts_at,
                meta,
                **dict(details or {}),
            )
            sessions = self.listing(SESSIONS_OF_COHORT, cohort_id, meta)
            sessions.add(session.id, meta)
            self.save_all(session, sessions)
            return session

        return self.retrying(attempt, key=cohort_id)

    def move_window(
        self,
        cohort_id: UUID,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
        expected_version: int | None = None,
    ) -> Cohort:
        """Moves a cohort's window; refused while any scheduled or held session would fall
        outside it (by its own dates, as scheduling checks them)."""

        def attempt() -> Cohort:
            cohort: Cohort = self.get(
                cohort_id, Cohort, "cohort", expected_version=expected_version
            )
            on_calendar = [
                (s.id, s.day, s.ends_at.date())
                for s in (self.session(i) for i in self.listed(SESSIONS_OF_COHORT, cohort_id))
                if s.status != CANCELLED
            ]
            cohort.move_window(start_date, end_date, on_calendar, meta)
            self.save_all(cohort)
            return cohort

        return self.retrying(attempt, key=cohort_id)

    def session(self, session_id: UUID, version: int | None = None) -> Session:
        return self.get(session_id, Session, "session", version=version)  # type: ignore[no-any-return]

    def sessions_of(self, cohort_id: UUID) -> list[Session]:
        """The cohort's sessions in chronological order (by start, then by scheduling)."""
        self.get(cohort_id, Cohort, "cohort")
        sessions = [self.session(s) for s in self.listed(SESSIONS_OF_COHORT, cohort_id)]
        return sorted(sessions, key=lambda s: s.starts_at)

    def _change_session(
        self,
        session_id: UUID,
        expected_version: int | None,
        decide: Callable[[Session], object],
    ) -> Session:
        def attempt() -> Session:
            session: Session = self.get(
                session_id, Session, "session", expected_version=expected_version
            )
            decide(session)
            self.save_all(session)
            return session

        return self.retrying(attempt, key=session_id)

    def _check_cohort_live(self, session: Session, doing: str) -> None:
        """Plans change only while the cohort still runs its course (not once it ended)."""
        cohort: Cohort = self.get(session.cohort_id, Cohort, "cohort")
        cohort.check_status(LIVE, doing)

    def reschedule_session(
        self,
        session_id: UUID,
        starts_at: dt.datetime,
        reason: str,
        meta: Meta,
        ends_at: dt.datetime | None = None,
        expected_version: int | None = None,
    ) -> Session:
        def decide(session: Session) -> None:
            self._check_cohort_live(session, "reschedule sessions")
            session.reschedule(starts_at, reason, meta, ends_at)

        return self._change_session(session_id, expected_version, decide)

    def change_session_delivery(
        self,
        session_id: UUID,
        delivery: str,
        reason: str,
        meta: Meta,
        platform: str | None = None,
        location: str | None = None,
        expected_version: int | None = None,
    ) -> Session:
        def decide(session: Session) -> None:
            self._check_cohort_live(session, "change how sessions are delivered")
            session.change_delivery(delivery, reason, meta, platform, location)

        return self._change_session(session_id, expected_version, decide)

    def hold_session(
        self, session_id: UUID, meta: Meta, expected_version: int | None = None
    ) -> Session:
        return self._change_session(session_id, expected_version, lambda s: s.hold(meta))

    def cancel_session(
        self, session_id: UUID, reason: str, meta: Meta, expected_version: int | None = None
    ) -> Session:
        return self._change_session(session_id, expected_version, lambda s: s.cancel(reason, meta))

    def record_attendance(
        self,
        session_id: UUID,
        marks: Sequence[Mark],
        reason: str | None,
        meta: Meta,
        expected_version: int | None = None,
    ) -> Tally:
        tally: list[Tally] = []

        def decide(session: Session) -> None:
            cohort: Cohort = self.get(session.cohort_id, Cohort, "cohort")

            def enrolled_on_day(person_id: UUID, day: dt.date) -> bool:
                record = cohort.participations.get(person_id)
                return record is not None and record.enrolled_during(day)

            tally[:] = [session.record_attendance(marks, reason, enrolled_on_day, meta)]

        self._change_session(session_id, expected_version, decide)
        return tally[0]
