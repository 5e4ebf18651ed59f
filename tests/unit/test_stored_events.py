"""The outbox's decoder gives exactly what the library's mapper gives, or lets the mapper decode."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import Cohort
from shared.auth import subject_reference
from shared.stored_events import StoredEventDecoder
from tests.unit.factories import meta


def planned(enrolment: EnrolmentApplication) -> uuid.UUID:
    programme_id = enrolment.define_programme("Leadership", "TEM", meta()).id
    return enrolment.plan_cohort(
        programme_id, "Spring", 12, dt.date(2020, 3, 1), dt.date(2020, 11, 30), meta()
    ).id


def same(ours: Any, library: Any) -> None:
    assert type(ours) is type(library)
    assert vars(ours) == vars(library)
    assert {k: type(v) for k, v in vars(ours).items()} == {
        k: type(v) for k, v in vars(library).items()
    }


def append(enrolment: EnrolmentApplication, cohort_id: uuid.UUID, state: bytes) -> None:
    version = enrolment.cohort(cohort_id).version
    enrolment.recorder.insert_events(
        [
            StoredEvent(
                originator_id=cohort_id,
                originator_version=version + 1,
                topic="polku.enrolment:Cohort.CoachAssigned",
                state=state,
            )
        ]
    )


def test_every_event_of_a_log_decodes_as_the_library_decodes_it(
    enrolment: EnrolmentApplication,
) -> None:
    cohort_id = planned(enrolment)
    enrolment.assign_coach(cohort_id, "coach-1", subject_reference("k" * 32, "coach-1"), meta())
    # A version-1 assignment (no coach_ref, no class_version) is upcast by the class's own
    # method; a float that orjson refuses (NaN) and a type no transcoding has go to the mapper.
    old: dict[str, Any] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2020-02-01T08:00:00+00:00"},
        "coach": "coach-2",
        "meta": {**meta(), "nested": [{"_type_": "uuid_hex", "_data_": uuid.uuid4().hex}]},
    }
    append(enrolment, cohort_id, json.dumps(old).encode())
    not_a_number = {**old, "coach": "coach-3", "odd": float("nan")}
    append(enrolment, cohort_id, json.dumps(not_a_number).encode())
    notifications = enrolment.notifications_after(0, 100)
    decode = StoredEventDecoder(enrolment.mapper)
    for notification in notifications[:-1]:
        same(decode(notification), enrolment.mapper.to_domain_event(notification))
    upcast = decode(notifications[-2])
    assert isinstance(upcast, Cohort.CoachAssigned) and upcast.coach_ref is None
    assert isinstance(upcast.meta["nested"][0], uuid.UUID)
    # NaN is not equal to itself: compare its text.
    assert repr(vars(decode(notifications[-1]))) == repr(
        vars(enrolment.mapper.to_domain_event(notifications[-1]))
    )


def test_what_the_library_cannot_decode_fails_with_the_library_s_error(
    enrolment: EnrolmentApplication,
) -> None:
    cohort_id = planned(enrolment)
    unknown = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2020-02-01T08:00:00+00:00"},
        "coach": {"_type_": "no_such_type", "_data_": "x"},
        "coach_ref": None,
        "meta": meta(),
        "class_version": 2,
    }
    append(enrolment, cohort_id, json.dumps(unknown).encode())
    last = enrolment.notifications_after(0, 100)[-1]
    with pytest.raises(Exception) as library:
        enrolment.mapper.to_domain_event(last)
    with pytest.raises(type(library.value)):
        StoredEventDecoder(enrolment.mapper)(last)


def test_a_sqlite_log_is_read_as_the_library_reads_it(enrolment: EnrolmentApplication) -> None:
    cohort_id = planned(enrolment)
    enrolment.assign_coach(cohort_id, "coach-1", subject_reference("k" * 32, "coach-1"), meta())
    decoder = StoredEventDecoder(enrolment.mapper)
    for after, limit in ((0, 100), (1, 2), (2, 100), (enrolment.head(), 10)):
        ours = decoder.read(enrolment, after, limit)
        library = enrolment.notifications_after(after, limit)
        fields = ("id", "originator_id", "originator_version", "topic", "state")
        assert [tuple(getattr(n, f) for f in fields) for n in ours] == [
            tuple(getattr(n, f) for f in fields) for n in library
        ]
        assert all(type(n.originator_id) is uuid.UUID for n in ours)
    assert len(decoder.read(enrolment, 0, 100)) == enrolment.head() >= 3
