"""Categories of failure that every layer understands, mapped to HTTP status by the web base.

Domains raise subclasses of these; the web layer maps the category, never the concrete class,
so a new rule needs no new mapping.
"""

from __future__ import annotations

from typing import Any


class PolkuError(Exception):
    """Base of expected failures. ``field`` names the input at fault, when there is one."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors
        """Several problems at once (``location``, ``field``, ``message``): an import's rows."""
        self.extra = extra or {}
        """Members added to the problem details, e.g. ``current_version``."""


class NotFoundError(PolkuError):
    """An id names nothing that exists (404)."""


class ConflictError(PolkuError):
    """The command contradicts the current state: full, duplicate, concurrent change (409)."""


class ConcurrentChange(ConflictError):
    """Another command changed the same aggregate first; the command can be retried."""


class StaleVersion(ConflictError):
    """The caller's ``If-Match`` names a version the aggregate has moved past (409)."""

    def __init__(self, what: str, expected: int, current: int) -> None:
        super().__init__(
            f"{what} is at version {current}, not {expected}; read it again and retry",
            extra={"current_version": current},
        )
        self.current_version = current


class RuleViolation(PolkuError):
    """The input breaks a rule of the domain regardless of state (422)."""
