"""Incremental projection equals a full rebuild, whatever the batching, interleaving and redelivery.

The live projector sees the two services' events in batches of any size, each service's log
split into partitions (as Kafka splits a topic by aggregate) and interleaved at random, with
events it already applied delivered again. A rebuild applies both logs once, in log order.
Every view table must come out the same, and what it holds as of any moment must equal the
journal replayed up to then (:mod:`tests.support.replayed`, the test oracle).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tracking.comparison import compare, consistent
from services.tracking.projections import HANDLERS
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from shared.events import Envelope, restricted_registry
from shared.feeds import Delivery, Key, Poll
from shared.sql import Database
from tests.support.replayed import differing_tables
from tests.support.scripted_feed import ScriptedFeed
from tests.unit.event_sequences import Logs

PARTITIONS = 3


@contextmanager
def readmodels(folder: Path, name: str) -> Iterator[ReadModels]:
    built = ReadModels(Database(f"sqlite:///{folder / name}.sqlite"))
    built.create()
    try:
        yield built
    finally:
        built.database.close()


def project(into: ReadModels, polls: list[Poll]) -> Projector:
    projector = Projector(into, ScriptedFeed(polls), restricted_registry())
    while projector.run_once() is not None:
        pass
    return projector


def partition_of(envelope: Envelope) -> int:
    return uuid.UUID(envelope.subject).int % PARTITIONS


def incremental_polls(draw: Any, logs: Logs) -> list[Poll]:
    """The logs split into partitions, merged at random, cut into batches with redeliveries."""
    streams: dict[Key, list[Delivery]] = {}
    for source, events in logs.events.items():
        for envelope in events:
            key = (source, partition_of(envelope))
            stream = streams.setdefault(key, [])
            stream.append(Delivery(source, key[1], len(stream), envelope))
    merged: list[Delivery] = []
    pending = {key: list(stream) for key, stream in streams.items() if stream}
    while pending:
        key = draw(st.sampled_from(sorted(pending)))
        merged.append(pending[key].pop(0))
        if not pending[key]:
            del pending[key]
    polls: list[Poll] = []
    delivered: list[Delivery] = []
    cursors: dict[Key, int] = {}
    while merged:
        size = draw(st.integers(1, 8))
        fresh, merged = merged[:size], merged[size:]
        again = draw(st.lists(st.sampled_from(delivered), max_size=3)) if delivered else []
        batch = [*again, *fresh]
        for d in batch:
            key = (d.source, d.partition)
            cursors[key] = max(cursors.get(key, -1), d.offset)
        polls.append(
            Poll(batch, {(d.source, d.partition): cursors[d.source, d.partition] for d in batch})
        )
        delivered += fresh
    return polls


def rebuild_poll(logs: Logs) -> Poll:
    deliveries = [
        Delivery(source, 0, envelope.position, envelope)
        for source, events in logs.events.items()
        for envelope in events
    ]
    cursors = {(source, 0): logs.heads[source] for source, events in logs.events.items() if events}
    return Poll(deliveries, cursors)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_incremental_projection_equals_a_full_rebuild(data: st.DataObject) -> None:
    logs = Logs(data.draw)
    for _ in range(data.draw(st.integers(1, 80), label="steps")):
        logs.step()
    polls = incremental_polls(data.draw, logs)
    total = sum(len(events) for events in logs.events.values())

    with (
        tempfile.TemporaryDirectory() as folder,
        readmodels(Path(folder), "live") as live,
        readmodels(Path(folder), "rebuilt") as rebuilt,
    ):
        incremental = project(live, polls)
        full = project(rebuilt, [rebuild_poll(logs)])
        assert incremental.stats.dead_lettered == full.stats.dead_lettered == 0
        assert incremental.stats.applied == full.stats.applied == total
        assert live.count("tr_applied_events") == total

        comparison = compare(live.database, rebuilt.database)
        assert comparison.identical, "\n".join(comparison.lines())

        # As of any moment, what the temporal tables hold equals the journal replayed to then.
        times = sorted({e.time for events in logs.events.values() for e in events})
        moment = data.draw(st.sampled_from(times), label="as_of")
        with consistent(live.database) as cur:
            assert differing_tables(cur, moment) == []
            assert differing_tables(cur, times[-1]) == []


def test_the_generated_logs_cover_every_kind_of_event() -> None:
    """The property is only as good as the events it draws: every handled type must occur."""
    seen: set[str] = set()

    @settings(max_examples=25, deadline=None, database=None, derandomize=True)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        logs = Logs(data.draw)
        for _ in range(200):
            logs.step()
        seen.update(e.type for events in logs.events.values() for e in events)

    collect()
    assert set(HANDLERS) - seen == set()
