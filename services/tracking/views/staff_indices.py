"""Staff-survey results as the trend views read them: per instrument, organisational unit and
year, the respondents and the index values.

A value from fewer respondents than the instrument's minimum group size is never used, in a
series or in a change: the assessment service refuses such results, and this guards against any
stored before that rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

from services.tracking.views.privacy import Policy
from shared.errors import NotFoundError, RuleViolation
from shared.sql import Cursor

Key = tuple[str, str, str | None, str | None]
"""(level, organisation, department, unit) of a staff-survey result."""


class UnknownInstrument(NotFoundError):
    """The instrument is not known to tracking."""


class NotAStaffSurvey(RuleViolation):
    """The instrument exists but is not a staff survey."""


@dataclass
class Survey:
    """One staff-survey instrument's results: per org unit and year, respondents and indices."""

    instrument_id: str
    name: str
    minimum: int
    indices: list[dict[str, str]]
    results: dict[Key, dict[int, tuple[int, dict[str, float]]]] = field(default_factory=dict)

    @cached_property
    def years(self) -> list[int]:
        """Every year with a result (read once: a survey is not changed once read)."""
        return sorted({year for by_year in self.results.values() for year in by_year})

    def value(self, key: Key, year: int, index: str) -> tuple[float, int] | None:
        """The index value and respondents, when there is one that may be shown."""
        found = self.results.get(key, {}).get(year)
        if found is None or found[0] < self.minimum or index not in found[1]:
            return None
        return float(found[1][index]), found[0]

    def change(self, key: Key, before: int, after: int, index: str) -> tuple[float, int] | None:
        """After minus before, with the after year's respondents."""
        a, b = self.value(key, after, index), self.value(key, before, index)
        if a is None or b is None:
            return None
        return a[0] - b[0], a[1]


def surveys(cur: Cursor, policy: Policy, instrument_id: str | None = None) -> list[Survey]:
    """Every staff-survey instrument with its results, or the one asked for."""
    if instrument_id:
        cur.execute(
            "SELECT instrument_id, name, kind, definition FROM tr_instruments"
            " WHERE instrument_id = ?",
            (instrument_id,),
        )
    else:
        cur.execute(
            "SELECT instrument_id, name, kind, definition FROM tr_instruments"
            " WHERE kind = 'staff_survey' ORDER BY name, instrument_id"
        )
    rows = cur.fetchall()
    if instrument_id and not rows:
        raise UnknownInstrument(
            f"instrument {instrument_id} is not known to tracking (at that time)",
            field="instrument_id",
        )
    found = []
    for ident, name, kind, definition in rows:
        if kind != "staff_survey":
            raise NotAStaffSurvey(
                f"instrument {ident} is a {kind}, not a staff survey", field="instrument_id"
            )
        parsed = json.loads(definition)
        indices = [
            {"key": d["key"], "label": d.get("label", d["key"])}
            for d in parsed.get("dimensions") or []
        ]
        found.append(Survey(ident, name, policy.for_instrument(parsed), indices))
    for survey in found:
        cur.execute(
            "SELECT year, level, organisation, department, unit, respondents, indices"
            " FROM tr_staff_survey WHERE instrument_id = ?",
            (survey.instrument_id,),
        )
        for year, level, organisation, department, unit, respondents, values in cur.fetchall():
            key = (level, organisation, department, unit)
            survey.results.setdefault(key, {})[int(year)] = (int(respondents), json.loads(values))
        known = {i["key"] for i in survey.indices}
        extra = {k for by_year in survey.results.values() for _, v in by_year.values() for k in v}
        survey.indices += [{"key": k, "label": k} for k in sorted(extra - known)]
    return found


def unit_key(unit: tuple[str, str, str]) -> Key:
    return ("unit", unit[0], unit[1], unit[2])


def org_key(organisation: str) -> Key:
    return ("organisation", organisation, None, None)
