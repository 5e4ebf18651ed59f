"""The workspace served over a real socket with the pilot loaded, and a real Chromium.

The pilot is loaded in two steps with a recorded moment between them (enrolment first, then
assessment), so an ``as_of`` of that moment shows different figures than now. Chromium is
Debian's, driven by Playwright through ``executable_path``: Playwright never downloads one.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.test import Client

from services.runtime import Embedded, build_embedded
from services.scenario import assessment, enrolment
from shared.auth import issue_token
from shared.settings import Settings
from tests.support.scenario import ClientCall
from tests.support.services import unavailable

SECRET = "workspace-test-secret-" + "x" * 16
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
"""Where the browser tests leave their screenshots (ignored by git)."""


@dataclass
class Site:
    runtime: Embedded
    base: str
    cohort_id: str
    programme_id: str
    people: dict[str, str]
    between: dt.datetime
    """A moment after enrolment's events were recorded and before assessment's."""

    def api(self, path: str, role: str = "hr_admin", **query: Any) -> Any:
        """A tracking view as its JSON, straight from the API (what the pages must show)."""
        token = issue_token(SECRET, f"test-{role}", role)
        response = Client(self.runtime.wsgi).get(
            f"/tracking{path}", query_string=query, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


def serve_pilot(data_dir: Path) -> Iterator[Site]:
    runtime = build_embedded(Settings(data_dir=data_dir, jwt_secret=SECRET, dev_signin=True))
    server = None
    try:
        call = ClientCall(Client(runtime.wsgi), SECRET)
        loaded = enrolment.load(call)
        time.sleep(1.2)
        between = dt.datetime.now(dt.UTC).replace(microsecond=0)
        time.sleep(1.0)
        assessment.load(call, loaded.cohort_id, loaded.people)
        runtime.tracking.projector.drain()
        server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cohort = Client(runtime.wsgi).get(
            f"/enrolment/cohorts/{loaded.cohort_id}",
            headers={"Authorization": f"Bearer {issue_token(SECRET, 'test', 'hr_admin')}"},
        )
        yield Site(
            runtime,
            f"http://127.0.0.1:{server.server_port}",
            loaded.cohort_id,
            cohort.get_json()["programme_id"],
            dict(loaded.people),
            between,
        )
    finally:
        if server is not None:
            server.shutdown()
        runtime.close()


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        unavailable("no chromium on PATH (scripts/bootstrap.sh test installs it)")
    return found


def launch() -> Iterator[Any]:
    """A headless Debian Chromium under Playwright, closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (scripts/bootstrap.sh test installs it)")
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """The WCAG 2.1 A and AA violations axe-core finds on the page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
    ]
