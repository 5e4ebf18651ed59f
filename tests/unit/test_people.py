"""People in the application: registration with sealed personal fields, unique employee
numbers, placement, erasure and its hook, and what reaches the store, the outbox and the logs."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.people import AlreadyErased, EmployeeNumberTaken
from services.enrolment.integration import translate
from services.enrolment.keystore import KeyEntry
from services.enrolment.keystore_setup import InMemoryKeyStore
from services.enrolment.personal import SEAL_PREFIX, PersonalFieldInvalid, new_key
from shared.errors import ConcurrentChange, NotFoundError
from shared.events import default_registry
from shared.events import people as contract
from shared.outbox import Outbox
from shared.settings import Settings
from tests.unit.factories import meta, person_fields

NAME, EMAIL, NUMBER = "Quorrimel Zyxwvutsson", "quorrimel.z@hidden-example.fi", "EMP-55501"
SECRETS = (NAME, EMAIL, NUMBER, "Quorrimel", "hidden-example", "55501")


@pytest.fixture
def keys() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def app(settings: Settings, keys: InMemoryKeyStore) -> Iterator[EnrolmentApplication]:
    application = EnrolmentApplication(settings.eventstore_env("enrolment"), keystore=keys)
    yield application
    application.close()


def secret_person(**overrides: str) -> dict[str, str]:
    return person_fields(
        **{"full_name": NAME, "email": EMAIL, "employee_number": NUMBER} | overrides
    )


def stored_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())


def test_a_registered_person_reads_back_with_personal_fields_and_attributes(
    app: EnrolmentApplication,
) -> None:
    fields = secret_person(role="expert", profession_category="lawyer", education_level="master")
    record = app.register_person(fields, meta())
    again = app.person(record.id)
    assert (again.full_name, again.email, again.employee_number) == (NAME, EMAIL, NUMBER)
    p = again.person
    assert (p.organisation, p.department, p.unit) == ("TEM", "Dept", "Unit")
    assert (p.role, p.profession_category, p.education_level) == ("expert", "lawyer", "master")
    assert p.version == 2  # Registered, then AttributesRecorded
    assert not p.erased


def test_without_attributes_registration_is_one_event(app: EnrolmentApplication) -> None:
    record = app.register_person(person_fields(), meta())
    assert record.person.version == 1
    assert record.person.role is None


def test_the_store_holds_personal_fields_only_sealed(
    app: EnrolmentApplication, tmp_path: Path
) -> None:
    person_id = app.register_person(secret_person(), meta()).id
    assert app.person(person_id).full_name == NAME  # readable through the application
    raw = stored_bytes(tmp_path)
    assert SEAL_PREFIX.encode() in raw
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_employee_numbers_are_unique_and_a_duplicate_writes_nothing(
    app: EnrolmentApplication, keys: InMemoryKeyStore
) -> None:
    app.register_person(secret_person(), meta())
    head = app.head()
    with pytest.raises(EmployeeNumberTaken) as refused:
        app.register_person(secret_person(employee_number=" emp-55501 "), meta())
    assert refused.value.field == "employee_number"
    with pytest.raises(EmployeeNumberTaken):  # a repeat within one batch too
        app.register_people(
            [person_fields(employee_number="X"), person_fields(employee_number="x")], meta()
        )
    assert app.head() == head
    assert len(keys._keys) == 1


def test_bad_fields_are_refused_before_anything_is_stored(
    app: EnrolmentApplication, keys: InMemoryKeyStore
) -> None:
    with pytest.raises(PersonalFieldInvalid) as refused:
        app.register_person(person_fields(email="nope"), meta())
    assert refused.value.field == "email"
    assert app.head() == 0 and keys._keys == {}


def test_a_failed_save_takes_the_key_back(
    app: EnrolmentApplication, keys: InMemoryKeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lose(*_: object) -> None:
        raise ConcurrentChange("lost")

    monkeypatch.setattr(app, "save_all", lose)
    with pytest.raises(ConcurrentChange):
        app.register_person(secret_person(), meta())
    assert keys._keys == {} and keys._lookups == {}


def test_a_crash_leftover_index_is_given_up_but_a_fresh_one_counts_as_in_flight(
    app: EnrolmentApplication, keys: InMemoryKeyStore
) -> None:
    ghost = uuid.uuid4()  # a key stored whose event was never saved
    keys.add([KeyEntry(ghost, new_key(), keys.blind(NUMBER))])
    with pytest.raises(ConcurrentChange):
        app.register_person(secret_person(), meta())
    lookup = keys.blind(NUMBER)
    keys._lookups[lookup] = keys._lookups[lookup]._replace(added_at=time.time() - 3600)
    record = app.register_person(secret_person(), meta())
    assert app.person(record.id).employee_number == NUMBER
    assert ghost not in keys._keys


def test_a_placement_change_is_recorded_and_kept_in_the_history(
    app: EnrolmentApplication,
) -> None:
    person_id = app.register_person(person_fields(), meta()).id
    record = app.change_placement(person_id, "Enterprises", "Growth", dt.date(2021, 1, 1), meta())
    assert (record.person.department, record.full_name) == ("Enterprises", "Anna A")
    history = app.placements(person_id)
    assert [(p.department, p.effective_date) for p in history] == [
        ("Dept", None),
        ("Enterprises", dt.date(2021, 1, 1)),
    ]
    assert app.person(person_id, version=1).person.department == "Dept"


# Erasure --------------------------------------------------------------------------------------


def test_erasure_deletes_the_key_and_keeps_the_pseudonymous_record(
    app: EnrolmentApplication, keys: InMemoryKeyStore
) -> None:
    person_id = app.register_person(secret_person(role="expert"), meta()).id
    app.change_placement(person_id, "Enterprises", "Growth", dt.date(2021, 1, 1), meta())
    erased: list[uuid.UUID] = []
    app.on_erased(erased.append)

    record = app.erase_person(person_id, meta("hr", "hr_admin"))
    assert erased == [person_id]
    assert record.person.erased_at is not None
    assert keys._keys == {} and keys._lookups == {}
    for version in (None, 1):  # the past is unreadable too: the key is gone
        view = app.person(person_id, version=version)
        assert (view.full_name, view.email, view.employee_number) == (None, None, None)
    after = app.person(person_id)
    assert after.person.erased and after.person.personal is None
    assert (after.person.role, after.person.department) == ("expert", "Enterprises")
    assert len(app.placements(person_id)) == 2


def test_erasing_twice_is_refused_and_the_number_is_free_again(
    app: EnrolmentApplication,
) -> None:
    person_id = app.register_person(secret_person(), meta()).id
    app.erase_person(person_id, meta())
    head = app.head()
    with pytest.raises(AlreadyErased):
        app.erase_person(person_id, meta())
    assert app.head() == head
    newcomer = app.register_person(secret_person(), meta())
    assert newcomer.id != person_id and app.person(newcomer.id).full_name == NAME


def test_erasing_an_unknown_person_is_not_found(app: EnrolmentApplication) -> None:
    with pytest.raises(NotFoundError):
        app.erase_person(uuid.uuid4(), meta())


def test_people_are_listed_in_registration_order_with_erased_ones_blank(
    app: EnrolmentApplication,
) -> None:
    ids = [app.register_person(person_fields(employee_number=f"E{n}"), meta()).id for n in range(3)]
    app.erase_person(ids[1], meta())
    first, cursor = app.people(0, 2)
    rest, end = app.people(cursor or 0, 2)
    assert [r.id for r in first + rest] == ids and end is None
    assert [r.employee_number for r in first + rest] == ["E0", None, "E2"]


# What leaves the service ----------------------------------------------------------------------


def test_no_personal_field_reaches_an_integration_event(app: EnrolmentApplication) -> None:
    person_id = app.register_person(secret_person(role="expert"), meta()).id
    app.change_placement(person_id, "Enterprises", "Growth", dt.date(2021, 1, 1), meta())
    move = app.record_career_move(
        person_id,
        "job_rotation",
        "TEM",
        dt.date(2022, 1, 1),
        meta(),
        department="Enterprises",
        unit="Other",
        planned_end_date=dt.date(2022, 6, 30),
    )
    app.end_career_move(person_id, move.id, dt.date(2022, 5, 31), meta())
    app.erase_person(person_id, meta())
    envelopes = Outbox("enrolment", app, translate, default_registry()).read(0, 100).envelopes
    types = [e.type.rsplit(".", 1)[1] for e in envelopes]
    assert types == [
        "PersonRegistered",
        "PersonAttributesRecorded",
        "PlacementChanged",
        "CareerMoveRecorded",
        "CareerMoveEnded",
        "PersonErased",
    ]
    by_type = dict(zip(types, envelopes, strict=True))
    assert by_type["CareerMoveRecorded"].data == {
        "person_id": str(person_id),
        "move_id": str(move.id),
        "kind": "job_rotation",
        "organisation": "TEM",
        "department": "Enterprises",
        "unit": "Other",
        "scope": "other_unit",
        "start_date": "2022-01-01",
        "planned_end_date": "2022-06-30",
        "end_date": None,
    }
    assert by_type["PersonErased"].data["person_id"] == str(person_id)
    everything = "".join(e.to_json().decode() for e in envelopes)
    for secret in (*SECRETS, SEAL_PREFIX):
        assert secret not in everything
    for envelope in envelopes:  # every one is valid for its consumers
        default_registry().load(envelope.type, envelope.data)
    assert contract.PERSON_ERASED in default_registry()


def test_no_personal_field_reaches_a_log_line(
    app: EnrolmentApplication, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person_id = app.register_person(secret_person(), meta()).id
    app.person(person_id)
    with pytest.raises(EmployeeNumberTaken):
        app.register_person(secret_person(), meta())
    app.erase_person(person_id, meta())
    assert f"person {person_id} erased" in caplog.text  # the capture works, ids are logged
    for secret in SECRETS:
        assert secret not in caplog.text
