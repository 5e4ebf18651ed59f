"""Planning a growth answer: its figures and the cells it releases, before the ledger.

:func:`planned_values` turns one instrument's rater-group values (or their digest,
:class:`~.growth_rated.Rated`) into the answer's wave cells and paired changes, each a privacy
cell, with the cells to release in order (:func:`~.growth_release.plan`). The definitions of
the figures are :mod:`.growth`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from services.tracking.views.growth_rated import Rated
from services.tracking.views.growth_release import Unit, Wanted, plan, shown_cohorts
from services.tracking.views.privacy import cell, figure
from services.tracking.views.ratings import (
    BASELINE,
    GroupValue,
    Instrument,
    Slot,
    compared_with_baseline,
    group_rank,
    wave_order,
)
from services.tracking.views.stats import CONFIDENCE, describe, paired_change, rounded


@dataclass(frozen=True)
class Planned:
    """A growth answer before secondary suppression, with the cells it releases in order:
    what can be kept while the facts hold, as the ledger is checked on every answer."""

    answer: dict[str, Any]
    wanted: dict[str, list[Wanted]]
    """Per instrument id, its cells in release order."""
    headline_inputs: dict[str, tuple[Rated, list[tuple[str, bool]]]] = field(default_factory=dict)
    """Per instrument id, what its headlines are computed from once the cells are released:
    each person's counted values and the dimensions (key, reverse-scored)."""


def planned_values(
    instrument: Instrument, values: dict[Slot, dict[str, GroupValue]] | Rated
) -> tuple[dict[str, Any], list[Wanted], tuple[Rated, list[tuple[str, bool]]]]:
    """:func:`planned_instrument` from the slots' rater-group values (or their digest)."""
    rated = values if isinstance(values, Rated) else Rated.of(values)
    groups = sorted(rated.groups, key=group_rank)
    waves = sorted(rated.waves, key=wave_order)
    k = instrument.minimum
    people = len(rated.people)
    counted = rated.counted
    cells: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    wanted: list[Wanted] = []
    for dimension in instrument.dimensions:
        key, reverse = dimension["key"], bool(dimension.get("reverse_scored"))
        for group in groups:
            by_wave = {wave: counted.get((key, group, wave), {}) for wave in waves}
            these = [_wave_cell(key, group, wave, by_wave[wave], k) for wave in waves]
            compared: list[dict[str, Any]] = []
            if BASELINE in by_wave:
                compared = [
                    _change(key, reverse, group, by_wave[BASELINE], later, by_wave[later], k)
                    for later in waves
                    if compared_with_baseline(later)
                ]
            wanted += plan(by_wave, these, compared, k, (len(cells), len(changes)))
            cells += these
            changes += compared
    answer = {
        **instrument.header(),
        "rater_groups": groups,
        "waves": waves,
        "people": cell(people, people, k),
        "excluded": {group: cell(rated.short.get(group, 0), people, k) for group in groups},
        "cells": cells,
        "changes": changes,
        "summary": {},
        "headline": {},
        "confidence": CONFIDENCE,
    }
    turned = [(d["key"], bool(d.get("reverse_scored"))) for d in instrument.dimensions]
    return answer, wanted, (rated, turned)


def _people(units: Iterable[Unit]) -> int:
    return len(set(map(itemgetter(1), units)))


def _figure(value: float | None, n: int, minimum: int, reason: str | None) -> dict[str, Any]:
    return figure(rounded(value), n, minimum, reason)


def _wave_cell(
    dimension: str, group: str, wave: str, at: dict[Unit, float], k: int
) -> dict[str, Any]:
    at = shown_cohorts(at, k)
    n = _people(at)
    d = describe(list(at.values()))
    return {
        "dimension": dimension,
        "rater_group": group,
        "wave": wave,
        "n": cell(n, n, k),
        "mean": _figure(d.mean, n, k, "no values"),
        "sd": _figure(d.sd, n, k, "needs at least 2 people"),
        "ci_low": _figure(d.ci_low, n, k, "needs at least 2 people"),
        "ci_high": _figure(d.ci_high, n, k, "needs at least 2 people"),
    }


def _change(
    dimension: str,
    reverse: bool,
    group: str,
    baseline: dict[Unit, float],
    later: str,
    at_later: dict[Unit, float],
    k: int,
) -> dict[str, Any]:
    pairs = shown_cohorts({u: baseline[u] for u in set(baseline) & set(at_later)}, k)
    units = sorted(pairs)
    change = paired_change([baseline[u] for u in units], [at_later[u] for u in units])
    n = _people(units)
    mean = change.mean_difference
    improvement = None if mean is None else (-mean if reverse else mean)
    few = "needs at least 2 pairs"
    return {
        "dimension": dimension,
        "reverse_scored": reverse,
        "rater_group": group,
        "from": BASELINE,
        "to": later,
        "pairs": cell(n, n, k),
        "mean_difference": _figure(mean, n, k, "no pairs"),
        "sd_difference": _figure(change.sd_difference, n, k, few),
        "ci_low": _figure(change.ci_low, n, k, few),
        "ci_high": _figure(change.ci_high, n, k, few),
        "d_z": _figure(change.d_z, n, k, change.d_z_reason),
        "g_av": _figure(change.g_av, n, k, change.g_av_reason),
        "improvement": _figure(improvement, n, k, "no pairs"),
    }
