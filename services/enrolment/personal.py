"""Personal fields (name, e-mail, employee number): their rules, and sealing them for the store.

The application seals a person's personal fields with the person's own data key before the
domain event is created, so the event store only ever holds an opaque string. Erasure deletes the
key (:mod:`services.enrolment.keystore`), and the sealed string becomes noise for good.

The seal is AES-256-GCM (``cryptography``'s AEAD): a fresh random 96-bit nonce per seal, the
person's id as associated data (a sealed value copied onto another person does not open), and
the fields as compact JSON inside. The text form is ``aesgcm1.<base64url(nonce + ciphertext)>``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.enrolment.keystore import KeyEntry, KeyStore
from shared.errors import RuleViolation
from shared.text import CONTROL_CHARACTERS

SEAL_PREFIX = "aesgcm1."
NONCE_BYTES = 12
KEY_BITS = 256

NAME_MAX = 200
EMAIL_MAX = 254
EMPLOYEE_NUMBER_MAX = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class PersonalFieldInvalid(RuleViolation):
    pass


class SealBroken(Exception):
    """A sealed value did not open with the key given: tampered with, or the wrong person's."""


@dataclass(frozen=True)
class Personal:
    full_name: str
    email: str
    employee_number: str

    def __repr__(self) -> str:
        # A stray log line or traceback must not print the fields.
        return "Personal(<redacted>)"


def _check_text(field: str, value: object, maximum: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PersonalFieldInvalid(f"{field} is required", field=field)
    if len(value) > maximum:
        raise PersonalFieldInvalid(f"{field} is longer than {maximum} characters", field=field)
    if CONTROL_CHARACTERS.search(value):
        raise PersonalFieldInvalid(f"{field} must not contain control characters", field=field)
    return value


def check_full_name(value: object) -> None:
    _check_text("full_name", value, NAME_MAX)


def check_email(value: object) -> None:
    text = _check_text("email", value, EMAIL_MAX)
    if not _EMAIL.match(text):
        raise PersonalFieldInvalid("email is not an e-mail address", field="email")


def check_employee_number(value: object) -> None:
    _check_text("employee_number", value, EMPLOYEE_NUMBER_MAX)


PERSONAL_CHECKS: dict[str, Callable[[object], None]] = {
    "full_name": check_full_name,
    "email": check_email,
    "employee_number": check_employee_number,
}


def personal_of(fields: Mapping[str, object]) -> Personal:
    """The personal fields of a registration, checked; the first broken one is named."""
    for name, check in PERSONAL_CHECKS.items():
        check(fields.get(name))
    return Personal(str(fields["full_name"]), str(fields["email"]), str(fields["employee_number"]))


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BITS)


def seal(personal: Personal, key: bytes, person_id: UUID) -> str:
    plain = json.dumps(
        [personal.full_name, personal.email, personal.employee_number],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, plain, person_id.bytes)
    return SEAL_PREFIX + base64.urlsafe_b64encode(sealed).decode()


def unseal(sealed: str, key: bytes, person_id: UUID) -> Personal:
    if not sealed.startswith(SEAL_PREFIX):
        raise SealBroken("not a sealed value")
    raw = base64.urlsafe_b64decode(sealed[len(SEAL_PREFIX) :])
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], person_id.bytes)
    except InvalidTag:
        raise SealBroken("the sealed value does not open with this key") from None
    full_name, email, employee_number = json.loads(plain)
    return Personal(full_name, email, employee_number)


class PersonalData:
    """Seals and opens people's personal fields with their keys from a :class:`KeyStore`."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def lookup(self, employee_number: str) -> str:
        """The blind index that finds a person by employee number."""
        return self.keys.blind(employee_number)

    def seal_new(self, person_id: UUID, personal: Personal) -> tuple[str, KeyEntry]:
        """The sealed fields of a new person, and the key entry to store before the event."""
        key = new_key()
        entry = KeyEntry(person_id, key, self.lookup(personal.employee_number))
        return seal(personal, key, person_id), entry

    def reveal(self, sealed: Iterable[tuple[UUID, str | None]]) -> dict[UUID, Personal]:
        """The personal fields of those whose keys still exist; the erased are left out."""
        pairs = [(person_id, value) for person_id, value in sealed if value is not None]
        keys = self.keys.keys(person_id for person_id, _ in pairs)
        return {
            person_id: unseal(value, keys[person_id], person_id)
            for person_id, value in pairs
            if person_id in keys
        }
