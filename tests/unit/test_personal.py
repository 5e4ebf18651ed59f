"""Sealing personal fields: the round trip, what a seal does not reveal, and the field rules."""

from __future__ import annotations

import uuid

import pytest

from services.enrolment.keystore_setup import InMemoryKeyStore
from services.enrolment.personal import (
    SEAL_PREFIX,
    Personal,
    PersonalData,
    PersonalFieldInvalid,
    SealBroken,
    new_key,
    personal_of,
    seal,
    unseal,
)

ANNA = Personal("Åsa Öberg-Ñúñez 李", "asa.oberg@example.fi", "E-1001")


def test_a_sealed_value_opens_with_its_key_and_person() -> None:
    key, person_id = new_key(), uuid.uuid4()
    sealed = seal(ANNA, key, person_id)
    assert sealed.startswith(SEAL_PREFIX)
    assert unseal(sealed, key, person_id) == ANNA


def test_a_seal_reveals_nothing_and_differs_each_time() -> None:
    key, person_id = new_key(), uuid.uuid4()
    first, second = seal(ANNA, key, person_id), seal(ANNA, key, person_id)
    assert first != second  # a fresh nonce per seal
    for clear in ("Öberg", "asa.oberg", "example.fi", "E-1001", "1001"):
        assert clear not in first


def test_a_seal_does_not_open_with_another_key_or_for_another_person() -> None:
    key, person_id = new_key(), uuid.uuid4()
    sealed = seal(ANNA, key, person_id)
    with pytest.raises(SealBroken):
        unseal(sealed, new_key(), person_id)
    with pytest.raises(SealBroken):
        unseal(sealed, key, uuid.uuid4())  # copied onto someone else
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealBroken):
        unseal(tampered, key, person_id)
    with pytest.raises(SealBroken):
        unseal("plain text", key, person_id)


def test_personal_fields_never_show_in_a_repr() -> None:
    assert "Öberg" not in repr(ANNA) and "E-1001" not in repr(ANNA)


def test_revealing_leaves_out_those_whose_key_is_gone() -> None:
    data = PersonalData(InMemoryKeyStore())
    kept, erased = uuid.uuid4(), uuid.uuid4()
    kept_sealed, kept_entry = data.seal_new(kept, ANNA)
    gone_sealed, gone_entry = data.seal_new(erased, Personal("B", "b@example.fi", "E-2"))
    data.keys.add([kept_entry, gone_entry])
    data.keys.forget([erased])
    revealed = data.reveal([(kept, kept_sealed), (erased, gone_sealed), (uuid.uuid4(), None)])
    assert revealed == {kept: ANNA}
    assert kept_entry.lookup == data.lookup("e-1001")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "a@example.fi", "employee_number": "E1"}, "full_name"),
        ({"full_name": "  ", "email": "a@example.fi", "employee_number": "E1"}, "full_name"),
        ({"full_name": "A\u0000B", "email": "a@example.fi", "employee_number": "E1"}, "full_name"),
        ({"full_name": "A" * 201, "email": "a@example.fi", "employee_number": "E1"}, "full_name"),
        ({"full_name": "A", "email": "not-an-address", "employee_number": "E1"}, "email"),
        ({"full_name": "A", "email": "a@b", "employee_number": "E1"}, "email"),
        (
            {"full_name": "A", "email": "a@example.fi", "employee_number": "E" * 51},
            "employee_number",
        ),
        ({"full_name": "A", "email": "a@example.fi", "employee_number": 7}, "employee_number"),
    ],
)
def test_personal_fields_are_checked_naming_the_field(fields: dict, field: str) -> None:
    with pytest.raises(PersonalFieldInvalid) as refused:
        personal_of(fields)
    assert refused.value.field == field
