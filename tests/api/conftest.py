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
from tests.api.helpers import Api, build


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    runtime = build(tmp_path)
    yield runtime
    runtime.close()


@pytest.fixture
def api(embedded: Embedded) -> Api:
    return Api(embedded, Client(embedded.wsgi))
