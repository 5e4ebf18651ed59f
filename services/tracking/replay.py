"""Rebuilding every read model from the event logs, and swapping a rebuild into the live tables.

A rebuild is the live projector's own code (:class:`Projector`, the same handlers) applied to
fresh, empty read models from position 0 of the same kind of feed. ``polku replay`` then
compares it with the live read models (:mod:`services.tracking.comparison`) and, when asked,
replaces the live view tables' contents with it, in one transaction (copied over in batches of
``insert_batch`` rows, so memory does not grow with the tables), and only when the live
projector has consumed exactly what the rebuild has: otherwise the swap would roll the live
views back, or forward past their positions.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.tracking import changes
from services.tracking.collector import fewer_collections
from services.tracking.comparison import BATCH, IGNORED, layouts, positions
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from services.tracking.schema import REENTERED, VIEW_TABLES, check_layout
from services.tracking.versions import Written
from shared.events import restricted_registry
from shared.feeds import Feed, Key, Poll
from shared.sql import Cursor, Database, batches

log = logging.getLogger("polku.replay")

REPLAY_FILE = "tracking-replay.sqlite"
"""The default rebuild target, in the data dir."""

REBUILD_BATCH = 5000
"""Events per rebuild transaction: a throwaway file has no readers to keep waiting, and each
commit writes every page the batch changed, so fewer, larger batches write less."""

Progress = Callable[[int, int], None]
"""Called after every batch with (log positions consumed, log positions in all)."""

RETRYABLE_SQLSTATES = frozenset({"55P03", "40P01", "40001"})
"""PostgreSQL: a lock not available at once, a deadlock, a serialisation failure."""


class ReplayError(RuntimeError):
    """The rebuild could not be completed or swapped in; the message says why."""


class SwapRefused(ReplayError):
    """The live positions never matched the rebuild's, so the live views were left as they were."""


def fresh_readmodels(path: Path) -> ReadModels:
    """Empty read models in a new SQLite file; whatever the path held before is removed.

    The file is *throwaway* (:data:`shared.sql.THROWAWAY_PRAGMAS`): it becomes live only
    through a swap, which copies its rows in one transaction of the live database, so a crash
    while it is written loses nothing but the rebuild, and ``polku replay`` starts it afresh.
    """
    for leftover in (
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        path.with_name(path.name + "-journal"),
    ):
        leftover.unlink(missing_ok=True)
    readmodels = ReadModels(Database(f"sqlite:///{path}", throwaway=True))
    readmodels.create()
    return readmodels


class Unacknowledged:
    """A feed whose reads are never acknowledged: a rebuild leaves no consumer offsets behind.

    Its positions are the rebuilt read models' own, as the live projector's are.
    """

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.kind = feed.kind
        self.waits_for_events = feed.waits_for_events

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        return self.feed.poll(positions, max_records)

    def commit(self, poll: Poll) -> None:
        pass

    def heads(self) -> dict[Key, int]:
        return self.feed.heads()

    def close(self) -> None:
        self.feed.close()


@dataclass
class Rebuild:
    """Fresh read models and a projector filling them from the start of a feed."""

    readmodels: ReadModels
    feed: Feed
    batch_size: int = REBUILD_BATCH
    idle_timeout: float = 60.0
    """How long a feed that waits for events (Kafka) may bring nothing before we give up."""
    events: int = 0
    seconds: float = 0.0
    projector: Projector = field(init=False)

    def __post_init__(self) -> None:
        self.projector = Projector(
            self.readmodels, Unacknowledged(self.feed), restricted_registry(), self.batch_size
        )
        if self._empty():  # fresh read models: a first write of a key needs no question
            self.projector.written = Written()

    def _empty(self) -> bool:
        with self.readmodels.database.transaction(write=False) as cur:
            for table in REENTERED:
                cur.execute(f"SELECT 1 FROM {table} LIMIT 1")
                if cur.fetchone() is not None:
                    return False
        return True

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def positions(self) -> dict[Key, int]:
        return self.readmodels.positions()

    def catch_up(self, progress: Progress | None = None) -> int:
        """Applies batches until the feed has nothing newer; returns the events applied."""
        with fewer_collections():
            return self._catch_up(progress)

    def _catch_up(self, progress: Progress | None) -> int:
        started = time.monotonic()
        applied = 0
        idle_since: float | None = None
        self.projector.refresh_heads()
        while True:
            count = self.projector.run_once()
            if count is not None:
                applied += count
                idle_since = None
                # Kafka knows its heads only once partitions are assigned: ask until it does.
                self.projector.refresh_heads(every=1.0 if self.projector.heads else 0.0)
                if progress is not None:
                    progress(*self._progress())
                continue
            self.projector.refresh_heads()
            if not self.feed.waits_for_events or self._caught_up():
                break
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > self.idle_timeout:
                raise ReplayError(
                    f"the {self.feed.kind} feed brought nothing for {self.idle_timeout:.0f} s"
                    " before the rebuild reached its heads"
                )
            time.sleep(0.05)  # a Kafka consumer still joining its group needs the GIL free
        if progress is not None:
            progress(*self._progress())
        self.events += applied
        self.seconds += time.monotonic() - started
        return applied

    def _caught_up(self) -> bool:
        heads = self.projector.heads
        if not heads:
            return False  # no partitions assigned yet
        at = self.positions()
        return all(at.get(key, -1) >= head for key, head in heads.items())

    def _progress(self) -> tuple[int, int]:
        # Log feeds number their notifications from 1; Kafka offsets count from 0.
        base = -1 if self.feed.kind == "kafka" else 0
        at = self.positions()
        total = done = 0
        for key, head in self.projector.heads.items():
            total += max(head - base, 0)
            done += min(max(at.get(key, base) - base, 0), max(head - base, 0))
        return done, total


@dataclass
class Swapped:
    """What a swap replaced: per table, the live rows deleted and the rebuilt rows inserted."""

    tables: dict[str, tuple[int, int]]
    attempts: int

    def lines(self) -> list[str]:
        changed = {t: n for t, n in self.tables.items() if n[0] or n[1]}
        lines = [
            f"swapped: {len(self.tables)} view tables replaced in one transaction"
            f" (attempt {self.attempts})"
        ]
        lines += [f"  {table}: {d} rows deleted, {i} inserted" for table, (d, i) in changed.items()]
        return lines


def swap(
    live: Database,
    rebuild: Rebuild,
    attempts: int = 5,
    wait: float = 1.0,
    insert_batch: int = BATCH,
) -> Swapped:
    """Replaces the live view tables' contents with the rebuild's, in one transaction.

    Inside that transaction the live positions must equal the rebuild's. When they do not
    (events arrived since the rebuild, or the live projector lags), the rebuild catches up
    and the swap is tried again, up to ``attempts`` times; then :class:`SwapRefused`.
    The bookkeeping tables (positions, feed state, errors, dead letters, query log, release
    ledger) stay.
    """
    mismatch = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            time.sleep(wait)
            rebuild.catch_up()
        try:
            outcome = _swap_once(live, rebuild.readmodels.database, insert_batch)
        except Exception as exc:
            if not _busy(exc):
                raise
            mismatch = f"the live tables were busy ({exc.__class__.__name__})"
            log.info("swap attempt %d: %s", attempt, mismatch)
            continue
        if isinstance(outcome, str):
            mismatch = outcome
            log.info("swap attempt %d: %s", attempt, mismatch)
            continue
        vacuum_swapped(live)
        return Swapped(outcome, attempt)
    raise SwapRefused(
        f"the live read models were left as they were: after {attempts} attempts {mismatch}."
        " Let the live projector catch up (or stop writes), then run `polku replay --swap` again."
    )


def vacuum_swapped(live: Database) -> None:
    """On PostgreSQL, vacuums and analyzes the swapped tables once the swap has committed.

    A swap deletes every live row and inserts the rebuilt ones, so each table is left with as
    many dead rows as live ones and statistics of the old rows. Autovacuum would see to both
    later, meanwhile competing with the views for the machine and changing their plans between
    one request and the next; here it is done at once. The swap stands if this fails: the
    tables are only slower until autovacuum comes.
    """
    if live.dialect != "postgresql":
        return
    try:
        with live.autocommit() as cur:
            cur.execute(f"VACUUM (ANALYZE) {', '.join(VIEW_TABLES)}")
    except Exception as exc:  # a lock timeout, a cancel: the swap has committed regardless
        log.warning("the swapped tables were not vacuumed (autovacuum will): %s", exc)


def _swap_once(
    live: Database, rebuilt: Database, insert_batch: int
) -> dict[str, tuple[int, int]] | str:
    """One try: the tables replaced, or why the positions did not allow it (nothing written)."""
    with live.transaction() as cur, rebuilt.transaction(write=False) as source:
        check_layout(cur)
        if live.dialect == "postgresql":
            # Taken at once or not at all: waiting for a projector batch's row locks while it
            # waits for ours would be a deadlock, and the loser might be the projector.
            cur.execute(
                f"LOCK TABLE tr_positions, {', '.join(VIEW_TABLES)} IN EXCLUSIVE MODE NOWAIT"
            )
        theirs, ours = positions(cur), positions(source)
        if theirs != ours:
            return f"the live positions {_text(theirs)} did not match the rebuild's {_text(ours)}"
        replaced = {
            layout.table: _replace(cur, source, layout.table, layout.columns, insert_batch)
            for layout in layouts()
        }
        changes.bump_all(cur)  # what was kept from the old rows gives way
        return replaced


def _replace(
    cur: Cursor, source: Cursor, table: str, columns: tuple[str, ...], batch: int
) -> tuple[int, int]:
    """Deletes the live rows, then copies the rebuilt ones over ``batch`` rows at a time."""
    cur.execute(f"DELETE FROM {table}")
    deleted = max(cur.rowcount, 0)
    # The layout leaves out what is not compared (when an event was applied); the swapped
    # rows keep the rebuild's values of it.
    all_columns = (*columns, *sorted(IGNORED.get(table, ())))
    insert = (
        f"INSERT INTO {table} ({', '.join(all_columns)})"
        f" VALUES ({', '.join('?' * len(all_columns))})"
    )
    inserted = 0
    for rows in batches(source, f"SELECT {', '.join(all_columns)} FROM {table}", batch):
        cur.executemany(insert, rows)
        inserted += len(rows)
    return deleted, inserted


def _busy(exc: Exception) -> bool:
    if getattr(exc, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _text(at: dict[Key, int]) -> str:
    return (
        "{" + ", ".join(f"{s}/{p}: {n}" for (s, p), n in sorted(at.items())) + "}" if at else "{}"
    )
