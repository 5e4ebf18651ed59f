"""The projection runner: applies polled batches to the read models, exactly once in effect.

One database transaction per batch holds the view changes, the applied event ids and the
cursor per (source, partition). Only after it commits does the feed acknowledge (Kafka offsets).
An event id seen before is skipped; an event that cannot be applied is dead-lettered, visibly,
and the batch goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from marshmallow import ValidationError

from services.tracking import changes
from services.tracking.collector import fewer_collections
from services.tracking.journal import Journal, applied_event_ids, handle
from services.tracking.readmodels import ReadModels, now, one_writer_at_a_time, store_cursor
from services.tracking.schema import check_layout
from services.tracking.versions import Batched, Touched, Written
from shared.events import Envelope, Registry
from shared.feeds import Delivery, Feed, Key, Poll
from shared.polling import run_until_stopped
from shared.sql import Cursor
from shared.text import printable

log = logging.getLogger("polku.projector")


@dataclass
class ProjectorStats:
    batches: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    last_error: str | None = None
    by_source_error: dict[str, str] = field(default_factory=dict)


CATCH_UP_BATCH = 5000
"""Events per transaction while a projector is behind (see :meth:`Projector.run_once`), each
applied with the garbage collector kept out of the way (:func:`~.collector.fewer_collections`).
On a 10,000-person log, 5,000 instead of 1,000 caught up about 1.4 times as fast in wall time:
fewer commits, each syncing the write-ahead log once. A batch of 5,000 takes about a third of
a second to apply."""


class Projector:
    def __init__(
        self,
        readmodels: ReadModels,
        feed: Feed,
        registry: Registry,
        batch_size: int = 1000,
        after_db_commit: Callable[[Poll], None] | None = None,
        max_attempts: int = 3,
        catch_up_batch_size: int | None = None,
    ) -> None:
        self.readmodels = readmodels
        self.feed = feed
        self.registry = registry
        self.batch_size = batch_size
        self.catch_up_batch_size = max(batch_size, catch_up_batch_size or CATCH_UP_BATCH)
        """Events polled at once while behind: after a poll that came back full."""
        self._behind = False
        self.after_db_commit = after_db_commit
        self.max_attempts = max_attempts
        # A batch that failed is retried as it was: polling again would move past it.
        self._pending: Poll | None = None
        self._attempts = 0
        self.stats = ProjectorStats()
        self.written: Written | None = None
        """Set only for read models that began empty (a rebuild's): see ``versions.Written``."""
        self.wakeup = threading.Event()
        self.heads: dict[tuple[str, int], int] = {}
        self.heads_at: str | None = None
        self._heads_refreshed = 0.0

    def refresh_heads(self, every: float = 0.0) -> None:
        """Caches the feed's heads; only the projector's own thread may touch the feed."""
        if time.monotonic() - self._heads_refreshed < every:
            return
        try:
            self.heads = self.feed.heads()
            self.heads_at = now()
            self.readmodels.record_heads(self.heads)
        except Exception as exc:  # status shows the failure; projection goes on
            self._record_error(self.feed.kind, f"reading heads: {exc}")
        self._heads_refreshed = time.monotonic()

    def run_once(self) -> int | None:
        """Polls one batch, applies it, then acknowledges it.

        Returns the number of events applied, or None when the feed had nothing new. A batch
        that fails is kept and retried; its last attempt isolates each event, so one that
        still fails is dead-lettered and the rest are applied.
        """
        poll = self._pending
        if poll is None:
            asked = self.catch_up_batch_size if self._behind else self.batch_size
            poll = self.feed.poll(self.readmodels.positions(), asked)
            # A full poll means more is waiting: catching up (a new deployment, a restore, a
            # long pause) goes in larger transactions, each commit costing less per event.
            self._behind = len(poll.deliveries) >= asked
            if poll.empty:
                return None
        self._pending = poll
        self._attempts += 1
        with fewer_collections() if self._behind else nullcontext():
            applied = self.apply(poll, isolate=self._attempts >= self.max_attempts)
        self._pending, self._attempts = None, 0
        if self.after_db_commit is not None:
            self.after_db_commit(poll)
        self.feed.commit(poll)
        return applied

    def apply(self, poll: Poll, isolate: bool = False) -> int:
        last_event: dict[Key, int] = {}
        with self.readmodels.database.transaction() as cur:
            one_writer_at_a_time(self.readmodels.database, cur)  # several projectors, one group
            check_layout(cur)  # a newer release may have rebuilt the tables meanwhile
            apply = self._apply_each_isolated if isolate else self._apply_batch
            touched = Touched()
            applied_per_key = Counter(apply(cur, poll, touched))
            changes.bump(cur, touched, touched.people)
            for delivery in poll.deliveries:
                if delivery.envelope is not None:
                    last_event[(delivery.source, delivery.partition)] = delivery.envelope.position
            for key, cursor in poll.cursors.items():
                store_cursor(cur, key, cursor, last_event.get(key), applied_per_key.get(key, 0))
        applied = sum(applied_per_key.values())
        self.stats.batches += 1
        self.stats.applied += applied
        return applied

    def _apply_batch(self, cur: Cursor, poll: Poll, touched: Touched) -> list[Key]:
        """Applies a batch in order, with one ledger lookup and one ledger insert for all of it.

        The ledger insert has no ``ON CONFLICT``: if another projector applied one of these
        events since the lookup, the insert fails, the whole batch rolls back and its retry
        sees the event as applied.
        """
        seen = applied_event_ids(
            cur, [d.envelope.id for d in poll.deliveries if d.envelope is not None]
        )
        journal = Journal()
        batched = Batched(cur, self.written)  # runs of the same insert: one executemany
        applied: list[Key] = []
        for delivery in poll.deliveries:
            envelope = self._readable(cur, delivery)
            if envelope is None:
                continue
            if envelope.id in seen:
                self.stats.duplicates += 1
                continue
            seen.add(envelope.id)
            handle(batched, envelope)
            journal.add(delivery.source, envelope)
            applied.append((delivery.source, delivery.partition))
        batched.flush()
        touched.merge(batched)
        journal.write(cur)
        return applied

    def _apply_each_isolated(self, cur: Cursor, poll: Poll, touched: Touched) -> list[Key]:
        return [
            (delivery.source, delivery.partition)
            for delivery in poll.deliveries
            if self._apply_isolated(cur, delivery, touched)
        ]

    def _apply_isolated(self, cur: Cursor, delivery: Delivery, touched: Touched) -> bool:
        """Applies one event inside a savepoint; if it fails, only it is undone and parked."""
        cur.execute("SAVEPOINT polku_event")
        try:
            applied = self._apply_one(cur, delivery, touched)
        except Exception as exc:  # after the retries, this event alone is at fault
            cur.execute("ROLLBACK TO SAVEPOINT polku_event")
            cur.execute("RELEASE SAVEPOINT polku_event")
            self._dead_letter(
                cur, delivery, f"could not be applied: {exc.__class__.__name__}: {exc}"
            )
            return False
        cur.execute("RELEASE SAVEPOINT polku_event")
        return applied

    def _readable(self, cur: Cursor, delivery: Delivery) -> Envelope | None:
        """The delivery's envelope if it can be applied; otherwise it is dead-lettered."""
        envelope = delivery.envelope
        if envelope is None:
            self._dead_letter(cur, delivery, delivery.error or "unreadable")
            return None
        if not delivery.trusted:
            # Bytes that crossed a process boundary must match the contract. Handlers get the
            # JSON form either way, so every feed yields the same rows.
            # An older version (read back from a topic kept forever) is upcast to the current
            # one first: handlers only ever see the current version's data.
            try:
                data = self.registry.current_data(envelope.type, envelope.dataschema, envelope.data)
                self.registry.load(envelope.type, data)
            except ValidationError as exc:
                self._dead_letter(cur, delivery, f"{envelope.type}: {exc.messages}")
                return None
            if data is not envelope.data:
                return envelope._replace(data=data)
        return envelope

    def _apply_one(self, cur: Cursor, delivery: Delivery, touched: Touched) -> bool:
        envelope = self._readable(cur, delivery)
        if envelope is None:
            return False
        if applied_event_ids(cur, [envelope.id]):
            self.stats.duplicates += 1
            return False
        batched = Batched(cur, self.written)
        handle(batched, envelope)
        batched.flush()
        touched.merge(batched)
        journal = Journal()
        journal.add(delivery.source, envelope)
        journal.write(cur)
        return True

    def _dead_letter(self, cur: Cursor, delivery: Delivery, error: str) -> None:
        """Parks a delivery with the reason; this insert must not fail, whatever the record held.

        Envelope attributes are clean (the envelope schema refuses control characters and
        out-of-range numbers), the payload is JSON-escaped, and the error text is escaped here:
        PostgreSQL cannot store NUL, and a record that cannot even be parked would stop the
        projector for good.
        """
        envelope = delivery.envelope
        error = printable(error)
        payload = (
            envelope.to_json().decode()
            if envelope
            else (delivery.raw or b"").decode("utf-8", "replace")
        )
        cur.execute(
            "INSERT INTO tr_dead_letters (source, partition_no, offset_no, event_id, type, error,"
            " payload, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, partition_no, offset_no) DO NOTHING",
            (
                delivery.source,
                delivery.partition,
                delivery.offset,
                envelope.id if envelope else None,
                envelope.type if envelope else None,
                error,
                json.dumps(payload),
                now(),
            ),
        )
        message = f"dead-lettered offset {delivery.offset}: {error}"
        # Same transaction as the batch: a second one would wait on this one's write lock.
        cur.execute(
            "INSERT INTO tr_errors (source, error, recorded_at) VALUES (?, ?, ?)"
            " ON CONFLICT (source) DO UPDATE SET error = excluded.error,"
            " recorded_at = excluded.recorded_at",
            (delivery.source, message[:2000], now()),
        )
        self.stats.dead_lettered += 1
        self.stats.last_error = message
        self.stats.by_source_error[delivery.source] = message
        log.error(
            "dead-lettered %s/%d@%d: %s",
            delivery.source,
            delivery.partition,
            delivery.offset,
            error,
        )

    def _record_error(self, source: str, message: str) -> None:
        self.stats.last_error = message
        self.stats.by_source_error[source] = message
        try:
            self.readmodels.record_error(source, message)
        except Exception:  # the database may be what failed; the log line still has it
            log.exception("could not record the projector error")

    def drain(self, timeout: float = 30.0) -> int:
        """Applies batches until caught up with the feed (``polku project --once``, replays).

        A log feed is caught up when a poll comes back empty. A Kafka poll also comes back
        empty while the consumer is still joining its group, so there the projector goes on
        until it has partitions and its positions have reached their ends.
        """
        total = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            poll_applied = self.run_once()
            if poll_applied is not None:
                total += poll_applied
                continue
            self.refresh_heads()
            if not self.feed.waits_for_events or self._caught_up():
                return total
            # Still joining, or behind: do not spin, or kafka-python's IO thread (which runs
            # the group protocol) is starved of the GIL and the join may never settle.
            time.sleep(0.05)
        return total

    def _caught_up(self) -> bool:
        """True once every assigned partition's newest record is applied (or it has none)."""
        if not self.heads:
            return False  # no assignment yet: the group is still forming
        positions = self.readmodels.positions()
        return all(positions.get(key, -1) >= head for key, head in self.heads.items())

    def run_forever(self, stop: threading.Event, poll_interval: float = 0.2) -> None:
        def step() -> bool:
            applied = self.run_once()
            self.refresh_heads(every=1.0)
            # A Kafka poll already waited for records; sleeping again only adds latency.
            return applied is None and not self.feed.waits_for_events

        run_until_stopped(step, stop, self.wakeup, poll_interval, self._failed)

    def _failed(self, exc: Exception, retry_in: float) -> None:
        self._record_error(self.feed.kind, f"{exc.__class__.__name__}: {exc}")
        log.warning("projector: %s; retrying in %.1fs", exc, retry_in)
