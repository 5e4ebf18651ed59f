"""The TEMPO 2020 pilot's assessments, as synthetic, reproducible data and a loader.

* A work-community **behaviour assessment** (multi-rater: self, manager and three or four peers
  from the comparison group) at baseline (February 2020) and after the programme (June 2020),
  with a modest improvement.
* A work and operating **style analysis** in March 2020.
* The **reaction survey** after the programme (June 2020): a token per participant, 16 of 20
  answering, then closed (tracking counts a survey's responses once it closes, or from the end
  of the day they were sent).
* **Staff-survey** indices for every unit, every department and the ministry, 2019-2023. Some
  small units fall below the minimum group size in some years: the service refuses those (422),
  and the loader reports them as refused.

Everything is drawn from ``random.Random`` with fixed seeds, so tests compute the figures they
expect from these functions, never from what the system stored. ``load`` speaks only the public
HTTP API, through a :class:`~services.scenario.client.Call`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any, NamedTuple

from services.scenario.client import Call, ScenarioError
from services.scenario.organisation import COLLEAGUES, DEPARTMENTS, ORGANISATION, PARTICIPANTS

LIKERT = {
    "min": 1,
    "max": 5,
    "step": 1,
    "labels": {"1": "strongly disagree", "3": "neutral", "5": "strongly agree"},
}

BEHAVIOUR: dict[str, Any] = {
    "name": "Work-community behaviour assessment (synthetic)",
    "kind": "behaviour_assessment",
    "privacy": "pseudonymous",
    "dimensions": [
        {"key": "listening", "label": "Listens to others"},
        {"key": "knowledge_sharing", "label": "Shares knowledge"},
        {"key": "cross_unit_cooperation", "label": "Works across unit boundaries"},
        {"key": "feedback", "label": "Gives and asks for feedback"},
        {"key": "initiative", "label": "Takes initiative"},
        {"key": "withdrawing", "label": "Withdraws under pressure", "reverse_scored": True},
    ],
    "scale": LIKERT,
}
STYLE: dict[str, Any] = {
    "name": "Work and operating style analysis (synthetic)",
    "kind": "style_analysis",
    "privacy": "named",
    "style_categories": ["analytical", "driving", "amiable", "expressive"],
    "dimensions": [
        {"key": "assertiveness", "label": "Assertiveness"},
        {"key": "responsiveness", "label": "Responsiveness"},
    ],
    "scale": {"min": 0, "max": 100, "step": 1},
}
REACTION: dict[str, Any] = {
    "name": "TEMPO post-programme web survey (synthetic)",
    "kind": "reaction_survey",
    "dimensions": [
        {"key": "overall", "label": "The programme overall"},
        {"key": "clear_and_compact", "label": "Clear and compact"},
        {"key": "picture_of_ministry", "label": "Gave an overall picture of the ministry"},
        {"key": "peer_arena", "label": "Gave a peer arena"},
        {"key": "virtual_delivery", "label": "The virtual sessions worked"},
    ],
    "scale": LIKERT,
    "free_text_questions": [
        {"key": "best", "label": "What was best?"},
        {"key": "networking", "label": "How will you keep networking?"},
    ],
    "comment_minimum": 5,
}
STAFF: dict[str, Any] = {
    "name": "State staff survey indices (synthetic)",
    "kind": "staff_survey",
    "scale": {"min": 1, "max": 5, "step": 0.01},
    "min_group_size": 5,
}

BASELINE = dt.date(2020, 2, 14)
POST = dt.date(2020, 6, 12)
STYLE_DATE = dt.date(2020, 3, 13)
WAVES = (("baseline", BASELINE), ("post", POST))
YEARS = (2019, 2020, 2021, 2022, 2023)
RESPONDENTS = 16
COMMENTS = (
    "The small-group work on the behaviour assessment.",
    "Meeting experts from other departments.",
    "An overall picture of the ministry.",
    "Very good, clear and compact.",
)


class Rating(NamedTuple):
    person: str
    wave: str
    administered_on: dt.date
    rater_group: str
    rater: str
    scores: dict[str, int]


def _raters(person: str, rng: random.Random) -> list[tuple[str, str]]:
    peers = rng.sample([c.key for c in COLLEAGUES], rng.choice((3, 3, 4)))
    return [("self", person), ("manager", f"manager-of-{person}")] + [("peer", p) for p in peers]


def behaviour_ratings() -> list[Rating]:
    """Every rating, baseline and post: a modest rise, larger in cross-unit work."""
    rng = random.Random(2020)
    keys = [d["key"] for d in BEHAVIOUR["dimensions"]]
    ratings = []
    for member in PARTICIPANTS:
        level = {key: rng.choice((2, 3, 3, 4)) for key in keys}
        for group, rater in _raters(member.key, rng):
            lean = 1 if group == "self" and rng.random() < 0.3 else 0
            base = {k: max(1, min(5, level[k] + lean + rng.choice((-1, 0, 0, 1)))) for k in keys}
            ratings.append(Rating(member.key, "baseline", BASELINE, group, rater, base))
            post = {}
            for key in keys:
                gain = 1 if rng.random() < (0.5 if key == "cross_unit_cooperation" else 0.3) else 0
                change = -gain if key == "withdrawing" else gain
                post[key] = max(1, min(5, base[key] + change))
            ratings.append(Rating(member.key, "post", POST, group, rater, post))
    return ratings


def style_profiles() -> dict[str, dict[str, Any]]:
    """Each participant's style profile in March 2020."""
    rng = random.Random(2003)
    categories = STYLE["style_categories"]
    profiles = {}
    for member in PARTICIPANTS:
        primary, secondary = rng.sample(categories, 2)
        profiles[member.key] = {
            "primary": primary,
            "secondary": secondary,
            "scores": {"assertiveness": rng.randint(20, 90), "responsiveness": rng.randint(20, 90)},
        }
    return profiles


def reaction_answers() -> list[dict[str, Any]]:
    """The 16 responses (of 20 invited) to the post-programme survey."""
    rng = random.Random(2006)
    keys = [d["key"] for d in REACTION["dimensions"]]
    answers = []
    for n in range(RESPONDENTS):
        scores = {key: rng.choice((4, 4, 5, 5, 5, 3)) for key in keys}
        comments = {"best": COMMENTS[n % len(COMMENTS)]} if n % 2 == 0 else {}
        if n % 3 == 0:
            comments["networking"] = "Monthly lunches with the peer group."
        answers.append({"answers": scores, "comments": comments})
    return answers


class StaffRow(NamedTuple):
    year: int
    level: str
    department: str | None
    unit: str | None
    respondents: int
    indices: dict[str, float]


INDICES = (
    "competence_learning_renewal",
    "wellbeing_at_work",
    "own_work",
    "work_community",
    "leadership",
)
SMALL_UNITS = ("Integration Unit", "Legal Affairs Unit")
"""Units small enough to fall below the minimum of 5 respondents in some years."""


def staff_survey_rows() -> list[StaffRow]:
    """Ministry, department and unit indices for 2019-2023, with realistic respondent counts."""
    rng = random.Random(1919)
    rows = []
    for year in YEARS:
        trend = (year - 2019) * 0.04
        for department, units in DEPARTMENTS.items():
            for unit in units:
                small = unit in SMALL_UNITS
                count = rng.randint(3, 7) if small else rng.randint(8, 30)
                rows.append(StaffRow(year, "unit", department, unit, count, _indices(rng, trend)))
            rows.append(
                StaffRow(
                    year, "department", department, None, rng.randint(35, 80), _indices(rng, trend)
                )
            )
        rows.append(
            StaffRow(year, "organisation", None, None, rng.randint(330, 390), _indices(rng, trend))
        )
    return rows


def _indices(rng: random.Random, trend: float) -> dict[str, float]:
    return {key: round(min(5.0, rng.uniform(3.2, 3.9) + trend), 2) for key in INDICES}


def load(
    call: Call, cohort_id: str, people: Mapping[str, str], prefix: str = "tempo-2020"
) -> dict[str, Any]:
    """Loads every assessment of the pilot; ``people`` maps P01... to registered person ids.

    Returns the ids created and what was refused (staff-survey groups below the minimum).
    Every request but the reaction survey's carries an ``Idempotency-Key`` under ``prefix``;
    response tokens are shown once and never stored, so that part cannot be replayed.
    """
    ids = {
        name: call(
            "POST", "/assessment/instruments", definition, key=f"{prefix}/instrument/{name}"
        )["id"]
        for name, definition in (
            ("behaviour", BEHAVIOUR),
            ("style", STYLE),
            ("reaction", REACTION),
            ("staff", STAFF),
        )
    }
    for number, rating in enumerate(behaviour_ratings()):
        call(
            "POST",
            "/assessment/results",
            {
                "person_id": people[rating.person],
                "instrument_id": ids["behaviour"],
                "cohort_id": cohort_id,
                "wave": rating.wave,
                "rater_group": rating.rater_group,
                "rater_id": None if rating.rater_group == "self" else rating.rater,
                "administered_on": rating.administered_on.isoformat(),
                "scores": rating.scores,
            },
            role="coach",
            key=f"{prefix}/rating/{number}",
        )
    for key, profile in style_profiles().items():
        body = {
            "person_id": people[key],
            "instrument_id": ids["style"],
            "cohort_id": cohort_id,
            "wave": "custom",
            "wave_label": "March 2020",
            "administered_on": STYLE_DATE.isoformat(),
            **profile,
        }
        call("POST", "/assessment/style-profiles", body, role="coach", key=f"{prefix}/style/{key}")
    issued = call(
        "POST",
        "/assessment/reaction-surveys/tokens",
        {"instrument_id": ids["reaction"], "cohort_id": cohort_id, "count": len(PARTICIPANTS)},
        role="coordinator",
    )
    for token, response in zip(issued["tokens"], reaction_answers(), strict=False):
        path = f"/assessment/reaction-surveys/{issued['id']}/responses"
        call("POST", path, {"token": token, **response}, role="participant")
    closure = f"/assessment/reaction-surveys/{issued['id']}/closure"
    call("POST", closure, {}, role="coordinator", key=f"{prefix}/reaction/closure")
    recorded, refused = [], []
    for number, row in enumerate(staff_survey_rows()):
        body = {"instrument_id": ids["staff"], "organisation": ORGANISATION, **row._asdict()}
        try:
            path = "/assessment/staff-survey-results"
            recorded.append(call("POST", path, body, key=f"{prefix}/staff/{number}")["id"])
        except ScenarioError as error:
            if " 422 " not in f" {error} ":
                raise
            refused.append(row)
    return {
        "instruments": ids,
        "reaction_survey_id": issued["id"],
        "staff_survey_recorded": recorded,
        "staff_survey_refused": refused,
    }
