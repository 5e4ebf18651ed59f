"""Loads the assessment side of the administration through the assessment application.

Three instruments (the pilot's behaviour assessment, reaction survey and staff survey, from
:mod:`services.scenario.assessment`) are defined with ``define_instrument``. Per cohort, every
completer is rated at baseline and after the programme by themselves, their manager and three
peers; results are checked with ``prepare_result`` (the instrument's scale, the rater hash) and
saved with the instrument, one ``save_all`` per cohort. Reaction responses are built as the
survey's own aggregates and saved with it, without response tokens: a benchmark has no
anonymous respondents to protect, and the token store is not what tracking reads. Staff-survey
indices for every unit, department and the organisation, every year, go through
``prepare_staff_result`` and are saved a year at a time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from benchmarks.state.enrolment import META, Enrolled, LoadedCohort
from benchmarks.state.plan import ORGANISATION, YEARS, Administration
from services.assessment.domain.reactions import (
    ReactionResponse,
    ReactionSurvey,
    anonymous_meta,
    check_answers,
)
from services.assessment.domain.results import Result
from services.assessment.domain.staff_survey import StaffSurveyResult
from services.assessment.domain.waves import Wave
from services.scenario.assessment import BEHAVIOUR, INDICES, REACTION, STAFF

PEERS = 3
RESPONSE_RATE = 0.75


def define(application: Any, definition: Mapping[str, Any]) -> Any:
    body = {k: v for k, v in definition.items() if k not in ("name", "kind")}
    return application.define_instrument(definition["name"], definition["kind"], body, META)


def load_assessment(application: Any, plan: Administration, enrolled: Enrolled) -> None:
    behaviour = define(application, BEHAVIOUR)
    reaction = define(application, REACTION)
    staff = define(application, STAFF)
    for cohort in enrolled.cohorts:
        rng = random.Random(f"{plan.seed}/assessment/{cohort.plan.number}")
        results = list(_ratings(application, behaviour, cohort, enrolled.person_ids, rng))
        behaviour.put_in_use(META)
        survey, responses = _reaction(reaction, cohort, rng)
        reaction.put_in_use(META)
        application.save_all(*results, survey, *responses, behaviour, reaction)
    _staff_survey(application, staff, plan)


def _ratings(
    application: Any,
    instrument: Any,
    cohort: LoadedCohort,
    person_ids: list[UUID],
    rng: random.Random,
) -> list[Result]:
    keys = [d["key"] for d in BEHAVIOUR["dimensions"]]
    baseline_on = cohort.plan.start + dt.timedelta(days=3)
    post_on = cohort.plan.end - dt.timedelta(days=5)
    results = []
    for person in cohort.completed:
        person_id = person_ids[person]
        level = {key: rng.choice((2, 3, 3, 4)) for key in keys}
        raters = [("self", None), ("manager", f"manager-of-{person}")]
        raters += [("peer", f"peer-{person}-{n}") for n in range(PEERS)]
        for group, rater in raters:
            base = {k: max(1, min(5, level[k] + rng.choice((-1, 0, 0, 1)))) for k in keys}
            post = {k: min(5, v + (rng.random() < 0.35)) for k, v in base.items()}
            for wave, on, scores in (("baseline", baseline_on, base), ("post", post_on, post)):
                _, rater_hash, checked = application.prepare_result(
                    instrument, person_id, Wave.of(wave), group, rater, scores
                )
                results.append(
                    Result.record(
                        person_id,
                        instrument.id,
                        cohort.id,
                        Wave.of(wave),
                        group,
                        rater_hash,
                        on,
                        checked,
                        META,
                    )
                )
    return results


def _reaction(
    instrument: Any, cohort: LoadedCohort, rng: random.Random
) -> tuple[ReactionSurvey, list[ReactionResponse]]:
    survey = ReactionSurvey(instrument.id, cohort.id, META)
    survey.issue(max(1, len(cohort.completed)), META)
    keys = [d["key"] for d in REACTION["dimensions"]]
    responses = []
    for n in range(len(cohort.completed)):
        if rng.random() >= RESPONSE_RATE:
            continue
        answers = {key: rng.choice((3, 4, 4, 5, 5)) for key in keys}
        comments = {"best": "The peer group work."} if n % 3 == 0 else {}
        checked, kept = check_answers(
            instrument.scale,
            instrument.dimensions,
            instrument.free_text_questions,
            answers,
            comments,
            instrument.allows_partial,
        )
        responses.append(
            ReactionResponse(survey.id, instrument.id, cohort.id, checked, kept, anonymous_meta())
        )
    survey.close(META)
    return survey, responses


def _staff_survey(application: Any, instrument: Any, plan: Administration) -> None:
    rng = random.Random(f"{plan.seed}/staff-survey")
    for year in YEARS:
        trend = (year - YEARS[0]) * 0.03
        rows: list[tuple[str, str | None, str | None, int]] = [
            ("unit", department, unit, rng.randint(5, 25)) for department, unit in plan.units
        ]
        rows += [("department", d, None, rng.randint(40, 200)) for d in plan.departments]
        rows.append(("organisation", None, None, max(5, plan.people * 3 // 4)))
        results = []
        for level, department, unit, respondents in rows:
            indices = {k: round(min(5.0, rng.uniform(3.2, 3.9) + trend), 2) for k in INDICES}
            _, checked = application.prepare_staff_result(
                instrument, year, level, ORGANISATION, department, unit, respondents, indices
            )
            results.append(
                StaffSurveyResult.record(
                    instrument.id,
                    year,
                    level,
                    ORGANISATION,
                    department,
                    unit,
                    respondents,
                    instrument.min_group_size,
                    checked,
                    META,
                )
            )
        instrument.put_in_use(META)
        application.save_all(*results, instrument)
