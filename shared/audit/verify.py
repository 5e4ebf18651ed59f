"""Verification: recompute a log's hash chain and compare it with the stored chain and the
signed checkpoints, reporting the first position that differs and what kind of difference.

Kinds, in the order they can be told apart at a position ``p``:

- ``changed``: the event stored at ``p`` is not the event chained there (its data, its actor,
  any stored byte), or the chain's own row at ``p`` was altered;
- ``reordered``: the event at ``p`` is one chained at another position (rows swapped);
- ``missing``: the chain (or a checkpoint) has ``p`` and the log does not (a deleted row, a
  truncated tail);
- ``extra``: the log has ``p`` and the chain does not (an inserted row);
- ``rewritten``: the chain is self-consistent but disagrees with a signed checkpoint: the log
  was rewritten and re-chained; the first difference lies after the previous checkpoint
  that agreed, up to ``p``;
- ``bad-signature``: a checkpoint's signature does not verify (or it has none);
- ``no-checkpoint``: the chain holds together, but no signed checkpoint anchors it.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit.chain import GENESIS, ChainedLog, ChainRow, check_run, link, row_hash
from shared.audit.checkpoints import Checkpoint, signature_valid
from shared.audit.joined import joined_reader

BATCH = 5000
SMALL_BATCH = 500
"""Rows per read where the reading happens in this process (SQLite)."""


class Kind(enum.Enum):
    OK = "ok"
    CHANGED = "changed"
    MISSING = "missing"
    EXTRA = "extra"
    REORDERED = "reordered"
    REWRITTEN = "rewritten"
    NO_CHECKPOINT = "no-checkpoint"
    BAD_SIGNATURE = "bad-signature"


EXIT_CODES = {
    Kind.OK: 0,
    Kind.CHANGED: 3,
    Kind.MISSING: 4,
    Kind.EXTRA: 5,
    Kind.REORDERED: 6,
    Kind.REWRITTEN: 7,
    Kind.NO_CHECKPOINT: 8,
    Kind.BAD_SIGNATURE: 9,
}
"""``polku audit verify``'s exit status per outcome (1 is "could not run", 2 a usage error)."""


@dataclass
class Report:
    log: str
    kind: Kind = Kind.OK
    position: int | None = None
    """The first position that differs (None when nothing does)."""
    since: int | None = None
    """For ``rewritten``: the first position after the last checkpoint that agreed."""
    detail: str = ""
    verified_to: int = 0
    """The last position whose event, chain row and checkpoints all agreed."""
    last_link: bytes = GENESIS
    events: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.kind is Kind.OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]

    def line(self) -> str:
        if self.kind is Kind.OK:
            return (
                f"{self.log}: ok, {self.events} events verified up to position "
                f"{self.verified_to} against {self.checkpoints} checkpoint(s)"
            )
        where = "" if self.position is None else f" at position {self.position}"
        if self.since is not None:
            where += f" (first difference between {self.since} and {self.position})"
        return f"{self.log}: {self.kind.value}{where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "outcome": self.kind.value,
            "position": self.position,
            "since": self.since,
            "detail": self.detail,
            "verified_to": self.verified_to,
            "events": self.events,
            "checkpoints": self.checkpoints,
        }


class _Found(Exception):
    def __init__(self, kind: Kind, position: int | None, detail: str, since: int | None = None):
        super().__init__(detail)
        self.kind, self.position, self.detail, self.since = kind, position, detail, since


def _batched(fetch: Any, after: int) -> Iterator[Any]:
    while True:
        rows = fetch(after)
        if not rows:
            return
        yield from rows
        after = rows[-1][0] if isinstance(rows[-1], tuple) else rows[-1].id


class Events:
    """Where the stored events and their chain come from: a live store or an export bundle."""

    def __init__(self, log: ChainedLog) -> None:
        self.log = log

    def events(self, after: int) -> Iterator[tuple[int, bytes]]:
        """(position, row hash) of each stored event after ``after``."""

        fast = getattr(self.log, "select_rows", None)
        if fast is not None:
            return _batched(lambda start: fast(start, BATCH), after)

        def fetch(start: int) -> list[tuple[int, bytes]]:
            found = self.log.select_notifications(start, BATCH, inclusive_of_start=False)
            return [
                (n.id, row_hash(n.originator_id, n.originator_version, n.topic, n.state))
                for n in found
            ]

        return _batched(fetch, after)

    def chain(self, after: int) -> Iterator[ChainRow]:
        return _batched(lambda start: self.log.select_chain(start, BATCH), after)

    def chain_before(self, position: int) -> ChainRow | None:
        return self.log.chain_before(position)

    def chained_at(self, row: bytes) -> int | None:
        return self.log.chain_position_of(row)


def verify(
    name: str,
    source: Any,
    checkpoints: Sequence[Checkpoint],
    keys: dict[str, Ed25519PublicKey],
    start: int = 0,
    require_checkpoint: bool = True,
) -> Report:
    """Verifies the log after position ``start`` (0: from its beginning).

    ``source`` is an :class:`Events` (or a bundle's reader with the same methods). From a later
    ``start``, the stored link before it is taken as given (the checkpoints still anchor it).
    """
    report = Report(name)
    base = source.base() if hasattr(source, "base") else None
    if base is not None and start < base.position:
        start = base.position  # a pruned log verifies from the link kept at pruning
    mine = sorted((c for c in checkpoints if c.log == name), key=lambda c: c.position)
    # A checkpoint without a valid signature anchors nothing; the chain is walked against the
    # others, and a bad signature is reported only if the chain itself holds.
    unsigned = [c for c in mine if not signature_valid(c, keys)]
    signed = [c for c in mine if c not in unsigned]
    try:
        if not _fast_walk(report, source, signed, start):
            report = Report(name)
            _walk(report, source, signed, start)
    except _Found as found:
        report.kind, report.position, report.detail = found.kind, found.position, found.detail
        report.since = found.since
        return report
    if unsigned:
        report.kind, report.position = Kind.BAD_SIGNATURE, unsigned[0].position
        report.detail = (
            f"{len(unsigned)} checkpoint(s), the first of {unsigned[0].time} (key "
            f"{unsigned[0].key_id}), have no valid signature from a trusted key"
        )
        return report
    if require_checkpoint and report.events and not report.checkpoints:
        report.kind = Kind.NO_CHECKPOINT
        report.detail = "the chain holds together, but no signed checkpoint anchors it"
    return report


def _fast_walk(report: Report, source: Any, checkpoints: list[Checkpoint], start: int) -> bool:
    """The common case in one pass over the rows joined with their chain rows: True when every
    row, link and checkpoint agrees; False at the first doubt (then :func:`_walk` finds and
    names the difference). For stores that can join (both recorders; see
    :mod:`shared.audit.joined`)."""
    log = joined_reader(getattr(source, "log", None))
    if log is None:
        return False
    joined = log.select_joined
    before = source.chain_before(start + 1) if start else None
    previous = before.link if before else GENESIS
    first = before.position if before else 0
    anchors = {c.position: c.link for c in checkpoints if c.position > first}
    if before is not None and any(
        c.position == before.position and c.link != previous.hex() for c in checkpoints
    ):
        return False
    after, seen, matched = first, 0, 0
    # Reading ahead pays where another process (PostgreSQL's) does the reading; SQLite reads
    # in this process, under the same interpreter lock as the hashing, and in small batches:
    # rows that die young never reach the garbage collector's older generations, whose full
    # sweeps (of the whole process) otherwise halved the rate at random.
    ahead = getattr(log, "read_ahead", False)
    read, size = (prefetched, BATCH) if ahead else (in_turn, SMALL_BATCH)
    with closing(read(joined, after, size)) as batches:
        for rows in batches:
            run = check_run(rows, previous, anchors)
            previous, seen, matched = run.previous, seen + run.seen, matched + run.matched
            if not run.whole:
                return False
            after = rows[-1][0]
    if matched != len(anchors) or log.chain_count(first) != seen:
        return False  # a checkpoint or chain row with no row: missing, named by the walk
    report.verified_to = after if seen else report.verified_to
    report.last_link, report.events, report.checkpoints = previous, seen, matched
    return True


def in_turn(
    read: Callable[[int, int], list[Any]], after: int, size: int
) -> Generator[list[Any], None, None]:
    """The batches ``read(after, size)`` gives, each read when the one before is checked."""
    while rows := read(after, size):
        yield rows
        after = rows[-1][0]


def prefetched(
    read: Callable[[int, int], list[Any]], after: int, size: int
) -> Generator[list[Any], None, None]:
    """The batches ``read(after, size)`` gives, each after the last position of the one before,
    until an empty one. The next batch is read on a second thread while the caller checks the
    current one: the database works out the next rows (its join and sort, on its own core)
    while this process hashes. Closing the iterator early stops the reader."""
    ready: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def reader(after: int) -> None:
        try:
            while not stop.is_set():
                rows = read(after, size)
                _offer(ready, rows, stop)
                if not rows:
                    return
                after = rows[-1][0]
        except BaseException as error:  # handed to the caller, raised there
            _offer(ready, error, stop)

    thread = threading.Thread(target=reader, args=(after,), name="polku-verify-read", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _offer(ready: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    """Puts ``item`` for the caller, giving up once it has stopped taking them."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return
        except queue.Full:
            continue


def _walk(report: Report, source: Any, checkpoints: list[Checkpoint], start: int) -> None:
    before = source.chain_before(start + 1) if start else None
    previous = before.link if before else GENESIS
    agreed = before.position if before else 0
    pending = [c for c in checkpoints if c.position > agreed]
    for checkpoint in checkpoints:
        if before is not None and checkpoint.position == before.position:
            _check_anchor(report, checkpoint, previous, agreed, before.position)
    events = source.events(agreed)
    chain = source.chain(agreed)
    event = next(events, None)
    row = next(chain, None)
    while event is not None or row is not None:
        if row is not None and (event is None or row.position < event[0]):
            raise _Found(
                Kind.MISSING, row.position, "the chain has this position; the log does not"
            )
        if row is None or (event is not None and event[0] < row.position):
            assert event is not None
            raise _Found(Kind.EXTRA, event[0], "the log has this position; the chain does not")
        assert event is not None
        position, stored = event
        while pending and pending[0].position < position:
            gone = pending.pop(0)
            raise _Found(
                Kind.MISSING,
                gone.position,
                "a signed checkpoint has this position; neither the log nor the chain does",
            )
        if stored != row.row_hash:
            elsewhere = source.chained_at(stored)
            if elsewhere is not None and elsewhere != position:
                raise _Found(
                    Kind.REORDERED,
                    position,
                    f"holds the event chained at position {elsewhere}",
                )
            raise _Found(Kind.CHANGED, position, "the stored event is not the one chained here")
        expected = link(previous, position, row.row_hash)
        if expected != row.link:
            raise _Found(Kind.CHANGED, position, "the chain's own link was altered here")
        previous = row.link
        while pending and pending[0].position == position:
            agreed = _check_anchor(report, pending.pop(0), previous, agreed, position)
        report.verified_to, report.last_link = position, previous
        report.events += 1
        event = next(events, None)
        row = next(chain, None)
    if pending:
        raise _Found(
            Kind.MISSING,
            report.verified_to + 1,
            f"the log ends at position {report.verified_to}, but a signed checkpoint has "
            f"position {pending[0].position}: its tail was removed",
        )


def _check_anchor(
    report: Report, checkpoint: Checkpoint, link_here: bytes, agreed: int, position: int
) -> int:
    if checkpoint.link != link_here.hex():
        raise _Found(
            Kind.REWRITTEN,
            position,
            f"the recomputed chain disagrees with the checkpoint signed {checkpoint.time}: the "
            "log was rewritten and re-chained",
            since=agreed + 1,
        )
    report.checkpoints += 1
    return position
