"""One instrument's rater-group values digested for planning a growth answer, and merged.

:func:`~.ratings.group_values` gives each slot (cohort, person, wave, rater group) its values
per dimension. Planning (:func:`.growth.planned_values`) reads them as a :class:`Rated`: the
rater groups and waves present, the people, each (dimension, rater group, wave)'s counted
values per unit (cohort run), and per rater group how many person-waves were left out for too
few raters. Slots of different cohorts never meet, so the digests of several cohorts merge
into the digest of their pool (:meth:`Rated.merged`): a pool is planned from its cohorts'
kept digests (:mod:`.growth_parts`) without going over every slot again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.tracking.views.growth_release import Unit
from services.tracking.views.headline import person_improvements
from services.tracking.views.ratings import GroupValue, Slot

Counted = dict[tuple[str, str, str], dict[Unit, float]]
"""(dimension, rater group, wave) -> each unit's counted value."""


@dataclass(frozen=True)
class Rated:
    groups: frozenset[str]
    waves: frozenset[str]
    people: frozenset[str]
    counted: Counted
    short: Counter[str]
    """Per rater group, the person-waves with a dimension of too few raters."""
    parts: tuple[Rated, ...] = ()
    """What a merged digest was merged from."""
    _improved: dict[tuple[tuple[tuple[str, bool], ...], str], dict[Unit, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _kept: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def kept(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept under ``key``: what a headline reads from every unit is a
        function of these values and of its key (dimensions, rater group, minimum). Not to be
        changed."""
        if key not in self._kept:
            self._kept[key] = compute()
        return self._kept[key]

    def improvements(self, dimensions: Sequence[tuple[str, bool]], group: str) -> dict[Unit, float]:
        """:func:`~.headline.person_improvements`, kept: a unit's improvement is its own
        values', so a merged digest joins its parts' kept ones. Not to be changed."""
        key = (tuple(dimensions), group)
        found = self._improved.get(key)
        if found is None:
            if self.parts:
                found = {}
                for part in self.parts:
                    found.update(part.improvements(dimensions, group))
            else:
                found = person_improvements(self.counted, dimensions, group)
            self._improved[key] = found
        return found

    @classmethod
    def of(cls, values: dict[Slot, dict[str, GroupValue]]) -> Rated:
        counted: Counted = defaultdict(dict)
        short: Counter[str] = Counter()
        for slot, dims in values.items():
            cohort_id, person_id, wave, group = slot
            for dimension, value in dims.items():
                if value.value is not None:
                    counted[(dimension, group, wave)][(cohort_id, person_id)] = value.value
            if any(not v.counted for v in dims.values()):
                short[group] += 1
        return cls(
            frozenset(slot[3] for slot in values),
            frozenset(slot[2] for slot in values),
            frozenset(slot[1] for slot in values),
            counted,
            short,
        )

    @classmethod
    def merged(cls, parts: Iterable[Rated]) -> Rated:
        """The digest of the slots of all ``parts`` (of different cohorts) together."""
        parts = list(parts)
        counted: Counted = defaultdict(dict)
        short: Counter[str] = Counter()
        for part in parts:
            for key, units in part.counted.items():
                counted[key].update(units)
            short.update(part.short)
        return cls(
            frozenset().union(*(p.groups for p in parts)),
            frozenset().union(*(p.waves for p in parts)),
            frozenset().union(*(p.people for p in parts)),
            counted,
            short,
            tuple(parts),
        )
