"""The reaction and staff-survey figures the TEMPO pilot should show, from the scenario's own data.

Pure functions of ``services.scenario`` (no HTTP, no read model), so that the API tests and the
end-to-end Kafka test compare every view with the same independent computation.
"""

from __future__ import annotations

import statistics
from typing import Any

from services.assessment.domain.instruments import DEFAULT_MIN_GROUP_SIZE
from services.scenario import assessment, enrolment
from services.scenario.organisation import PARTICIPANTS

# Reaction ----------------------------------------------------------------------------------------

REACTION_MINIMUM = assessment.REACTION.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)
COMMENTS_FROM = max(REACTION_MINIMUM, assessment.REACTION["comment_minimum"])
ISSUED = len(PARTICIPANTS)
"""The loader issues one token per invited participant."""


def reaction() -> dict[str, Any]:
    """Responses, issued, rate, per item (n, mean, sd, distribution) and comments per question."""
    responses = assessment.reaction_answers()
    scale = assessment.REACTION["scale"]
    points = range(scale["min"], scale["max"] + 1, scale["step"])
    items = {}
    for dimension in assessment.REACTION["dimensions"]:
        values = [
            r["answers"][dimension["key"]] for r in responses if dimension["key"] in r["answers"]
        ]
        items[dimension["key"]] = {
            "n": len(values),
            "mean": statistics.mean(values),
            "sd": statistics.stdev(values),
            "distribution": {str(p): values.count(p) for p in points},
        }
    comments = {
        q["key"]: sorted(
            (r["comments"][q["key"]] for r in responses if r["comments"].get(q["key"], "").strip()),
            key=str.casefold,
        )
        for q in assessment.REACTION["free_text_questions"]
    }
    every_answer = [v for r in responses for v in r["answers"].values()]
    return {
        "responses": len(responses),
        "issued": ISSUED,
        "response_rate": len(responses) / ISSUED,
        "items": items,
        "comments": comments,
        "comments_shown": len(responses) >= COMMENTS_FROM,
        "mean_of_every_answer": statistics.mean(every_answer),
    }


# Staff survey ------------------------------------------------------------------------------------

STAFF_MINIMUM = assessment.STAFF["min_group_size"]
START_DATE = str(enrolment.COHORT["start_date"])
START_YEAR = int(START_DATE[:4])
END_YEAR = int(str(enrolment.COHORT["end_date"])[:4])


def participant_units() -> list[tuple[str, str]]:
    """(department, unit) of everyone who took part, as placed on the cohort's start date.

    The scenario's one reorganisation and every career move take effect after the start, so
    the registered placement holds; the withdrawn participant does not count.
    """
    assert enrolment.PLACEMENT_CHANGE[3].isoformat() > START_DATE
    assert all(m.start_date.isoformat() > START_DATE for m in enrolment.MOVES)
    return sorted({(m.department, m.unit) for m in PARTICIPANTS if m.key != enrolment.WITHDRAWN})


def participant_departments() -> list[str]:
    return sorted({department for department, _ in participant_units()})


def stored_rows() -> list[assessment.StaffRow]:
    """The rows the service kept: those below the minimum group size were refused."""
    return [r for r in assessment.staff_survey_rows() if r.respondents >= STAFF_MINIMUM]


def series(level: str, department: str | None = None, unit: str | None = None) -> dict[int, Any]:
    """Year -> (respondents, indices) of one org unit."""
    return {
        r.year: (r.respondents, r.indices)
        for r in stored_rows()
        if (r.level, r.department, r.unit) == (level, department, unit)
    }


def years() -> list[int]:
    return sorted({r.year for r in stored_rows()})


def before_year() -> int:
    return max(y for y in years() if y < START_YEAR)


def after_years() -> list[int]:
    return [y for y in years() if y > END_YEAR]


def _change(of: dict[int, Any], before: int, after: int, index: str) -> tuple[float, int] | None:
    if before not in of or after not in of:
        return None
    return of[after][1][index] - of[before][1][index], of[after][0]


def change(index: str, after: int) -> dict[str, Any]:
    """Units' mean change, the organisation's change and their difference, with the n of each.

    ``n`` is the respondents behind the after-year values: of the units counted, or of the
    organisation.
    """
    before = before_year()
    organisation = _change(series("organisation"), before, after, index)
    assert organisation is not None
    units = [
        c
        for department, unit in participant_units()
        if (c := _change(series("unit", department, unit), before, after, index)) is not None
    ]
    units_mean = statistics.mean(c for c, _ in units)
    return {
        "units": units_mean,
        "units_n": sum(n for _, n in units),
        "organisation": organisation[0],
        "organisation_n": organisation[1],
        "difference": units_mean - organisation[0],
        "units_counted": len(units),
    }


def staff_survey_summary() -> dict[str, float]:
    """Per index and in total (mean of the indices), the difference for the first after year."""
    first = after_years()[0]
    per_index = {index: change(index, first)["difference"] for index in assessment.INDICES}
    return {**per_index, "total": statistics.mean(per_index.values())}
