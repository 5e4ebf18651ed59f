"""Small-cell suppression and the differencing guard, applied to every aggregate answer.

A cell computed from fewer people than the minimum (the instrument's, or the configured
default) is shown as ``null`` with the reason, and its count is withheld too. A filtered
population is refused when it differs from the unfiltered one (or, with several filters, from
the one with fewer of them), or overlaps a population the same caller already received and
differs from it, by fewer than the minimum people: the difference of two answers would then
describe those few people.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
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


def figure(value: Any, n: int, minimum: int, reason: str | None) -> dict[str, Any]:
    """A cell; one that may be shown but has no value (nothing to compute it from) is null
    with ``reason``, not suppressed."""
    if n < minimum or value is not None:
        return cell(value, n, minimum)
    return {"value": None, "n": n, "suppressed": False, "reason": reason}


class DifferencingRefused(RuleViolation):
    """Two overlapping populations would expose fewer than the minimum by their difference."""


def check_difference(
    members: set[str],
    base: set[str],
    minimum: int,
    filters: Mapping[str, Any],
    *,
    wider: Mapping[str, Any] | None = None,
) -> None:
    """Refuses a filtered population that leaves out 1 to ``minimum - 1`` people of its base.

    ``base`` is the unfiltered population, or with ``wider`` the population of only those of
    ``filters``; the error names the first filter that narrows it.
    """
    left_out = len(base - members)
    if 0 < left_out < minimum:
        narrowing = sorted(k for k in filters if not wider or k not in wider)
        than = f"the group with only {_listed(wider)}" if wider else "the unfiltered group"
        raise DifferencingRefused(
            f"the filter {_listed(filters)} leaves out fewer than {minimum} people of {than}:"
            " comparing the two answers would describe those people",
            field=next(iter(narrowing), None),
        )


def check_narrowing(
    filters: Mapping[str, Any],
    population: Callable[[Mapping[str, Any]], set[str]],
    minimum: int,
) -> None:
    """Refuses ``filters`` when dropping any of them changes the population by too few.

    Every population with fewer of the same filters (none, or some) can be asked for by
    anyone, so each is a base the filtered one must not differ from by 1 to ``minimum - 1``
    people: with two filters, ``department`` alone as well as the unfiltered group.
    """
    if not filters:
        return
    members = population(filters)
    names = sorted(filters)
    for size in range(len(names)):
        for kept in combinations(names, size):
            wider = {name: filters[name] for name in kept}
            check_difference(members, population(wider), minimum, filters, wider=wider)


def _listed(filters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(filters.items()))


class PopulationLog:
    """The populations each caller has received per view, to refuse differencing across calls.

    Kept in ``tr_populations`` beside the read models (not derived from the logs, never
    compared by a replay). ``remember`` refuses a population that overlaps an earlier one with
    the same base and differs from it (in either direction) by 1 to ``minimum - 1`` people.
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
            # Overlapping, not only nested: two answers that share most people and each
            # hold a few others also tell those few apart when subtracted.
            if mine & other and 0 < len(mine ^ other) < minimum:
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
    return _listed(json.loads(key)) or "no filter"
