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

The bearer-token API is untouched: the pages reach it with a short token minted for the
signed-in identity (:meth:`Identity.bearer_subject`, :attr:`Identity.role`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import Forbidden

from shared.auth import ROLES
from shared.sql import Database

ROLE_PRECEDENCE = ("hr_admin", "coordinator", "auditor", "coach", "participant")
"""The role a session acts in when an identity holds several: the first of these it holds."""
SESSION_COOKIE = "polku_session"
PRESESSION_COOKIE = "polku_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_MAX_AGE = dt.timedelta(hours=8)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])


class IdentityError(ValueError):
    """An identity that cannot be signed in; the message says what is wrong with it."""


@dataclass(frozen=True)
class Identity:
    """Who is signed in, as any sign-in method reports them.

    ``roles`` may hold names Polku does not know (an identity provider's defaults such as
    ``offline_access``); they are ignored, but at least one of Polku's roles must be there.
    ``person_id`` is the pseudonymous id of a participant (required for that role): a
    participant sees only that person. ``expires_at`` bounds the session (timezone-aware).
    ``provider`` names the sign-in method: ``dev`` or, for single sign-on, the issuer's name.
    """

    subject: str
    roles: tuple[str, ...]
    display_name: str
    expires_at: dt.datetime
    provider: str
    person_id: str | None = None
    access_token: str | None = field(default=None, repr=False)
    """Single sign-on: the issuer's access token, which the pages present to the API (its
    expiry is the session's); None: the pages mint a development token."""
    id_token: str | None = field(default=None, repr=False)
    """Single sign-on: the ID token, the hint of the logout at the issuer."""

    def __post_init__(self) -> None:
        if not isinstance(self.subject, str) or not self.subject.strip():
            raise IdentityError("the identity has no subject")
        if not any(role in ROLE_PRECEDENCE for role in self.roles):
            raise IdentityError(
                f"the identity holds none of Polku's roles ({', '.join(ROLE_PRECEDENCE)}); "
                f"it has {', '.join(self.roles) or 'none'}"
            )
        if self.expires_at.tzinfo is None:
            raise IdentityError("the identity's expires_at must be timezone-aware")
        if self.role == "participant" and not self.person_id:
            raise IdentityError("a participant's identity needs the person_id it may see")
        if not self.provider:
            raise IdentityError("the identity must name its provider")

    @property
    def role(self) -> str:
        """The one Polku role this session acts in (see :data:`ROLE_PRECEDENCE`)."""
        return next(role for role in ROLE_PRECEDENCE if role in self.roles)

    @property
    def bearer_subject(self) -> str:
        """The subject of the API tokens minted for this identity: a participant's person id
        (the API lets participants read only the person named by their token's subject)."""
        if self.role == "participant":
            assert self.person_id is not None
            return self.person_id
        return self.subject

    def to_json(self) -> str:
        return json.dumps(
            {
                "subject": self.subject,
                "roles": list(self.roles),
                "display_name": self.display_name,
                "expires_at": self.expires_at.isoformat(),
                "provider": self.provider,
                "person_id": self.person_id,
                "access_token": self.access_token,
                "id_token": self.id_token,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Identity:
        data = json.loads(text)
        return cls(
            subject=data["subject"],
            roles=tuple(data["roles"]),
            display_name=data["display_name"],
            expires_at=dt.datetime.fromisoformat(data["expires_at"]),
            provider=data["provider"],
            person_id=data.get("person_id"),
            access_token=data.get("access_token"),
            id_token=data.get("id_token"),
        )


assert set(ROLE_PRECEDENCE) <= set(ROLES)


@dataclass(frozen=True)
class SessionRecord:
    identity: Identity
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


class SessionStore(Protocol):
    """Where sessions live, keyed by the hash of their id (never the id itself)."""

    def save(self, key: str, record: SessionRecord) -> None: ...
    def load(self, key: str) -> SessionRecord | None: ...
    def delete(self, key: str) -> None: ...
    def purge_expired(self, now: dt.datetime) -> int: ...


class MemorySessionStore:
    """Sessions in this process's memory: for tests and one-process tools."""

    def __init__(self) -> None:
        self._records: dict[str, SessionRecord] = {}
        self._lock = threading.Lock()

    def save(self, key: str, record: SessionRecord) -> None:
        with self._lock:
            self._records[key] = record

    def load(self, key: str) -> SessionRecord | None:
        with self._lock:
            return self._records.get(key)

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def purge_expired(self, now: dt.datetime) -> int:
        with self._lock:
            gone = [k for k, r in self._records.items() if r.expires_at <= now]
            for key in gone:
                del self._records[key]
            return len(gone)


class SqlSessionStore:
    """Sessions in a SQL table (SQLite or PostgreSQL), shared by every worker process."""

    TABLE = "web_sessions"

    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key TEXT PRIMARY KEY,"
                " identity TEXT NOT NULL, csrf_token TEXT NOT NULL, created_at TEXT NOT NULL,"
                " expires_at TEXT NOT NULL)"
            )

    def save(self, key: str, record: SessionRecord) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.TABLE} (key, identity, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    record.identity.to_json(),
                    record.csrf_token,
                    _utc_text(record.created_at),
                    _utc_text(record.expires_at),
                ),
            )

    def load(self, key: str) -> SessionRecord | None:
        with self.database.transaction(write=False) as cur:
            cur.execute(
                f"SELECT identity, csrf_token, created_at, expires_at FROM {self.TABLE}"
                " WHERE key = ?",
                (key,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return SessionRecord(
            Identity.from_json(row[0]),
            row[1],
            dt.datetime.fromisoformat(row[2]),
            dt.datetime.fromisoformat(row[3]),
        )

    def delete(self, key: str) -> None:
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.TABLE} WHERE key = ?", (key,))

    def purge_expired(self, now: dt.datetime) -> int:
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.TABLE} WHERE expires_at <= ?", (_utc_text(now),))
            return int(cur.rowcount)


def _utc_text(moment: dt.datetime) -> str:
    """ISO text in UTC with a fixed width, so that text order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


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
