"""Scored results as the growth views read them: instruments, waves and rater-group values.

A *rating* is one non-voided result: one rater's scores of one person at one wave. A person's
*rater-group value* for a dimension is the mean over that group's raters (a person has one
self rating and one manager, but several peers). It counts only when at least the instrument's
``rater_group_minimums[group]`` raters scored the dimension (missing minimum: 1), so that no
figure reveals what one or two peers said.

Waves have keys: ``baseline``, ``midpoint``, ``post``, ``follow_up_<months>`` and
``custom:<label>``, ordered in that sequence (follow-ups by months, custom ones last).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from services.tracking.views.privacy import Policy
from shared.errors import NotFoundError, RuleViolation
from shared.sql import Cursor

GROWTH_KINDS = ("behaviour_assessment", "self_assessment")
"""Instruments with numeric scores per person (style profiles are categorical)."""
RATER_GROUPS = ("self", "manager", "peer", "direct_report", "coach")
BASELINE, POST = "baseline", "post"
_WAVE_RANK = {"baseline": 0, "midpoint": 1, "post": 2, "follow_up": 3, "custom": 4}


class UnknownInstrument(NotFoundError):
    """The instrument is not known to tracking (at ``as_of``)."""


class NotAGrowthInstrument(RuleViolation):
    """Growth is measured with behaviour and self-assessments only."""


@dataclass(frozen=True)
class Instrument:
    instrument_id: str
    name: str
    kind: str
    dimensions: list[dict[str, Any]]
    minimum: int
    """People a cell needs: the instrument's ``min_group_size``, else the policy default."""
    rater_minimums: dict[str, int] = field(default_factory=dict)

    def rater_minimum(self, group: str) -> int:
        return int(self.rater_minimums.get(group) or 1)

    @property
    def reverse_scored(self) -> set[str]:
        return {d["key"] for d in self.dimensions if d.get("reverse_scored")}

    def header(self) -> dict[str, Any]:
        return {
            "instrument_id": self.instrument_id,
            "name": self.name,
            "kind": self.kind,
            "minimum": self.minimum,
            "rater_group_minimums": {g: self.rater_minimum(g) for g in RATER_GROUPS},
            "dimensions": [
                {
                    "key": d["key"],
                    "label": d.get("label") or d["key"],
                    "reverse_scored": bool(d.get("reverse_scored")),
                }
                for d in self.dimensions
            ],
        }


def growth_instruments(
    cur: Cursor, policy: Policy, instrument_id: str | None = None
) -> dict[str, Instrument]:
    """The instruments growth is measured with, or just ``instrument_id`` (404/422 if not)."""
    cur.execute("SELECT instrument_id, name, kind, definition FROM tr_instruments")
    found = {}
    for iid, name, kind, definition in cur.fetchall():
        if instrument_id is not None and iid != instrument_id:
            continue
        if kind not in GROWTH_KINDS:
            if instrument_id is not None:
                raise NotAGrowthInstrument(
                    f"instrument {iid} is a {kind}; growth is measured with"
                    f" {' and '.join(GROWTH_KINDS)} instruments",
                    field="instrument_id",
                )
            continue
        spec = json.loads(definition)
        found[iid] = Instrument(
            iid,
            name,
            kind,
            list(spec.get("dimensions") or []),
            policy.for_instrument(spec),
            dict(spec.get("rater_group_minimums") or {}),
        )
    if instrument_id is not None and not found:
        raise UnknownInstrument(
            f"instrument {instrument_id} is not known to tracking (at that time)",
            field="instrument_id",
        )
    return found


def group_rank(group: str) -> int:
    """Rater groups in the order of ``RATER_GROUPS``, unknown ones last."""
    return RATER_GROUPS.index(group) if group in RATER_GROUPS else len(RATER_GROUPS)


def wave_key(wave: str, follow_up_months: int | None, label: str | None) -> str:
    if wave == "follow_up":
        return f"follow_up_{follow_up_months}"
    if wave == "custom":
        return f"custom:{label}"
    return wave


def wave_order(key: str) -> tuple[int, int, str]:
    """Sorts wave keys: baseline, midpoint, post, follow-ups by months, then custom by label."""
    if key.startswith("follow_up_"):
        return (_WAVE_RANK["follow_up"], int(key.removeprefix("follow_up_")), "")
    if key.startswith("custom:"):
        return (_WAVE_RANK["custom"], 0, key)
    return (_WAVE_RANK.get(key, len(_WAVE_RANK)), 0, key)


def is_follow_up(key: str) -> bool:
    return key.startswith("follow_up_")


def compared_with_baseline(key: str) -> bool:
    """The waves whose change from baseline is given: post and every follow-up."""
    return key == POST or is_follow_up(key)


def slot_order(slot: Slot) -> tuple[str, tuple[int, int, str], int]:
    """Slots by cohort, then wave, then rater group."""
    return slot[0], wave_order(slot[2]), group_rank(slot[3])


@dataclass(frozen=True)
class Rating:
    cohort_id: str
    person_id: str
    instrument_id: str
    wave: str
    rater_group: str
    scores: dict[str, float]


def ratings(
    cur: Cursor,
    instruments: Iterable[str],
    *,
    cohort_ids: list[str] | None = None,
    person_id: str | None = None,
    rater_group: str | None = None,
) -> list[Rating]:
    """Non-voided results of ``instruments``, of the cohorts and/or the person given."""
    wanted = list(instruments)
    if not wanted or cohort_ids == []:
        return []
    sql = (
        "SELECT cohort_id, person_id, instrument_id, wave, follow_up_months, wave_label,"
        " rater_group, scores FROM tr_results WHERE voided = 0"
        f" AND instrument_id IN ({_marks(wanted)})"
    )
    params: list[Any] = list(wanted)
    if cohort_ids is not None:
        sql += f" AND cohort_id IN ({_marks(cohort_ids)})"
        params += cohort_ids
    if person_id is not None:
        sql += " AND person_id = ?"
        params.append(person_id)
    if rater_group is not None:
        sql += " AND rater_group = ?"
        params.append(rater_group)
    cur.execute(sql + " ORDER BY result_id", params)
    return [
        Rating(
            cohort_id or "",
            person,
            iid,
            wave_key(wave, months, label),
            group,
            {k: float(v) for k, v in json.loads(scores).items() if v is not None},
        )
        for cohort_id, person, iid, wave, months, label, group, scores in cur.fetchall()
    ]


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)


@dataclass(frozen=True)
class GroupValue:
    """A person's rater-group value for one dimension at one wave (``None`` if too few)."""

    value: float | None
    raters: int
    minimum: int

    @property
    def counted(self) -> bool:
        return self.value is not None

    def reason(self, group: str) -> str | None:
        if self.counted:
            return None
        return (
            f"{self.raters} {group} rater(s), fewer than the minimum of {self.minimum}:"
            " not shown, so that no rater's answer can be singled out"
        )


Slot = tuple[str, str, str, str]
"""(cohort_id, person_id, wave, rater_group): one person's raters of one group at one wave."""


def group_values(
    instrument: Instrument, ratings_of: Iterable[Rating]
) -> dict[Slot, dict[str, GroupValue]]:
    """Each slot's value per dimension: the mean of its raters, if enough of them scored it."""
    slots: dict[Slot, list[Rating]] = defaultdict(list)
    for rating in ratings_of:
        if rating.instrument_id == instrument.instrument_id:
            slot = (rating.cohort_id, rating.person_id, rating.wave, rating.rater_group)
            slots[slot].append(rating)
    values: dict[Slot, dict[str, GroupValue]] = {}
    for slot, rows in slots.items():
        minimum = instrument.rater_minimum(slot[3])
        per_dimension = {}
        for dimension in instrument.dimensions:
            scored = [r.scores[dimension["key"]] for r in rows if dimension["key"] in r.scores]
            if scored:
                mean = fmean(scored) if len(scored) >= minimum else None
                per_dimension[dimension["key"]] = GroupValue(mean, len(scored), minimum)
        values[slot] = per_dimension
    return values
