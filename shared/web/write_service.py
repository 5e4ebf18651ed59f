"""The Flask app of a write service: its own blueprints plus what every write service serves.

That is the ``/<service>/events`` feed over the service's outbox, the event contract
(:mod:`shared.web.contract`: JSON Schemas and the AsyncAPI document), readiness that includes
the event store (and whatever ``probes`` the composition root adds, such as the broker), and
the registry of the service's import jobs (:mod:`shared.web.jobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from shared.jobs import Jobs
from shared.outbox import Outbox
from shared.web import create_service_app, readiness
from shared.web.contract import cloudevent_component, contract_blueprint
from shared.web.feed import feed_blueprint
from shared.web.jobs import JOBS


def create_write_service_app(
    outbox: Outbox,
    *,
    title: str,
    description: str,
    jwt_secret: str,
    blueprints: list[Any],
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    service = outbox.service
    app = create_service_app(
        service,
        title=title,
        description=description,
        jwt_secret=jwt_secret,
        ready_check=readiness({"store": outbox.app.ping, **(probes or {})}),
        blueprints=[*blueprints, feed_blueprint(service), contract_blueprint(service)],
        extensions={f"polku.{service}": outbox.app, "polku.outbox": outbox, JOBS: Jobs()},
    )
    app.extensions["polku.api"].spec.components.schema(
        "CloudEvent", component=cloudevent_component([outbox.registry], service)
    )
    return app
