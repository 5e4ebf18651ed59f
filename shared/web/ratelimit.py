"""Rate limiting: 429 problem+json with ``Retry-After`` once a caller sends too many requests.

A caller is its bearer token's subject (with its role), or, without a valid token, its
address; each role has its own limit (``POLKU_RATE_LIMITS``, see :mod:`shared.rate_limits`),
and ``default`` applies to the rest. Counters live in the worker process's memory (Flask-
Limiter's ``memory://`` storage), so with several worker processes each counts on its own.
Health probes are never limited. Every guarded operation documents the 429.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from shared.auth import AuthError
from shared.web import take_correlation_id
from shared.web.problems import problem
from shared.web.security import max_lifetime, verified_principal

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})


def caller() -> tuple[str, str]:
    """The request's rate-limit key and the role whose limit applies to it."""
    known = g.get("polku_rate_caller")
    if known is not None:
        return known  # type: ignore[no-any-return]
    found = (f"address:{get_remote_address()}", "default")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            principal = verified_principal(token.strip(), max_lifetime())
        except AuthError:
            pass  # refused later with a 401; counted by address meanwhile
        else:
            found = (f"subject:{principal.role}:{principal.sub}", principal.role)
    g.polku_rate_caller = found
    return found


def install(
    app: Flask, limits: Mapping[str, str], before: Sequence[Callable[[], object]] = ()
) -> Limiter | None:
    """Limits every request of ``app`` but the health probes; None when ``limits`` is empty.

    The limit is checked first of the app's request hooks, after the correlation id and the
    hooks in ``before``."""
    if not limits:
        return None
    default = limits.get("default", "600/minute")

    def limit() -> str:
        return limits.get(caller()[1], default)

    limiter = Limiter(
        key_func=lambda: caller()[0],
        app=app,
        default_limits=[limit],
        default_limits_exempt_when=lambda: request.path in UNLIMITED_PATHS,
        headers_enabled=True,
        storage_uri="memory://",
        strategy="moving-window",
    )

    # Counted before anything reads the body: a flood of bad requests is limited too. Only the
    # correlation id (for the 429's problem) and the route (for its metric) come first.
    hooks = app.before_request_funcs.setdefault(None, [])
    first = [f for f in hooks if f in (take_correlation_id, *before)]
    check = limiter._check_request_limit
    hooks[:] = [*first, check, *(f for f in hooks if f not in first and f != check)]

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        return problem(
            429,
            "Too Many Requests",
            f"more requests than this caller may send ({error.limit.limit}); "
            "retry after the seconds in Retry-After",
        )

    return limiter
