"""Sessions of a cohort: when and how they are delivered, who facilitates, and who attended.

A session is scheduled inside its cohort's window (half a day unless told otherwise), can be
rescheduled or change delivery (always with a reason, every change kept in ``history``), and
is then held or cancelled. Attendance is recorded on it; the rules for single records are in
``attendance``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.enrolment.domain import Meta
from services.enrolment.domain.attendance import Mark, Tally, check_marks
from shared.errors import ConflictError, RuleViolation

HALF_DAY = dt.timedelta(hours=4)
LONGEST = dt.timedelta(hours=24)
DELIVERIES = ("in_person", "virtual", "hybrid")
FACILITATOR_KINDS = ("coach", "guest_speaker")
SCHEDULED, HELD, CANCELLED = "scheduled", "held", "cancelled"


class SessionTimesInvalid(RuleViolation):
    pass


class SessionOutsideCohort(RuleViolation):
    pass


class DeliveryInvalid(RuleViolation):
    pass


class FacilitatorInvalid(RuleViolation):
    pass


class SessionStatusForbids(ConflictError):
    pass


class NothingChanges(ConflictError):
    pass


class SessionNotYetHeld(ConflictError):
    pass


def ends_after(starts_at: dt.datetime, length: dt.timedelta) -> dt.datetime:
    """The end of a session of ``length`` from ``starts_at``; refused past the year 9999."""
    try:
        return starts_at + length
    except OverflowError:
        raise SessionTimesInvalid(
            f"a session starting at {starts_at.isoformat()} would end after the last "
            "representable day; give an earlier starts_at",
            field="starts_at",
        ) from None


def check_times(
    starts_at: dt.datetime, ends_at: dt.datetime, window: tuple[dt.date, dt.date]
) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SessionTimesInvalid(f"{name} must carry a UTC offset", field=name)
        try:
            value.astimezone(dt.UTC)  # consumers compare and convert in UTC
        except OverflowError:
            raise SessionTimesInvalid(
                f"{name} {value.isoformat()} falls outside the years 1 to 9999 in UTC",
                field=name,
            ) from None
    if ends_at <= starts_at:
        raise SessionTimesInvalid("ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > LONGEST:
        raise SessionTimesInvalid("a session lasts at most 24 hours", field="ends_at")
    first, last = window
    if not first <= starts_at.date() <= last:
        raise SessionOutsideCohort(
            f"starts_at {starts_at.date().isoformat()} is outside the cohort's window "
            f"({first.isoformat()} to {last.isoformat()})",
            field="starts_at",
        )
    if ends_at.date() > last:
        raise SessionOutsideCohort(
            f"ends_at {ends_at.date().isoformat()} is after the cohort ends ({last.isoformat()})",
            field="ends_at",
        )


def check_delivery(delivery: str) -> None:
    if delivery not in DELIVERIES:
        raise DeliveryInvalid(f"delivery must be one of {', '.join(DELIVERIES)}", field="delivery")


def check_facilitators(facilitators: Sequence[dict[str, Any]]) -> None:
    for n, facilitator in enumerate(facilitators):
        if facilitator.get("kind") not in FACILITATOR_KINDS:
            raise FacilitatorInvalid(
                f"kind must be one of {', '.join(FACILITATOR_KINDS)}",
                field=f"facilitators.{n}.kind",
            )


class Session(Aggregate):
    TOPIC = "polku.enrolment:Session"

    class Event(Aggregate.Event):
        TOPIC = "polku.enrolment:Session.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.enrolment:Session.Created"

    @classmethod
    def schedule(
        cls,
        cohort_id: UUID,
        window: tuple[dt.date, dt.date],
        title: str,
        starts_at: dt.datetime,
        meta: Meta,
        *,
        ends_at: dt.datetime | None = None,
        module: str | None = None,
        delivery: str = "in_person",
        location: str | None = None,
        platform: str | None = None,
        facilitators: Sequence[dict[str, Any]] = (),
    ) -> Session:
        """Schedules a session inside the cohort's ``window``; half a day unless ``ends_at``."""
        ends = ends_at if ends_at is not None else ends_after(starts_at, HALF_DAY)
        check_times(starts_at, ends, window)
        check_delivery(delivery)
        check_facilitators(facilitators)
        return cls(
            cohort_id,
            window[0],
            window[1],
            title,
            module,
            starts_at,
            ends,
            delivery,
            location,
            platform,
            [dict(f) for f in facilitators],
            meta,
        )

    @event("Scheduled", topic="polku.enrolment:Session.Scheduled")
    def __init__(
        self,
        cohort_id: UUID,
        window_start: dt.date,
        window_end: dt.date,
        title: str,
        module: str | None,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        delivery: str,
        location: str | None,
        platform: str | None,
        facilitators: list[dict[str, Any]],
        meta: Meta,
    ) -> None:
        self.cohort_id = cohort_id
        self.window = (window_start, window_end)
        self.title = title
        self.module = module
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.delivery = delivery
        self.location = location
        self.platform = platform
        self.facilitators = facilitators
        self.status = SCHEDULED
        self.cancellation_reason: str | None = None
        self.history: list[dict[str, Any]] = [
            {"change": "scheduled", "version": 1, "reason": None, "from": None, "to": self._when()}
        ]
        self.attendance: dict[UUID, list[dict[str, Any]]] = {}

    def _when(self) -> dict[str, Any]:
        return {"starts_at": self.starts_at, "ends_at": self.ends_at}

    def _how(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "platform": self.platform, "location": self.location}

    def _remember(self, change: str, reason: str | None, before: Any, after: Any) -> None:
        # The event being applied becomes the next version once this method returns.
        self.history.append(
            {"change": change, "version": self.version + 1, "reason": reason}
            | {"from": before, "to": after}
        )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def day(self) -> dt.date:
        """The session's date, in the UTC offset it was scheduled with."""
        return self.starts_at.date()

    def check_scheduled(self, doing: str) -> None:
        if self.status != SCHEDULED:
            raise SessionStatusForbids(
                f"the session is {self.status}; only a scheduled session can {doing}"
            )

    # Changes of plan ---------------------------------------------------------------------------

    def reschedule(
        self, starts_at: dt.datetime, reason: str, meta: Meta, ends_at: dt.datetime | None = None
    ) -> None:
        """Moves the session; without ``ends_at`` it keeps its length."""
        self.check_scheduled("be rescheduled")
        length = self.ends_at - self.starts_at
        ends = ends_at if ends_at is not None else ends_after(starts_at, length)
        check_times(starts_at, ends, self.window)
        if (starts_at, ends) == (self.starts_at, self.ends_at):
            raise NothingChanges("the session is already at that time", field="starts_at")
        self._rescheduled(starts_at, ends, self.starts_at, self.ends_at, reason, meta)

    @event("Rescheduled", topic="polku.enrolment:Session.Rescheduled")
    def _rescheduled(
        self,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        previous_starts_at: dt.datetime,
        previous_ends_at: dt.datetime,
        reason: str,
        meta: Meta,
    ) -> None:
        before = self._when()
        self.starts_at, self.ends_at = starts_at, ends_at
        self._remember("rescheduled", reason, before, self._when())

    def change_delivery(
        self,
        delivery: str,
        reason: str,
        meta: Meta,
        platform: str | None = None,
        location: str | None = None,
    ) -> None:
        self.check_scheduled("change its delivery")
        check_delivery(delivery)
        if (delivery, platform, location) == (self.delivery, self.platform, self.location):
            raise NothingChanges(f"the session is already delivered {delivery}", field="delivery")
        self._delivery_changed(delivery, platform, location, self.delivery, reason, meta)

    @event("DeliveryChanged", topic="polku.enrolment:Session.DeliveryChanged")
    def _delivery_changed(
        self,
        delivery: str,
        platform: str | None,
        location: str | None,
        previous_delivery: str,
        reason: str,
        meta: Meta,
    ) -> None:
        before = self._how()
        self.delivery, self.platform, self.location = delivery, platform, location
        self._remember("delivery_changed", reason, before, self._how())

    def hold(self, meta: Meta, now: dt.datetime | None = None) -> None:
        """Marks the session held; one that has not started yet cannot have been."""
        self.check_scheduled("be marked held")
        current = now or dt.datetime.now(dt.UTC)
        if self.starts_at > current:
            raise SessionNotYetHeld(
                f"the session starts at {self.starts_at.isoformat()}; it cannot have been held"
            )
        self._held(meta)

    @event("Held", topic="polku.enrolment:Session.Held")
    def _held(self, meta: Meta) -> None:
        self.status = HELD
        self._remember("held", None, SCHEDULED, HELD)

    def cancel(self, reason: str, meta: Meta) -> None:
        self.check_scheduled("be cancelled")
        self._cancelled(reason, meta)

    @event("Cancelled", topic="polku.enrolment:Session.Cancelled")
    def _cancelled(self, reason: str, meta: Meta) -> None:
        self.status = CANCELLED
        self.cancellation_reason = reason
        self._remember("cancelled", reason, SCHEDULED, CANCELLED)

    # Attendance --------------------------------------------------------------------------------

    def current_attendance(self, person_id: UUID) -> dict[str, Any] | None:
        entries = self.attendance.get(person_id)
        return entries[-1] if entries else None

    def record_attendance(
        self,
        marks: Sequence[Mark],
        reason: str | None,
        enrolled_on_day: Callable[[UUID, dt.date], bool],
        meta: Meta,
        now: dt.datetime | None = None,
    ) -> Tally:
        """Records every mark or none. A mark for someone already recorded is a correction,
        a new event that keeps the original; an identical mark changes nothing.

        Attendance is taken once a session has taken place: a scheduled session whose start
        has passed is marked held first, a future or cancelled one refuses.
        """
        if self.status == CANCELLED:
            raise SessionStatusForbids("the session was cancelled; nobody attended it")
        current = now or dt.datetime.now(dt.UTC)
        if self.status == SCHEDULED and self.starts_at > current:
            raise SessionNotYetHeld(
                f"the session starts at {self.starts_at.isoformat()}; attendance is recorded "
                "after it starts"
            )
        tally = check_marks(
            marks,
            reason,
            self.minutes,
            self.day,
            enrolled_on_day,
            lambda person_id: self.current_attendance(person_id),
        )
        if self.status == SCHEDULED:
            self._held(meta)
        for mark in marks:
            before = self.current_attendance(mark.person_id)
            if before is None:
                self._attendance_recorded(
                    self.cohort_id, mark.person_id, mark.status, mark.minutes, meta
                )
            elif (before["status"], before["minutes"]) != (mark.status, mark.minutes):
                assert reason is not None
                self._attendance_corrected(
                    self.cohort_id,
                    mark.person_id,
                    mark.status,
                    mark.minutes,
                    before["status"],
                    before["minutes"],
                    reason,
                    meta,
                )
        return tally

    @event("AttendanceRecorded", topic="polku.enrolment:Session.AttendanceRecorded")
    def _attendance_recorded(
        self, cohort_id: UUID, person_id: UUID, status: str, minutes: int | None, meta: Meta
    ) -> None:
        entry = {"status": status, "minutes": minutes, "reason": None, "correction": False}
        self.attendance[person_id] = [entry | {"version": self.version + 1}]

    @event("AttendanceCorrected", topic="polku.enrolment:Session.AttendanceCorrected")
    def _attendance_corrected(
        self,
        cohort_id: UUID,
        person_id: UUID,
        status: str,
        minutes: int | None,
        previous_status: str,
        previous_minutes: int | None,
        reason: str,
        meta: Meta,
    ) -> None:
        entry = {"status": status, "minutes": minutes, "reason": reason, "correction": True}
        self.attendance[person_id].append(entry | {"version": self.version + 1})
