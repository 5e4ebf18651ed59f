"""The ministry of the TEMPO 2020 pilot: departments, units, participants and colleagues.

Everything here is synthetic and labelled so. The names of departments follow the public
structure of a ministry like TEM; the people are made up. Participants are ``P01`` … ``P20``;
``C01`` … ``C40`` are colleagues who did not take part, the comparison group for mobility.
"""

from __future__ import annotations

from typing import NamedTuple

ORGANISATION = "Ministry of Economic Affairs and Employment"
OTHER_MINISTRY = "Ministry of Finance"
GROUP_AGENCY = "Business Finland"
"""An agency of the ministry's group (TEM group), where some people rotate to."""

DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "Enterprise and Innovation Department": (
        "Innovation and Growth Unit",
        "Industrial Policy Unit",
        "Business Financing Unit",
    ),
    "Employment and Wellbeing Department": (
        "Labour Market Unit",
        "Integration Unit",
        "Working Life Services Unit",
    ),
    "Energy Department": ("Energy Markets Unit", "Climate and Energy Policy Unit"),
    "Regions and Growth Services Department": (
        "Regional Development Unit",
        "Growth Services Unit",
    ),
    "Working Life and Markets Department": (
        "Competition and Consumer Unit",
        "Working Life Legislation Unit",
    ),
    "Administrative Department": ("Legal Affairs Unit", "Human Resources Unit"),
}

UNITS: tuple[tuple[str, str], ...] = tuple(
    (department, unit) for department, units in DEPARTMENTS.items() for unit in units
)
"""Every (department, unit), in a fixed order."""

PROFESSIONS = ("lawyer", "political_scientist", "economist", "engineer")
EDUCATION = ("master", "master", "master", "doctorate")  # most experts hold a master's degree


class Member(NamedTuple):
    """A person of the scenario, by key; ``employee_number`` is how imports match them."""

    key: str
    full_name: str
    email: str
    employee_number: str
    department: str
    unit: str
    role: str
    profession_category: str
    education_level: str

    def registration(self) -> dict[str, str]:
        """The body of ``POST /enrolment/people``."""
        return {
            "full_name": self.full_name,
            "email": self.email,
            "employee_number": self.employee_number,
            "organisation": ORGANISATION,
            "department": self.department,
            "unit": self.unit,
            "role": self.role,
            "profession_category": self.profession_category,
            "education_level": self.education_level,
        }


def _member(prefix: str, number: int, offset: int) -> Member:
    department, unit = UNITS[(number * 5 + offset) % len(UNITS)]
    key = f"{prefix}{number:02d}"
    kind = "Participant" if prefix == "P" else "Colleague"
    return Member(
        key=key,
        full_name=f"Synthetic {kind} {number:02d}",
        email=f"synthetic.{key.lower()}@example.invalid",
        employee_number=f"TEMPO-{key}",
        department=department,
        unit=unit,
        role="expert",
        profession_category=PROFESSIONS[number % len(PROFESSIONS)],
        education_level=EDUCATION[number % len(EDUCATION)],
    )


PARTICIPANTS: tuple[Member, ...] = tuple(_member("P", n, 0) for n in range(1, 21))
"""The 20 invited experts, spread over every department."""

COLLEAGUES: tuple[Member, ...] = tuple(_member("C", n, 3) for n in range(1, 41))
"""Experts of the same ministry who did not take part: the comparison group."""

MEMBERS: dict[str, Member] = {m.key: m for m in (*PARTICIPANTS, *COLLEAGUES)}

PARTICIPANT_UNITS: tuple[tuple[str, str], ...] = tuple(
    sorted({(p.department, p.unit) for p in PARTICIPANTS})
)
"""The units that sent participants (the staff-survey trends follow these)."""
