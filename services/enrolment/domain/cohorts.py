"""Cohorts: runs of a programme, with their window, lifecycle, coaches and participants.

A cohort is planned, then open (invitations and enrolment), running, and completed; or it is
cancelled with a reason. It owns every participation record (see ``enrolments``), so that
capacity and the first-in, first-out waitlist are decided in one place, in one transaction.
That makes this the longest module of the domain: one aggregate's events cannot be split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta
from services.enrolment.domain import enrolments as e
from services.enrolment.domain.dates import effective, moment
from services.enrolment.domain.enrolments import Participation
from services.enrolment.domain.snapshots import CohortSnapshot, copy_cohort
from shared.errors import ConflictError, RuleViolation

PLANNED, OPEN, RUNNING, COMPLETED, CANCELLED = (
    "planned",
    "open",
    "running",
    "completed",
    "cancelled",
)
LIVE = (PLANNED, OPEN, RUNNING)
"""States in which the cohort still takes enrolments, sessions and peer groups."""


class CohortWindowInvalid(RuleViolation):
    pass


class CapacityInvalid(RuleViolation):
    pass


class IllegalTransition(ConflictError):
    pass


class CapacityBelowEnrolled(ConflictError):
    pass


class WindowStrandsSessions(ConflictError):
    pass


class CohortStatusForbids(ConflictError):
    pass


class CoachAlreadyAssigned(ConflictError):
    pass


class Cohort(Aggregate):
    TOPIC = "polku.enrolment:Cohort"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Cohort.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Cohort.Created"

    Snapshot = CohortSnapshot
    __deepcopy__ = copy_cohort

    @staticmethod
    def check_window(start_date: dt.date, end_date: dt.date) -> None:
        if end_date <= start_date:
            raise CohortWindowInvalid("end_date must be after start_date", field="end_date")

    @staticmethod
    def check_capacity(capacity: int) -> None:
        if capacity < 1:
            raise CapacityInvalid("capacity must be at least 1", field="capacity")

    @classmethod
    def plan(
        cls,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        meta: Meta,
        funding_source: str | None = None,
    ) -> Cohort:
        cls.check_window(start_date, end_date)
        cls.check_capacity(capacity)
        return cls(programme_id, name, capacity, start_date, end_date, funding_source, meta)

    @event("Planned", topic="polku.enrolment:Cohort.Planned")
    def __init__(
        self,
        programme_id: UUID,
        name: str,
        capacity: int,
        start_date: dt.date,
        end_date: dt.date,
        funding_source: str | None,
        meta: Meta,
    ) -> None:
        self.programme_id = programme_id
        self.name = name
        self.capacity = capacity
        self.start_date = start_date
        self.end_date = end_date
        self.funding_source = funding_source
        self.status = PLANNED
        self.status_changes: list[dict[str, object]] = []
        self.cancellation_reason: str | None = None
        self.coaches: list[str] = []
        self.participations: dict[UUID, Participation] = {}
        self.roster: list[UUID] = []  # first enrolment order
        self.waitlist: list[UUID] = []  # first in, first out

    # Lifecycle -------------------------------------------------------------------------------

    def check_status(self, allowed: tuple[str, ...], doing: str) -> None:
        if self.status not in allowed:
            raise CohortStatusForbids(
                f"the cohort is {self.status}; only a cohort that is {' or '.join(allowed)} "
                f"can {doing}"
            )

    def _transition(
        self, to: str, allowed: tuple[str, ...], verb: str, on: dt.date | None
    ) -> dt.date:
        """Checks the move to ``to`` and answers its effective day, which cannot come before
        the previous step's: a cohort does not start before it opened."""
        if self.status not in allowed:
            raise IllegalTransition(
                f"the cohort is {self.status}; only a cohort that is {' or '.join(allowed)} "
                f"can be {verb}"
            )
        day = effective(on)
        if self.status_changes:
            last = self.status_changes[-1]
            previous = last["on"]
            assert isinstance(previous, dt.date)
            if day < previous:
                raise e.DateBeforeEarlierStep(
                    f"on {day.isoformat()} is before the cohort became {last['status']} "
                    f"({previous.isoformat()})",
                    field="on",
                )
        return day

    def open(self, meta: Meta, on: dt.date | None = None) -> None:
        self._opened(self._transition(OPEN, (PLANNED,), "opened", on), meta)

    def start(self, meta: Meta, on: dt.date | None = None) -> None:
        self._started(self._transition(RUNNING, (OPEN,), "started", on), meta)

    def complete(self, meta: Meta, on: dt.date | None = None) -> None:
        self._completed(self._transition(COMPLETED, (RUNNING,), "completed", on), meta)

    def cancel(self, reason: str, meta: Meta, on: dt.date | None = None) -> None:
        self._cancelled(reason, self._transition(CANCELLED, LIVE, "cancelled", on), meta)

    def _now(self, status: str, on: dt.date, reason: str | None = None) -> None:
        self.status = status
        self.status_changes.append({"status": status, "on": on, "reason": reason})

    @event("Opened", topic="polku.enrolment:Cohort.Opened")
    def _opened(self, on: dt.date, meta: Meta) -> None:
        self._now(OPEN, on)

    @event("Started", topic="polku.enrolment:Cohort.Started")
    def _started(self, on: dt.date, meta: Meta) -> None:
        self._now(RUNNING, on)

    @event("Completed", topic="polku.enrolment:Cohort.Completed")
    def _completed(self, on: dt.date, meta: Meta) -> None:
        self._now(COMPLETED, on)

    @event("Cancelled", topic="polku.enrolment:Cohort.Cancelled")
    def _cancelled(self, reason: str, on: dt.date, meta: Meta) -> None:
        self._now(CANCELLED, on, reason)
        self.cancellation_reason = reason

    # Coaches ---------------------------------------------------------------------------------

    def assign_coach(self, coach: str, coach_ref: str, meta: Meta) -> None:
        """``coach_ref`` is a keyed hash of the subject (made where the key is known): the
        only form in which the assignment may leave the service."""
        self.check_status((PLANNED, OPEN, RUNNING, COMPLETED), "have coaches assigned")
        if coach in self.coaches:
            raise CoachAlreadyAssigned("that coach already coaches this cohort", field="coach")
        self._coach_assigned(coach, coach_ref, meta)

    class CoachAssigned(Event):
        TOPIC = "polku.enrolment:Cohort.CoachAssigned"
        class_version = 2
        coach: str
        coach_ref: str | None
        meta: Meta

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            """Assignments stored before references existed have none: they stay unpublished."""
            state["coach_ref"] = None

    @event(CoachAssigned)
    def _coach_assigned(self, coach: str, coach_ref: str | None, meta: Meta) -> None:
        self.coaches.append(coach)

    # Capacity and window ---------------------------------------------------------------------

    def change_capacity(self, capacity: int, meta: Meta, on: dt.date | None = None) -> list[UUID]:
        """Raising it seats the head of the waitlist, first in first out, until the places are
        full; lowering it below the places taken is a conflict. Returns whom it promoted."""
        self.check_capacity(capacity)
        self.check_status(LIVE, "change its capacity")
        if capacity < self.places_taken:
            raise CapacityBelowEnrolled(
                f"{self.places_taken} people hold places; capacity cannot go below that "
                "(withdraw someone first)",
                field="capacity",
            )
        day = effective(on)
        self._capacity_changed(capacity, self.capacity, day, meta)
        promoted: list[UUID] = []
        while self.waitlist and self.places_taken < self.capacity:
            head = self.participations[self.waitlist[0]]
            # Nobody is seated before they joined the waitlist.
            seated_on = max(day, head.waitlisted_on or day)
            self._enrolled(head.person_id, moment(seated_on), seated_on, True, meta)
            promoted.append(head.person_id)
        return promoted

    @event("CapacityChanged", topic="polku.enrolment:Cohort.CapacityChanged")
    def _capacity_changed(self, capacity: int, previous: int, on: dt.date, meta: Meta) -> None:
        self.capacity = capacity

    def move_window(
        self,
        start_date: dt.date,
        end_date: dt.date,
        sessions: list[tuple[UUID, dt.date, dt.date]],
        meta: Meta,
    ) -> None:
        """Moves the cohort's window; ``sessions`` are its sessions still on the calendar
        (scheduled or held: id, first and last day). A move leaving any outside is a conflict
        naming every one of them."""
        self.check_window(start_date, end_date)
        self.check_status(LIVE, "move its window")
        stranded = [
            (session_id, first)
            for session_id, first, last in sessions
            if first < start_date or last > end_date
        ]
        if stranded:
            named = ", ".join(f"{sid} on {day.isoformat()}" for sid, day in stranded)
            raise WindowStrandsSessions(
                f"{len(stranded)} session(s) would fall outside {start_date.isoformat()} to "
                f"{end_date.isoformat()}: {named}; reschedule or cancel them first",
                field="start_date" if stranded[0][1] < start_date else "end_date",
                errors=[
                    {
                        "location": "json",
                        "field": "start_date" if day < start_date else "end_date",
                        "message": f"session {sid} on {day.isoformat()} would be stranded",
                    }
                    for sid, day in stranded
                ],
                extra={"sessions": [str(sid) for sid, _ in stranded]},
            )
        if (start_date, end_date) == (self.start_date, self.end_date):
            return
        self._window_moved(start_date, end_date, self.start_date, self.end_date, meta)

    @event("WindowMoved", topic="polku.enrolment:Cohort.WindowMoved")
    def _window_moved(
        self,
        start_date: dt.date,
        end_date: dt.date,
        previous_start_date: dt.date,
        previous_end_date: dt.date,
        meta: Meta,
    ) -> None:
        self.start_date = start_date
        self.end_date = end_date

    # Participants: reading -------------------------------------------------------------------

    @property
    def enrolled(self) -> dict[UUID, dt.datetime]:
        """Everyone holding a place (enrolled or completed) and when, in enrolment order."""
        return {
            p: at
            for p in self.roster
            if self.participations[p].holds_place
            and (at := self.participations[p].enrolled_at) is not None
        }

    @property
    def places_taken(self) -> int:
        return sum(1 for p in self.roster if self.participations[p].holds_place)

    def participation(self, person_id: UUID) -> Participation:
        record = self.participations.get(person_id)
        if record is None:
            raise e.NotAParticipant(
                f"person {person_id} has no invitation or enrolment in this cohort",
                field="person_id",
            )
        return record

    def ever_enrolled(self) -> Iterator[Participation]:
        """Everyone who has been enrolled (enrolled, completed or withdrawn), in enrolment order."""
        return (self.participations[p] for p in self.roster)

    def waitlist_position(self, person_id: UUID) -> int | None:
        return self.waitlist.index(person_id) + 1 if person_id in self.waitlist else None

    # Participants: invitations ---------------------------------------------------------------

    def check_may_admit(self, person_id: UUID, first_time: tuple[str, ...], doing: str) -> None:
        """New here (while the status is in ``first_time``), or back after declining or
        withdrawing (only while open)."""
        record = self.participations.get(person_id)
        if record is None:
            self.check_status(first_time, doing)
            return
        e.refuse_to_admit_again(record)
        if self.status != OPEN:
            raise CohortStatusForbids(
                f"person {person_id} {record.status} earlier; the cohort is {self.status}, and "
                "only an open cohort can take them back",
                field="person_id",
            )

    def invite(self, person_id: UUID, meta: Meta, on: dt.date | None = None) -> None:
        """Invitations go out while the cohort is planned or open; repeat ones only while open."""
        self.check_may_admit(person_id, (PLANNED, OPEN), "invite anyone")
        self._invited(person_id, effective(on), meta)

    @event("ParticipantInvited", topic="polku.enrolment:Cohort.ParticipantInvited")
    def _invited(self, person_id: UUID, on: dt.date, meta: Meta) -> None:
        record = self.participations.get(person_id)
        if record is None:
            record = self.participations[person_id] = Participation(person_id, e.INVITED)
        else:  # a repeat invitation: what taking it back returns to
            record.before_invitation = e.before_invitation(record)
        record.status = e.INVITED
        record.invited_on = on
        record.declined_on = record.decline_reason = None

    def _invitation(self, person_id: UUID) -> Participation:
        record = self.participation(person_id)
        if record.status != e.INVITED:
            raise e.NoInvitation(
                f"person {person_id} has no open invitation (they are {record.status})",
                field="person_id",
            )
        return record

    def withdraw_invitation(
        self, person_id: UUID, reason: str, meta: Meta, on: dt.date | None = None
    ) -> str | None:
        """Takes back an open invitation sent by mistake: the person is as they were before it
        (unknown to the cohort, or declined or withdrawn as before). Returns that status."""
        record = self._invitation(person_id)
        self.check_status(LIVE, "take back invitations")
        day = effective(on)
        record.check_not_before(day, record.invited_on, "invitation")
        restored = record.before_invitation
        self._invitation_withdrawn(person_id, reason, day, restored, meta)
        return restored[0] if restored else None

    @event("InvitationWithdrawn", topic="polku.enrolment:Cohort.InvitationWithdrawn")
    def _invitation_withdrawn(
        self,
        person_id: UUID,
        reason: str,
        on: dt.date,
        restored: list[str | None] | None,
        meta: Meta,
    ) -> None:
        """``restored``: the person's state before a repeat invitation (see
        :func:`~services.enrolment.domain.enrolments.before_invitation`); None after a first."""
        if restored is None:
            del self.participations[person_id]
            return
        e.restore(self.participations[person_id], restored)

    def accept(self, person_id: UUID, meta: Meta, on: dt.date | None = None) -> Participation:
        """Accepting enrols the person, or puts them on the waitlist when the cohort is full."""
        record = self._invitation(person_id)
        self.check_status((OPEN,), "take acceptances")
        day = effective(on)
        record.check_not_before(day, record.invited_on, "invitation")
        self._invitation_accepted(person_id, day, meta)
        self._admit(person_id, day, meta)
        return record

    @event("InvitationAccepted", topic="polku.enrolment:Cohort.InvitationAccepted")
    def _invitation_accepted(self, person_id: UUID, on: dt.date, meta: Meta) -> None:
        pass  # the enrolment or waitlisting that follows changes the state

    def decline(
        self, person_id: UUID, meta: Meta, reason: str | None = None, on: dt.date | None = None
    ) -> None:
        record = self._invitation(person_id)
        self.check_status(LIVE, "take replies to invitations")
        day = effective(on)
        record.check_not_before(day, record.invited_on, "invitation")
        self._invitation_declined(person_id, reason, day, meta)

    @event("InvitationDeclined", topic="polku.enrolment:Cohort.InvitationDeclined")
    def _invitation_declined(
        self, person_id: UUID, reason: str | None, on: dt.date, meta: Meta
    ) -> None:
        record = self.participations[person_id]
        record.status = e.DECLINED
        record.declined_on = on
        record.decline_reason = reason

    # Participants: enrolment and the waitlist -------------------------------------------------

    def enrol(self, person_id: UUID, meta: Meta, on: dt.date | None = None) -> Participation:
        """Direct enrolment (no invitation): a place if there is one, else the waitlist.

        Allowed while the cohort is planned, open or running, so that coordinators can seat
        people before opening and admit late joiners; someone who declined or withdrew comes
        back only while the cohort is open.
        """
        record = self.participations.get(person_id)
        if record is not None and record.status == e.INVITED:
            raise e.AlreadyInvited(
                f"person {person_id} is invited; accept or decline the invitation instead",
                field="person_id",
            )
        self.check_may_admit(person_id, LIVE, "enrol anyone")
        self._admit(person_id, effective(on), meta)
        return self.participations[person_id]

    def _admit(self, person_id: UUID, day: dt.date, meta: Meta) -> None:
        if self.places_taken < self.capacity:
            self._enrolled(person_id, moment(day), day, False, meta)
        else:
            self._waitlisted(person_id, day, meta)

    @event("ParticipantEnrolled", topic="polku.enrolment:Cohort.ParticipantEnrolled")
    def _enrolled(
        self,
        person_id: UUID,
        enrolled_at: dt.datetime,
        enrolled_on: dt.date,
        from_waitlist: bool,
        meta: Meta,
    ) -> None:
        record = self.participations.setdefault(person_id, Participation(person_id, e.ENROLLED))
        record.status = e.ENROLLED
        record.enrolled_at = enrolled_at
        record.enrolled_on = enrolled_on
        record.withdrawn_on = record.withdrawal_reason = None
        record.periods.append([enrolled_on, None])
        if person_id in self.waitlist:
            self.waitlist.remove(person_id)
        if person_id not in self.roster:
            self.roster.append(person_id)

    @event("ParticipantWaitlisted", topic="polku.enrolment:Cohort.ParticipantWaitlisted")
    def _waitlisted(self, person_id: UUID, on: dt.date, meta: Meta) -> None:
        record = self.participations.setdefault(person_id, Participation(person_id, e.WAITLISTED))
        record.status = e.WAITLISTED
        record.waitlisted_on = on
        record.withdrawn_on = record.withdrawal_reason = None
        self.waitlist.append(person_id)

    def withdraw(
        self, person_id: UUID, reason: str, meta: Meta, on: dt.date | None = None
    ) -> UUID | None:
        """Withdraws someone enrolled; the head of the waitlist takes the place the same day.

        Returns whom the withdrawal promoted. Allowed after completion too (someone still
        enrolled when the cohort ended); then nobody is promoted. Someone on the waitlist
        leaves it (while the cohort is live); the rest keep their order.
        """
        record = self.participation(person_id)
        if record.status == e.WAITLISTED:
            self.check_status(LIVE, "take people off the waitlist")
            day = effective(on)
            record.check_not_before(day, record.waitlisted_on, "waitlisting")
            self._left_waitlist(person_id, reason, day, meta)
            return None
        self.check_status((*LIVE, COMPLETED), "record withdrawals")
        record.check_enrolled("withdraw")
        day = effective(on)
        record.check_not_before(day, record.enrolled_on, "enrolment")
        self._withdrawn(person_id, reason, day, meta)
        if self.status not in LIVE or not self.waitlist:
            return None
        head = self.participations[self.waitlist[0]]
        # A back-dated withdrawal cannot seat someone before they joined the waitlist.
        promoted_on = max(day, head.waitlisted_on or day)
        self._enrolled(head.person_id, moment(promoted_on), promoted_on, True, meta)
        return head.person_id

    @event("ParticipantWithdrawn", topic="polku.enrolment:Cohort.ParticipantWithdrawn")
    def _withdrawn(self, person_id: UUID, reason: str, on: dt.date, meta: Meta) -> None:
        record = self.participations[person_id]
        record.status = e.WITHDRAWN
        record.withdrawn_on = on
        record.withdrawal_reason = reason
        record.periods[-1][1] = on

    @event("ParticipantLeftWaitlist", topic="polku.enrolment:Cohort.ParticipantLeftWaitlist")
    def _left_waitlist(self, person_id: UUID, reason: str, on: dt.date, meta: Meta) -> None:
        record = self.participations[person_id]
        record.status = e.WITHDRAWN
        record.withdrawn_on = on
        record.withdrawal_reason = reason
        self.waitlist.remove(person_id)

    def complete_participation(
        self, person_id: UUID, meta: Meta, on: dt.date | None = None
    ) -> None:
        """Records that someone enrolled completed the programme (running or completed cohorts)."""
        record = self.participation(person_id)
        record.check_enrolled("complete")
        self.check_status((RUNNING, COMPLETED), "record completions")
        day = effective(on)
        record.check_not_before(day, record.enrolled_on, "enrolment")
        self._participant_completed(person_id, day, meta)

    @event("ParticipantCompleted", topic="polku.enrolment:Cohort.ParticipantCompleted")
    def _participant_completed(self, person_id: UUID, on: dt.date, meta: Meta) -> None:
        record = self.participations[person_id]
        record.status = e.COMPLETED
        record.completed_on = on
        record.periods[-1][1] = on
