"""Role checks for views, and the request metadata every event records.

Every guarded operation names the roles it admits in its OpenAPI document, as the extension
``x-roles``, so the role matrix can be read (and tested) from the documents alone. A resource
outside a caller's scope (a coach's cohorts, a participant's own records) is a 404, as if it did
not exist; a role that may never do an operation is a 403.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_smorest import abort

from shared.auth import (
    DEFAULT_MAX_LIFETIME,
    AuthError,
    Principal,
    token_expiry,
    verify_token,
)
from shared.oidc import OidcVerifier, acting
from shared.web import jwt_secret, sane_id, strict
from shared.web.blueprint import Blueprint

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="a bearer token is required (Authorization: Bearer <token>)")
    try:
        return _verified(jwt_secret(), token.strip(), max_lifetime())
    except AuthError as exc:
        abort(401, message=str(exc))
        raise  # unreachable: abort raises


MAX_LIFETIME_EXTENSION = "polku.jwt_max_lifetime"
"""Where the composition root puts the configured maximum token lifetime on an app."""


def max_lifetime() -> dt.timedelta:
    configured = current_app.extensions.get(MAX_LIFETIME_EXTENSION)
    return configured if isinstance(configured, dt.timedelta) else DEFAULT_MAX_LIFETIME


_CACHE_SIZE = 4096
_verified_tokens: dict[tuple[str, str, dt.timedelta], tuple[Principal, float]] = {}


def verified_principal(token: str, lifetime: dt.timedelta) -> Principal:
    """The principal of a token signed with the app's secret; raises :class:`AuthError`."""
    return _verified(jwt_secret(), token, lifetime)


OIDC_EXTENSION = "polku.oidc"
"""Where the composition root puts ``(OidcVerifier, audience)`` on an app with an issuer."""


def _verified(secret: str, token: str, lifetime: dt.timedelta) -> Principal:
    """Verifies a token once, then trusts it from memory until it expires.

    HS256 verification is a noticeable share of a short request; clients reuse tokens. With an
    issuer configured (:data:`OIDC_EXTENSION`), only the issuer's tokens are verified.
    """
    oidc: tuple[OidcVerifier, str] | None = current_app.extensions.get(OIDC_EXTENSION)
    if oidc is not None:
        secret = f"oidc:{id(oidc[0])}:{oidc[1]}"  # the cache key: this verifier, this audience
    key = (secret, token, lifetime)
    cached = _verified_tokens.get(key)
    if cached is not None and cached[1] > time.time():
        return cached[0]
    if oidc is not None:
        principal = oidc[0].verify(token, oidc[1])
    else:
        principal = verify_token(secret, token, lifetime)
    if len(_verified_tokens) >= _CACHE_SIZE:
        _verified_tokens.clear()  # crude but bounded; a miss only costs one verification
    _verified_tokens[key] = (principal, token_expiry(token))
    return principal


ROLES_EXTENSION = "x-roles"
"""The OpenAPI extension on an operation listing the roles :func:`requires` admits."""


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def requires(*roles: str) -> Callable[[F], F]:
    """Admits a request whose token is valid and whose role is one of ``roles``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if not principal.roles and principal.role and principal.role not in roles:
                abort(
                    403,
                    message=f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}",
                )
            try:
                # An issuer's token may grant several roles: it acts as one the route admits.
                principal = acting(principal, roles)
            except PermissionError as exc:
                abort(403, message=str(exc))
            g.principal = principal
            strict.reject_unknown_query()  # after admission: no token is still a 401
            return view(*args, **kwargs)

        strict.guarded(wrapper)

        # Every guarded operation documents the two refusals, naming the roles it admits.
        documented = Blueprint.doc(
            responses={
                "401": _problem(
                    "No valid bearer token: missing, malformed, badly signed, expired, not yet "
                    "valid, too long-lived, or with a wrong iss, aud or sub; with an OpenID "
                    "Connect issuer also a disallowed alg or a key (kid) the issuer does not "
                    "publish, or cannot be asked for. The problem's detail names the reason."
                ),
                "403": _problem(
                    f"The token's role may not do this; allowed: {', '.join(roles)} (an "
                    "issuer's token: none of the roles it grants, or a participant without a "
                    "person id claim). A resource "
                    "outside an allowed caller's scope (a coach: the cohorts they coach and "
                    "their participants; a participant: themselves) is a 404, never a 403."
                ),
                "429": _problem(
                    "Too many requests from this caller (its token's subject, else its "
                    "address) for its role's rate limit (POLKU_RATE_LIMITS, under `polku "
                    "serve`); Retry-After says when to try again."
                ),
            },
            **{ROLES_EXTENSION: list(roles)},
        )
        return documented(wrapper)  # type: ignore[no-any-return]

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
    if sane_id(causation):  # anything else is left out, as a correlation id is replaced
        meta["causation_id"] = causation
    return meta
