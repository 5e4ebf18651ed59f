"""The notation of ``POLKU_RATE_LIMITS``: a limit per role, in Flask-Limiter's terms.

``default=600/minute;service=60000/minute`` allows every caller 600 requests a minute, and a
service token 60,000 (a projector catching up over HTTP reads fast); ``off`` turns rate limiting
off. A caller is its token's subject, or its address when it presents no valid token (then the
``default`` limit applies).
"""

from __future__ import annotations

from collections.abc import Mapping

from limits import parse_many

from shared.auth import ROLES

DEFAULT_RATE_LIMITS: Mapping[str, str] = {"default": "600/minute", "service": "60000/minute"}


class RateLimitError(ValueError):
    """The notation is wrong; the message names the entry."""


def parse_rate_limits(raw: str | None) -> dict[str, str]:
    """``role=limit;role=limit`` (``default`` for every other caller) into a mapping; ``off``
    is none at all. Each limit is checked in the notation Flask-Limiter reads."""
    if raw is None or not raw.strip():
        return dict(DEFAULT_RATE_LIMITS)
    if raw.strip().lower() == "off":
        return {}
    limits: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(";"))):
        role, equals, limit = (text.strip() for text in entry.partition("="))
        if not equals or role not in (*ROLES, "default"):
            raise RateLimitError(
                f"{entry!r} must be role=limit with a role of {', '.join((*ROLES, 'default'))}"
            )
        try:
            parse_many(limit)
        except ValueError:
            raise RateLimitError(
                f"{limit!r} for {role} is not a limit such as 600/minute"
            ) from None
        limits[role] = limit
    limits.setdefault("default", DEFAULT_RATE_LIMITS["default"])
    return limits
