"""Instruments, results, style profiles, reaction responses and staff-survey indices."""

from __future__ import annotations

from typing import Any

from services.tracking.projections.base import Handler, as_json
from services.tracking.versions import record, recorded_at, revise
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
    values = {k: data[k] for k in ("instrument_id", "family_id", "name", "kind")}
    values["definition"] = _definition(data)
    record(cur, "tr_instruments", values, recorded_at(env))


def instrument_revised(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"name": data["name"], "definition": _definition(data)}
    revise(cur, "tr_instruments", (data["instrument_id"],), lambda _: change, recorded_at(env))


def instrument_retired(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    key = (data["instrument_id"],)
    revise(cur, "tr_instruments", key, lambda _: {"retired": 1}, recorded_at(env))


def _corrected(old: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    return {**change, "corrections": int(old["corrections"]) + 1}


def result_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {
        "result_id": data["result_id"],
        "person_id": data["person_id"],
        "cohort_id": data.get("cohort_id"),
        "instrument_id": data["instrument_id"],
        "wave": data["wave"],
        "follow_up_months": data.get("follow_up_months"),
        "wave_label": data.get("wave_label"),
        "rater_group": data["rater_group"],
        "administered_on": data["administered_on"],
        "scores": as_json(data["scores"]),
    }
    record(cur, "tr_results", values, recorded_at(env))


def result_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"scores": as_json(data["scores"]), "administered_on": data["administered_on"]}
    revise(
        cur,
        "tr_results",
        (data["result_id"],),
        lambda old: _corrected(old, change),
        recorded_at(env),
    )


def result_voided(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    revise(cur, "tr_results", (data["result_id"],), lambda _: {"voided": 1}, recorded_at(env))


def profile_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {
        "profile_id": data["profile_id"],
        "person_id": data["person_id"],
        "cohort_id": data.get("cohort_id"),
        "instrument_id": data["instrument_id"],
        "wave": data["wave"],
        "follow_up_months": data.get("follow_up_months"),
        "wave_label": data.get("wave_label"),
        "administered_on": data["administered_on"],
        "primary_style": data["primary"],
        "secondary_style": data.get("secondary"),
        "scores": as_json(data["scores"]),
    }
    record(cur, "tr_profiles", values, recorded_at(env))


def profile_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {
        "primary_style": data["primary"],
        "secondary_style": data.get("secondary"),
        "scores": as_json(data["scores"]),
    }
    revise(
        cur,
        "tr_profiles",
        (data["profile_id"],),
        lambda old: _corrected(old, change),
        recorded_at(env),
    )


def tokens_issued(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    first = {k: data[k] for k in ("survey_id", "instrument_id", "cohort_id")}
    first["issued"] = data["count"]
    revise(
        cur, "tr_reaction_surveys", (data["survey_id"],),
        lambda old: {"issued": int(old["issued"]) + int(data["count"])},
        recorded_at(env), otherwise=first,
    )  # fmt: skip


def survey_closed(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    key = (data["survey_id"],)
    revise(cur, "tr_reaction_surveys", key, lambda _: {"closed": 1}, recorded_at(env))


def response_submitted(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    """Each response is its own aggregate, so the event id is the only key it has."""
    values = {
        "event_id": env.id,
        "survey_id": data["survey_id"],
        "instrument_id": data["instrument_id"],
        "cohort_id": data["cohort_id"],
        "answers": as_json(data["answers"]),
        "comments": as_json(data["comments"]),
    }
    record(cur, "tr_reaction_responses", values, recorded_at(env))


def staff_result_recorded(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    values = {k: data[k] for k in ("result_id", "instrument_id", "year", "level")}
    values.update(organisation=data["organisation"], department=data.get("department"))
    values.update(unit=data.get("unit"), respondents=data["respondents"])
    values["indices"] = as_json(data["indices"])
    record(cur, "tr_staff_survey", values, recorded_at(env))


def staff_result_corrected(cur: Cursor, env: Envelope, data: dict[str, Any]) -> None:
    change = {"respondents": data["respondents"], "indices": as_json(data["indices"])}
    revise(
        cur,
        "tr_staff_survey",
        (data["result_id"],),
        lambda old: _corrected(old, change),
        recorded_at(env),
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
