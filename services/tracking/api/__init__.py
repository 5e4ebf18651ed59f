"""Tracking HTTP API under ``/tracking``: the views, the roster and the projector's status."""

from __future__ import annotations

from flask import Flask

from services.tracking.api import (
    cohorts,
    growth,
    kirkpatrick,
    listing,
    mobility,
    operations,
    organisation,
    people,
    pooled,
    surveys,
)
from services.tracking.api.base import log_auditor_queries
from services.tracking.readmodels import ReadModels
from services.tracking.views.privacy import Policy
from shared.web import ReadyCheck, create_service_app

BLUEPRINTS = [
    operations.blp,
    cohorts.blp,
    surveys.blp,
    mobility.blp,
    growth.blp,
    people.blp,
    kirkpatrick.blp,
    organisation.blp,
    pooled.blp,
    listing.blp,
]


def create_app(
    models: ReadModels,
    feed_kind: str,
    jwt_secret: str,
    ready_check: ReadyCheck,
    privacy: Policy | None = None,
) -> Flask:
    app = create_service_app(
        "tracking",
        title="Polku tracking",
        description=(
            "Longitudinal views projected from the enrolment and assessment events. Every view"
            " takes `as_of` (the answer from events recorded up to then) and `format=csv`."
            " Cells computed from fewer people than the minimum are null, with the reason."
        ),
        jwt_secret=jwt_secret,
        ready_check=ready_check,
        blueprints=BLUEPRINTS,
        extensions={
            "polku.readmodels": models,
            "polku.feed_kind": feed_kind,
            "polku.privacy": privacy or Policy(),
        },
    )
    log_auditor_queries(app)
    return app
