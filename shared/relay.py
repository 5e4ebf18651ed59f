"""The relay: a write service's outbox, published to Kafka in batches, at least once.

Each round reads the notifications after the stored position, sends their envelopes keyed by
subject, flushes (waiting for every acknowledgement), and only then stores the new position.
A crash between flush and store republishes the same envelopes with the same ids, which
consumers ignore. If Kafka is down, the round fails, the position stays, and commands go on
being accepted; the next round catches up.

A service with a restricted channel (assessment) has its events published to two topics: the
public one, minimised, and the restricted one, in full. Both come from one read of the log and
are flushed before the one position is stored, so neither topic can fall behind the other.

Several relay processes may run for one service: each round first makes sure this one holds
the service's leader lock (:mod:`shared.leader`). A relay without it publishes nothing and
tries again next round; one that loses it (its database connection went) stops before
sending or storing anything more, and whoever takes over starts from the stored position.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from shared.kafka import STRUCTURED_HEADERS
from shared.leader import LeaderLock, LeadershipLost
from shared.outbox import Outbox
from shared.polling import run_until_stopped
from shared.positions import RelayPositions

log = logging.getLogger("polku.relay")


@dataclass
class RelayStats:
    published: int = 0
    rounds: int = 0
    failures: int = 0
    position: int = 0
    leading: bool = True
    """Whether this relay held the leader lock at its last round (always, without a lock)."""
    last_error: str | None = None
    errors: list[str] = field(default_factory=list)


class Relay:
    def __init__(
        self,
        outbox: Outbox,
        producer: Any,
        positions: RelayPositions,
        topic: str,
        batch_size: int = 2000,
        name: str = "kafka",
        restricted: tuple[Outbox, str] | None = None,
        leader: LeaderLock | None = None,
    ) -> None:
        self.outbox = outbox
        self.topic = topic
        self.channels: list[tuple[Outbox, str]] = [(outbox, topic)]
        if restricted is not None:
            self.channels.append(restricted)
        self.producer = producer
        self.positions = positions
        self.batch_size = batch_size
        self.name = name
        self.leader = leader
        self.stats = RelayStats(position=positions.get(name), leading=leader is None)
        self.wakeup = threading.Event()

    def lead(self) -> bool:
        """Takes (or confirms) the leader lock; False while another relay holds it.

        A lock lost with its connection raises :class:`~shared.leader.LeadershipLost`.
        """
        if self.leader is None:
            return True
        was_leading = self.stats.leading
        try:
            self.stats.leading = self.leader.acquire()
        except Exception:
            self.stats.leading = False
            raise
        if was_leading and not self.stats.leading:
            log.info("relay %s: standing by; another relay leads", self.outbox.service)
        return self.stats.leading

    def run_once(self) -> int:
        """Publishes one batch; returns how many events it held (0 when caught up or standing by).

        An event of a service with a restricted channel is sent twice, once to each topic.
        """
        if not self.lead():
            return 0
        after = self.positions.get(self.name)
        others = [outbox for outbox, _ in self.channels[1:]]
        batches = self.outbox.read_channels(others, after, self.batch_size)
        batch = batches[0]
        if batch.last_position == after:
            return 0
        futures = [
            self.producer.send(
                topic,
                key=envelope.subject.encode(),
                value=envelope.to_json(),
                headers=STRUCTURED_HEADERS,
            )
            for (_, topic), channel in zip(self.channels, batches, strict=True)
            for envelope in channel.envelopes
        ]
        self.producer.flush()
        for future in futures:
            # After flush every future is resolved; get() raises if the broker refused one.
            future.get(timeout=0)
        if self.leader is not None:
            # Another relay may have taken over since the round began: its position stands.
            self.leader.check()
        self.positions.put(self.name, batch.last_position)
        self.stats.published += len(batch.envelopes)
        self.stats.rounds += 1
        self.stats.position = batch.last_position
        return len(batch.envelopes)

    def drain(self) -> int:
        """Publishes until caught up with the head of the log."""
        total = 0
        while True:
            sent = self.run_once()
            total += sent
            if not self.stats.leading:
                return total  # another relay leads: it publishes the rest
            if self.positions.get(self.name) >= self.outbox.head():
                return total

    def run_forever(self, stop: threading.Event, poll_interval: float = 0.2) -> None:
        def step() -> bool:
            self.run_once()
            if not self.stats.leading:
                return True  # standing by: try the lock again after the poll interval
            return self.positions.get(self.name) >= self.outbox.head()

        run_until_stopped(step, stop, self.wakeup, poll_interval, self._failed)
        log.info("relay %s stopped at position %d", self.outbox.service, self.stats.position)

    def close(self) -> None:
        """Closes the producer and gives up the leader lock, so a standby takes over at once."""
        try:
            self.producer.close(timeout=5)
        finally:
            if self.leader is not None:
                self.leader.release()
                self.stats.leading = False

    def _failed(self, exc: Exception, retry_in: float) -> None:
        self.stats.failures += 1
        if isinstance(exc, LeadershipLost):
            self.stats.leading = False
        self.stats.last_error = f"{exc.__class__.__name__}: {exc}"
        log.warning("relay %s: %s; retrying in %.1fs", self.outbox.service, exc, retry_in)
