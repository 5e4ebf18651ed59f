"""One participant's own growth trajectory: their values per instrument, wave and rater group.

Self ratings are shown as given. Another group's value is the mean of its raters, shown only
when at least the instrument's minimum of that group scored; otherwise it is ``null`` with the
reason, so that a participant cannot read what one or two peers said. ``changes`` are the
person's own differences from baseline (later minus baseline), with ``improvement`` sign-flipped
on reverse-scored dimensions so that positive means better.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.tracking.views.privacy import Policy
from services.tracking.views.ratings import (
    BASELINE,
    GroupValue,
    Instrument,
    Slot,
    compared_with_baseline,
    group_values,
    growth_instruments,
    ratings,
    slot_order,
)
from services.tracking.views.stats import rounded
from shared.sql import Cursor


def cohorts_of_person(cur: Cursor, person_id: str) -> list[str] | None:
    """The cohorts ``person_id`` was ever enrolled in; ``None`` if tracking has no such person."""
    cur.execute("SELECT 1 FROM tr_people WHERE person_id = ?", (person_id,))
    if cur.fetchone() is None:
        return None
    cur.execute(
        "SELECT cohort_id FROM tr_participation WHERE person_id = ? AND enrolled_at IS NOT NULL"
        " ORDER BY cohort_id",
        (person_id,),
    )
    return [row[0] for row in cur.fetchall()]


def person_growth(
    cur: Cursor, person_id: str, policy: Policy, cohort_ids: list[str] | None = None
) -> dict[str, Any]:
    """The person's values and own changes per instrument.

    ``cohort_ids`` limits the results to those recorded for these cohorts (``None``: all).
    """
    instruments = growth_instruments(cur, policy)
    found = ratings(cur, instruments, cohort_ids=cohort_ids, person_id=person_id)
    out = []
    for instrument in sorted(instruments.values(), key=lambda i: (i.name, i.instrument_id)):
        values = group_values(instrument, found)
        if values:
            out.append(
                {
                    **instrument.header(),
                    "values": _values(instrument, values),
                    "changes": _changes(instrument, values),
                }
            )
    return {"person_id": person_id, "instruments": out}


def _each(
    instrument: Instrument, values: dict[Slot, dict[str, GroupValue]]
) -> Iterator[tuple[Slot, dict[str, Any], GroupValue]]:
    """Every (slot, dimension, value) in order: cohort, wave, rater group, dimension."""
    for slot in sorted(values, key=slot_order):
        for dimension in instrument.dimensions:
            value = values[slot].get(dimension["key"])
            if value is not None:
                yield slot, dimension, value


def _values(
    instrument: Instrument, values: dict[Slot, dict[str, GroupValue]]
) -> list[dict[str, Any]]:
    return [
        {
            "cohort_id": slot[0] or None,
            "wave": slot[2],
            "rater_group": slot[3],
            "dimension": dimension["key"],
            "value": rounded(value.value),
            "raters": value.raters,
            "reason": value.reason(slot[3]),
        }
        for slot, dimension, value in _each(instrument, values)
    ]


def _changes(
    instrument: Instrument, values: dict[Slot, dict[str, GroupValue]]
) -> list[dict[str, Any]]:
    """Later minus baseline wherever both of a group's values are shown."""
    rows = []
    for (cohort_id, person_id, wave, group), dimension, later in _each(instrument, values):
        if not compared_with_baseline(wave):
            continue
        start = values.get((cohort_id, person_id, BASELINE, group), {}).get(dimension["key"])
        if start is None or later.value is None or start.value is None:
            continue
        difference = later.value - start.value
        rows.append(
            {
                "cohort_id": cohort_id or None,
                "rater_group": group,
                "dimension": dimension["key"],
                "from": BASELINE,
                "to": wave,
                "difference": rounded(difference),
                "improvement": rounded(
                    -difference if dimension.get("reverse_scored") else difference
                ),
            }
        )
    return rows


PERSON_COLUMNS = [
    "instrument_id", "instrument", "cohort_id", "wave", "rater_group", "dimension", "value",
    "raters", "reason",
]  # fmt: skip


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per value of the person's trajectory."""
    rows = [
        [i["instrument_id"], i["name"], *(v[k] for k in PERSON_COLUMNS[2:])]
        for i in view["instruments"]
        for v in i["values"]
    ]
    return PERSON_COLUMNS, rows
