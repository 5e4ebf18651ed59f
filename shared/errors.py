"""Categories of failure that every layer understands, mapped to HTTP status by the web base.

Domains raise subclasses of these; the web layer maps the category, never the concrete class,
so a new rule needs no new mapping.
"""

from __future__ import annotations


class PolkuError(Exception):
    """Base of expected failures. ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(PolkuError):
    """An id names nothing that exists (404)."""


class ConflictError(PolkuError):
    """The command contradicts the current state: full, duplicate, concurrent change (409)."""


class ConcurrentChange(ConflictError):
    """Another command changed the same aggregate first; the command can be retried."""


class RuleViolation(PolkuError):
    """The input breaks a rule of the domain regardless of state (422)."""
