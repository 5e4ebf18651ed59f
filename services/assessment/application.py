"""Assessment application: the event store of the assessment service."""

from __future__ import annotations

from typing import Any

from shared.eventstore import ServiceApplication


class AssessmentApplication(ServiceApplication):
    name = "assessment"


def translate(event: Any) -> tuple[str, dict[str, Any]] | None:
    """No assessment events are published yet; every domain event maps to nothing."""
    return None
