"""Assessment HTTP API under ``/assessment``: one blueprint per resource, thin views over
:class:`~services.assessment.application.AssessmentApplication`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask

from services.assessment.api import (
    imports,
    instruments,
    profiles,
    reactions,
    results,
    staff_survey,
)
from shared.outbox import Outbox
from shared.web.write_service import create_write_service_app

BLUEPRINTS = [
    instruments.blp,
    results.blp,
    profiles.blp,
    reactions.blp,
    staff_survey.blp,
    imports.blp,
]


def create_app(
    outbox: Outbox,
    jwt_secret: str,
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    """The assessment service's Flask app; ``probes`` add readiness checks (e.g. the broker)."""
    app = create_write_service_app(
        outbox,
        title="Polku assessment",
        description="Instruments, multi-rater results, style profiles, anonymous reaction "
        "surveys and staff-survey indices. Every change is an event.",
        jwt_secret=jwt_secret,
        blueprints=BLUEPRINTS,
        probes=probes,
    )
    return app
