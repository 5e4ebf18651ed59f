"""Assessment HTTP API under ``/assessment``: for now the event feed and health only."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask

from services.assessment.application import AssessmentApplication, translate
from shared.events import default_registry
from shared.outbox import Outbox
from shared.web import create_service_app, readiness
from shared.web.feed import feed_blueprint


def create_app(
    application: AssessmentApplication,
    jwt_secret: str,
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    """The assessment service's Flask app; ``probes`` add readiness checks (e.g. the broker)."""
    outbox = Outbox("assessment", application, translate, default_registry())
    ready = readiness({"store": application.ping, **(probes or {})})
    return create_service_app(
        "assessment",
        title="Polku assessment",
        description="Instruments, assessment results and surveys.",
        jwt_secret=jwt_secret,
        ready_check=ready,
        blueprints=[feed_blueprint("assessment")],
        extensions={"polku.assessment": application, "polku.outbox": outbox},
    )
