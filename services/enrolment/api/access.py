"""What every enrolment resource module shares: the roles and the application in context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from services.enrolment.application import EnrolmentApplication

WRITERS = ("hr_admin", "coordinator")
READERS = ("hr_admin", "coordinator", "coach", "auditor")
PERSONAL_READERS = ("hr_admin", "coordinator", "auditor")


def app_() -> EnrolmentApplication:
    return current_app.extensions["polku.enrolment"]  # type: ignore[no-any-return]


def page(kind: str, args: dict[str, Any], view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    result = app_().list(kind, args["after"], args["limit"])
    return {"items": [view(item) for item in result.items], "next_after": result.next_after}
