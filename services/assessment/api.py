"""Assessment HTTP API under ``/assessment``: for now the event feed and health only."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask

from shared.outbox import Outbox
from shared.web.write_service import create_write_service_app


def create_app(
    outbox: Outbox,
    jwt_secret: str,
    probes: Mapping[str, Callable[[], object]] | None = None,
) -> Flask:
    """The assessment service's Flask app; ``probes`` add readiness checks (e.g. the broker)."""
    return create_write_service_app(
        outbox,
        title="Polku assessment",
        description="Instruments, assessment results and surveys.",
        jwt_secret=jwt_secret,
        blueprints=[],
        probes=probes,
    )
