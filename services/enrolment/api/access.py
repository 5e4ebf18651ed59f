"""What every enrolment resource module shares: the roles, the application in context, scope.

Scope, the same in every service: a coach reaches only the cohorts they are assigned to (and
their sessions, groups and rosters); a participant only their own record. Outside it a resource
is a 404, exactly as if it did not exist, so ids cannot be probed; a role that may never do an
operation is a 403.
"""

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


def check_cohort_access(coaches: list[str], what: str = "cohort") -> None:
    """A coach reaches only the cohorts they are assigned to (and their sessions, groups)."""
    principal = g.principal
    if principal.role == "coach" and principal.sub not in coaches:
        abort(404, message=f"no such {what} (or not in a cohort you coach)")


def check_own(person_id: object, what: str = "person") -> None:
    """A participant reaches only their own record (their token's subject is their person id)."""
    if g.principal.role == "participant" and g.principal.sub != str(person_id):
        abort(404, message=f"no such {what} (or not yours)")


def offset_page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], int | None]:
    """A page of an in-memory list whose cursor counts items: ``after=50`` starts at the 51st."""
    after, limit = args["after"], args["limit"]
    more = after + limit < len(items)
    return items[after : after + limit], after + limit if more else None
