"""The enrolment service's side of :class:`tests.unit.event_sequences.Logs`: programmes,
cohorts and each person's stages, people and careers, sessions, attendance and peer groups."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shared.events import coordination as c
from shared.events import enrolment as e
from shared.events import people as p
from shared.events import sessions as s

ENROLMENT = "enrolment"


class EnrolmentSteps:
    """Mixed into ``Logs``, whose state (``cohorts``, ``people`` ...) and ``emit`` they use."""

    draw: Any
    clock: Any
    programmes: list[str]
    cohorts: list[str]
    people: list[str]
    moves: dict[str, str]
    sessions: dict[str, str]
    attendance: dict[tuple[str, str], str]
    groups: dict[str, tuple[str, set[str]]]

    def new_id(self) -> str: ...
    def emit(self, source: str, subject: str, type_: str, data: dict[str, Any]) -> None: ...
    def pick(self, options: Any) -> Any: ...
    def day(self) -> str: ...

    # Enrolment: programmes, cohorts, people and careers --------------------------------

    def programme(self) -> None:
        programme = self.new_id()
        self.programmes.append(programme)
        data = {"programme_id": programme, "name": "TEMPO", "organisation": "TEM"}
        self.emit(ENROLMENT, programme, e.PROGRAMME_DEFINED, data)
        if self.draw(st.booleans()):
            data = {"programme_id": programme, "reason": "ended", "on": self.day()}
            self.emit(ENROLMENT, programme, e.PROGRAMME_RETIRED, data)

    def cohort(self) -> None:
        cohort = self.new_id()
        self.cohorts.append(cohort)
        data: dict[str, Any] = {
            "cohort_id": cohort,
            "programme_id": self.pick(self.programmes),
            "name": "2020",
            "capacity": self.draw(st.integers(1, 30)),
            "start_date": "2020-02-03",
            "end_date": "2020-11-30",
        }
        if self.draw(st.booleans()):
            data["funding_source"] = "Kaiku"
        self.emit(ENROLMENT, cohort, e.COHORT_PLANNED, data)

    def cohort_status(self) -> None:
        cohort = self.pick(self.cohorts)
        status = self.pick(["open", "running", "completed", "cancelled"])
        reason = "budget" if status == "cancelled" else None
        data = {"cohort_id": cohort, "status": status, "on": self.day(), "reason": reason}
        self.emit(ENROLMENT, cohort, e.COHORT_STATUS_CHANGED, data)

    def coach(self) -> None:
        cohort = self.pick(self.cohorts)
        ref = self.pick(["a" * 32, "b" * 32, "0123456789abcdef" * 2])
        self.emit(
            ENROLMENT, cohort, e.COHORT_COACH_ASSIGNED, {"cohort_id": cohort, "coach_ref": ref}
        )

    def person(self) -> None:
        person = self.new_id()
        self.people.append(person)
        data = {"person_id": person, "organisation": "TEM", "department": "Innovation"}
        data["unit"] = self.pick(["Digital", "Growth", "Energy"])
        self.emit(ENROLMENT, person, e.PERSON_REGISTERED, data)

    def attributes(self) -> None:
        person = self.pick(self.people)
        data = {
            "person_id": person,
            "role": self.pick(["expert", "manager"]),
            "profession_category": self.draw(st.sampled_from(["legal", "economics", None])),
            "education_level": None,
        }
        self.emit(ENROLMENT, person, p.PERSON_ATTRIBUTES_RECORDED, data)

    def placement(self) -> None:
        person = self.pick(self.people)
        data = {
            "person_id": person,
            "organisation": "TEM",
            "department": self.pick(["Innovation", "Energy"]),
            "unit": self.draw(st.sampled_from(["Digital", None])),
            "effective_date": self.day(),
            "move_id": None,
        }
        self.emit(ENROLMENT, person, p.PLACEMENT_CHANGED, data)

    def move(self) -> None:
        person, move = self.pick(self.people), self.new_id()
        kind = self.pick(["job_rotation", "promotion", "secondment", "left_state"])
        data = {
            "person_id": person,
            "move_id": move,
            "kind": kind,
            "organisation": "VM" if kind != "promotion" else "TEM",
            "department": None,
            "unit": None,
            "scope": self.pick(["other_department", "other_state_organisation", "outside_state"]),
            "start_date": self.day(),
            "planned_end_date": "2021-06-30" if kind in ("job_rotation", "secondment") else None,
            "end_date": None,
        }
        self.emit(ENROLMENT, person, p.CAREER_MOVE_RECORDED, data)
        if kind in ("job_rotation", "secondment"):
            self.moves[move] = person

    def move_ended(self) -> None:
        move = self.pick(self.moves)
        person = self.moves.pop(move)
        data = {"person_id": person, "move_id": move, "end_date": "2021-03-31"}
        self.emit(ENROLMENT, person, p.CAREER_MOVE_ENDED, data)

    def erased(self) -> None:
        person = self.pick(self.people)
        data = {"person_id": person, "erased_at": self.clock.isoformat()}
        self.emit(ENROLMENT, person, p.PERSON_ERASED, data)

    def stage(self) -> None:
        cohort, person = self.pick(self.cohorts), self.pick(self.people)
        type_ = self.pick(
            [
                e.PARTICIPANT_INVITED,
                e.INVITATION_ACCEPTED,
                e.INVITATION_DECLINED,
                e.PARTICIPANT_WAITLISTED,
                e.PARTICIPANT_ENROLLED,
                e.PARTICIPANT_WITHDRAWN,
                e.PARTICIPANT_LEFT_WAITLIST,
                e.PARTICIPANT_COMPLETED,
            ]
        )
        data: dict[str, Any] = {"cohort_id": cohort, "person_id": person}
        if type_ == e.PARTICIPANT_ENROLLED:
            data["enrolled_at"] = self.clock.isoformat()
        else:
            data["on"] = self.day()
        if type_ in (e.PARTICIPANT_WITHDRAWN, e.PARTICIPANT_LEFT_WAITLIST):
            data["reason"] = "work load"
        elif type_ == e.INVITATION_DECLINED:
            data["reason"] = self.draw(st.sampled_from(["timing", None]))
        self.emit(ENROLMENT, cohort, type_, data)

    def coordination(self) -> None:
        """A coordinator's change: capacity, window, or an invitation taken back."""
        cohort = self.pick(self.cohorts)
        kind = self.pick([c.COHORT_CAPACITY_CHANGED, c.COHORT_WINDOW_MOVED, c.INVITATION_WITHDRAWN])
        data: dict[str, Any] = {"cohort_id": cohort}
        if kind == c.COHORT_CAPACITY_CHANGED:
            data.update(capacity=self.draw(st.integers(1, 30)), previous_capacity=10)
            data["on"] = self.day()
        elif kind == c.COHORT_WINDOW_MOVED:
            start, end = self.pick([("2020-02-10", "2020-12-11"), ("2020-01-27", "2020-11-20")])
            data.update(start_date=start, end_date=end)
            data.update(previous_start_date="2020-02-03", previous_end_date="2020-11-30")
        else:
            restored = self.draw(st.sampled_from([None, "declined", "withdrawn"]))
            data.update(person_id=self.pick(self.people), on=self.day(), reason="sent by mistake")
            data["restored_status"] = restored
            data["restored_invited_on"] = None if restored is None else self.day()
        self.emit(ENROLMENT, cohort, kind, data)

    # Enrolment: sessions, attendance and peer groups -------------------------------------

    def session(self) -> None:
        session, cohort = self.new_id(), self.pick(self.cohorts)
        self.sessions[session] = cohort
        data = {
            "session_id": session,
            "cohort_id": cohort,
            "title": "Module",
            "module": self.draw(st.sampled_from(["M1", None])),
            "starts_at": "2020-03-02T09:00:00+00:00",
            "ends_at": "2020-03-02T12:00:00+00:00",
            "delivery": self.pick(["in_person", "virtual", "hybrid"]),
            "platform": None,
            "location": None,
            "facilitators": [{"kind": "coach", "role": None, "organisation": None}],
        }
        self.emit(ENROLMENT, session, s.SESSION_SCHEDULED, data)

    def session_change(self) -> None:
        session = self.pick(self.sessions)
        kind = self.pick(["rescheduled", "delivery", "held", "cancelled"])
        if kind == "rescheduled":
            start, end = "2020-03-02T09:00:00+00:00", "2020-03-02T12:00:00+00:00"
            data: dict[str, Any] = {
                "session_id": session,
                "starts_at": self.pick([start, "2020-04-06T09:00:00+00:00"]),
                "ends_at": end,
                "previous_starts_at": start,
                "previous_ends_at": end,
                "reason": "holiday",
            }
            self.emit(ENROLMENT, session, s.SESSION_RESCHEDULED, data)
        elif kind == "delivery":
            data = {
                "session_id": session,
                "previous_delivery": "in_person",
                "delivery": self.pick(["in_person", "virtual"]),
                "platform": "Teams",
                "location": None,
                "reason": "pandemic",
            }
            self.emit(ENROLMENT, session, s.SESSION_DELIVERY_CHANGED, data)
        elif kind == "held":
            self.emit(ENROLMENT, session, s.SESSION_HELD, {"session_id": session})
        else:
            data = {"session_id": session, "reason": "illness"}
            self.emit(ENROLMENT, session, s.SESSION_CANCELLED, data)

    def _attendance(self, session: str, person: str) -> dict[str, Any]:
        status = self.pick(["present", "absent", "excused", "partial"])
        self.attendance[(session, person)] = status
        return {
            "session_id": session,
            "cohort_id": self.sessions[session],
            "person_id": person,
            "status": status,
            "minutes": 90 if status == "partial" else None,
        }

    def attendance_recorded(self) -> None:
        session, person = self.pick(self.sessions), self.pick(self.people)
        self.emit(ENROLMENT, session, s.ATTENDANCE_RECORDED, self._attendance(session, person))

    def attendance_corrected(self) -> None:
        session, person = self.pick(self.attendance)
        previous = self.attendance[(session, person)]
        data = self._attendance(session, person) | {
            "previous_status": previous,
            "previous_minutes": 90 if previous == "partial" else None,
            "reason": "sign-in sheet",
        }
        self.emit(ENROLMENT, session, s.ATTENDANCE_CORRECTED, data)

    def group(self) -> None:
        group, cohort = self.new_id(), self.pick(self.cohorts)
        members = self.draw(st.sets(st.sampled_from(sorted(self.people)), max_size=4))
        self.groups[group] = (cohort, set(members))
        data = {"group_id": group, "cohort_id": cohort, "name": "G", "members": sorted(members)}
        self.emit(ENROLMENT, group, s.PEER_GROUP_FORMED, data)

    def group_change(self) -> None:
        group = self.pick(self.groups)
        cohort, members = self.groups[group]
        if members and self.draw(st.booleans()):
            person = self.pick(members)
            members.discard(person)
            type_ = s.PEER_GROUP_MEMBER_REMOVED
        else:
            person = self.pick(self.people)
            members.add(person)
            type_ = s.PEER_GROUP_MEMBER_ADDED
        data = {"group_id": group, "cohort_id": cohort, "person_id": person}
        self.emit(ENROLMENT, group, type_, data)
