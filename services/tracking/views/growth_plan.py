"""Planning a growth answer: its figures and the cells it releases, before the ledger.

:func:`planned_values` turns one instrument's rater-group values (or their digest,
:class:`~.growth_rated.Rated`) into the answer's wave cells and paired changes, each a privacy
cell, with the cells to release in order (:func:`~.growth_release.plan`). The definitions of
the figures are :mod:`.growth`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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


Blocks = dict[tuple[Any, ...], tuple[dict[str, dict[Unit, float]], "Block"]]
"""A pool's planned blocks by (instrument, dimension, reverse-scored, rater group, waves,
minimum), with the values they were planned from (:func:`planned_values`)."""


@dataclass(frozen=True)
class Block:
    """One dimension and rater group's wave cells, changes and cells to release (their
    indices from the block's own start)."""

    cells: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    wanted: list[Wanted]


def planned_values(
    instrument: Instrument,
    values: dict[Slot, dict[str, GroupValue]] | Rated,
    blocks: Blocks | None = None,
) -> tuple[dict[str, Any], list[Wanted], tuple[Rated, list[tuple[str, bool]]]]:
    """:func:`planned_instrument` from the slots' rater-group values (or their digest).

    ``blocks`` keeps a pool's blocks between plannings: a block whose values are equal to
    those it was planned from is taken as it is (after one new result, most of them)."""
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
            name = (instrument.instrument_id, key, reverse, group, tuple(waves), k)
            kept = None if blocks is None else blocks.get(name)
            if kept is not None and kept[0] == by_wave:
                block = kept[1]
            else:
                block = _block(key, reverse, group, waves, by_wave, k)
            if blocks is not None:
                blocks[name] = (by_wave, block)
            wanted += [
                replace(w, index=w.index + (len(cells) if w.rows == "cells" else len(changes)))
                for w in block.wanted
            ]
            cells += block.cells
            changes += block.changes
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


def _block(
    key: str,
    reverse: bool,
    group: str,
    waves: list[str],
    by_wave: dict[str, dict[Unit, float]],
    k: int,
) -> Block:
    # Each wave's shown units and each change's shown pairs, worked out once: the cells, the
    # changes and the release plan all read them (each a pass over the pool's units).
    shown = {wave: shown_cohorts(by_wave[wave], k) for wave in waves}
    these = [_wave_cell(key, group, wave, shown[wave], k) for wave in waves]
    compared: list[dict[str, Any]] = []
    paired: dict[str, dict[Unit, float]] = {}
    if BASELINE in by_wave:
        baseline = by_wave[BASELINE]
        for later in waves:
            if compared_with_baseline(later):
                at_later = by_wave[later]
                paired[later] = shown_cohorts(
                    {u: baseline[u] for u in set(baseline) & set(at_later)}, k
                )
                compared.append(_change(key, reverse, group, paired[later], later, at_later, k))
    return Block(these, compared, plan(shown, paired, these, compared, (0, 0)))


def _people(units: Iterable[Unit]) -> int:
    return len(set(map(itemgetter(1), units)))


def _figure(value: float | None, n: int, minimum: int, reason: str | None) -> dict[str, Any]:
    return figure(rounded(value), n, minimum, reason)


def _wave_cell(
    dimension: str, group: str, wave: str, at: dict[Unit, float], k: int
) -> dict[str, Any]:
    """A wave's cell over ``at``, its values in the cohorts shown (:func:`shown_cohorts`)."""
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
    pairs: dict[Unit, float],
    later: str,
    at_later: dict[Unit, float],
    k: int,
) -> dict[str, Any]:
    """The change to ``later`` over ``pairs`` (the shown pairs, with their baseline values)."""
    # In any order: every sum behind the figures is math.fsum, exact whatever the order.
    units = list(pairs)
    change = paired_change([pairs[u] for u in units], [at_later[u] for u in units])
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
