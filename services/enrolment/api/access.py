"""What every enrolment resource module shares: the roles and the application in context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g
from flask_smorest import abort

from services.enrolment.application import EnrolmentApplication

WRITERS = ("hr_admin", "coordinator")
READERS = ("hr_admin", "coordinator", "coach", "auditor")
PERSONAL_READERS = ("hr_admin", "coordinator", "auditor")
ATTENDANCE_TAKERS = ("hr_admin", "coordinator", "coach")


def app_() -> EnrolmentApplication:
    return current_app.extensions["polku.enrolment"]  # type: ignore[no-any-return]


def page(kind: str, args: dict[str, Any], view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    result = app_().list(kind, args["after"], args["limit"])
    return {"items": [view(item) for item in result.items], "next_after": result.next_after}


def check_cohort_access(coaches: list[str]) -> None:
    """A coach reaches only the cohorts they are assigned to (and their sessions, groups)."""
    principal = g.principal
    if principal.role == "coach" and principal.sub not in coaches:
        abort(403, message="coaches may reach only the cohorts they are assigned to")


def offset_page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], int | None]:
    """A page of an in-memory list whose cursor counts items: ``after=50`` starts at the 51st."""
    after, limit = args["after"], args["limit"]
    more = after + limit < len(items)
    return items[after : after + limit], after + limit if more else None
