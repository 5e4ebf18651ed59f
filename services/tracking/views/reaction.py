"""The reaction view (Kirkpatrick L1): the anonymous post-programme survey of a cohort.

Per reaction-survey instrument, every survey of the cohort is pooled (the assessment service
keys a survey by instrument and cohort, so in practice there is one). Figures are per item:
how many answered it, the mean, the sample SD (n - 1) and how many gave each scale value. Every
figure is a cell with ``n`` = responses behind it, suppressed below the instrument's minimum
group size (else the configured default). Free text is shown only when the responses reach
``max(minimum, comment_minimum)``, each question's texts sorted alphabetically so that the
arrival order, which could be lined up with who was seen answering, is lost.

**When a response counts.** A response carries only the day it was sent (its event is stamped
at that day's midnight UTC, so the log does not say at which moment). It counts from the end of
that day, or from its survey's closing if that comes first (nothing can arrive after it), and
not before: live and for ``as_of`` alike. An ``as_of`` answer for a moment during the day
therefore equals what a live query returned then, and someone watching the live view cannot
see responses arrive one by one: they come in daily batches, or all at once at the closing.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from services.tracking.temporal import recorded_before
from services.tracking.views import memo as memos
from services.tracking.views.cohorts import cohort
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell
from services.tracking.views.reaction_release import release_mean, release_report
from shared.errors import NotFoundError
from shared.sql import Cursor

MAX_GRID = 101
"""A scale with more points than this lists only the values given, not every point."""


class UnknownSurvey(NotFoundError):
    """The survey is not known to tracking, or belongs to another cohort."""


@dataclass
class Pool:
    """The surveys of one instrument in a cohort, with their responses."""

    instrument_id: str
    name: str
    definition: dict[str, Any]
    surveys: list[str] = field(default_factory=list)
    issued: int = 0
    closed: bool = True
    answers: list[dict[str, float]] = field(default_factory=list)
    comments: list[dict[str, str]] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    """The responses' event ids, in the order of ``answers``: who the figures are over."""

    def answers_to(self, key: str) -> list[float]:
        return [float(a[key]) for a in self.answers if key in a]

    def answering(self, key: str) -> list[str]:
        return [r for r, a in zip(self.responses, self.answers, strict=True) if key in a]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def value_key(value: float) -> str:
    """A scale value as a distribution key: ``4`` not ``4.0``."""
    return f"{float(value):.10g}"


def _pools(
    cur: Cursor, cohort_id: str, view_day: dt.date, survey_id: str | None = None
) -> list[Pool]:
    """The cohort's reaction surveys pooled per instrument, in instrument-name order, with the
    responses counted on ``view_day``: those of earlier days, and all of a closed survey."""
    only = " AND s.survey_id = ?" if survey_id else ""
    params: tuple[Any, ...] = (cohort_id, survey_id) if survey_id else (cohort_id,)
    cur.execute(
        "SELECT s.survey_id, s.instrument_id, s.issued, s.closed, i.name, i.definition"
        " FROM tr_reaction_surveys s LEFT JOIN tr_instruments i"
        " ON i.instrument_id = s.instrument_id"
        f" WHERE s.cohort_id = ?{only} ORDER BY s.survey_id",
        params,
    )
    pools: dict[str, Pool] = {}
    for survey, instrument_id, issued, closed, name, definition in cur.fetchall():
        pool = pools.get(instrument_id)
        if pool is None:
            pool = pools[instrument_id] = Pool(
                instrument_id, name or instrument_id, json.loads(definition or "{}")
            )
        pool.surveys.append(survey)
        pool.issued += int(issued or 0)
        pool.closed = pool.closed and bool(closed)
    if not pools:
        return []
    surveys = [s for p in pools.values() for s in p.surveys]
    by_survey = {s: p for p in pools.values() for s in p.surveys}
    cur.execute(
        "SELECT r.survey_id, r.answers, r.comments, r.event_id FROM tr_reaction_responses r"
        " JOIN tr_reaction_surveys s ON s.survey_id = r.survey_id"
        f" WHERE r.survey_id IN ({', '.join('?' for _ in surveys)})"
        f" AND (s.closed = 1 OR {recorded_before('r', view_day)}) ORDER BY r.event_id",
        surveys,
    )
    for survey, answers, comments, event_id in cur.fetchall():
        by_survey[survey].answers.append(json.loads(answers))
        by_survey[survey].comments.append(json.loads(comments))
        by_survey[survey].responses.append(event_id)
    return sorted(pools.values(), key=lambda p: (p.name, p.instrument_id))


def _grid(scale: Mapping[str, Any], given: list[float]) -> list[str]:
    """Every point of the scale (min..max by step), or only the given values on a fine one."""
    low, high, step = (float(scale.get(k, d)) for k, d in (("min", 1), ("max", 5), ("step", 1)))
    points = round((high - low) / step) + 1 if step > 0 and high >= low else 0
    keys = [value_key(low + i * step) for i in range(points)] if 0 < points <= MAX_GRID else []
    extra = {value_key(v) for v in given} - set(keys)
    return sorted([*keys, *extra], key=float)


def _item(item: Mapping[str, Any], pool: Pool, minimum: int) -> dict[str, Any]:
    values = pool.answers_to(item["key"])
    n = len(values)
    counts = {key: 0 for key in _grid(pool.definition.get("scale") or {}, values)}
    for v in values:
        counts[value_key(v)] += 1
    mean = round(statistics.fmean(values), 4) if values else None
    sd = round(statistics.stdev(values), 4) if n >= 2 else None
    return {
        "key": item["key"],
        "label": item.get("label", item["key"]),
        "n": cell(n, n, minimum),
        "mean": cell(mean, n, minimum),
        "sd": cell(sd, n, minimum),
        "distribution": cell(counts, n, minimum),
    }


def _comments(pool: Pool, responses: int, threshold: int) -> list[dict[str, Any]]:
    reason = (
        None
        if responses >= threshold
        else f"free text is shown from {threshold} responses (max of the minimum group size"
        " and the comment minimum)"
    )
    questions = pool.definition.get("free_text_questions") or []
    shown = []
    for question in questions:
        texts = None
        if reason is None:
            given = [c.get(question["key"]) for c in pool.comments]
            kept = [t.strip() for t in given if isinstance(t, str) and t.strip()]
            texts = sorted(kept, key=lambda t: (t.casefold(), t))
        shown.append(
            {
                "key": question["key"],
                "label": question.get("label", question["key"]),
                "texts": texts,
                "reason": reason,
            }
        )
    return shown


def _report(pool: Pool, policy: Policy, releases: Releases) -> dict[str, Any]:
    minimum = policy.for_instrument(pool.definition)
    comment_minimum = int(pool.definition.get("comment_minimum") or 0)
    threshold = max(minimum, comment_minimum)
    responses = len(pool.answers)
    report = {
        "instrument_id": pool.instrument_id,
        "name": pool.name,
        "surveys": pool.surveys,
        "closed": pool.closed,
        "minimum": minimum,
        "comment_minimum": comment_minimum,
        "comments_from": threshold,
        "issued": pool.issued,
        "responses": cell(responses, responses, minimum),
        "response_rate": cell(_ratio(responses, pool.issued), responses, minimum),
        "items": [_item(i, pool, minimum) for i in pool.definition.get("dimensions") or []],
        "comments_shown": responses >= threshold,
        "comments": _comments(pool, responses, threshold),
    }
    release_report(pool, report, releases, minimum)
    return report


def reaction(
    cur: Cursor,
    cohort_id: str,
    policy: Policy,
    view_day: dt.date,
    survey_id: str | None = None,
    releases: Releases | None = None,
) -> dict[str, Any]:
    """The cohort's reaction surveys per instrument; ``survey_id`` narrows to one survey.

    ``releases`` checks the figures against the release ledger (:mod:`.reaction_release`).
    """
    releases = releases or Releases()
    facts = cohort(cur, cohort_id)
    pools = _pools(cur, cohort_id, view_day, survey_id)
    if survey_id and not pools:
        raise UnknownSurvey(
            f"reaction survey {survey_id} is not one of this cohort's (at that time)",
            field="survey_id",
        )
    return {**facts.header(), "instruments": [_report(p, policy, releases) for p in pools]}


def reaction_summary(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    view_day: dt.date,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """L1 for several cohorts: every answer's mean and the response rate, all surveys pooled.

    A cohort's survey counts only with at least the minimum of responses, and an item only
    with at least the minimum of answers, as the reaction view shows them: the pooled figure
    less the others' would otherwise give a withheld one away. The mean pools the answers
    counted (the instruments are assumed to share a scale, as a programme's reaction surveys
    do). The minimum is the strictest of the instruments' minimums. Unknown cohorts raise 404.
    Several cohorts' responses are kept in ``memo`` while the facts hold (:mod:`.memo`).
    """
    found = memos.get(
        memo if len(cohort_ids) > 1 else None,
        cur,
        ("reaction pools", tuple(cohort_ids), view_day),
        partial(_pools_of, cur, cohort_ids, view_day),
        ("tr_cohorts", "tr_instruments", "tr_reaction_surveys", "tr_reaction_responses"),
    )
    minimum = max((policy.for_instrument(p.definition) for p in found), default=policy.minimum)
    pools = [p for p in found if len(p.answers) >= minimum]
    responses = sum(len(p.answers) for p in pools)
    issued = sum(p.issued for p in pools)
    values = [v for p in pools for v in _shown_answers(p, minimum)]
    mean = cell(round(statistics.fmean(values), 4) if values else None, responses, minimum)
    if values:
        mean = release_mean(pools, minimum, releases or Releases()) or mean
    return {
        "cohorts": list(cohort_ids),
        "minimum": minimum,
        "issued": issued,
        "responses": cell(responses, responses, minimum),
        "response_rate": cell(_ratio(responses, issued), responses, minimum),
        "mean": mean,
    }


def _pools_of(cur: Cursor, cohort_ids: list[str], view_day: dt.date) -> list[Pool]:
    found: list[Pool] = []
    for cohort_id in cohort_ids:
        cohort(cur, cohort_id)
        found += _pools(cur, cohort_id, view_day)
    return found


def _shown_answers(pool: Pool, minimum: int) -> list[float]:
    """Every answer to the pool's items that the reaction view shows (answered by at least
    ``minimum``): a pooled mean over a withheld item would give its answers away."""
    values = []
    for item in pool.definition.get("dimensions") or []:
        answers = pool.answers_to(item["key"])
        if len(answers) >= minimum:
            values += answers
    return values


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per instrument and item: n, mean, SD and the distribution (`value: count; ...`)."""
    columns = ["instrument_id", "instrument", "item", "label", "n", "mean", "sd", "distribution"]
    rows = [
        [
            report["instrument_id"],
            report["name"],
            item["key"],
            item["label"],
            item["n"]["value"],
            item["mean"]["value"],
            item["sd"]["value"],
            item["distribution"]["value"],
        ]
        for report in view["instruments"]
        for item in report["items"]
    ]
    return columns, rows
