"""Bearer tokens: HS256 JWTs carrying a subject and one of Polku's roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

ROLES = ("hr_admin", "coordinator", "coach", "auditor", "participant", "service")
ISSUER = "polku"


class AuthError(Exception):
    """The token is missing, malformed, expired, or names no known role."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str


def issue_token(secret: str, sub: str, role: str, ttl: dt.timedelta | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not sub:
        raise ValueError("the subject must not be empty")
    return _encode(secret, sub, role, dt.datetime.now(dt.UTC), ttl or dt.timedelta(hours=12))


def _encode(secret: str, sub: str, role: str, issued: dt.datetime, ttl: dt.timedelta) -> str:
    claims = {"sub": sub, "role": role, "iss": ISSUER, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["sub", "role", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired") from None
    except jwt.PyJWTError as exc:
        raise AuthError(f"the token is not valid: {exc}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise AuthError(f"the token names an unknown role {role!r}")
    return Principal(sub=str(claims["sub"]), role=str(role))


def token_expiry(token: str) -> float:
    """The ``exp`` of a token already verified (so its signature is not checked again)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return float(claims["exp"])


class RenewingToken:
    """A service's own token, issued afresh before it expires; call it for the current one.

    A long-running projector pulling over HTTP would otherwise be refused (401) forever once
    its first token ran out.
    """

    def __init__(
        self,
        secret: str,
        sub: str,
        role: str,
        ttl: dt.timedelta = dt.timedelta(hours=1),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret, self.sub, self.role, self.ttl, self.clock = secret, sub, role, ttl, clock
        self._token = ""
        self._renew_at = 0.0

    def __call__(self) -> str:
        now = self.clock()
        if now >= self._renew_at:
            issued = dt.datetime.fromtimestamp(now, dt.UTC)
            self._token = _encode(self.secret, self.sub, self.role, issued, self.ttl)
            # Renew with a quarter of the lifetime left, so clock skew never lets it lapse.
            self._renew_at = now + 0.75 * self.ttl.total_seconds()
        return self._token


def subject_reference(secret: str, subject: str) -> str:
    """A keyed hash of a token subject, for events that must say "this account" without
    naming it: whoever holds the token secret can recognise a subject, no one can read one."""
    digest = hmac.new(secret.encode(), f"polku-subject:{subject}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
