"""Planted individual values: scores and comments no public channel may carry.

Owns the scene the leak tests share: five people rated at baseline with scores no other test
or timestamp produces, a peer group of two raters (the issue's example: two peers' scores
read off an event), and a reaction survey whose comments are unique strings. It also finds
those values in raw bytes, with number boundaries so that a timestamp's microseconds
(``…:54.123789``) never pass for a score.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.auth import issue_token

Call = Callable[[str, str, Any, dict[str, str]], Any]
"""(method, path, JSON body, headers) → the parsed JSON answer, asserting success."""

SCALE = {"min": 1, "max": 2, "step": 0.0001}
DIMENSIONS = [{"key": "clarity", "label": "Clarity"}, {"key": "focus", "label": "Focus"}]
# Five people's self-ratings (clarity, focus): four decimals no other test uses.
SELF_SCORES = [
    (1.4123, 1.9871),
    (1.4519, 1.8643),
    (1.7183, 1.6021),
    (1.4142, 1.3179),
    (1.8867, 1.2361),
]
PEER_SCORES = [(1.9173, 1.6349), (1.5471, 1.2913)]
"""Two peers rating one person: below any minimum, so only the restricted channel has them."""
REACTION_ANSWERS = [(1.3571, 1.7531), (1.9753, 1.1597), (1.4681, 1.8642), (1.6257, 1.4813)]


@dataclass
class Planted:
    cohort_id: str
    instrument_id: str
    survey_id: str
    people: list[str]
    scores: list[float] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def found_in(self, raw: bytes) -> list[str]:
        """Every planted score or comment that occurs in ``raw``."""
        text = raw.decode("utf-8", errors="replace")
        found = [c for c in self.comments if c in text]
        found += [str(s) for s in self.scores if _number(s).search(text)]
        return found


def _number(value: float) -> re.Pattern[str]:
    # Not preceded by a digit or point and not followed by a digit: the number itself, not
    # a piece of a longer one (a timestamp's seconds, an id's digits).
    return re.compile(rf"(?<![\d.]){re.escape(str(value))}(?!\d)")


def plant(call: Call, secret: str) -> Planted:
    """Records the scene through the HTTP API of a running Polku (all three services)."""
    staff = {"Authorization": f"Bearer {issue_token(secret, 'planter', 'hr_admin')}"}
    tag = uuid.uuid4().hex[:12]
    programme = call("POST", "/enrolment/programmes", {"name": "P", "organisation": "TEM"}, staff)
    cohort = call(
        "POST",
        "/enrolment/cohorts",
        {
            "programme_id": programme["id"],
            "name": "Planted",
            "capacity": 10,
            "start_date": "2020-03-01",
            "end_date": "2020-11-30",
        },
        staff,
    )
    people = []
    for number in range(len(SELF_SCORES)):
        person = call(
            "POST",
            "/enrolment/people",
            {
                "full_name": f"Planted Person {number}",
                "email": f"planted.{number}@example.fi",
                "employee_number": f"P-{tag}-{number}",
                "organisation": "TEM",
                "department": "Innovation",
                "unit": "Digital",
            },
            staff,
        )
        enrolments = f"/enrolment/cohorts/{cohort['id']}/enrolments"
        call("POST", enrolments, {"person_id": person["id"]}, staff)
        people.append(person["id"])
    instrument = call(
        "POST",
        "/assessment/instruments",
        {
            "name": "Planted 360",
            "kind": "behaviour_assessment",
            "scale": SCALE,
            "dimensions": DIMENSIONS,
        },
        staff,
    )
    planted = Planted(cohort["id"], instrument["id"], "", people)

    def result(person: str, group: str, scores: tuple[float, float], rater: str | None) -> None:
        body = {
            "person_id": person,
            "instrument_id": instrument["id"],
            "cohort_id": cohort["id"],
            "wave": "baseline",
            "rater_group": group,
            "rater_id": rater,
            "administered_on": "2020-03-02",
            "scores": dict(zip(("clarity", "focus"), scores, strict=True)),
        }
        call("POST", "/assessment/results", body, staff)
        planted.scores.extend(scores)

    for person, scores in zip(people, SELF_SCORES, strict=True):
        result(person, "self", scores, None)
    for number, scores in enumerate(PEER_SCORES):
        result(people[0], "peer", scores, f"peer-{tag}-{number}")
    reaction = call(
        "POST",
        "/assessment/instruments",
        {
            "name": "Planted reaction",
            "kind": "reaction_survey",
            "scale": SCALE,
            "dimensions": [
                {"key": "overall", "label": "Overall"},
                {"key": "pace", "label": "Pace"},
            ],
            "free_text_questions": [{"key": "best", "label": "What was best?"}],
            "min_group_size": 3,
            "comment_minimum": 3,
        },
        staff,
    )
    issued = call(
        "POST",
        "/assessment/reaction-surveys/tokens",
        {"instrument_id": reaction["id"], "cohort_id": cohort["id"], "count": 6},
        staff,
    )
    planted.survey_id = issued["id"]
    respondent = {"Authorization": f"Bearer {issue_token(secret, people[1], 'participant')}"}
    tokens = issued["tokens"][: len(REACTION_ANSWERS)]
    for number, (token, answers) in enumerate(zip(tokens, REACTION_ANSWERS, strict=True)):
        comment = f"planted-comment-{tag}-{number}"
        body = {
            "token": token,
            "answers": dict(zip(("overall", "pace"), answers, strict=True)),
            "comments": {"best": comment},
        }
        call("POST", f"/assessment/reaction-surveys/{issued['id']}/responses", body, respondent)
        planted.scores.extend(answers)
        planted.comments.append(comment)
    # Tracking counts a survey's responses once it is closed (or from the end of their day).
    call("POST", f"/assessment/reaction-surveys/{issued['id']}/closure", {}, staff)
    return planted


def self_means() -> tuple[float, float]:
    """The self-rating means the growth view must show, from the planted values."""
    clarity, focus = zip(*SELF_SCORES, strict=True)
    return statistics.fmean(clarity), statistics.fmean(focus)


def reaction_means() -> tuple[float, float]:
    overall, pace = zip(*REACTION_ANSWERS, strict=True)
    return statistics.fmean(overall), statistics.fmean(pace)


def pages(get: Callable[[int], Any]) -> Iterable[Any]:
    """Every page of an events feed: ``get(after)`` answers one page."""
    after = 0
    while True:
        page = get(after)
        yield page
        if page["next_after"] is None:  # the page reached the head
            return
        after = page["next_after"]
