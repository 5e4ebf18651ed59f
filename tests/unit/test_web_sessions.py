"""The session layer: identities, the cookie's flags, fixation, expiry, sign-out and CSRF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, jsonify, request
from werkzeug.test import Client

from shared.sql import Database
from shared.web.sessions import (
    SESSION_COOKIE,
    Identity,
    IdentityError,
    MemorySessionStore,
    Sessions,
    SessionStore,
    SqlSessionStore,
    csrf_exempt,
    csrf_token,
    current_identity,
    sign_in,
    sign_out,
)

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)


def identity(**changes: object) -> Identity:
    fields: dict[str, object] = {
        "subject": "hanna",
        "roles": ("default-roles-polku", "hr_admin"),
        "display_name": "Hanna HR",
        "expires_at": LATER,
        "provider": "dev",
    }
    fields.update(changes)
    return Identity(**fields)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def make_app(store: SessionStore, clock: Clock, secure: bool | None = None) -> Flask:
    app = Flask("sessions-test")
    Sessions(store, "secret", clock=clock, secure=secure).init_app(app)

    @app.get("/me")
    def me() -> object:
        who = current_identity()
        return jsonify(subject=who.subject if who else None, csrf=csrf_token())

    @app.post("/sign-in")
    def do_sign_in() -> object:
        expires = clock.now + dt.timedelta(hours=24)
        sign_in(identity(subject=request.form.get("subject", "hanna"), expires_at=expires))
        return jsonify(ok=True)

    @app.post("/sign-out")
    def do_sign_out() -> object:
        sign_out()
        return jsonify(ok=True)

    @app.post("/callback")
    @csrf_exempt
    def callback() -> object:
        return jsonify(ok=True)

    return app


@pytest.fixture(params=["memory", "sql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    database = Database(f"sqlite:///{tmp_path / 'sessions.sqlite'}")
    yield SqlSessionStore(database)
    database.close()


def signed_in(client: Client, subject: str = "hanna") -> str:
    token = client.get("/me").get_json()["csrf"]
    response = client.post("/sign-in", data={"csrf_token": token, "subject": subject})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(client.get("/me").get_json()["csrf"])


def test_identity_acts_in_its_highest_polku_role_and_ignores_unknown_roles() -> None:
    who = identity(roles=("offline_access", "coach", "coordinator"))
    assert who.role == "coordinator"
    assert identity(roles=("participant",), person_id="p-1").bearer_subject == "p-1"
    assert who.bearer_subject == "hanna"
    assert Identity.from_json(who.to_json()) == who


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject": " "}, "no subject"),
        ({"roles": ("offline_access",)}, "none of Polku's roles"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "timezone-aware"),
        ({"roles": ("participant",)}, "person_id"),
        ({"provider": ""}, "provider"),
    ],
)
def test_identity_refuses_what_cannot_sign_in(changes: dict[str, object], message: str) -> None:
    with pytest.raises(IdentityError, match=message):
        identity(**changes)


def test_sign_in_sets_a_strict_cookie_and_the_session_lives_on_the_server(
    store: SessionStore,
) -> None:
    client = Client(make_app(store, Clock()))
    assert client.get("/me").get_json()["subject"] is None
    token = client.get("/me").get_json()["csrf"]
    response = client.post("/sign-in", data={"csrf_token": token})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/me").get_json()["subject"] == "hanna"
    session_id = client.get_cookie(SESSION_COOKIE)
    assert session_id is not None
    # The store never holds the id itself, only its hash.
    assert store.load(session_id.value) is None


def test_cookie_is_secure_over_https(store: SessionStore) -> None:
    client = Client(make_app(store, Clock()))
    https = "https://localhost"
    token = client.get("/me", base_url=https).get_json()["csrf"]
    response = client.post("/sign-in", data={"csrf_token": token}, base_url=https)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_state_changing_requests_need_the_csrf_token(store: SessionStore) -> None:
    client = Client(make_app(store, Clock()))
    client.get("/me")
    assert client.post("/sign-in").status_code == 403
    assert client.post("/sign-in", data={"csrf_token": "forged"}).status_code == 403
    token = signed_in(client)
    assert client.post("/sign-out").status_code == 403
    assert client.get("/me").get_json()["subject"] == "hanna"
    assert client.post("/sign-out", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.post("/callback").status_code == 200  # exempt


def test_a_request_from_another_browser_cannot_reuse_a_token(store: SessionStore) -> None:
    app = make_app(store, Clock())
    first, second = Client(app), Client(app)
    token = first.get("/me").get_json()["csrf"]
    second.get("/me")
    assert second.post("/sign-in", data={"csrf_token": token}).status_code == 403


def test_sign_in_starts_a_new_session_and_sign_out_ends_it_on_the_server(
    store: SessionStore,
) -> None:
    client = Client(make_app(store, Clock()))
    token = signed_in(client)
    old = client.get_cookie(SESSION_COOKIE)
    assert old is not None
    signed_in(client, "aaro")
    new = client.get_cookie(SESSION_COOKIE)
    assert new is not None and new.value != old.value
    # The old id opens nothing any more (no fixation, no second live session).
    replay = Client(client.application)
    replay.set_cookie(SESSION_COOKIE, old.value)
    assert replay.get("/me").get_json()["subject"] is None
    token = client.get("/me").get_json()["csrf"]
    client.post("/sign-out", data={"csrf_token": token})
    assert client.get("/me").get_json()["subject"] is None
    stolen = Client(client.application)
    stolen.set_cookie(SESSION_COOKIE, new.value)
    assert stolen.get("/me").get_json()["subject"] is None


def test_a_session_ends_when_it_expires(store: SessionStore) -> None:
    clock = Clock()
    client = Client(make_app(store, clock))
    signed_in(client)
    clock.now += dt.timedelta(hours=9)  # past the default eight hours, within the identity's
    assert client.get("/me").get_json()["subject"] is None
    assert store.purge_expired(clock.now) == 0  # the expired one was deleted when seen


def test_purge_removes_only_expired_sessions(store: SessionStore) -> None:
    clock = Clock()
    app = make_app(store, clock)
    signed_in(Client(app), "first")
    clock.now += dt.timedelta(hours=7)
    signed_in(Client(app), "second")
    assert store.purge_expired(clock.now + dt.timedelta(hours=2)) == 1
