"""Organisation-wide computations kept between requests, for as long as the facts behind them hold.

Some figures of a cohort need a computation over a whole organisation: the mobility comparison
group (everyone placed there on a day and never enrolled) and its Kaplan-Meier figures, the
people's attributes behind its filters, and the staff-survey series of every unit (from which
the organisation's and the participants' units' values are read). Their cost follows the
organisation, not the cohort, so each is computed once and kept under a key that changes
whenever the answer could:

- the **timeframe** the cursor reads (live, or ``as_of`` a recorded moment, and ``on`` a day):
  an ``as_of`` or ``on`` answer is kept apart from the live one;
- the projector's **positions** in every feed (``tr_positions``), read in the same transaction
  as the facts. The projector moves them in the transaction that changes the facts, so any new
  event, including one recorded before an ``as_of`` moment but delivered late, gives a new key;
- the computation's own arguments (the day and the organisation).

A memo belongs to one read-model database (the API keeps one per application), so keys never
meet across databases. It holds at most :data:`SIZE` entries, the least recently used going
first. A swap of a rebuild (``polku replay``) leaves the positions as they were: the rebuild's
facts are identical to the live ones by construction, so the kept answers stay right.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from shared.sql import Cursor

SIZE = 32
"""Entries kept per database (each is at most one organisation's people)."""

T = TypeVar("T")


def version(cur: Cursor) -> tuple[Any, ...]:
    """What the cursor sees: its timeframe and the projector's positions."""
    frame = getattr(cur, "frame", None)
    cur.execute("SELECT source, partition_no, position FROM tr_positions")
    positions = tuple(sorted((str(s), int(p), int(n)) for s, p, n in cur.fetchall()))
    return (frame, positions)


class Memo:
    """Kept computations of one read-model database, by version and arguments."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, cur: Cursor, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``'s answer for ``key`` at the cursor's version, computed at most once."""
        full = (version(cur), key)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                return self._entries[full]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._entries[full] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def get(memo: Memo | None, cur: Cursor, key: Hashable, compute: Callable[[], T]) -> T:
    """Through ``memo`` when there is one, else computed now."""
    return compute() if memo is None else memo.get(cur, key, compute)
