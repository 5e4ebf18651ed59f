"""Role checks for views, and the request metadata every event records."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_smorest import abort

from shared.auth import AuthError, Principal, verify_token
from shared.web import jwt_secret

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="a bearer token is required (Authorization: Bearer <token>)")
    try:
        return verify_token(jwt_secret(), token.strip())
    except AuthError as exc:
        abort(401, message=str(exc))
        raise  # unreachable: abort raises


def requires(*roles: str) -> Callable[[F], F]:
    """Admits a request whose token is valid and whose role is one of ``roles``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.role not in roles:
                abort(
                    403,
                    message=f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}",
                )
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def event_meta() -> dict[str, str]:
    """Who is acting and why, to be recorded on every event the request causes."""
    principal: Principal = g.principal
    meta = {
        "actor_sub": principal.sub,
        "actor_role": principal.role,
        "correlation_id": g.correlation_id,
    }
    causation = request.headers.get("X-Causation-ID", "").strip()
    if causation and len(causation) <= 128:
        meta["causation_id"] = causation
    return meta
