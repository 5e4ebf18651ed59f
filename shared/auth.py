"""Bearer tokens: HS256 JWTs carrying a subject and one of Polku's roles."""

from __future__ import annotations

import datetime as dt
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
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": sub,
        "role": role,
        "iss": ISSUER,
        "iat": now,
        "exp": now + (ttl or dt.timedelta(hours=12)),
    }
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
