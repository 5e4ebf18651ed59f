"""Small-cell suppression and the differencing guard, applied to every aggregate answer.

A cell computed from fewer people than the minimum (the instrument's, or the configured
default) is shown as ``null`` with the reason, and its count is withheld too. A filtered
population is refused when it differs from the unfiltered one, or from a population the same
caller already received, by fewer than the minimum people: the difference of two answers would
then describe those few people.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import RuleViolation
from shared.sql import Cursor

DEFAULT_MINIMUM = 5


@dataclass(frozen=True)
class Policy:
    """The configured default minimum; an instrument's own minimum overrides it."""

    minimum: int = DEFAULT_MINIMUM

    def for_instrument(self, definition: Mapping[str, Any] | None) -> int:
        if definition and definition.get("min_group_size"):
            return int(definition["min_group_size"])
        return self.minimum


def suppressed_reason(n: int, minimum: int) -> str:
    return f"computed from fewer than {minimum} people ({minimum} is the minimum)"


def cell(value: Any, n: int, minimum: int) -> dict[str, Any]:
    """A value with the number of people behind it, or null and the reason when too few."""
    if n < minimum:
        return {
            "value": None,
            "n": None,
            "suppressed": True,
            "reason": suppressed_reason(n, minimum),
        }
    return {"value": value, "n": n, "suppressed": False, "reason": None}


def allowed(n: int, minimum: int) -> bool:
    return n >= minimum


class DifferencingRefused(RuleViolation):
    """Two overlapping populations would expose fewer than the minimum by their difference."""


def check_difference(
    members: set[str], base: set[str], minimum: int, filters: Mapping[str, Any]
) -> None:
    """Refuses a filtered population that leaves out fewer than ``minimum`` of its base."""
    left_out = len(base - members)
    if 0 < left_out < minimum:
        named = ", ".join(f"{k}={v}" for k, v in sorted(filters.items()))
        raise DifferencingRefused(
            f"the filter {named} leaves out fewer than {minimum} people of the unfiltered"
            " group: comparing the two answers would describe those people",
            field=next(iter(sorted(filters)), None),
        )


class PopulationLog:
    """The populations each caller has received per view, to refuse differencing across calls.

    Kept in ``tr_populations`` beside the read models (not derived from the logs, never
    compared by a replay). ``remember`` refuses a population whose difference from an earlier
    one with the same base is non-empty but smaller than the minimum.
    """

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur

    def remember(
        self,
        subject: str,
        view: str,
        base: str,
        filters: Mapping[str, Any],
        members: Iterable[str],
        minimum: int,
    ) -> None:
        key = json.dumps(dict(sorted(filters.items())), default=str)
        mine = set(members)
        self.cur.execute(
            "SELECT filters, members FROM tr_populations WHERE subject = ? AND view = ?"
            " AND base = ? AND filters <> ?",
            (subject, view, base, key),
        )
        for other_filters, other_members in self.cur.fetchall():
            other = set(json.loads(other_members))
            if mine <= other or other <= mine:
                difference = len(mine ^ other)
                if 0 < difference < minimum:
                    raise DifferencingRefused(
                        f"these filters ({_named(key)}) and ones you used before"
                        f" ({_named(other_filters)}) differ by fewer than {minimum} people:"
                        " comparing the two answers would describe those people",
                        field=next(iter(sorted(filters)), None),
                    )
        self.cur.execute(
            "INSERT INTO tr_populations (subject, view, base, filters, members, at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject, view, base, filters)"
            " DO UPDATE SET members = excluded.members, at = excluded.at",
            (
                subject,
                view,
                base,
                key,
                json.dumps(sorted(mine)),
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )


def _named(key: str) -> str:
    filters = json.loads(key)
    return ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filter"
