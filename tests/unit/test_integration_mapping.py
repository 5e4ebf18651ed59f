"""From stored domain events to public CloudEvents: types, data, envelope ids, no personal data."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from marshmallow import ValidationError

from services.enrolment.application import EnrolmentApplication
from services.enrolment.integration import translate
from shared.events import Envelope, default_registry, event_id
from shared.events import enrolment as contract
from shared.outbox import Outbox
from tests.unit.factories import meta, person_fields

START, END = dt.date(2020, 3, 1), dt.date(2020, 11, 30)

# Distinctive enough that a substring match cannot be a coincidence.
SECRET_NAME = "Zyxwvut Quorrimelsson"
SECRET_EMAIL = "quorrimel.zyx@hidden-example.fi"
SECRET_NUMBER = "EMP-98765-4321"


@dataclass
class Story:
    """One programme, one cohort, one person enrolled: every published event type once."""

    programme_id: uuid.UUID
    cohort_id: uuid.UUID
    person_id: uuid.UUID
    enrolled_at: dt.datetime


@pytest.fixture
def story(enrolment: EnrolmentApplication) -> Story:
    programme_id = enrolment.define_programme(
        "Leadership", "TEM", meta("hr-1", "hr_admin", "corr-programme")
    ).id
    cohort_id = enrolment.plan_cohort(
        programme_id, "Spring", 12, START, END, meta("co-1", "coordinator", "corr-cohort")
    ).id
    person_id = enrolment.register_person(
        person_fields(full_name=SECRET_NAME, email=SECRET_EMAIL, employee_number=SECRET_NUMBER),
        meta("hr-1", "hr_admin", "corr-person"),
    ).id
    enrolled_at = enrolment.enrol(
        cohort_id, person_id, meta("co-1", "coordinator", "corr-enrol") | {"causation_id": "c-9"}
    )
    return Story(programme_id, cohort_id, person_id, enrolled_at)


@pytest.fixture
def outbox(enrolment: EnrolmentApplication) -> Outbox:
    return Outbox("enrolment", enrolment, translate, default_registry())


def by_type(envelopes: list[Envelope]) -> dict[str, Envelope]:
    return {e.type.rsplit(".", 1)[1]: e for e in envelopes}


def test_each_domain_event_maps_to_its_integration_type_and_data(
    story: Story, outbox: Outbox
) -> None:
    events = by_type(outbox.read(0, 100).envelopes)
    # Data is the registry's JSON form: ids and dates as strings.
    assert events["ProgrammeDefined"].data == {
        "programme_id": str(story.programme_id),
        "name": "Leadership",
        "organisation": "TEM",
    }
    assert events["CohortPlanned"].data == {
        "cohort_id": str(story.cohort_id),
        "programme_id": str(story.programme_id),
        "name": "Spring",
        "capacity": 12,
        "start_date": "2020-03-01",
        "end_date": "2020-11-30",
    }
    assert events["PersonRegistered"].data == {
        "person_id": str(story.person_id),
        "organisation": "TEM",
        "department": "Dept",
        "unit": "Unit",
    }
    assert events["ParticipantEnrolled"].data == {
        "cohort_id": str(story.cohort_id),
        "person_id": str(story.person_id),
        "enrolled_at": story.enrolled_at.isoformat(),
    }
    assert [e.type for e in outbox.read(0, 100).envelopes] == [
        contract.PROGRAMME_DEFINED,
        contract.COHORT_PLANNED,
        contract.PERSON_REGISTERED,
        contract.PARTICIPANT_ENROLLED,
    ]


def test_envelope_attributes_come_from_the_notification_and_the_event_meta(
    story: Story, outbox: Outbox, enrolment: EnrolmentApplication
) -> None:
    envelopes = outbox.read(0, 100).envelopes
    notifications = enrolment.notifications_after(0, 100)
    # position is the notification id in the source log, one envelope per notification.
    assert [e.position for e in envelopes] == [n.id for n in notifications]

    events = by_type(envelopes)
    enrolled = events["ParticipantEnrolled"]
    assert enrolled.subject == str(story.cohort_id)
    assert enrolled.aggregateversion == 2  # the cohort's second event, after Planned
    assert events["CohortPlanned"].aggregateversion == 1
    assert enrolled.actor == "coordinator:co-1"
    assert enrolled.correlationid == "corr-enrol"
    assert enrolled.causationid == "c-9"
    assert events["PersonRegistered"].actor == "hr_admin:hr-1"
    assert events["PersonRegistered"].correlationid == "corr-person"
    assert events["PersonRegistered"].causationid is None
    assert enrolled.source == "/polku/enrolment"
    assert enrolled.dataschema == (
        f"http://127.0.0.1:8000/enrolment/schemas/{contract.PARTICIPANT_ENROLLED}/1"
    )
    assert enrolled.sequence == f"{enrolled.position:020d}"
    assert enrolled.time.tzinfo is not None


def test_envelope_ids_are_uuid5_of_subject_and_aggregate_version(
    story: Story, outbox: Outbox
) -> None:
    envelopes = outbox.read(0, 100).envelopes
    assert len(envelopes) == 4
    for envelope in envelopes:
        assert envelope.id == event_id(envelope.subject, envelope.aggregateversion)
        assert uuid.UUID(envelope.id).version == 5


def test_reading_the_same_notification_twice_gives_the_same_id(
    story: Story, outbox: Outbox, enrolment: EnrolmentApplication
) -> None:
    # Re-publishing (relay retry, a second outbox instance) must not create a "new" event.
    first = [e.id for e in outbox.read(0, 100).envelopes]
    again = Outbox("enrolment", enrolment, translate, default_registry())
    assert [e.id for e in again.read(0, 100).envelopes] == first


def test_different_sequences_of_one_subject_get_different_ids(story: Story, outbox: Outbox) -> None:
    events = by_type(outbox.read(0, 100).envelopes)
    planned, enrolled = events["CohortPlanned"], events["ParticipantEnrolled"]
    assert planned.subject == enrolled.subject
    assert planned.id != enrolled.id
    assert len({e.id for e in outbox.read(0, 100).envelopes}) == 4


def test_no_personal_data_appears_in_any_envelope(story: Story, outbox: Outbox) -> None:
    envelopes = outbox.read(0, 100).envelopes
    assert "fi.polku.enrolment.PersonRegistered" in {e.type for e in envelopes}
    serialised = b"\n".join(e.to_json() for e in envelopes).decode().lower()
    for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_NUMBER, "Quorrimel", "hidden-example"):
        assert secret.lower() not in serialised


def test_outbox_paging_resumes_after_the_last_position(story: Story, outbox: Outbox) -> None:
    first = outbox.read(0, 2)
    rest = outbox.read(first.last_position, 100)
    assert [e.position for e in first.envelopes + rest.envelopes] == [1, 2, 3, 4]
    assert outbox.read(rest.last_position, 100).envelopes == []
    assert outbox.head() == 4


def test_unpublished_events_are_skipped_but_still_advance_the_position(
    story: Story, enrolment: EnrolmentApplication
) -> None:
    # A translation may publish only some events; the cursor must still move past the rest,
    # or a relay would re-read the same unpublished notifications forever.
    def only_enrolments(event: Any) -> tuple[str, dict[str, Any]] | None:
        mapped = translate(event)
        return mapped if mapped and mapped[0] == contract.PARTICIPANT_ENROLLED else None

    batch = Outbox("enrolment", enrolment, only_enrolments, default_registry()).read(0, 3)
    assert batch.envelopes == []
    assert batch.last_position == 3


def test_translate_ignores_events_it_does_not_publish() -> None:
    assert translate(object()) is None


# The data schemas ---------------------------------------------------------------------------

PERSON_DATA = {
    "person_id": uuid.uuid4(),
    "organisation": "TEM",
    "department": "Dept",
    "unit": "Unit",
}


def test_registry_dump_accepts_exactly_the_contract_fields() -> None:
    dumped = default_registry().dump(contract.PERSON_REGISTERED, PERSON_DATA)
    assert dumped["person_id"] == str(PERSON_DATA["person_id"])


def test_registry_dump_rejects_missing_fields() -> None:
    incomplete = {k: v for k, v in PERSON_DATA.items() if k != "unit"}
    with pytest.raises(ValidationError) as caught:
        default_registry().dump(contract.PERSON_REGISTERED, incomplete)
    assert "unit" in caught.value.messages


def test_registry_load_rejects_a_leaked_personal_field() -> None:
    leaked = {**PERSON_DATA, "person_id": str(PERSON_DATA["person_id"]), "full_name": "Anna A"}
    with pytest.raises(ValidationError) as caught:
        default_registry().load(contract.PERSON_REGISTERED, leaked)
    assert "full_name" in caught.value.messages


def test_registry_dump_rejects_a_leaked_personal_field() -> None:
    # Dropping the key keeps the envelope clean, but hides the mapping bug the check exists for.
    with pytest.raises(ValidationError) as caught:
        default_registry().dump(contract.PERSON_REGISTERED, {**PERSON_DATA, "full_name": "A"})
    assert "full_name" in caught.value.messages
