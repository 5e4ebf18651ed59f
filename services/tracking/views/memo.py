"""Organisation-wide computations kept between requests, for as long as the facts behind them hold.

Some figures of a cohort need a computation over a whole organisation: the mobility comparison
group (everyone placed there on a day and never enrolled) and its Kaplan-Meier figures, the
people's attributes behind its filters, and the staff-survey series of every unit (from which
the organisation's and the participants' units' values are read). Their cost follows the
organisation, not the cohort, so each is computed once and kept under a key that changes
whenever the answer could:

- the **timeframe** the cursor reads (live, or ``as_of`` a recorded moment, and ``on`` a day):
  an ``as_of`` or ``on`` answer is kept apart from the live one;
- the **change counters** of the tables the computation reads (:mod:`services.tracking.changes`),
  read in the same transaction as the facts. The projector raises a table's counter in the
  transaction that changes it, so a new event that changes them, including one recorded before
  an ``as_of`` moment but delivered late, gives a new key, and any other event (an attendance
  mark, a result) leaves the kept answer in place;
- the computation's own arguments (the day and the organisation).

A computation made of per-person parts may also say how to bring a kept answer up to date
(``update``): when the counters moved only by raises whose people the change log names
(:func:`services.tracking.changes.changed_people`), at most :data:`CATCH_UP` of them, the kept
answer and those people give the new one, without the organisation-wide reads. The update must
give what ``compute`` would, and must not change the kept answer in place (requests may hold it).

A memo belongs to one read-model database (the API keeps one per application), so keys never
meet across databases. It holds at most :data:`SIZE` entries, the least recently used going
first. A swap of a rebuild (``polku replay --swap``) raises every counter.

Parts kept per cohort (:meth:`Memo.get_each`, under the cohort's scoped counters of
:mod:`services.tracking.changes`) go in the memo's own :attr:`Memo.parts`, which holds
:data:`PARTS` of them: an organisation has a part per cohort, and one new result makes only
its cohort's part be computed again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from services.tracking.changes import changed_people, counters, many_counters
from shared.sql import Cursor

SIZE = 128
"""Entries kept per database (each is at most one organisation's people)."""

CATCH_UP = 500
"""Changed people up to which a kept answer is brought up to date rather than made afresh."""
PARTS = 4_096
"""Per-cohort parts kept per database: every cohort of a 400,000-person organisation in one
timeframe, or of a 100,000-person one in four (live and three `as_of` or `on`)."""

T = TypeVar("T")

Update = Callable[[T, frozenset[str]], T]
"""Given a kept answer and whose rows changed since, the answer now."""


def timeframe(cur: Cursor) -> tuple[str | None, str | None]:
    """The recorded moment the cursor reads as of and the day it reads on (None: live)."""
    frame = getattr(cur, "frame", None)
    if frame is None:
        return (None, None)
    return (getattr(frame, "as_of", None), getattr(frame, "on", None))


class Memo:
    """Kept computations of one read-model database, by timeframe and arguments.

    Each is kept once, with the counters it was computed at: an answer for older counters is
    never asked for again (counters only grow), so a new one replaces it rather than pushing
    another computation out.
    """

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.updates = 0
        """Answers brought up to date rather than made afresh."""

    def get(
        self,
        cur: Cursor,
        key: Hashable,
        compute: Callable[[], T],
        tables: Iterable[str],
        update: Update[T] | None = None,
    ) -> T:
        """``compute()``'s answer for ``key`` while ``tables`` (all it reads) are unchanged,
        computed at most once; after a change, ``update`` of the kept one where it can."""
        at = counters(cur, tables)
        full = (timeframe(cur), key)
        with self._lock:
            found = self._entries.get(full)
            if found is not None and found[0] == at:
                self._entries.move_to_end(full)
                return found[1]  # type: ignore[no-any-return]
        changed = None
        if found is not None and update is not None:
            changed = changed_people(cur, found[0], at)
        if found is not None and update is not None and changed is not None:
            if len(changed) <= CATCH_UP:
                self.updates += 1
                value = update(found[1], changed)
            else:
                value = compute()
        else:
            value = compute()
        self._store(full, at, value)
        return value

    def get_each(
        self, cur: Cursor, wanted: Sequence[tuple[Hashable, Callable[[], T], Iterable[str]]]
    ) -> list[T]:
        """:meth:`get` of each (key, compute, tables) in ``wanted``, their counters read in a
        few queries rather than one per key."""
        tables = [sorted(set(names)) for _, _, names in wanted]
        found = many_counters(cur, {t for names in tables for t in names})
        frame = timeframe(cur)
        out = []
        for (key, compute, _), names in zip(wanted, tables, strict=True):
            at = tuple((t, found[t]) for t in names)
            full = (frame, key)
            with self._lock:
                hit = self._entries.get(full)
                if hit is not None and hit[0] == at:
                    self._entries.move_to_end(full)
                    out.append(hit[1])
                    continue
            value = compute()
            self._store(full, at, value)
            out.append(value)
        return out

    def _store(self, full: Hashable, at: Any, value: Any) -> None:
        """Keeps ``value`` under ``full`` as of the counters ``at``, the least recently used
        entry going first when the memo is full."""
        with self._lock:
            self._entries[full] = (at, value)
            self._entries.move_to_end(full)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    @property
    def parts(self) -> Memo:
        """The memo of this database's per-cohort parts (made on first use)."""
        with self._lock:
            found = self.__dict__.get("_parts")
            if found is None:
                found = self.__dict__["_parts"] = Memo(PARTS)
            return found

    def __len__(self) -> int:
        return len(self._entries)


def unshared(value: T) -> T:
    """A copy of a kept answer that a request may change in place (``deepcopy`` without its
    bookkeeping: kept figures are plain dicts, lists and immutable values)."""
    if isinstance(value, dict):
        return {k: unshared(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [unshared(v) for v in value]  # type: ignore[return-value]
    return value


def get(
    memo: Memo | None,
    cur: Cursor,
    key: Hashable,
    compute: Callable[[], T],
    tables: Iterable[str],
    update: Update[T] | None = None,
) -> T:
    """Through ``memo`` when there is one, else computed now. ``tables`` are all that
    ``compute`` reads: a change to any of them is a new answer (``update``: see
    :meth:`Memo.get`)."""
    return compute() if memo is None else memo.get(cur, key, compute, tables, update)


def each(
    memo: Memo | None,
    cur: Cursor,
    wanted: Sequence[tuple[Hashable, Callable[[], T], Iterable[str]]],
) -> list[T]:
    """Per-cohort parts through ``memo``'s :attr:`~Memo.parts` when there is a memo, else
    computed now."""
    if memo is None:
        return [compute() for _, compute, _ in wanted]
    return memo.parts.get_each(cur, wanted)
