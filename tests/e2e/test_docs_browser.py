"""The interactive API docs render in a real headless Chromium, with no network but loopback."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.serving import make_server

from services.runtime import Embedded
from shared.settings import Settings
from tests.api.test_tracking_docs import COHORT_VIEWS
from tests.support.services import unavailable

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",  # let Swagger UI fetch the spec and render
    "--dump-dom",
]


@pytest.fixture
def base_url(embedded_settings: Settings, start: Callable[[Settings], Embedded]) -> Iterator[str]:
    runtime = start(embedded_settings)
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def rendered_dom(url: str) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        unavailable("no chromium on PATH (scripts/bootstrap.sh test installs it)")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("service", ["enrolment", "tracking"])
def test_swagger_ui_renders_every_operation(base_url: str, service: str) -> None:
    dom = rendered_dom(f"{base_url}/{service}/docs")
    assert "swagger-ui" in dom
    expected = {
        "enrolment": ["/enrolment/programmes", "/enrolment/cohorts/{cohort_id}/enrolments"],
        "tracking": [
            "/tracking/cohorts/{cohort_id}/roster",
            "/tracking/status",
            *(f"/tracking/cohorts/{{cohort_id}}/{view}" for view in COHORT_VIEWS),
            "/tracking/people/{person_id}/timeline",
            "/tracking/programmes/{programme_id}/kirkpatrick",
        ],
    }[service]
    for path in expected:
        assert path in dom, f"{path} is not on the rendered docs page"
    assert "opblock" in dom  # Swagger UI rendered operation blocks, not just the shell
