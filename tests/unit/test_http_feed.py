"""The HTTP feed: a renewed service token, and a clear error when the source is not Polku."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.cli import main
from shared import feeds
from shared.auth import RenewingToken, token_expiry, verify_token
from shared.feeds import HttpFeed, NotAnEventsPage

SECRET = "s" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_token_is_reused_until_a_quarter_of_its_life_is_left_then_renewed() -> None:
    clock = Clock()
    token = RenewingToken(SECRET, "tracking", "service", dt.timedelta(hours=1), clock)
    first = token()
    assert token_expiry(first) == clock.now + 3600
    clock.now += 2699
    assert token() == first
    clock.now += 2
    renewed = token()
    assert renewed != first
    assert token_expiry(renewed) == clock.now + 3600
    # Signed with the secret and valid at the fake clock's time, audience and all.
    principal = verify_token(SECRET, renewed, now=clock.now)
    assert (principal.sub, principal.role) == ("tracking", "service")


def test_a_fresh_token_verifies_now() -> None:
    principal = verify_token(SECRET, RenewingToken(SECRET, "tracking", "service")())
    assert (principal.sub, principal.role) == ("tracking", "service")


def test_the_http_feed_asks_for_the_current_token_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []

    def urlopen(request: Any, timeout: float) -> io.BytesIO:
        sent.append(request.get_header("Authorization"))
        return io.BytesIO(json.dumps({"events": [], "next_after": 0, "head": 0}).encode())

    monkeypatch.setattr(feeds.urllib.request, "urlopen", urlopen)
    tokens = iter(["one", "two", "three"])
    feed = HttpFeed({"enrolment": "http://127.0.0.1:9"}, token=lambda: next(tokens))
    feed.poll({}, 10)
    feed.poll({}, 10)
    feed.heads()
    assert sent == ["Bearer one", "Bearer two", "Bearer three"]


def test_a_fixed_token_is_still_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    def urlopen(request: Any, timeout: float) -> io.BytesIO:
        sent.append(request.get_header("Authorization"))
        return io.BytesIO(json.dumps({"events": [], "next_after": 0, "head": 0}).encode())

    monkeypatch.setattr(feeds.urllib.request, "urlopen", urlopen)
    HttpFeed({"enrolment": "http://127.0.0.1:9"}, token="fixed").poll({}, 10)
    assert sent == ["Bearer fixed"]


@pytest.mark.parametrize(
    "body", [b"<html>a login page</html>", b'{"items": []}', b'{"events": [], "next_after": null}']
)
def test_a_source_that_is_not_a_polku_service_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    monkeypatch.setattr(feeds.urllib.request, "urlopen", lambda request, timeout: io.BytesIO(body))
    feed = HttpFeed({"enrolment": "http://127.0.0.1:9"}, token="t")
    with pytest.raises(NotAnEventsPage, match="other than a Polku events page"):
        feed.poll({}, 10)


def test_project_once_against_a_web_page_is_one_clear_line(tmp_path: Path) -> None:
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>not Polku</html>")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = CliRunner().invoke(
            main,
            ["project", "--once"],
            env={
                "POLKU_FEED": "http",
                "POLKU_DATA_DIR": str(tmp_path),
                "POLKU_JWT_SECRET": SECRET,
                "POLKU_ENROLMENT_URL": f"http://127.0.0.1:{server.server_port}",
            },
        )
    finally:
        server.shutdown()
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, NotAnEventsPage)  # handled, not escaped
    assert "other than a Polku events page" in result.output
