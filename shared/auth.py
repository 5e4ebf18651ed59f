"""Bearer tokens: HS256 JWTs carrying a subject and one of Polku's roles.

Verification is strict and names what is wrong: the algorithm must be HS256 and the signature
must verify; ``iss`` and ``aud`` must be Polku's; ``sub`` a non-empty string; ``exp`` a number,
at most :data:`DEFAULT_MAX_LIFETIME` (or the configured maximum) after ``iat``, or after now
for a token without ``iat``; ``nbf`` and ``iat`` may not lie in the future. A small leeway
absorbs clock skew between the issuer and the service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

ROLES = ("hr_admin", "coordinator", "coach", "auditor", "participant", "service")
ISSUER = "polku"
AUDIENCE = "polku"
DEFAULT_TTL = dt.timedelta(hours=12)
DEFAULT_MAX_LIFETIME = dt.timedelta(hours=24)
"""The longest a token may live (exp - iat) unless POLKU_JWT_MAX_LIFETIME says otherwise."""
LEEWAY = 30.0
"""Seconds of clock skew forgiven on ``exp``, ``nbf`` and ``iat``."""


class AuthError(Exception):
    """The token is missing, malformed, expired, or names no known role."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    roles: tuple[str, ...] = ()
    """Every role an issuer's token grants (empty for a development token: ``role`` alone)."""
    person_id: str | None = None
    """A participant's person id, from the issuer's configured claim."""
    client_id: str | None = None
    """The OIDC client the token was issued to (a service's subject)."""


def issue_token(
    secret: str,
    sub: str,
    role: str,
    ttl: dt.timedelta | None = None,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not sub:
        raise ValueError("the subject must not be empty")
    ttl = DEFAULT_TTL if ttl is None else ttl
    if ttl > max_lifetime:
        raise ValueError(
            f"a token may live at most {_hours(max_lifetime)} (POLKU_JWT_MAX_LIFETIME), "
            f"not {_hours(ttl)}"
        )
    return _encode(secret, sub, role, dt.datetime.now(dt.UTC), ttl)


def _hours(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def _encode(secret: str, sub: str, role: str, issued: dt.datetime, ttl: dt.timedelta) -> str:
    claims = {
        "sub": sub,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(
    secret: str,
    token: str,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
    now: float | None = None,
) -> Principal:
    """The token's principal, or :class:`AuthError` saying what is wrong with it."""
    claims = _signed_claims(secret, token)
    moment = time.time() if now is None else now
    sub = claims.get("sub")
    if sub is None:
        raise AuthError("the token has no subject (sub)")
    if not isinstance(sub, str):
        raise AuthError("the token's subject (sub) is not a string")
    if not sub.strip():
        raise AuthError("the token's subject (sub) is empty")
    if claims.get("iss") != ISSUER:
        raise AuthError(f"the token's issuer (iss) is not {ISSUER!r}")
    if not _audience_ok(claims.get("aud")):
        raise AuthError(f"the token's audience (aud) is not {AUDIENCE!r}")
    if claims.get("exp") is None:
        raise AuthError("the token has no expiry (exp)")
    exp = _number(claims, "exp") or 0.0
    iat = _number(claims, "iat")
    nbf = _number(claims, "nbf")
    if exp <= moment - LEEWAY:
        raise AuthError("the token has expired")
    if iat is not None and iat > moment + LEEWAY:
        raise AuthError("the token was issued in the future (iat)")
    if nbf is not None and nbf > moment + LEEWAY:
        raise AuthError("the token is not valid yet (nbf)")
    if exp - (moment if iat is None else iat) > max_lifetime.total_seconds():
        raise AuthError(
            f"the token lives longer than the allowed {_hours(max_lifetime)} (exp - iat)"
        )
    role = claims.get("role")
    if role not in ROLES:
        raise AuthError(f"the token names an unknown role {role!r}")
    return Principal(sub=sub, role=str(role))


def _signed_claims(secret: str, token: str) -> dict[str, Any]:
    """The claims of a token whose HS256 signature verifies; the claims themselves are checked
    by the caller, so that each failure has its own message."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise AuthError("the token is malformed (not a JWT)") from None
    if algorithm != "HS256":
        raise AuthError(f"the token's algorithm {algorithm!r} is not allowed; expected HS256")
    return signature_checked(token, secret, algorithm)


def signature_checked(
    token: str, key: Any, algorithm: str, *, jti_checked: bool = True
) -> dict[str, Any]:
    """The token's claims once its signature verifies under ``key`` with ``algorithm``; no
    other claim is checked here (each caller checks them, so each failure has its own message),
    but PyJWT's type check of ``jti`` unless ``jti_checked`` is False."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
                "verify_aud": False,
                "verify_sub": False,
                "verify_jti": jti_checked,
                "require": [],
            },
        )
    except jwt.InvalidSignatureError:
        raise AuthError("the token's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise AuthError(f"the token is malformed: {exc}") from None
    if not isinstance(claims, dict):
        raise AuthError("the token's payload is not a JSON object")
    return claims


def _audience_ok(aud: object) -> bool:
    if isinstance(aud, str):
        return aud == AUDIENCE
    return isinstance(aud, list) and AUDIENCE in aud


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthError(f"the token's {name} is not a number")
    return float(value)


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
