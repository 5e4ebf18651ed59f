"""One person's participation in one cohort: invited → accepted or declined → enrolled →
completed or withdrawn, with a first-in, first-out waitlist when the cohort is full.

The :class:`~services.enrolment.domain.cohorts.Cohort` owns these records, because capacity and
the waitlist are decided over all of them at once; this module holds the record, its states and
the errors of its rules. :class:`CohortsOfPerson` is the per-person index of those records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from uuid import UUID

from shared.errors import ConflictError, NotFoundError, RuleViolation

INVITED = "invited"
DECLINED = "declined"
WAITLISTED = "waitlisted"
ENROLLED = "enrolled"
WITHDRAWN = "withdrawn"
COMPLETED = "completed"

HOLDS_PLACE = (ENROLLED, COMPLETED)
"""States that take one of the cohort's places."""
MAY_REJOIN = (DECLINED, WITHDRAWN)
"""States from which a person may be invited or enrolled again (while the cohort is open)."""


class AlreadyEnrolled(ConflictError):
    pass


class AlreadyInvited(ConflictError):
    pass


class AlreadyWaitlisted(ConflictError):
    pass


class AlreadyCompleted(ConflictError):
    pass


class NoInvitation(ConflictError):
    pass


class NotEnrolled(ConflictError):
    pass


class NotAParticipant(NotFoundError):
    pass


class DateBeforeEarlierStep(RuleViolation):
    pass


@dataclass
class Participation:
    """Where one person stands in one cohort, and the spans during which they were enrolled."""

    person_id: UUID
    status: str
    invited_on: dt.date | None = None
    declined_on: dt.date | None = None
    decline_reason: str | None = None
    waitlisted_on: dt.date | None = None
    enrolled_at: dt.datetime | None = None
    enrolled_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None
    completed_on: dt.date | None = None
    periods: list[list[dt.date | None]] = field(default_factory=list)
    """``[first day, last day or None]`` of each enrolment, oldest first."""
    before_invitation: list[str | None] | None = None
    """On a repeat invitation: [status, invited_on, declined_on, decline_reason] before it
    (ISO dates), so that taking the invitation back restores them; None on a first one."""

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE

    def enrolled_during(self, day: dt.date) -> bool:
        """Enrolled on ``day``: from the enrolment day through the withdrawal or completion day."""
        for start, end in self.periods:
            assert start is not None
            if start <= day and (end is None or day <= end):
                return True
        return False

    def check_not_before(self, on: dt.date, earlier: dt.date | None, what: str) -> None:
        if earlier is not None and on < earlier:
            raise DateBeforeEarlierStep(
                f"on {on.isoformat()} is before the {what} ({earlier.isoformat()})", field="on"
            )

    def check_enrolled(self, doing: str) -> None:
        if self.status == COMPLETED:
            raise AlreadyCompleted(
                f"person {self.person_id} has already completed this cohort", field="person_id"
            )
        if self.status != ENROLLED:
            raise NotEnrolled(
                f"person {self.person_id} is {self.status}, not enrolled, so cannot {doing}",
                field="person_id",
            )


def before_invitation(record: Participation) -> list[str | None]:
    """What a repeat invitation overwrites, as stored (strings only)."""
    return [
        record.status,
        None if record.invited_on is None else record.invited_on.isoformat(),
        None if record.declined_on is None else record.declined_on.isoformat(),
        record.decline_reason,
    ]


def restore(record: Participation, before: list[str | None]) -> None:
    """Puts back what :func:`before_invitation` kept."""
    status, invited_on, declined_on, reason = before
    assert status is not None
    record.status = status
    record.invited_on = None if invited_on is None else dt.date.fromisoformat(invited_on)
    record.declined_on = None if declined_on is None else dt.date.fromisoformat(declined_on)
    record.decline_reason = reason
    record.before_invitation = None


def refuse_to_admit_again(record: Participation) -> None:
    """Refuses an invitation or enrolment of someone already on their way in or through."""
    who = f"person {record.person_id}"
    if record.status == INVITED:
        raise AlreadyInvited(f"{who} is already invited to this cohort", field="person_id")
    if record.status == WAITLISTED:
        raise AlreadyWaitlisted(f"{who} is already on this cohort's waitlist", field="person_id")
    if record.status == ENROLLED:
        raise AlreadyEnrolled(f"{who} is already enrolled in this cohort", field="person_id")
    if record.status == COMPLETED:
        raise AlreadyCompleted(f"{who} has already completed this cohort", field="person_id")
