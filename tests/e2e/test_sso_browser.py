"""A person signs in to the workspace in a real browser at a real issuer, and out again.

Debian's chromium (driven by Playwright, which downloads no browser of its own) opens the
workspace, follows single sign-on to Keycloak's own login page, types a username and a
password there, comes back to Polku signed in with the roles Keycloak grants, opens a page
that reads tracking's API with the issuer's token, and signs out at Polku and at Keycloak.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from werkzeug.serving import make_server

from services.runtime import Embedded, build_embedded
from shared.oidc import ClientSettings, OidcConfig
from shared.settings import Settings
from tests.support.identity import MULTI_ROLE_USER, USERS
from tests.support.keycloak_server import KeycloakServer
from tests.support.services import unavailable


@pytest.fixture(scope="module")
def served(
    keycloak: KeycloakServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Embedded]]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("sso-browser")),
        jwt_secret="b" * 32,
        oidc=OidcConfig(issuer=keycloak.issuer()),
        oidc_web_client=ClientSettings("polku-web"),
    )
    runtime: Embedded = build_embedded(settings)
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", runtime
    finally:
        server.shutdown()
        runtime.close()


@pytest.fixture(scope="module")
def base_url(served: tuple[str, Embedded]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("no chromium on PATH (scripts/bootstrap.sh test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def sign_in_at_keycloak(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/app/sso/me")
    assert page.url.startswith(f"{base_url}/app/sign-in")
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    page.wait_for_selector("#username")
    assert "/realms/polku/protocol/openid-connect/auth" in page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    page.wait_for_url(f"{base_url}/app/sso/me")


def session_records(runtime: Embedded) -> list[tuple[str, str]]:
    assert runtime.workspace is not None
    with runtime.workspace.transaction(write=False) as cur:
        cur.execute("SELECT identity, expires_at FROM web_sessions")
        return [(str(row[0]), str(row[1])) for row in cur.fetchall()]


def test_sign_in_at_the_issuer_see_the_roles_and_sign_out(
    browser: Any, served: tuple[str, Embedded]
) -> None:
    base_url, runtime = served
    before = len(session_records(runtime))
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, base_url, *USERS["hr_admin"])
    roles = page.locator("#who-roles li").evaluate_all("els => els.map(e => e.dataset.role)")
    assert roles == ["hr_admin"]
    assert page.locator("#who-name").inner_text() == "Hanna Example"
    session = next(c for c in context.cookies() if c["name"] == "polku_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    # The session on the server ends when the issuer's access token does.
    identity, expires_at = session_records(runtime)[-1]
    access = json.loads(identity)["access_token"]
    exp = jwt.decode(access, options={"verify_signature": False})["exp"]
    assert dt.datetime.fromisoformat(expires_at) == dt.datetime.fromtimestamp(exp, dt.UTC)

    # A page that reads tracking's API, with the issuer's access token.
    response = page.goto(f"{base_url}/app/")
    assert response is not None and response.status == 200
    assert page.url == f"{base_url}/app/"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/app/sign-in*")
    assert not [c for c in context.cookies() if c["name"] == "polku_session"]
    assert len(session_records(runtime)) == before  # deleted on the server, not only here
    page.goto(f"{base_url}/app/sso/me")
    assert page.url.startswith(f"{base_url}/app/sign-in")
    # Signed out at Keycloak too: signing in asks for the password again.
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    page.wait_for_selector("#username")
    context.close()


def test_several_roles_are_shown_and_the_widest_acts(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in_at_keycloak(page, base_url, *MULTI_ROLE_USER)
    roles = page.locator("#who-roles li").evaluate_all("els => els.map(e => e.dataset.role)")
    assert roles == ["coach", "participant"]
    assert page.locator("#who-role").get_attribute("data-role") == "coach"
    context.close()


def test_a_forged_callback_is_refused(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{base_url}/app/sso/callback?code=made-up&state=made-up")
    assert response is not None and response.status == 400
    assert "does not belong to this browser" in page.content()
    context.close()
