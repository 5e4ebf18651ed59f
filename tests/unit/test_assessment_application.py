"""The assessment application on a real SQLite store: uniqueness, hashing, tokens, freezing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.assessment.application import AssessmentApplication
from services.assessment.domain.instruments import InstrumentFrozen, WrongInstrumentKind
from services.assessment.domain.profiles import DuplicateProfile
from services.assessment.domain.reactions import SurveyClosed, TokenAlreadyUsed, UnknownToken
from services.assessment.domain.results import DuplicateResult
from services.assessment.domain.staff_survey import DuplicateStaffSurveyResult, GroupBelowMinimum
from services.assessment.domain.waves import Wave
from services.assessment.integration import translate
from shared.errors import ConflictError, NotFoundError
from shared.events import default_registry
from shared.outbox import Outbox
from shared.settings import Settings
from tests.unit.assessment_builders import behaviour, indices, reaction, staff, style
from tests.unit.factories import meta

SCORES = {"listening": 3, "sharing": 4, "blaming": 2}
FEB = dt.date(2020, 2, 3)
RATER = "peer.rater.zyxw@example.invalid"


@pytest.fixture
def app(settings: Settings) -> Iterator[AssessmentApplication]:
    application = AssessmentApplication(settings.eventstore_env("assessment"))
    yield application
    application.close()


def store_bytes(settings: Settings) -> bytes:
    """Everything on disk for the service: the database file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in Path(settings.data_dir).glob("assessment.sqlite*"))


def published(app: AssessmentApplication) -> list[tuple[str, dict[str, object]]]:
    outbox = Outbox("assessment", app, translate, default_registry())
    return [(e.type, e.data) for e in outbox.read(0, 1000).envelopes]


def test_recording_freezes_the_instrument_in_the_same_save(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    app.record_result(person, instrument.id, Wave.of("baseline"), "self", None, FEB, SCORES, meta())
    assert app.instrument(instrument.id).in_use
    with pytest.raises(InstrumentFrozen):
        app.revise_instrument(instrument.id, None, {"privacy": "named"}, meta())
    successor = app.new_instrument_version(instrument.id, None, {"privacy": "named"}, meta())
    assert successor.privacy == "named"
    assert app.instrument(instrument.id).superseded_by == successor.id


def test_one_result_per_wave_and_rater(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    record = app.record_result
    first = record(person, instrument.id, Wave.of("post"), "peer", RATER, FEB, SCORES, meta())
    with pytest.raises(DuplicateResult) as caught:
        record(person, instrument.id, Wave.of("post"), "peer", RATER, FEB, SCORES, meta())
    assert isinstance(caught.value, ConflictError)
    other_rater = record(person, instrument.id, Wave.of("post"), "peer", "r2", FEB, SCORES, meta())
    other_wave = record(
        person, instrument.id, Wave.of("baseline"), "peer", RATER, FEB, SCORES, meta()
    )
    assert len({first.id, other_rater.id, other_wave.id}) == 3
    app.void_result(first.id, "entered by mistake", meta())
    again = record(person, instrument.id, Wave.of("post"), "peer", RATER, FEB, SCORES, meta())
    assert again.id == first.id and not again.voided


def test_rater_ids_are_stored_only_as_hashes_that_differ_per_person(
    app: AssessmentApplication, settings: Settings
) -> None:
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    a, b = uuid.uuid4(), uuid.uuid4()
    one = app.record_result(a, instrument.id, Wave.of("post"), "peer", RATER, FEB, SCORES, meta())
    two = app.record_result(b, instrument.id, Wave.of("post"), "peer", RATER, FEB, SCORES, meta())
    assert one.rater_hash != two.rater_hash and RATER not in one.rater_hash
    assert RATER.encode() not in store_bytes(settings)
    for _, data in published(app):
        assert "rater_hash" not in data and "rater_id" not in data
        assert one.rater_hash not in str(data)


def test_raters_must_be_named_except_the_self(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    for group, rater in (("manager", None), ("self", "someone-else")):
        with pytest.raises(Exception) as caught:
            app.record_result(
                person, instrument.id, Wave.of("post"), group, rater, FEB, SCORES, meta()
            )
        assert getattr(caught.value, "field", None) == "rater_id"


def test_results_need_a_result_instrument(app: AssessmentApplication) -> None:
    survey = app.define_instrument("Staff", "staff_survey", staff(), meta())
    with pytest.raises(WrongInstrumentKind):
        app.record_result(uuid.uuid4(), survey.id, Wave.of("post"), "self", None, FEB, {}, meta())
    with pytest.raises(NotFoundError) as caught:
        app.record_result(
            uuid.uuid4(), uuid.uuid4(), Wave.of("post"), "self", None, FEB, {}, meta()
        )
    assert caught.value.field == "instrument_id"


def test_summary_shows_only_groups_that_meet_their_minimum(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    wave = Wave.of("baseline")
    app.record_result(person, instrument.id, wave, "self", None, FEB, SCORES, meta())
    for n, listening in enumerate((2, 3, 4)):
        app.record_result(
            person,
            instrument.id,
            wave,
            "peer",
            f"p{n}",
            FEB,
            {**SCORES, "listening": listening},
            meta(),
        )
    for n in range(2):
        app.record_result(
            person, instrument.id, wave, "direct_report", f"d{n}", FEB, SCORES, meta()
        )
    groups = {g["rater_group"]: g for g in app.summary(person, instrument.id)["waves"][0]["groups"]}
    assert groups["peer"]["means"]["listening"] == 3.0 and groups["peer"]["raters"] == 3
    assert groups["self"]["shown"]
    assert not groups["direct_report"]["shown"] and groups["direct_report"]["means"] is None
    assert groups["direct_report"]["raters"] is None


def test_profiles_one_per_wave_with_the_instrument_styles(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("Styles", "style_analysis", style(), meta())
    person = uuid.uuid4()
    wave = Wave.of("baseline")
    profile = app.record_profile(
        person, instrument.id, wave, FEB, "driver", None, {"pace": 40}, meta()
    )
    assert profile.primary == "driver"
    with pytest.raises(DuplicateProfile):
        app.record_profile(person, instrument.id, wave, FEB, "amiable", None, {}, meta())
    with pytest.raises(WrongInstrumentKind) as caught:
        app.record_profile(uuid.uuid4(), instrument.id, wave, FEB, "sleepy", None, {}, meta())
    assert caught.value.field == "primary"
    corrected = app.correct_profile(profile.id, "amiable", "driver", {}, "misread", meta())
    assert corrected.superseded[0]["primary"] == "driver"


def test_staff_survey_minimum_and_uniqueness(app: AssessmentApplication) -> None:
    survey = app.define_instrument("Staff", "staff_survey", staff(min_group_size=6), meta())
    head = app.head()
    with pytest.raises(GroupBelowMinimum):
        app.record_staff_result(survey.id, 2020, "unit", "TEM", "D", "U", 5, indices(), meta())
    assert app.head() == head  # never stored
    result = app.record_staff_result(survey.id, 2020, "unit", "TEM", "D", "U", 6, indices(), meta())
    with pytest.raises(DuplicateStaffSurveyResult):
        app.record_staff_result(survey.id, 2020, "unit", "TEM", "D", "U", 7, indices(), meta())
    app.correct_staff_result(result.id, 7, indices(3.6), "late answers", meta())
    assert app.staff_result(result.id).respondents == 7
    assert [r.year for r in app.staff_results(0, 10, year=2020).items] == [2020]
    assert app.staff_results(0, 10, year=2021).items == []


def test_a_token_is_used_once_and_a_response_names_nobody(
    app: AssessmentApplication, settings: Settings
) -> None:
    instrument = app.define_instrument("Reaction", "reaction_survey", reaction(), meta())
    cohort = uuid.uuid4()
    survey, tokens = app.issue_tokens(instrument.id, cohort, 3, meta("coord-1"))
    assert len(set(tokens)) == 3
    response = app.submit_reaction(
        survey.id, tokens[0], {"overall": 5, "virtual": 4}, {"best": "x"}
    )
    with pytest.raises(TokenAlreadyUsed):
        app.submit_reaction(survey.id, tokens[0], {"overall": 5, "virtual": 4}, {})
    with pytest.raises(UnknownToken) as caught:
        app.submit_reaction(survey.id, "guess", {"overall": 5, "virtual": 4}, {})
    assert caught.value.field == "token"
    stored = app.repository.get(response.id)
    assert stored.cohort_id == cohort and not hasattr(stored, "person_id")
    event = app.notifications_after(0, 100)[-1]
    assert b"anonymous" in event.state and b"coord-1" not in event.state
    raw = store_bytes(settings)
    for token in tokens:
        assert token.encode() not in raw
    assert app.response_count(survey.id) == 1


def test_a_bad_response_spends_no_token(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("Reaction", "reaction_survey", reaction(), meta())
    survey, (token,) = app.issue_tokens(instrument.id, uuid.uuid4(), 1, meta())
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the token must survive it
        app.submit_reaction(survey.id, token, {"overall": 9}, {})
    assert app.submit_reaction(survey.id, token, {"overall": 5, "virtual": 5}, {})


def test_closing_a_survey_forgets_its_tokens(app: AssessmentApplication) -> None:
    instrument = app.define_instrument("Reaction", "reaction_survey", reaction(), meta())
    survey, (token,) = app.issue_tokens(instrument.id, uuid.uuid4(), 1, meta())
    app.close_survey(survey.id, meta())
    assert app.keys.pepper(str(survey.id)) is None
    with pytest.raises(SurveyClosed):
        app.submit_reaction(survey.id, token, {"overall": 5, "virtual": 5}, {})
    with pytest.raises(SurveyClosed):
        app.issue_tokens(instrument.id, survey.cohort_id, 1, meta())


def test_every_published_event_loads_against_its_schema(app: AssessmentApplication) -> None:
    registry = default_registry()
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    result = app.record_result(
        person, instrument.id, Wave.of("follow_up", 6), "self", None, FEB, SCORES, meta()
    )
    app.correct_result(result.id, SCORES, None, "why", meta())
    app.void_result(result.id, "why", meta())
    app.record_result(
        person, instrument.id, Wave.of("follow_up", 6), "self", None, FEB, SCORES, meta()
    )
    app.retire_instrument(instrument.id, "done", meta())
    styles = app.define_instrument("Styles", "style_analysis", style(), meta())
    app.revise_instrument(styles.id, "Styles 2", {}, meta())
    profile = app.record_profile(
        person, styles.id, Wave.of("custom", label="March"), FEB, "driver", None, {}, meta()
    )
    app.correct_profile(profile.id, "amiable", None, {}, "why", meta())
    reactions = app.define_instrument("Reaction", "reaction_survey", reaction(), meta())
    survey, (token,) = app.issue_tokens(reactions.id, uuid.uuid4(), 1, meta())
    app.submit_reaction(survey.id, token, {"overall": 5, "virtual": 5}, {})
    app.close_survey(survey.id, meta())
    survey_instrument = app.define_instrument("Staff", "staff_survey", staff(), meta())
    staff_result = app.record_staff_result(
        survey_instrument.id, 2021, "organisation", "TEM", None, None, 99, indices(), meta()
    )
    app.correct_staff_result(staff_result.id, 98, indices(), "why", meta())
    types = set()
    for type_, data in published(app):
        registry.load(type_, data)
        types.add(type_)
    assert types == {t.type for t in registry if t.type.startswith("fi.polku.assessment.")}
