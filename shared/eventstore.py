"""The base of every write service's ``eventsourcing`` Application.

It takes its persistence environment only from :class:`~shared.settings.Settings` (never from
``os.environ``), registers the transcodings our events need, translates optimistic-concurrency
failures into :class:`~shared.errors.ConflictError`, and wakes in-process followers on save.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import Environment

from shared.errors import ConcurrentChange, NotFoundError, StaleVersion
from shared.snapshots import kept, prune_snapshots

log = logging.getLogger(__name__)

T = TypeVar("T")


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` check against
    a runtime-checkable protocol, which was a quarter of a long aggregate's load (it is an
    ``assert``, so ``python -O`` skips it too). Every event of ours, snapshots included, has
    ``mutate``."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


AGGREGATE_CACHE_SIZE = 1000
"""Aggregates kept in memory per application (least recently used go first)."""

COMMAND_LOCK_STRIPES = 64
"""Locks serialising this process's commands per aggregate (see ``retrying``)."""


class ServiceApplication(Application[UUID]):
    """An event-sourced application whose environment is given, never read from the process."""

    def __init__(self, env: dict[str, str]) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        # Striped: a bounded set of locks, one shared by every aggregate id that hashes to it.
        # Reentrant: a command holding one stripe may load another aggregate on the same one.
        self._command_locks = tuple(threading.RLock() for _ in range(COMMAND_LOCK_STRIPES))
        self._command = threading.local()
        super().__init__(env)

    def __del__(self) -> None:
        # The library's finaliser lets everything but AttributeError escape. Closing a store
        # that never finished opening (a database that was down) can fail in other ways, at
        # whatever moment the collector runs; a finaliser must never raise.
        with contextlib.suppress(Exception):
            self.close()

    def construct_env(self, name: str, env: Any = None) -> Environment:
        given = dict(env or {})
        if type(self).snapshotting_intervals:  # the library's own override reads os.environ
            given.setdefault("IS_SNAPSHOTTING_ENABLED", "y")
        # Recently used aggregates stay in memory; each load first reads the events stored
        # after the cached version (fastforward, the library's default), so writes by other
        # processes are seen, and hands the caller a deep copy, so a failed command leaves
        # the cached state as it was. The exception is the aggregate a command is keyed by
        # (see ``get``): that command holds its lock and changes the cached state itself.
        given.setdefault("AGGREGATE_CACHE_MAXSIZE", str(AGGREGATE_CACHE_SIZE))
        given.setdefault("AGGREGATE_CACHE_FASTFORWARD", "y")
        given.setdefault("DEEPCOPY_FROM_AGGREGATE_CACHE", "y")
        return Environment(name, given)

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[arg-type]
        assert isinstance(transcoder, JSONTranscoder)
        transcoder.register(DateAsISO())

    def on_saved(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` after every successful save (used to wake embedded followers)."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def save_all(self, *aggregates: Aggregate) -> None:
        """Saves the aggregates' pending events atomically; a lost race becomes a 409."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise ConcurrentChange(
                "the resource was changed by another request at the same time; retry"
            ) from None
        for listener in list(self._listeners):
            listener()

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Takes a snapshot (after a save that reached a snapshotting interval).

        The save is committed already, so a lost race must not fail the command: another
        process took the same snapshot of the same version, derived from the same events.
        Then the aggregate's snapshots older than the latest ``POLKU_SNAPSHOTS_KEPT`` are
        deleted (:mod:`shared.snapshots`); should that fail, it is logged and the next
        snapshot deletes them.
        """
        with contextlib.suppress(IntegrityError):
            super().take_snapshot(aggregate_id, version, replay)
        if self.snapshots is None:
            return
        try:
            prune_snapshots(self.snapshots.recorder, aggregate_id, kept(self.env))
        except Exception:  # derived data: the committed command stands, the next prune retries
            log.warning("older snapshots of %s not deleted", aggregate_id, exc_info=True)

    def retrying(self, command: Callable[[], T], key: UUID | None = None, attempts: int = 10) -> T:
        """Runs a load-decide-save ``command``, again on fresh state if it lost a race.

        Optimistic concurrency makes the loser of two simultaneous commands fail; re-running it
        against the winner's state gives the caller the answer it would have had in sequence
        (for example "full" rather than "try again"). Commands on the same aggregate ``key``
        in this process take turns, so only races with other processes remain; those back
        off exponentially with full jitter (up to 0.2 s) before the next attempt.
        """
        turn: AbstractContextManager[Any] = (
            self._command_locks[hash(key) % len(self._command_locks)] if key else nullcontext()
        )
        for attempt in range(attempts):
            try:
                with turn:
                    return self._owning(key, command)
            except ConcurrentChange:
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.004 * 2**attempt)))
        raise AssertionError("unreachable")

    def _owning(self, key: UUID | None, command: Callable[[], T]) -> T:
        """Runs ``command`` as the owner of aggregate ``key``: loads of it skip the copy.

        The cached aggregate is changed in place, under the key's lock, which every other load
        of it in this process takes before copying. If the command fails after changing it (a
        save refused by a race, a store that went away), the aggregate leaves the cache, so the
        next load rebuilds it from the store.
        """
        outer = getattr(self._command, "owned", None)
        self._command.owned = (key, [])
        try:
            return command()
        except BaseException:
            for aggregate, version in self._command.owned[1]:
                if aggregate.version != version or aggregate.pending_events:
                    self.forget_cached(aggregate.id)
            raise
        finally:
            self._command.owned = outer

    def forget_cached(self, aggregate_id: UUID) -> None:
        """Drops an aggregate from the cache (its next load reads the store)."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def load(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """The aggregate (a copy of the cached one), read consistently with running commands.

        Raises the library's ``AggregateNotFoundError`` for an unknown id.
        """
        owned = getattr(self._command, "owned", None)
        if version is None and owned is not None and owned[0] == aggregate_id:
            aggregate = self.repository.get(
                aggregate_id, projector_func=replay, deepcopy_from_cache=False
            )
            owned[1].append((aggregate, aggregate.version))
            return aggregate
        if version is not None or self.repository.cache is None:
            return self.repository.get(aggregate_id, version=version, projector_func=replay)
        # A command keyed by this aggregate may be changing the cached one: copy between.
        with self._command_locks[hash(aggregate_id) % len(self._command_locks)]:
            return self.repository.get(aggregate_id, projector_func=replay)

    def get(
        self,
        aggregate_id: UUID,
        kind: type[Any],
        what: str,
        field: str | None = None,
        version: int | None = None,
        expected_version: int | None = None,
    ) -> Any:
        """Loads an aggregate of the expected kind, or raises NotFoundError naming it.

        ``version`` loads the state as it was just after that version's event (``?version=``);
        a version the aggregate has not reached is not found, naming the latest.
        ``expected_version`` is the caller's ``If-Match``: a command about to change the
        aggregate refuses (409, naming the current version) if it has moved on since.
        """
        try:
            aggregate: Aggregate = self.load(aggregate_id, version)
        except AggregateNotFoundError:
            raise NotFoundError(f"{what} {aggregate_id} does not exist", field=field) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(f"{what} {aggregate_id} does not exist", field=field)
        if version is not None and aggregate.version != version:
            raise NotFoundError(
                f"{what} {aggregate_id} has no version {version}; the latest is "
                f"{aggregate.version}",
                field="version",
            )
        if expected_version is not None and aggregate.version != expected_version:
            raise StaleVersion(f"{what} {aggregate_id}", expected_version, aggregate.version)
        return aggregate

    def notifications_after(
        self, position: int, limit: int, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        """Notifications strictly after ``position``; gaps in the ids are harmless."""
        return self.recorder.select_notifications(
            position, limit, topics=topics, inclusive_of_start=False
        )

    def head(self) -> int:
        """The id of the newest notification, 0 for an empty log."""
        return self.recorder.max_notification_id() or 0

    def ping(self) -> None:
        """Raises if the store cannot be reached."""
        self.recorder.max_notification_id()
