"""Which of a growth answer's cells may be shown together, and with the release ledger.

Every wave cell and paired change of one instrument, dimension and rater group is checked
(:mod:`services.tracking.views.ledger`) on the measures it releases: a wave cell on its wave's
values, a change on both its waves' values over its pairs. The measure is named by instrument
(the family), dimension, rater group and wave; the population by cohort run
(``cohort_id:person_id``), so cohort and programme answers, filtered or not, share one ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from services.tracking.views.ledger import Releases, interned, suppress
from services.tracking.views.ratings import BASELINE, POST

Unit = tuple[str, str]
"""(cohort_id, person_id): pooled cohorts may hold one person twice; each run is its own."""


def shown_cohorts(at: dict[Unit, float], k: int) -> dict[Unit, float]:
    """The units of the cohorts with at least ``k`` of them.

    A cohort below the minimum adds nothing to a pooled figure: the programme's figure less
    the other cohorts' own would otherwise give its few people away. With one cohort this is
    the usual suppression.
    """
    sizes = Counter(map(itemgetter(0), at))
    small = {cohort_id for cohort_id, size in sizes.items() if size < k}
    if not small:
        return dict(at)
    return {unit: value for unit, value in at.items() if unit[0] not in small}


WAVE_FIGURES = ("n", "mean", "sd", "ci_low", "ci_high")
CHANGE_FIGURES = (
    "pairs", "mean_difference", "sd_difference", "ci_low", "ci_high", "d_z", "g_av", "improvement",
)  # fmt: skip


@dataclass(frozen=True)
class Wanted:
    """A cell to release: where it is in its instrument's answer, on which measures, over
    which population, and the figures that go with it."""

    rows: str
    """``cells`` or ``changes``."""
    index: int
    measures: tuple[str, ...]
    units: frozenset[str]
    keys: tuple[str, ...]


def plan(
    shown: dict[str, dict[Unit, float]],
    paired: dict[str, dict[Unit, float]],
    cells: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    offsets: tuple[int, int],
) -> list[Wanted]:
    """One dimension and rater group's cells in the order they are released, each with its
    measures and population; ``offsets`` are where ``cells`` and ``changes`` begin in the
    instrument's answer. ``shown`` holds each wave's units in the cohorts shown, ``paired``
    each later wave's shown pairs with the baseline (:func:`shown_cohorts`).

    A wave's measure is its values; a change releases both waves' values over its pairs, so
    it is checked on both (baseline n = 14 against post and pairs n = 13 would give the 14th
    baseline away). The change to post goes first, then the waves in order, then the other
    changes: of two cells that cannot both be shown, the headline change is kept.
    """
    where = {id(c): ("changes", offsets[1] + i) for i, c in enumerate(changes)}
    where.update({id(c): ("cells", offsets[0] + i) for i, c in enumerate(cells)})
    first = sorted(changes, key=lambda c: c["to"] != POST)
    wanted: list[tuple[dict[str, Any], tuple[str, ...], list[str], tuple[str, ...]]] = []
    for c in first[:1] if first and first[0]["to"] == POST else []:
        wanted.append((c, (BASELINE, POST), _unit_keys(paired[POST]), CHANGE_FIGURES))
    for c in cells:
        wanted.append((c, (c["wave"],), _unit_keys(shown[c["wave"]]), WAVE_FIGURES))
    for c in first[1:] if first and first[0]["to"] == POST else first:
        wanted.append((c, (BASELINE, c["to"]), _unit_keys(paired[c["to"]]), CHANGE_FIGURES))
    return [
        Wanted(
            *where[id(row)],
            tuple(f"{row['dimension']}|{row['rater_group']}|{wave}" for wave in waves),
            interned(units),
            keys,
        )
        for row, waves, units, keys in wanted
    ]


def release(
    instrument_id: str,
    answer: dict[str, Any],
    wanted: list[Wanted],
    releases: Releases,
    k: int,
) -> None:
    """Secondary suppression of an instrument's cells, against each other and the ledger, in
    the order :func:`plan` gives."""
    family = f"growth:{instrument_id}"
    for want in wanted:
        row = answer[want.rows][want.index]
        size = row[want.keys[0]]
        if size["suppressed"] or not size["value"]:
            continue
        reason = releases.admit(family, want.measures, want.units, k)
        if reason is not None:
            suppress(row, want.keys, reason)


def _unit_keys(units: Iterable[Unit]) -> list[str]:
    return list(map(":".join, units))
