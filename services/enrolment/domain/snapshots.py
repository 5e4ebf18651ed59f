"""How a cohort's state is written down as a snapshot, so loading it need not replay its history.

A cohort gathers an event per invitation, acceptance, enrolment and completion; rebuilding a
cohort of 300 people from its events is most of an invite's cost. The application stores a
snapshot every so many events, and a load reads the latest snapshot and only the events after
it. A snapshot is derived from the events alone, so any process may take one, and deleting
them all loses nothing.

The stored form is JSON, whose objects have only string keys: participations (by person id)
are written as a list, each as its fields, and read back into :class:`Participation`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from eventsourcing.domain import BaseAggregate, Snapshot
from eventsourcing.utils import get_topic, register_topic

from services.enrolment.domain.enrolments import Participation


class CohortSnapshot(Snapshot):
    TOPIC = "polku.enrolment:Cohort.Snapshot"

    @classmethod
    def take(cls, aggregate: Any) -> CohortSnapshot:
        state = dict(vars(aggregate))
        for private in ("_id", "_version", "_pending_events"):
            state.pop(private)
        state["participations"] = [dataclasses.asdict(p) for p in aggregate.participations.values()]
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> BaseAggregate[Any]:
        state = dict(self.state)
        participations = (Participation(**fields) for fields in state["participations"])
        state["participations"] = {p.person_id: p for p in participations}
        stored = dataclasses.replace(self, state=state)
        return cast(BaseAggregate[Any], Snapshot.mutate(stored, None))


register_topic(CohortSnapshot.TOPIC, CohortSnapshot)
