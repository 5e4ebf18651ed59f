"""Instruments, results, style profiles, reaction responses and staff-survey indices."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler, as_json
from shared.events import Envelope
from shared.events import assessment as a
from shared.sql import Cursor

DEFINITION = (
    "dimensions",
    "scale",
    "privacy",
    "min_group_size",
    "rater_group_minimums",
    "allows_partial",
    "style_categories",
    "free_text_questions",
    "comment_minimum",
)
"""What the views need of an instrument, kept together as its ``definition``."""


def _definition(data: dict[str, Any]) -> str:
    return as_json({key: data.get(key) for key in DEFINITION})


def instrument_defined(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_instruments (instrument_id, family_id, name, kind, definition)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (instrument_id) DO NOTHING",
        (data["instrument_id"], data["family_id"], data["name"], data["kind"], _definition(data)),
    )


def instrument_revised(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_instruments SET name = ?, definition = ? WHERE instrument_id = ?",
        (data["name"], _definition(data), data["instrument_id"]),
    )


def instrument_retired(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_instruments SET retired = 1 WHERE instrument_id = ?", (data["instrument_id"],)
    )


def result_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_results (result_id, person_id, cohort_id, instrument_id, wave,"
        " follow_up_months, wave_label, rater_group, administered_on, scores)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (result_id) DO NOTHING",
        (
            data["result_id"],
            data["person_id"],
            data.get("cohort_id"),
            data["instrument_id"],
            data["wave"],
            data.get("follow_up_months"),
            data.get("wave_label"),
            data["rater_group"],
            data["administered_on"],
            as_json(data["scores"]),
        ),
    )


def result_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_results SET scores = ?, administered_on = ?, corrections = corrections + 1"
        " WHERE result_id = ?",
        (as_json(data["scores"]), data["administered_on"], data["result_id"]),
    )


def result_voided(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute("UPDATE tr_results SET voided = 1 WHERE result_id = ?", (data["result_id"],))


def profile_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_profiles (profile_id, person_id, cohort_id, instrument_id, wave,"
        " follow_up_months, wave_label, administered_on, primary_style, secondary_style, scores)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (profile_id) DO NOTHING",
        (
            data["profile_id"],
            data["person_id"],
            data.get("cohort_id"),
            data["instrument_id"],
            data["wave"],
            data.get("follow_up_months"),
            data.get("wave_label"),
            data["administered_on"],
            data["primary"],
            data.get("secondary"),
            as_json(data["scores"]),
        ),
    )


def profile_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_profiles SET primary_style = ?, secondary_style = ?, scores = ?,"
        " corrections = corrections + 1 WHERE profile_id = ?",
        (data["primary"], data.get("secondary"), as_json(data["scores"]), data["profile_id"]),
    )


def tokens_issued(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_reaction_surveys (survey_id, instrument_id, cohort_id, issued)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (survey_id)"
        " DO UPDATE SET issued = tr_reaction_surveys.issued + excluded.issued",
        (data["survey_id"], data["instrument_id"], data["cohort_id"], data["count"]),
    )


def survey_closed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_reaction_surveys SET closed = 1 WHERE survey_id = ?", (data["survey_id"],)
    )


def response_submitted(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    """Each response is its own aggregate, so the event id is the only key it has."""
    cur.execute(
        "INSERT INTO tr_reaction_responses (event_id, survey_id, instrument_id, cohort_id,"
        " answers, comments) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        (
            env.id,
            data["survey_id"],
            data["instrument_id"],
            data["cohort_id"],
            as_json(data["answers"]),
            as_json(data["comments"]),
        ),
    )


def staff_result_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO tr_staff_survey (result_id, instrument_id, year, level, organisation,"
        " department, unit, respondents, indices) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (result_id) DO NOTHING",
        (
            data["result_id"],
            data["instrument_id"],
            data["year"],
            data["level"],
            data["organisation"],
            data.get("department"),
            data.get("unit"),
            data["respondents"],
            as_json(data["indices"]),
        ),
    )


def staff_result_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tr_staff_survey SET respondents = ?, indices = ?, corrections = corrections + 1"
        " WHERE result_id = ?",
        (data["respondents"], as_json(data["indices"]), data["result_id"]),
    )


HANDLERS: dict[str, Handler] = {
    a.INSTRUMENT_DEFINED: instrument_defined,
    a.INSTRUMENT_REVISED: instrument_revised,
    a.INSTRUMENT_RETIRED: instrument_retired,
    a.RESULT_RECORDED: result_recorded,
    a.RESULT_CORRECTED: result_corrected,
    a.RESULT_VOIDED: result_voided,
    a.STYLE_PROFILE_RECORDED: profile_recorded,
    a.STYLE_PROFILE_CORRECTED: profile_corrected,
    a.REACTION_TOKENS_ISSUED: tokens_issued,
    a.REACTION_SURVEY_CLOSED: survey_closed,
    a.REACTION_RESPONSE_SUBMITTED: response_submitted,
    a.STAFF_SURVEY_RESULT_RECORDED: staff_result_recorded,
    a.STAFF_SURVEY_RESULT_CORRECTED: staff_result_corrected,
}
