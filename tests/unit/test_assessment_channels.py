"""The assessment service's two channels: the public one minimised, the restricted one in full."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from services.assessment.application import AssessmentApplication
from services.assessment.domain.waves import Wave
from services.assessment.integration import translate, translate_restricted
from services.runtime import build_write_service
from shared.events import assessment as contract
from shared.events import default_registry, restricted_registry
from shared.events.assessment_public import SENSITIVE
from shared.outbox import Outbox
from shared.settings import Settings
from tests.unit.assessment_builders import behaviour, indices, reaction, staff, style
from tests.unit.factories import meta
from tests.unit.test_relay_and_projector import BrokerDown, FakeProducer

FEB = dt.date(2020, 2, 3)
# Values no envelope field could produce by chance.
SCORES = {"listening": 3.0, "sharing": 4.0, "blaming": 2.0}
FIXED = {"listening": 1.0, "sharing": 5.0, "blaming": 1.0}
REASON = "void-reason-3f9a7c"
COMMENT = "comment-text-8e1d42"
INDIVIDUAL_FIELDS = {"scores", "answers", "comments", "primary", "secondary", "reason"}


@pytest.fixture
def app(settings: Settings) -> Iterator[AssessmentApplication]:
    application = AssessmentApplication(settings.eventstore_env("assessment"))
    every_type(application)
    yield application
    application.close()


def every_type(app: AssessmentApplication) -> None:
    """One event of every assessment type, the sensitive ones with values worth hiding."""
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), meta())
    person = uuid.uuid4()
    wave = Wave.of("follow_up", 6)
    result = app.record_result(person, instrument.id, wave, "peer", "r-1", FEB, SCORES, meta())
    app.correct_result(result.id, FIXED, None, "typo", meta())
    app.void_result(result.id, REASON, meta())
    app.record_result(person, instrument.id, wave, "peer", "r-1", FEB, SCORES, meta())
    app.retire_instrument(instrument.id, "done", meta())
    styles = app.define_instrument("Styles", "style_analysis", style(), meta())
    app.revise_instrument(styles.id, "Styles 2", {}, meta())
    profile = app.record_profile(
        person, styles.id, Wave.of("custom", label="March"), FEB, "driver", None, {}, meta()
    )
    app.correct_profile(profile.id, "amiable", None, {}, "why", meta())
    reactions = app.define_instrument("Reaction", "reaction_survey", reaction(), meta())
    survey, (token,) = app.issue_tokens(reactions.id, uuid.uuid4(), 1, meta())
    app.submit_reaction(survey.id, token, {"overall": 5, "virtual": 1}, {"best": COMMENT})
    app.close_survey(survey.id, meta())
    survey_instrument = app.define_instrument("Staff", "staff_survey", staff(), meta())
    staff_result = app.record_staff_result(
        survey_instrument.id, 2021, "organisation", "TEM", None, None, 99, indices(), meta()
    )
    app.correct_staff_result(staff_result.id, 98, indices(), "why", meta())


def channels(app: AssessmentApplication) -> tuple[Outbox, Outbox]:
    public = Outbox("assessment", app, translate, default_registry())
    restricted = Outbox("assessment", app, translate_restricted, restricted_registry())
    return public, restricted


def test_public_events_of_the_sensitive_types_carry_counts_and_no_values(
    app: AssessmentApplication,
) -> None:
    public, _ = channels(app)
    events = public.read(0, 1000).envelopes
    sensitive = [e for e in events if e.type in SENSITIVE]
    assert {e.type for e in sensitive} == set(SENSITIVE)
    for envelope in sensitive:
        assert not INDIVIDUAL_FIELDS & set(envelope.data), envelope
        assert envelope.dataschema.endswith("/2")
    by_type = {e.type: e.data for e in sensitive}
    assert by_type[contract.RESULT_RECORDED]["dimensions_scored"] == len(SCORES)
    assert by_type[contract.RESULT_RECORDED]["rater_group"] == "peer"
    assert by_type[contract.RESULT_RECORDED]["wave"] == "follow_up"
    assert by_type[contract.RESULT_CORRECTED]["dimensions_scored"] == len(FIXED)
    assert set(by_type[contract.RESULT_VOIDED]) == {"result_id"}
    assert by_type[contract.STYLE_PROFILE_RECORDED]["categories_scored"] == 0
    submitted = by_type[contract.REACTION_RESPONSE_SUBMITTED]
    assert (submitted["items_answered"], submitted["comments_given"]) == (2, 1)
    text = json.dumps([e.to_dict() for e in events])
    assert REASON not in text and COMMENT not in text
    # The categories are the instrument's (public); which one led is the person's.
    for profile_type in (contract.STYLE_PROFILE_RECORDED, contract.STYLE_PROFILE_CORRECTED):
        assert not {"driver", "amiable"} & set(map(str, by_type[profile_type].values()))


def test_the_restricted_channel_carries_the_full_values(app: AssessmentApplication) -> None:
    _, restricted = channels(app)
    events = restricted.read(0, 1000).envelopes
    by_type = {e.type: e.data for e in events}
    assert by_type[contract.RESULT_RECORDED]["scores"] == SCORES
    assert by_type[contract.RESULT_CORRECTED]["scores"] == FIXED
    assert by_type[contract.RESULT_VOIDED]["reason"] == REASON
    assert by_type[contract.STYLE_PROFILE_CORRECTED]["primary"] == "amiable"
    assert by_type[contract.REACTION_RESPONSE_SUBMITTED]["comments"] == {"best": COMMENT}
    assert all(e.dataschema.endswith("/1") for e in events)


def test_both_channels_give_the_same_events_ids_and_positions(app: AssessmentApplication) -> None:
    public, restricted = channels(app)
    one, other = public.read_channels([restricted], 0, 1000)
    assert one.last_position == other.last_position == app.head()
    assert [(e.id, e.type, e.position, e.aggregateversion) for e in one.envelopes] == [
        (e.id, e.type, e.position, e.aggregateversion) for e in other.envelopes
    ]
    assert one.envelopes == public.read(0, 1000).envelopes
    assert other.envelopes == restricted.read(0, 1000).envelopes


def test_every_event_of_each_channel_loads_against_that_channels_schema(
    app: AssessmentApplication,
) -> None:
    public, restricted = channels(app)
    for outbox in (public, restricted):
        types = set()
        for envelope in outbox.read(0, 1000).envelopes:
            outbox.registry.load(envelope.type, envelope.data)
            types.add(envelope.type)
        assert types == {t.type for t in outbox.registry if t.type.startswith(contract.PREFIX)}


@pytest.mark.parametrize("type_", sorted(SENSITIVE))
def test_the_public_schemas_refuse_individual_values(type_: str) -> None:
    registry = default_registry()
    declared = set(registry[type_].instance.fields)
    assert not INDIVIDUAL_FIELDS & declared
    # A mapping bug that let a field through would fail on the way out, and on the way in.
    leaked = {name: None for name in declared} | {"scores": {"a": 1.0}}
    with pytest.raises(ValidationError) as caught:
        registry.dump(type_, leaked)
    assert "scores" in caught.value.messages
    with pytest.raises(ValidationError):
        registry.load(type_, leaked)


def test_the_restricted_and_public_registries_differ_only_in_the_sensitive_types() -> None:
    public, restricted = default_registry(), restricted_registry()
    assert {t.type for t in public} == {t.type for t in restricted}
    differing = {t.type for t in public if t.version != restricted[t.type].version}
    assert differing == set(SENSITIVE)


# The relay publishes both channels ----------------------------------------------------------------


def test_the_relay_sends_both_topics_before_it_stores_its_one_position(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_topic_prefix="p", relay_batch_size=5)
    service = build_write_service(settings, "assessment")
    try:
        every_type(service.application)
        producer = FakeProducer(fail_flush=True)
        relay = service.relay(settings, producer)
        # A broker refusing the batch leaves the position where it was: nothing is skipped.
        with pytest.raises(BrokerDown):
            relay.run_once()
        assert relay.positions.get("kafka") == 0
        producer.fail_flush = False
        published = relay.drain()
        assert relay.positions.get("kafka") == service.application.head()
    finally:
        service.close()
    by_topic: dict[str, list[dict[str, Any]]] = {
        "p.assessment.events": [],
        "p.assessment.restricted": [],
    }
    for topic, _, value in producer.sent:
        by_topic[topic].append(json.loads(value))
    public, restricted = by_topic["p.assessment.events"], by_topic["p.assessment.restricted"]
    assert len(public) == len(restricted) == published
    assert [(e["id"], e["position"]) for e in public] == [
        (e["id"], e["position"]) for e in restricted
    ]
    assert REASON not in json.dumps(public) and REASON in json.dumps(restricted)
