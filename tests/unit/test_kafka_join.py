"""A group join cut short by a poll's timeout is finished, not forgotten (shared/kafka.py).

kafka-python 3.0.12 forgot such a join when the reason to rejoin cleared during it, and the
projector then fetched nothing until the broker dropped it: ``test_kafka_relay``'s drain test
stalled for its whole 180 s about one run in ten under load, and with the work-around 50 runs
in a row passed. These stand-ins pin the decision itself; the real client's internals are
checked against the pinned version below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafka.coordinator.base import BaseCoordinator

from shared.kafka import finish_cut_short_join


@dataclass
class Coordinator:
    _join_task: Any = None
    rejoin: bool = False
    rejoin_needed: bool = False

    def need_rejoin(self) -> bool:
        return self.rejoin or self.rejoin_needed


@dataclass
class Consumer:
    _coordinator: Any


def test_a_join_left_in_flight_with_no_reason_to_rejoin_is_resumed() -> None:
    coordinator = Coordinator(_join_task=object())
    assert finish_cut_short_join(Consumer(coordinator)) is True  # type: ignore[arg-type]
    assert coordinator.rejoin_needed is True


def test_nothing_changes_without_a_join_in_flight_or_when_it_is_resumed_anyway() -> None:
    for coordinator in (Coordinator(), Coordinator(_join_task=object(), rejoin=True)):
        assert finish_cut_short_join(Consumer(coordinator)) is False  # type: ignore[arg-type]
        assert coordinator.rejoin_needed is False
    assert finish_cut_short_join(object()) is False  # type: ignore[arg-type]  # no coordinator


def test_the_client_still_has_the_internals_the_work_around_uses() -> None:
    source = BaseCoordinator.join_group_async.__code__.co_names
    assert "_join_task" in source and "need_rejoin" in source
    assert "rejoin_needed" in BaseCoordinator.need_rejoin.__code__.co_names
