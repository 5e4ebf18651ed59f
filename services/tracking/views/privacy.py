"""Primary suppression and the filter check, applied to every aggregate answer.

A cell computed from fewer people than the minimum (the instrument's, or the configured
default) is shown as ``null`` with the reason, and its count is withheld too (primary
suppression). A filtered population is refused (422) when it differs from the unfiltered one
(or, with several filters, from the one with fewer of them) by fewer than the minimum people:
the difference of two answers would then describe those few people. What was released before,
to anyone, is checked by the release ledger (:mod:`services.tracking.views.ledger`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from shared.errors import RuleViolation

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
