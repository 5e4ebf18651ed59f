"""People commands and queries: registration, placement and erasure, with sealed personal fields.

Personal fields are sealed with a new per-person key before the ``Registered`` event is created;
the key and the employee number's blind index go to the key store first, and are taken back if
the event is not saved. Queries open the seals with the keys that still exist: an erased person
reads with no name, e-mail or employee number, everything pseudonymous intact.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.enrolment.domain import Meta, dates
from services.enrolment.domain.careers import Placement
from services.enrolment.domain.people import ATTRIBUTES, EmployeeNumberTaken, Person
from services.enrolment.keystore import KeyEntry, KeyStore, LookupTaken
from services.enrolment.keystore_setup import default_keystore
from services.enrolment.personal import Personal, PersonalData, new_key, personal_of, seal
from shared.errors import ConcurrentChange, NotFoundError
from shared.eventstore import ServiceApplication

log = logging.getLogger(__name__)

REGISTERED_TOPIC = "polku.enrolment:Person.Registered"
ERASED_TOPIC = "polku.enrolment:Person.Erased"
RECONCILE_PAGE = 1000
ORPHAN_AFTER = 60.0
"""Seconds after which a blind index with no registered person is taken for a crash's leftover
(its key was stored, its event never saved) and given up; younger, it is a registration in
flight in another process."""


@dataclass(frozen=True)
class Planned:
    """A registration checked, with its person's id and new key, not yet sealed or stored."""

    personal: Personal
    fields: Mapping[str, Any]
    entry: KeyEntry


@dataclass(frozen=True)
class Registrations:
    """People checked and sealed, not yet stored: what one save registers."""

    people: list[Person]
    entries: list[KeyEntry]
    records: list[PersonRecord]


@dataclass(frozen=True)
class PersonRecord:
    """A person as a query answers: the aggregate's state and, unless erased, the personal
    fields opened with the person's key."""

    person: Person
    personal: Personal | None

    @property
    def id(self) -> UUID:
        return self.person.id

    @property
    def full_name(self) -> str | None:
        return self.personal.full_name if self.personal else None

    @property
    def email(self) -> str | None:
        return self.personal.email if self.personal else None

    @property
    def employee_number(self) -> str | None:
        return self.personal.employee_number if self.personal else None


def attributes_of(fields: Mapping[str, Any]) -> dict[str, str | None]:
    return {name: fields.get(name) or None for name in ATTRIBUTES}


class PeopleCommands(ServiceApplication):
    def __init__(self, env: dict[str, str], keystore: KeyStore | None = None) -> None:
        """``keystore`` is injected by the composition root; without one, the keys go to a file
        beside the events (:func:`~services.enrolment.keystore_setup.default_keystore`)."""
        self._owns_keystore = keystore is None
        self.today: Callable[[], dt.date] = dates.today
        """The clock that says which placements are in force and which are scheduled; a test
        sets it to move "today" past a scheduled date without waiting."""
        self.personal_data = PersonalData(keystore or default_keystore(env))
        self._erasure_listeners: list[Callable[[UUID], None]] = []
        self._registering = threading.Lock()
        super().__init__(env)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if getattr(self, "_owns_keystore", False):
                self.personal_data.keys.close()

    # Registration -----------------------------------------------------------------------------

    def register_person(self, fields: Mapping[str, Any], meta: Meta) -> PersonRecord:
        """Registers one person from their fields (personal, placement, optional attributes)."""
        return self.register_people([fields], meta)[0]

    def register_people(self, many: Sequence[Mapping[str, Any]], meta: Meta) -> list[PersonRecord]:
        """Registers all of ``many`` in one atomic save, or none of them."""
        batch = self.registrations(self.plan_registrations(many), meta)
        self.reserve_numbers(batch.entries)
        try:
            self.save_all(*batch.people)
        except BaseException:
            self.personal_data.keys.forget([p.id for p in batch.people])
            raise
        log.debug("registered %d people", len(batch.people))
        return batch.records

    def plan_registrations(self, many: Sequence[Mapping[str, Any]]) -> list[Planned]:
        """Checks ``many`` and gives each a person id and a new key; seals and stores nothing,
        so a large import holds only ids and keys until it saves a chunk."""
        planned = []
        for fields in many:
            personal = personal_of(fields)
            Person.check_placement(
                fields.get("organisation"), fields.get("department"), fields.get("unit")
            )
            Person.check_attributes(attributes_of(fields))
            lookup = self.personal_data.lookup(personal.employee_number)
            planned.append(Planned(personal, fields, KeyEntry(uuid.uuid4(), new_key(), lookup)))
        if len({p.entry.lookup for p in planned}) < len(planned):
            raise EmployeeNumberTaken("an employee number repeats", field="employee_number")
        return planned

    def registrations(self, planned: Sequence[Planned], meta: Meta) -> Registrations:
        """The people of ``planned``, their fields sealed with their keys, ready to save."""
        batch = Registrations([], [], [])
        for p in planned:
            person_id = p.entry.person_id
            person = Person.register(
                person_id,
                seal(p.personal, p.entry.key, person_id),
                p.fields["organisation"],
                p.fields["department"],
                p.fields["unit"],
                meta,
                attributes_of(p.fields),
            )
            batch.people.append(person)
            batch.entries.append(p.entry)
            batch.records.append(PersonRecord(person, p.personal))
        return batch

    def reserve_numbers(self, entries: Sequence[KeyEntry], added_at: float | None = None) -> None:
        """Stores the keys and blind indexes of people about to be saved, or raises
        EmployeeNumberTaken if any number is held. The lock covers only this check-then-add,
        so a large import reserving chunk by chunk lets other registrations in between."""
        lookups = [e.lookup for e in entries]
        with self._registering:  # one check-then-add at a time in this process
            try:  # the usual case first: no one holds the numbers, one transaction stores all
                self.personal_data.keys.add(entries, added_at=added_at)
                return
            except LookupTaken:  # held: by someone registered, or by a leftover to clear
                pass
            if self.registered_numbers(lookups):
                raise EmployeeNumberTaken(
                    "a person with this employee number is registered already",
                    field="employee_number",
                )
            try:
                self.personal_data.keys.add(entries, added_at=added_at)
            except LookupTaken:  # another process registered the same number just now
                raise EmployeeNumberTaken(
                    "a person with this employee number was registered just now",
                    field="employee_number",
                ) from None

    def registered_numbers(self, lookups: Sequence[str]) -> dict[str, UUID]:
        """Which blind indexes belong to a registered, unerased person, and to whom.

        An index whose person never reached the store is a leftover of a crash between storing
        the key and saving the event; once old enough it is deleted (a younger one is a
        registration in flight elsewhere, so the number counts as taken).
        """
        live: dict[str, UUID] = {}
        leftovers = []
        for lookup, holder in self.personal_data.keys.find(lookups).items():
            try:
                person: Person = self.get(holder.person_id, Person, "person")
            except NotFoundError:
                if time.time() - holder.added_at < ORPHAN_AFTER:
                    raise ConcurrentChange(
                        "this employee number is being registered right now; retry",
                        field="employee_number",
                    ) from None
                leftovers.append(holder.person_id)
                continue
            if person.erased:  # erased before its index was deleted: a crash in erasure
                leftovers.append(holder.person_id)
            else:
                live[lookup] = holder.person_id
        if leftovers:
            self.personal_data.keys.forget(leftovers)
        return live

    # Placement --------------------------------------------------------------------------------

    def change_placement(
        self,
        person_id: UUID,
        department: str,
        unit: str,
        effective_date: Any,
        meta: Meta,
        organisation: str | None = None,
        expected_version: int | None = None,
    ) -> PersonRecord:
        def attempt() -> Person:
            person: Person = self.get(
                person_id, Person, "person", expected_version=expected_version
            )
            person.change_placement(department, unit, effective_date, meta, organisation)
            self.save_all(person)
            return person

        return self._revealed(self.retrying(attempt, key=person_id))

    # Erasure ----------------------------------------------------------------------------------

    def on_erased(self, listener: Callable[[UUID], None]) -> None:
        """Calls ``listener(person_id)`` after each erasure, once the key is gone and the
        erasure recorded: whatever else keeps personal data (stored responses) forgets it."""
        self._erasure_listeners.append(listener)

    def erase_person(
        self, person_id: UUID, meta: Meta, expected_version: int | None = None
    ) -> PersonRecord:
        """Deletes the person's key and blind index, then records the erasure.

        The key goes first: if recording fails, the data is unreadable already and a retry
        records it. A second erasure is refused (409): there is nothing left to erase.
        """

        def attempt() -> Person:
            person: Person = self.get(
                person_id, Person, "person", expected_version=expected_version
            )
            person.erase(meta)
            self.personal_data.keys.forget([person_id])
            self.save_all(person)
            return person

        person = self.retrying(attempt, key=person_id)
        log.info("person %s erased: key and blind index deleted", person_id)
        for listener in list(self._erasure_listeners):
            listener(person_id)
        return PersonRecord(person, None)

    def forget_erased_keys(self) -> int:
        """Deletes the keys of everyone erased that the key store still holds; returns how many.

        Only a key store restored from a backup older than some erasures holds such keys (reads
        never use them: an erased person's fields are gone from their state). Run after every
        restore of the key store (``polku keys reconcile``).
        """
        forgotten, after = 0, 0
        while True:
            page = self.notifications_after(after, RECONCILE_PAGE, topics=[ERASED_TOPIC])
            if not page:
                return forgotten
            ids = [UUID(str(n.originator_id)) for n in page]
            held = list(self.personal_data.keys.keys(ids))
            if held:
                forgotten += self.personal_data.keys.forget(held)
            after = page[-1].id

    # Queries ----------------------------------------------------------------------------------

    def person(self, person_id: UUID, version: int | None = None) -> PersonRecord:
        """The person now, or at ``version``; an earlier version of an erased person reads
        without personal fields too (erasure is a fact about now, not about that version)."""
        person: Person = self.get(person_id, Person, "person", version=version)
        later = version is not None and not person.erased
        if later and self.get(person_id, Person, "person").erased:
            return PersonRecord(person, None)
        return self._revealed(person)

    def people(self, after: int, limit: int) -> tuple[list[PersonRecord], int | None]:
        """A page of people in registration order, and the cursor of the next page."""
        notifications = self.notifications_after(after, limit + 1, topics=[REGISTERED_TOPIC])
        page = notifications[:limit]
        people: list[Person] = [self.load(UUID(str(n.originator_id))) for n in page]
        revealed = self.personal_data.reveal((p.id, p.personal) for p in people)
        records = [PersonRecord(p, revealed.get(p.id)) for p in people]
        more = len(notifications) > limit
        return records, (page[-1].id if more and page else None)

    def placements(self, person_id: UUID, version: int | None = None) -> list[Placement]:
        person: Person = self.get(person_id, Person, "person", version=version)
        return list(person.placements)

    def placement_on(
        self, person_id: UUID, day: dt.date | None = None, version: int | None = None
    ) -> Placement:
        """The person's placement on ``day`` (default: today by :attr:`today`)."""
        person: Person = self.get(person_id, Person, "person", version=version)
        return person.placement_at(day or self.today())

    def _revealed(self, person: Person) -> PersonRecord:
        personal = self.personal_data.reveal([(person.id, person.personal)]).get(person.id)
        return PersonRecord(person, personal)
