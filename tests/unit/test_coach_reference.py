"""Coach assignments are published by reference only, and old assignments still load."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from eventsourcing.persistence import StoredEvent
from marshmallow import ValidationError

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import CoachAlreadyAssigned, Cohort
from services.enrolment.integration import translate
from shared.auth import subject_reference
from shared.events import default_registry
from shared.events import enrolment as contract
from shared.outbox import Outbox
from tests.unit.factories import meta

SECRET = "k" * 32
COACH = "coach-Quorrimel-7731"
"""Distinctive, so a substring match cannot be a coincidence."""


def planned(enrolment: EnrolmentApplication) -> uuid.UUID:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    return enrolment.plan_cohort(
        programme_id, "Spring", 12, dt.date(2020, 3, 1), dt.date(2020, 11, 30), meta()
    ).id


def test_subject_reference_is_keyed_stable_and_hides_the_subject() -> None:
    ref = subject_reference(SECRET, COACH)
    assert ref == subject_reference(SECRET, COACH)
    assert ref != subject_reference("j" * 32, COACH)
    assert ref != subject_reference(SECRET, COACH + "x")
    assert len(ref) == 32 and COACH.lower() not in ref


def test_an_assignment_is_published_with_the_reference_and_never_the_subject(
    enrolment: EnrolmentApplication,
) -> None:
    cohort_id = planned(enrolment)
    enrolment.assign_coach(cohort_id, COACH, subject_reference(SECRET, COACH), meta("co-1"))
    envelopes = Outbox("enrolment", enrolment, translate, default_registry()).read(0, 100)
    (assigned,) = (e for e in envelopes.envelopes if e.type == contract.COHORT_COACH_ASSIGNED)
    assert assigned.data == {
        "cohort_id": str(cohort_id),
        "coach_ref": subject_reference(SECRET, COACH),
    }
    assert assigned.subject == str(cohort_id)
    everything = b"\n".join(e.to_json() for e in envelopes.envelopes).decode()
    assert COACH not in everything
    # The service itself still knows the subject: it checks it on every coach request.
    assert enrolment.cohort(cohort_id).coaches == [COACH]


def test_the_same_coach_twice_is_refused(enrolment: EnrolmentApplication) -> None:
    cohort_id = planned(enrolment)
    ref = subject_reference(SECRET, COACH)
    enrolment.assign_coach(cohort_id, COACH, ref, meta())
    with pytest.raises(CoachAlreadyAssigned):
        enrolment.assign_coach(cohort_id, COACH, ref, meta())


def test_an_assignment_stored_before_references_loads_and_is_not_published(
    enrolment: EnrolmentApplication,
) -> None:
    cohort_id = planned(enrolment)
    cohort = enrolment.cohort(cohort_id)
    # The version-1 shape: no coach_ref, no class_version.
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2020-02-01T08:00:00+00:00"},
        "coach": COACH,
        "meta": meta(),
    }
    old = StoredEvent(
        originator_id=cohort_id,
        originator_version=cohort.version + 1,
        topic="polku.enrolment:Cohort.CoachAssigned",
        state=json.dumps(state).encode(),
    )
    enrolment.recorder.insert_events([old])

    assert enrolment.cohort(cohort_id).coaches == [COACH]
    (event,) = enrolment.events.get(cohort_id, gt=cohort.version)
    assert isinstance(event, Cohort.CoachAssigned)
    assert event.coach_ref is None
    assert translate(event) is None
    envelopes = Outbox("enrolment", enrolment, translate, default_registry()).read(0, 100)
    assert contract.COHORT_COACH_ASSIGNED not in {e.type for e in envelopes.envelopes}


@pytest.mark.parametrize(
    "data",
    [
        {"cohort_id": uuid.uuid4(), "coach_ref": subject_reference(SECRET, COACH), "coach": COACH},
        {"cohort_id": uuid.uuid4()},
    ],
)
def test_the_mapping_may_not_add_the_subject_or_leave_out_the_reference(
    data: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        default_registry().dump(contract.COHORT_COACH_ASSIGNED, data)


def test_consumers_refuse_a_clear_subject_in_place_of_a_reference() -> None:
    registry = default_registry()
    cohort_id = str(uuid.uuid4())
    ref = subject_reference(SECRET, COACH)
    assert registry.load(contract.COHORT_COACH_ASSIGNED, {"cohort_id": cohort_id, "coach_ref": ref})
    with pytest.raises(ValidationError) as refused:
        registry.load(contract.COHORT_COACH_ASSIGNED, {"cohort_id": cohort_id, "coach_ref": COACH})
    assert "coach_ref" in refused.value.messages
