"""Small builders shared by the unit tests."""

from __future__ import annotations


def meta(sub: str = "alice", role: str = "coordinator", correlation_id: str = "corr-1") -> dict:
    """The request metadata the web layer would attach to every event."""
    return {"actor_sub": sub, "actor_role": role, "correlation_id": correlation_id}


def person_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "full_name": "Anna A",
        "email": "anna@example.fi",
        "employee_number": "E1",
        "organisation": "TEM",
        "department": "Dept",
        "unit": "Unit",
    }
    fields.update(overrides)
    return fields
