"""The TEMPO 2020 pilot on the enrolment side, as data and as a loader over the public API.

The data are plain values, so a test can compute what any view should show from them alone:
who was invited, the ten half-day sessions (the first in person, nine moved to Skype), the guest
speakers, attendance, peer groups, completions and the one withdrawal, and the career moves of
participants and colleagues over 2020-2023. :func:`load` replays it all through the HTTP API,
with an ``Idempotency-Key`` on every request, so an interrupted load can be run again.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from services.scenario.client import Call
from services.scenario.organisation import (
    COLLEAGUES,
    GROUP_AGENCY,
    MEMBERS,
    ORGANISATION,
    OTHER_MINISTRY,
    PARTICIPANTS,
)

HELSINKI = dt.timezone(dt.timedelta(hours=2))  # EET; sessions are given with their offset
SUMMER = dt.timezone(dt.timedelta(hours=3))  # EEST from the end of March
COACH = "coach-tempo"
"""The token subject of the external coach, who records attendance."""

PROGRAMME = {
    "name": "TEMPO expert coaching",
    "organisation": ORGANISATION,
    "description": "Coaching for experts, piloted in 2020 (synthetic scenario data).",
    "goals": [
        "The employer image of the state and the ministry",
        "Commitment to the ministry, the TEM group and the state",
        "Strategic, phenomenon-based thinking in policy work",
        "Implementing the ministry's strategy",
        "Developing work together with the surrounding system",
        "Personal growth: self-knowledge, strengths, self-leadership, renewing skills",
        "Working effectively in uncertainty while keeping well-being at work",
        "The expert's role and what is expected of it",
        "A peer-discussion arena",
    ],
}
LATER_GOAL = "Networks across unit boundaries"
"""Added after the programme was defined, so the goal history holds an event."""

COHORT = {
    "name": "TEMPO 2020 pilot",
    "capacity": 20,
    "start_date": "2020-02-01",
    "end_date": "2020-06-30",
    "funding_source": "Kaiku",
}
OPENED_ON = dt.date(2020, 1, 10)
INVITED_ON = dt.date(2020, 1, 13)
ACCEPTED_ON = dt.date(2020, 1, 24)
COMPLETED_ON = dt.date(2020, 6, 30)

WITHDRAWN = "P07"
WITHDRAWN_ON = dt.date(2020, 4, 15)
WITHDRAWAL_REASON = "Workload in the pandemic response"


def _facilitator(kind: str, role: str, organisation: str = ORGANISATION) -> dict[str, str]:
    return {"kind": kind, "role": role, "organisation": organisation}


EXTERNAL_COACH = _facilitator("coach", "External coach", "Coaching partner (synthetic)")
HEAD = "Head of Department"


class Session(NamedTuple):
    module: str
    title: str
    starts_at: dt.datetime
    guests: tuple[dict[str, str], ...] = ()
    moved_from: dt.datetime | None = None
    """Where the session was first scheduled, if it was rescheduled."""


SESSIONS: tuple[Session, ...] = (
    Session(
        "1",
        "Opening: the ministry and the expert's role",
        dt.datetime(2020, 2, 6, 9, 0, tzinfo=HELSINKI),
        (_facilitator("guest_speaker", HEAD), _facilitator("guest_speaker", HEAD)),
    ),
    Session(
        "2",
        "Strategy and phenomenon-based policy work",
        dt.datetime(2020, 3, 19, 9, 0, tzinfo=HELSINKI),
        (
            _facilitator("guest_speaker", HEAD),
            _facilitator("guest_speaker", HEAD),
            _facilitator("guest_speaker", "Director General", OTHER_MINISTRY),
        ),
        moved_from=dt.datetime(2020, 3, 5, 9, 0, tzinfo=HELSINKI),
    ),
    Session("3", "Self-knowledge and strengths", dt.datetime(2020, 4, 2, 9, 0, tzinfo=SUMMER)),
    Session(
        "4", "Behaviour assessment in peer groups", dt.datetime(2020, 4, 16, 9, 0, tzinfo=SUMMER)
    ),
    Session("5", "Working styles", dt.datetime(2020, 4, 29, 9, 0, tzinfo=SUMMER)),
    Session("6", "Self-leadership and well-being", dt.datetime(2020, 5, 7, 9, 0, tzinfo=SUMMER)),
    Session("7", "Working in uncertainty", dt.datetime(2020, 5, 14, 9, 0, tzinfo=SUMMER)),
    Session(
        "8", "Working with the surrounding system", dt.datetime(2020, 5, 20, 9, 0, tzinfo=SUMMER)
    ),
    Session("9", "Networks across units", dt.datetime(2020, 6, 4, 9, 0, tzinfo=SUMMER)),
    Session(
        "10", "Closing: commitments and next steps", dt.datetime(2020, 6, 11, 9, 0, tzinfo=SUMMER)
    ),
)
VENUE = "Ministry main building, meeting room (synthetic)"
VIRTUAL_PLATFORM = "Skype"
VIRTUAL_REASON = "COVID-19: gatherings restricted; the session moves online"
RESCHEDULE_REASON = "Postponed by two weeks as the pandemic began"
IN_PERSON_SESSIONS = 1
"""The first session was held in person; the nine after it were moved to Skype."""

PEER_GROUPS: dict[str, tuple[str, ...]] = {
    "Group A": ("P01", "P06", "P11", "P16", "P02"),
    "Group B": ("P03", "P07", "P12", "P17", "P08"),
    "Group C": ("P04", "P09", "P14", "P19", "P13"),
    "Group D": ("P05", "P10", "P15", "P20", "P18"),
}
GROUPS_FORMED_IN = 3
"""Peer groups were formed at the third session, to work through the behaviour assessment."""


def attendance(key: str, session_index: int) -> tuple[str, int | None] | None:
    """Who attended what: ``(status, minutes)``, or None where nothing is recorded.

    Deterministic per person and session. Nothing is recorded for the withdrawn participant
    after their withdrawal: they were no longer enrolled.
    """
    session = SESSIONS[session_index]
    if key == WITHDRAWN and session.starts_at.date() > WITHDRAWN_ON:
        return None
    draw = random.Random(f"{key}/{session_index}").random()
    if draw < 0.82:
        return "present", None
    if draw < 0.90:
        return "partial", 120
    if draw < 0.96:
        return "excused", None
    return "absent", None


class Move(NamedTuple):
    key: str
    kind: str
    organisation: str
    department: str | None
    unit: str | None
    start_date: dt.date
    planned_end_date: dt.date | None = None
    end_date: dt.date | None = None
    """The actual end, recorded later for rotations and secondments."""
    scope: str | None = None
    """Given only where it cannot be derived (another organisation)."""


def _same_department_other_unit(key: str) -> tuple[str, str]:
    from services.scenario.organisation import DEPARTMENTS

    member = MEMBERS[key]
    units = DEPARTMENTS[member.department]
    return member.department, next(u for u in units if u != member.unit)


def _other_department(key: str) -> tuple[str, str]:
    from services.scenario.organisation import DEPARTMENTS

    member = MEMBERS[key]
    department = next(d for d in DEPARTMENTS if d != member.department)
    return department, DEPARTMENTS[department][0]


def _moves() -> tuple[Move, ...]:
    d = dt.date
    return (
        Move("P02", "job_rotation", GROUP_AGENCY, "Innovation Funding", "Growth Programmes",
             d(2020, 9, 1), d(2021, 8, 31), d(2021, 8, 31), scope="group_agency"),
        Move("P13", "job_rotation", ORGANISATION, *_same_department_other_unit("P13"),
             d(2020, 11, 1), d(2021, 4, 30), d(2021, 4, 30)),
        Move("P05", "transfer", ORGANISATION, *_other_department("P05"), d(2021, 1, 1)),
        Move("P11", "secondment", OTHER_MINISTRY, "Budget Department", "Economic Policy Unit",
             d(2021, 3, 1), d(2021, 12, 31), d(2021, 12, 31), scope="other_state_organisation"),
        Move("P09", "promotion", ORGANISATION, MEMBERS["P09"].department, MEMBERS["P09"].unit,
             d(2021, 6, 1)),
        Move("P03", "job_rotation", ORGANISATION, *_other_department("P03"),
             d(2022, 1, 10), d(2022, 6, 30), d(2022, 6, 30)),
        Move("P16", "left_state", "Private sector (synthetic)", None, None, d(2022, 5, 1)),
        Move("P18", "new_post", ORGANISATION, *_other_department("P18"), d(2022, 9, 1)),
        Move("P20", "job_rotation", GROUP_AGENCY, "Regional Services", "Customer Unit",
             d(2023, 2, 1), d(2023, 12, 31), scope="group_agency"),
        Move("C04", "transfer", ORGANISATION, *_other_department("C04"), d(2021, 5, 1)),
        Move("C12", "left_state", "Private sector (synthetic)", None, None, d(2021, 9, 1)),
        Move("C20", "job_rotation", ORGANISATION, *_same_department_other_unit("C20"),
             d(2022, 2, 1), d(2022, 7, 31), d(2022, 7, 31)),
        Move("C33", "promotion", ORGANISATION, MEMBERS["C33"].department, MEMBERS["C33"].unit,
             d(2023, 1, 1)),
    )  # fmt: skip


MOVES: tuple[Move, ...] = _moves()
"""Career moves of 2020-2023: nine participants, four colleagues (the comparison group)."""

PLACEMENT_CHANGE = ("P14", *_same_department_other_unit("P14"), dt.date(2021, 2, 1))
"""One reorganisation: a participant's unit changes without a career move."""


@dataclass
class Loaded:
    """The ids the API gave to what the scenario created, by scenario key."""

    programme_id: str = ""
    cohort_id: str = ""
    people: dict[str, str] = field(default_factory=dict)
    sessions: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)
    moves: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "programme_id": self.programme_id,
            "cohort_id": self.cohort_id,
            "people": self.people,
            "sessions": self.sessions,
            "groups": self.groups,
            "moves": self.moves,
        }


def load(call: Call, prefix: str = "tempo-2020") -> Loaded:
    """Loads the whole enrolment side of the pilot through the API and returns its ids.

    ``prefix`` namespaces the idempotency keys: run again with the same prefix (within a day),
    the load writes nothing twice.
    """
    loaded = Loaded()

    def post(path: str, body: Any, step: str, role: str = "hr_admin") -> Any:
        return call("POST", path, body, role=role, key=f"{prefix}/{step}")

    programme = post("/enrolment/programmes", PROGRAMME, "programme")
    loaded.programme_id = programme["id"]
    post(f"/enrolment/programmes/{programme['id']}/goals", {"goal": LATER_GOAL}, "goal")
    for member in (*PARTICIPANTS, *COLLEAGUES):
        person = post("/enrolment/people", member.registration(), f"person/{member.key}")
        loaded.people[member.key] = person["id"]
    cohort = post(
        "/enrolment/cohorts", {"programme_id": programme["id"], **COHORT}, "cohort", "coordinator"
    )
    cohort_path = f"/enrolment/cohorts/{cohort['id']}"
    loaded.cohort_id = cohort["id"]
    post(f"{cohort_path}/coaches", {"coach": COACH}, "coach", "coordinator")
    post(f"{cohort_path}/open", {"on": OPENED_ON.isoformat()}, "open", "coordinator")
    for member in PARTICIPANTS:
        person_id = loaded.people[member.key]
        invitation = {"person_id": person_id, "on": INVITED_ON.isoformat()}
        post(f"{cohort_path}/invitations", invitation, f"invite/{member.key}", "coordinator")
        post(
            f"{cohort_path}/invitations/{person_id}/accept",
            {"on": ACCEPTED_ON.isoformat()},
            f"accept/{member.key}",
            "coordinator",
        )
    post(f"{cohort_path}/start", {"on": SESSIONS[0].starts_at.date().isoformat()}, "start")
    _load_sessions(loaded, call, post, cohort_path)
    for member in PARTICIPANTS:
        if member.key != WITHDRAWN:
            post(
                f"{cohort_path}/enrolments/{loaded.people[member.key]}/complete",
                {"on": COMPLETED_ON.isoformat()},
                f"complete/{member.key}",
                "coordinator",
            )
    post(f"{cohort_path}/complete", {"on": COMPLETED_ON.isoformat()}, "complete")
    _load_careers(loaded, post)
    return loaded


def _load_sessions(loaded: Loaded, call: Call, post: Any, cohort_path: str) -> None:
    """The sessions in order, with the withdrawal where it happened between them."""
    for index, session in enumerate(SESSIONS):
        if session.starts_at.date() > WITHDRAWN_ON >= SESSIONS[index - 1].starts_at.date():
            _withdraw(loaded, call, post, cohort_path)
        first_at = session.moved_from or session.starts_at
        created = post(
            f"{cohort_path}/sessions",
            {
                "title": session.title,
                "module": session.module,
                "starts_at": first_at.isoformat(),
                "delivery": "in_person",
                "location": VENUE,
                "facilitators": [EXTERNAL_COACH, *session.guests],
            },
            f"session/{index}",
            "coordinator",
        )
        session_path = f"/enrolment/sessions/{created['id']}"
        loaded.sessions.append(created["id"])
        if session.moved_from is not None:
            post(
                f"{session_path}/reschedule",
                {"starts_at": session.starts_at.isoformat(), "reason": RESCHEDULE_REASON},
                f"session/{index}/reschedule",
                "coordinator",
            )
        if index >= IN_PERSON_SESSIONS:
            post(
                f"{session_path}/delivery",
                {"delivery": "virtual", "platform": VIRTUAL_PLATFORM, "reason": VIRTUAL_REASON},
                f"session/{index}/virtual",
                "coordinator",
            )
        if index == GROUPS_FORMED_IN - 1:
            for name, members in PEER_GROUPS.items():
                group = post(
                    f"{cohort_path}/peer-groups",
                    {"name": name, "members": [loaded.people[k] for k in members]},
                    f"group/{name}",
                    "coordinator",
                )
                loaded.groups[name] = group["id"]
        records = []
        for member in PARTICIPANTS:
            attended = attendance(member.key, index)
            if attended is not None:
                status, minutes = attended
                record: dict[str, Any] = {"person_id": loaded.people[member.key], "status": status}
                if minutes is not None:
                    record["minutes"] = minutes
                records.append(record)
        post(f"{session_path}/hold", {}, f"session/{index}/hold", "coordinator")
        post(f"{session_path}/attendance", {"records": records}, f"session/{index}/att", "coach")


def _withdraw(loaded: Loaded, call: Call, post: Any, cohort_path: str) -> None:
    person_id = loaded.people[WITHDRAWN]
    post(
        f"{cohort_path}/enrolments/{person_id}/withdraw",
        {"reason": WITHDRAWAL_REASON, "on": WITHDRAWN_ON.isoformat()},
        "withdraw",
        "coordinator",
    )
    group_name = next(name for name, members in PEER_GROUPS.items() if WITHDRAWN in members)
    group = call("GET", f"/enrolment/peer-groups/{loaded.groups[group_name]}")
    if person_id in group["members"]:  # not yet removed (by an earlier, interrupted load)
        call(
            "DELETE",
            f"/enrolment/peer-groups/{loaded.groups[group_name]}/members/{person_id}",
            role="coordinator",
        )


def _load_careers(loaded: Loaded, post: Any) -> None:
    key, department, unit, effective = PLACEMENT_CHANGE
    post(
        f"/enrolment/people/{loaded.people[key]}/placements",
        {
            "organisation": ORGANISATION,
            "department": department,
            "unit": unit,
            "effective_date": effective.isoformat(),
        },
        f"placement/{key}",
    )
    for number, move in enumerate(MOVES):
        body: dict[str, Any] = {
            "kind": move.kind,
            "organisation": move.organisation,
            "start_date": move.start_date.isoformat(),
        }
        optional = {
            "department": move.department,
            "unit": move.unit,
            "planned_end_date": move.planned_end_date and move.planned_end_date.isoformat(),
            "scope": move.scope,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        person_path = f"/enrolment/people/{loaded.people[move.key]}"
        recorded = post(f"{person_path}/career-moves", body, f"move/{number}")
        loaded.moves.append(recorded["id"])
        if move.end_date is not None:
            post(
                f"{person_path}/career-moves/{recorded['id']}/end",
                {"end_date": move.end_date.isoformat()},
                f"move/{number}/end",
            )
