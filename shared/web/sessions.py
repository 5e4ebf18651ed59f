"""Server-side sessions for the browser pages: who is signed in, the cookie, and CSRF.

The browser holds only a random session id, in the cookie ``polku_session`` (HttpOnly,
SameSite=Lax, Secure when the request came over HTTPS, or always when configured). The store
keeps the signed-in :class:`Identity` under a hash of that id, so a copy of the store opens no
session. Every way of signing in (the development page, single sign-on) ends in
:func:`sign_in`; pages ask :func:`current_identity`; :func:`sign_out` ends the session on the
server, not only in the browser. A sign-in always starts a new session id (no fixation).

Forms that change state carry a CSRF token (:func:`csrf_token`, field ``csrf_token`` or header
``X-CSRF-Token``): the session's own token once signed in, before that one bound to a random
pre-session cookie. Every POST, PUT, PATCH and DELETE to an app with :class:`Sessions` installed
is refused (403) without the right token, unless its view is marked :func:`csrf_exempt`.

:class:`Identity` lives in :mod:`shared.web.identity`, the stores in
:mod:`shared.web.session_store`; both are re-exported here. The bearer-token API is untouched:
the pages reach it with a short token minted for the signed-in identity
(:meth:`Identity.bearer_subject`, :attr:`Identity.role`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import Forbidden

# Re-exported: a sign-in method needs only this module.
from shared.web.identity import ROLE_PRECEDENCE, Identity, IdentityError
from shared.web.session_store import (
    MemorySessionStore,
    SessionRecord,
    SessionStore,
    SqlSessionStore,
)

SESSION_COOKIE = "polku_session"
PRESESSION_COOKIE = "polku_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_MAX_AGE = dt.timedelta(hours=8)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])


class Sessions:
    """The session layer of one Flask app: ``Sessions(store, secret).init_app(app)``.

    ``secret`` keys the pre-session CSRF tokens. ``secure=None`` marks the cookies Secure when
    the request came over HTTPS (behind a proxy, let werkzeug's ProxyFix set the scheme);
    ``True`` always. ``max_age`` caps a session however long its identity would last.
    """

    EXTENSION = "polku.sessions"

    def __init__(
        self,
        store: SessionStore,
        secret: str,
        *,
        max_age: dt.timedelta = DEFAULT_MAX_AGE,
        secure: bool | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self._csrf_key = hmac.new(secret.encode(), b"polku-csrf", hashlib.sha256).digest()
        self.max_age = max_age
        self.secure = secure
        self.clock = clock

    def init_app(self, app: Flask) -> None:
        app.extensions[self.EXTENSION] = self
        app.before_request(self._check_csrf)
        app.after_request(self._write_cookies)
        app.context_processor(
            lambda: {"csrf_token": csrf_token, "current_identity": current_identity}
        )

    # Reading the request ---------------------------------------------------------------

    def record(self) -> SessionRecord | None:
        """This request's live session, loaded once per request."""
        if "polku_session_record" not in g:
            g.polku_session_record = self._load()
        return g.polku_session_record  # type: ignore[no-any-return]

    def _load(self) -> SessionRecord | None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if not session_id or len(session_id) > 128:
            return None
        key = _key(session_id)
        record = self.store.load(key)
        if record is None:
            return None
        if record.expires_at <= self.clock():
            self.store.delete(key)
            g.polku_session_clear = True
            return None
        return record

    def _presession(self) -> str:
        value = getattr(g, "polku_presession_new", None) or request.cookies.get(
            PRESESSION_COOKIE, ""
        )
        if not value or len(value) > 128:
            value = secrets.token_urlsafe(32)
            g.polku_presession_new = value
        return str(value)

    def expected_csrf(self) -> str:
        record = self.record()
        if record is not None:
            return record.csrf_token
        mac = hmac.new(self._csrf_key, self._presession().encode(), hashlib.sha256)
        return mac.hexdigest()

    def _check_csrf(self) -> None:
        if request.method not in UNSAFE_METHODS:
            return
        view = current_app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "_polku_csrf_exempt", False):
            return
        given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
        presession = request.cookies.get(PRESESSION_COOKIE)
        if self.record() is None and not presession:
            raise Forbidden("the form has expired (no session cookie); reload the page and retry")
        if not given or not hmac.compare_digest(given, self.expected_csrf()):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page and retry")

    # Changing the session --------------------------------------------------------------

    def sign_in(self, identity: Identity) -> SessionRecord:
        self.sign_out()
        now = self.clock()
        if identity.expires_at <= now:
            raise IdentityError("the identity has already expired")
        session_id = secrets.token_urlsafe(32)
        record = SessionRecord(
            identity, secrets.token_urlsafe(32), now, min(identity.expires_at, now + self.max_age)
        )
        self.store.save(_key(session_id), record)
        g.polku_session_record = record
        g.polku_session_new = (session_id, record.expires_at)
        g.pop("polku_session_clear", None)
        return record

    def sign_out(self) -> None:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if session_id and len(session_id) <= 128:
            self.store.delete(_key(session_id))
        g.polku_session_record = None
        g.pop("polku_session_new", None)
        g.polku_session_clear = True

    # The response ----------------------------------------------------------------------

    def _cookie_secure(self) -> bool:
        return self.secure if self.secure is not None else request.is_secure

    def _write_cookies(self, response: Response) -> Response:
        secure = self._cookie_secure()
        new = g.get("polku_session_new")
        if new is not None:
            session_id, expires = new
            response.set_cookie(
                SESSION_COOKIE,
                session_id,
                expires=expires,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=secure,
            )
        elif g.get("polku_session_clear"):
            response.delete_cookie(
                SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=secure
            )
        presession = g.get("polku_presession_new")
        if presession is not None:
            response.set_cookie(
                PRESESSION_COOKIE,
                presession,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=secure,
            )
        if new is not None or g.get("polku_session_record") is not None:
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _sessions() -> Sessions:
    sessions = current_app.extensions.get(Sessions.EXTENSION)
    if sessions is None:
        raise RuntimeError("this app has no session layer (Sessions(...).init_app(app))")
    return sessions  # type: ignore[no-any-return]


def sign_in(identity: Identity) -> None:
    """Starts a new session for ``identity`` (ending any the browser had); the cookie goes out
    with this request's response. Raises :class:`IdentityError` for an expired identity."""
    _sessions().sign_in(identity)


def current_identity() -> Identity | None:
    """Who this request's session belongs to, or None when it has none (or it expired)."""
    record = _sessions().record()
    return None if record is None else record.identity


def sign_out() -> None:
    """Ends this request's session on the server and removes the browser's cookie."""
    _sessions().sign_out()


def csrf_token() -> str:
    """The token state-changing forms must send back (field ``csrf_token``)."""
    return _sessions().expected_csrf()


def csrf_exempt(view: F) -> F:
    """Marks a view that takes unsafe methods without a CSRF token (say, an identity
    provider's ``form_post`` callback, which checks its own ``state``)."""
    view._polku_csrf_exempt = True  # type: ignore[attr-defined]
    return view


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "ROLE_PRECEDENCE",
    "SESSION_COOKIE",
    "Identity",
    "IdentityError",
    "MemorySessionStore",
    "SessionRecord",
    "SessionStore",
    "Sessions",
    "SqlSessionStore",
    "csrf_exempt",
    "csrf_token",
    "current_identity",
    "sign_in",
    "sign_out",
]
