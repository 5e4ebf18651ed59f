"""Enrolment HTTP API under ``/enrolment``: one blueprint per resource, thin views over
:class:`~services.enrolment.application.EnrolmentApplication`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask

from services.enrolment.api import (
    careers,
    cohorts,
    coordination,
    enrolments,
    groups,
    people,
    programmes,
    sessions,
)
from shared.outbox import Outbox
from shared.web import idempotency
from shared.web.write_service import create_write_service_app

BLUEPRINTS = [programmes.blp, cohorts.blp, people.blp, careers.blp]
BLUEPRINTS += [enrolments.blp, sessions.blp, groups.blp]
BLUEPRINTS += [coordination.blp]


def create_app(
    outbox: Outbox,
    jwt_secret: str,
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    """The enrolment service's Flask app; ``probes`` add readiness checks (e.g. the broker)."""
    app = create_write_service_app(
        outbox,
        title="Polku enrolment",
        description="Programmes, cohorts, people and enrolments. Every change is an event.",
        jwt_secret=jwt_secret,
        blueprints=BLUEPRINTS,
        probes=probes,
    )
    app.extensions[idempotency.REDACTION] = people.REDACTION
    return app
