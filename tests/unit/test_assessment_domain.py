"""The assessment domain's rules: instruments, scales, waves, results, profiles, staff surveys."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.assessment.domain.instruments import (
    AlreadySuperseded,
    Instrument,
    InstrumentFrozen,
    InstrumentInvalid,
    InstrumentRetired,
    RaterGroupInvalid,
    WrongInstrumentKind,
)
from services.assessment.domain.profiles import StyleProfile, StylesInvalid
from services.assessment.domain.reactions import AnswersInvalid, check_answers, marker
from services.assessment.domain.results import DuplicateResult, Result, ResultVoided
from services.assessment.domain.scales import ScaleInvalid, ScoreInvalid, check_scale
from services.assessment.domain.staff_survey import (
    GroupBelowMinimum,
    OrgUnitInvalid,
    StaffSurveyResult,
)
from services.assessment.domain.waves import Wave, WaveInvalid
from shared.errors import ConflictError, RuleViolation
from tests.unit.assessment_builders import behaviour, indices, reaction, staff, style
from tests.unit.factories import meta

SCORES = {"listening": 3, "sharing": 4, "blaming": 2}


def define(kind: str = "behaviour_assessment", **definition: object) -> Instrument:
    given = {
        "behaviour_assessment": behaviour,
        "self_assessment": behaviour,
        "style_analysis": style,
        "reaction_survey": reaction,
        "staff_survey": staff,
    }[kind](**definition)
    return Instrument.define("Instrument", kind, given, meta())


def record(result_scores: dict[str, float] | None = None) -> Result:
    return Result.record(
        uuid.uuid4(),
        uuid.uuid4(),
        None,
        Wave.of("baseline"),
        "peer",
        "hash",
        dt.date(2020, 2, 1),
        result_scores or SCORES,
        meta(),
    )


# Instruments -----------------------------------------------------------------------------


def test_an_instrument_gets_the_default_minimums_and_index_set() -> None:
    survey = define("staff_survey")
    assert survey.min_group_size == 5
    assert survey.privacy == "anonymous"
    assert survey.dimension_keys[0] == "competence_learning_renewal"
    assert len(survey.dimension_keys) == 5
    assessment = define()
    assert assessment.rater_group_minimums == {
        "self": 1,
        "manager": 1,
        "peer": 3,
        "direct_report": 3,
        "coach": 1,
    }
    assert (assessment.instrument_version, assessment.family_id) == (1, assessment.id)


@pytest.mark.parametrize(
    ("kind", "definition", "field"),
    [
        ("behaviour_assessment", {"dimensions": []}, "dimensions"),
        ("behaviour_assessment", {"scale": {"min": 5, "max": 1, "step": 1}}, "scale.max"),
        ("behaviour_assessment", {"scale": {"min": 1, "max": 5, "step": 0}}, "scale.step"),
        ("behaviour_assessment", {"scale": {"min": 1, "max": 5, "step": 3}}, "scale.step"),
        ("behaviour_assessment", {"privacy": "anonymous"}, "privacy"),
        ("reaction_survey", {"privacy": "named"}, "privacy"),
        ("behaviour_assessment", {"min_group_size": 0}, "min_group_size"),
        (
            "behaviour_assessment",
            {"rater_group_minimums": {"friends": 2}},
            "rater_group_minimums.friends",
        ),
        ("style_analysis", {"style_categories": ["one"]}, "style_categories"),
        ("behaviour_assessment", {"style_categories": ["a", "b"]}, "style_categories"),
        (
            "behaviour_assessment",
            {"dimensions": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
            "dimensions.1",
        ),
        (
            "behaviour_assessment",
            {"dimensions": [{"key": "Bad Key", "label": "x"}]},
            "dimensions.0.key",
        ),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(
    kind: str, definition: dict[str, object], field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        define(kind, **definition)
    assert caught.value.field == field


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(InstrumentInvalid) as caught:
        Instrument.define("x", "horoscope", behaviour(), meta())
    assert caught.value.field == "kind"


def test_the_definition_can_change_until_answers_exist_then_only_the_name() -> None:
    instrument = define()
    instrument.revise(None, {"scale": {"min": 1, "max": 7, "step": 1}}, meta())
    assert instrument.scale["max"] == 7
    instrument.put_in_use(meta())
    instrument.revise("Renamed", {}, meta())
    assert instrument.name == "Renamed"
    for change in (
        {"scale": {"min": 1, "max": 5, "step": 1}},
        {"dimensions": [{"key": "x", "label": "X"}]},
        {"privacy": "named"},
    ):
        with pytest.raises(InstrumentFrozen) as caught:
            instrument.revise(None, change, meta())
        assert isinstance(caught.value, ConflictError)
        assert caught.value.field == next(iter(change))


def test_taking_into_use_happens_once() -> None:
    instrument = define()
    instrument.put_in_use(meta())
    version = instrument.version
    instrument.put_in_use(meta())
    assert instrument.version == version


def test_a_new_version_links_to_the_previous_and_supersedes_it_once() -> None:
    first = define()
    first.put_in_use(meta())
    second = first.next_version(None, {"scale": {"min": 1, "max": 7, "step": 1}}, meta())
    assert (second.instrument_version, second.family_id, second.previous_id) == (
        2,
        first.id,
        first.id,
    )
    assert second.scale["max"] == 7 and first.scale["max"] == 5
    assert first.superseded_by == second.id and not second.in_use
    with pytest.raises(AlreadySuperseded):
        first.next_version(None, {}, meta())


def test_a_retired_instrument_refuses_answers_and_a_second_retirement() -> None:
    instrument = define()
    instrument.retire("replaced", meta())
    with pytest.raises(InstrumentRetired):
        instrument.check_not_retired()
    with pytest.raises(InstrumentRetired):
        instrument.retire("again", meta())


def test_rater_groups_and_kinds_are_checked() -> None:
    assessment = define()
    with pytest.raises(RaterGroupInvalid):
        assessment.check_rater_group("friend")
    with pytest.raises(RaterGroupInvalid):
        define("self_assessment").check_rater_group("peer")
    with pytest.raises(WrongInstrumentKind):
        assessment.check_kind("staff_survey")
    with pytest.raises(WrongInstrumentKind) as caught:
        define("style_analysis").check_style("sleepy", "primary")
    assert caught.value.field == "primary"


# Scales and scores ---------------------------------------------------------------------------


def test_scores_must_be_on_the_scale_and_its_step() -> None:
    instrument = define()
    assert instrument.check_scores(SCORES) == SCORES
    for bad, field in (
        ({**SCORES, "listening": 6}, "scores.listening"),
        ({**SCORES, "listening": 0}, "scores.listening"),
        ({**SCORES, "listening": 2.5}, "scores.listening"),
        ({**SCORES, "listening": True}, "scores.listening"),
        ({**SCORES, "charm": 3}, "scores.charm"),
        ({"listening": 3, "sharing": 4}, "scores.blaming"),
    ):
        with pytest.raises(ScoreInvalid) as caught:
            instrument.check_scores(bad)
        assert caught.value.field == field


def test_partial_answers_only_where_the_instrument_allows_them() -> None:
    partial = define(allows_partial=True)
    assert partial.check_scores({"listening": 3}) == {"listening": 3}
    with pytest.raises(ScoreInvalid):
        partial.check_scores({})


def test_decimal_steps_are_judged_without_float_noise() -> None:
    scale = check_scale({"min": 1, "max": 5, "step": 0.01})
    survey = define("staff_survey")
    assert survey.check_scores(indices(3.41), "indices")
    with pytest.raises(ScoreInvalid):
        survey.check_scores(indices(3.415), "indices")
    assert scale["step"] == 0.01
    with pytest.raises(ScaleInvalid):
        check_scale({"min": 1, "max": 5, "step": 1, "labels": {"2.5": "half"}})


# Waves ----------------------------------------------------------------------------------------


def test_waves_have_keys_and_their_parts_are_checked() -> None:
    assert Wave.of("follow_up", 6).key == "follow_up:6"
    assert Wave.of("custom", label="spring").key == "custom:spring"
    assert Wave.from_key("follow_up:12") == Wave.of("follow_up", 12)
    for args, field in (
        (("sometime",), "wave"),
        (("follow_up",), "follow_up_months"),
        (("baseline", 3), "follow_up_months"),
        (("custom",), "wave_label"),
    ):
        with pytest.raises(WaveInvalid) as caught:
            Wave.of(*args)  # type: ignore[arg-type]
        assert caught.value.field == field


# Results --------------------------------------------------------------------------------------


def test_one_result_per_person_instrument_wave_and_rater_is_its_identity() -> None:
    person, instrument = uuid.uuid4(), uuid.uuid4()
    same = Result.id_for(person, instrument, Wave.of("post"), "h1")
    assert same == Result.id_for(person, instrument, Wave.of("post"), "h1")
    assert same != Result.id_for(person, instrument, Wave.of("post"), "h2")
    assert same != Result.id_for(person, instrument, Wave.of("baseline"), "h1")


def test_a_correction_supersedes_and_keeps_the_old_scores() -> None:
    result = record()
    result.correct({**SCORES, "listening": 5}, dt.date(2020, 2, 2), "typo", meta())
    assert result.scores["listening"] == 5
    assert result.superseded == [
        {"version": 1, "scores": SCORES, "administered_on": "2020-02-01", "voided": False}
    ]
    with pytest.raises(RuleViolation) as caught:
        result.correct(SCORES, dt.date(2020, 2, 2), " ", meta())
    assert caught.value.field == "reason"


def test_a_voided_result_refuses_corrections_but_its_slot_can_be_recorded_again() -> None:
    result = record()
    with pytest.raises(DuplicateResult):
        result.record_again(None, dt.date(2020, 2, 3), SCORES, meta())
    result.void("entered twice", meta())
    assert (result.voided, result.void_reason) == (True, "entered twice")
    with pytest.raises(ResultVoided):
        result.correct(SCORES, dt.date(2020, 2, 1), "x", meta())
    with pytest.raises(ResultVoided):
        result.void("again", meta())
    result.record_again(None, dt.date(2020, 2, 3), SCORES, meta())
    assert not result.voided and len(result.superseded) == 1


def test_a_result_date_must_be_plausible() -> None:
    with pytest.raises(RuleViolation) as caught:
        Result.record(
            uuid.uuid4(),
            uuid.uuid4(),
            None,
            Wave.of("post"),
            "self",
            "h",
            dt.date(1900, 1, 1),
            SCORES,
            meta(),
        )
    assert caught.value.field == "administered_on"


# Style profiles ---------------------------------------------------------------------------


def test_a_profile_needs_two_different_styles() -> None:
    with pytest.raises(StylesInvalid) as caught:
        StyleProfile.record(
            uuid.uuid4(),
            uuid.uuid4(),
            None,
            Wave.of("baseline"),
            dt.date(2020, 3, 1),
            "driver",
            "driver",
            {},
            meta(),
        )
    assert caught.value.field == "secondary"


# Reaction answers ---------------------------------------------------------------------------


def test_reaction_answers_are_checked_against_the_items_and_questions() -> None:
    survey = define("reaction_survey")
    args = (survey.scale, survey.dimensions, survey.free_text_questions)
    answers, comments = check_answers(
        *args, {"overall": 5, "virtual": 4}, {"best": "  peers  "}, False
    )
    assert (answers, comments) == ({"overall": 5, "virtual": 4}, {"best": "peers"})
    with pytest.raises(AnswersInvalid):
        check_answers(*args, {}, {"best": " "}, True)
    for bad_answers, bad_comments, field in (
        ({"overall": 9, "virtual": 4}, {}, "answers.overall"),
        ({"overall": 5}, {}, "answers.virtual"),
        ({"overall": 5, "virtual": 4, "mood": 3}, {}, "answers.mood"),
        ({"overall": 5, "virtual": 4}, {"worst": "x"}, "comments.worst"),
    ):
        with pytest.raises(RuleViolation) as caught:
            check_answers(*args, bad_answers, bad_comments, False)
        assert caught.value.field == field


def test_a_marker_depends_on_the_pepper_so_a_token_alone_cannot_make_it() -> None:
    token = "tok"
    first, second = marker("00" * 32, token), marker("11" * 32, token)
    assert first != second and token not in first


# Staff survey --------------------------------------------------------------------------------


def test_a_staff_survey_group_below_the_minimum_is_refused() -> None:
    def make(respondents: int) -> StaffSurveyResult:
        return StaffSurveyResult.record(
            uuid.uuid4(), 2020, "unit", "TEM", "D", "U", respondents, 5, indices(), meta()
        )

    assert make(5).respondents == 5
    with pytest.raises(GroupBelowMinimum) as caught:
        make(4)
    assert caught.value.field == "respondents"
    result = make(9)
    with pytest.raises(GroupBelowMinimum):
        result.correct(3, 5, indices(), "recount", meta())
    result.correct(8, 5, indices(4.0), "recount", meta())
    assert result.superseded[0]["respondents"] == 9 and result.respondents == 8


@pytest.mark.parametrize(
    ("level", "department", "unit", "field"),
    [
        ("team", "D", "U", "level"),
        ("unit", "D", None, "unit"),
        ("department", None, None, "department"),
        ("organisation", "D", None, "department"),
        ("department", "D", "U", "unit"),
    ],
)
def test_a_staff_survey_unit_must_name_the_right_levels(
    level: str, department: str | None, unit: str | None, field: str
) -> None:
    with pytest.raises(OrgUnitInvalid) as caught:
        StaffSurveyResult.record(
            uuid.uuid4(), 2020, level, "TEM", department, unit, 10, 5, indices(), meta()
        )
    assert caught.value.field == field
