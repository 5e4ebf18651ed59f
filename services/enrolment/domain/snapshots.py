"""How a cohort's state is written down as a snapshot, and copied, so loading it is cheap.

A cohort gathers an event per invitation, acceptance, enrolment and completion; rebuilding a
cohort of 300 people from its events was most of an invite's cost. The application stores a
snapshot every so many events, and a load reads the latest snapshot and only the events after
it. A snapshot is derived from the events alone, so any process may take one, and deleting
them all loses nothing (a changed shape of the state is handled that way, or by the
aggregate's ``class_version`` upcasts).

The stored form is compact, because decoding it is most of a load: the participations (a
dictionary by person id, which JSON cannot key) are rows of plain strings under the names in
``participation_fields``, and the roster and waitlist are hex ids. Plain strings and lists are
decoded by the JSON parser alone, without a hook per object for the typed values.

The application also keeps recently used aggregates in memory (brought up to date from the store
on every load) and hands each command a copy. :func:`copy_cohort` makes that copy: the lists of
ids and each participation are copied as what they are, flat records of immutable values, which
is many times faster than ``copy.deepcopy`` walking every date and id.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import BaseAggregate, Snapshot
from eventsourcing.utils import get_topic, register_topic

from services.enrolment.domain.enrolments import Participation

PARTICIPATION_FIELDS = tuple(f.name for f in dataclasses.fields(Participation))


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _encoded(p: Participation) -> list[Any]:
    row: list[Any] = []
    for name in PARTICIPATION_FIELDS:
        value = getattr(p, name)
        if name == "person_id":
            row.append(value.hex)
        elif name == "periods":
            row.append([[_day(first), _day(last)] for first, last in value])
        elif isinstance(value, dt.date):  # dates, and the one datetime (enrolled_at)
            row.append(value.isoformat())
        else:
            row.append(value)
    return row


def _periods(value: list[list[str | None]]) -> list[list[dt.date | None]]:
    return [[None if day is None else dt.date.fromisoformat(day) for day in p] for p in value]


def _decoder(name: str) -> Callable[[Any], Any] | None:
    """How a stored participation field reads back; None for a value stored as it is."""
    if name == "person_id":
        return UUID
    if name == "enrolled_at":
        return dt.datetime.fromisoformat
    if name.endswith("_on"):
        return dt.date.fromisoformat
    if name == "periods":
        return _periods
    return None


def _participations(names: list[str], rows: list[list[Any]]) -> Iterator[Participation]:
    decoders = [(name, _decoder(name)) for name in names]
    for row in rows:
        yield Participation(
            **{
                name: value if decode is None or value is None else decode(value)
                for (name, decode), value in zip(decoders, row, strict=True)
            }
        )


SHARED_VALUES = ("roster", "waitlist", "coaches")
"""Lists of immutable values (ids, subjects): a new list holding the same values is a copy."""


def copy_cohort(cohort: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of ``cohort`` (its ``__deepcopy__``); what is not known to be flat is
    deep-copied as usual."""
    clone = object.__new__(type(cohort))
    for name, value in vars(cohort).items():
        if name == "participations":
            value = {person_id: _copied(p) for person_id, p in value.items()}
        elif name in SHARED_VALUES:
            value = list(value)
        else:
            value = copy.deepcopy(value, memo)
        object.__setattr__(clone, name, value)
    return clone


def _copied(p: Participation) -> Participation:
    clone = object.__new__(Participation)
    clone.__dict__.update(vars(p))
    clone.periods = [list(period) for period in p.periods]
    return clone


class CohortSnapshot(Snapshot):
    TOPIC = "polku.enrolment:Cohort.Snapshot"

    @classmethod
    def take(cls, aggregate: Any) -> CohortSnapshot:
        state = dict(vars(aggregate))
        for private in ("_id", "_version", "_pending_events"):
            state.pop(private)
        state["participation_fields"] = list(PARTICIPATION_FIELDS)
        state["participations"] = [_encoded(p) for p in aggregate.participations.values()]
        state["roster"] = [person_id.hex for person_id in aggregate.roster]
        state["waitlist"] = [person_id.hex for person_id in aggregate.waitlist]
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> BaseAggregate[Any]:
        state = dict(self.state)
        names = state.pop("participation_fields")
        by_id = {p.person_id: p for p in _participations(names, state["participations"])}
        by_hex = {person_id.hex: person_id for person_id in by_id}
        state["participations"] = by_id
        state["roster"] = [by_hex[h] for h in state["roster"]]
        state["waitlist"] = [by_hex[h] for h in state["waitlist"]]
        stored = dataclasses.replace(self, state=state)
        return cast(BaseAggregate[Any], Snapshot.mutate(stored, None))


register_topic(CohortSnapshot.TOPIC, CohortSnapshot)
