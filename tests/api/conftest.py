"""The embedded runtime behind a WSGI test client.

The projector thread is never started: tests call ``drain()`` when they need the views, so
what they see does not depend on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from services.runtime import Embedded
from tests.api.helpers import SECRET, Api, build
from tests.support.pilot import Pilot, load_pilot


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    runtime = build(tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def api(embedded: Embedded) -> Api:
    return Api(embedded, Client(embedded.wsgi))


@pytest.fixture(scope="session")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pilot]:
    """The TEMPO 2020 pilot, embedded and fully projected; shared by the session, read-only."""
    runtime = build(tmp_path_factory.mktemp("pilot"))
    try:
        loaded = load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
        yield loaded
    finally:
        runtime.close()
