"""The cyclic garbage collector kept out of the way of a projector catching up (a rebuild, or a
live projector that is behind)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shared import heap

REBUILD_GC_THRESHOLD = 20_000
"""Allocations between sweeps of the youngest generation during a rebuild (CPython's is 700)."""
_collections_lock = threading.Lock()
_collections_depth = 0
_saved_threshold: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The garbage collector kept out of a catch-up's way, restored after (also on error).

    A rebuild allocates millions of short-lived objects (rows, decoded events, view rows)
    beside a large long-lived heap (the applications, kept answers in a server). The cyclic
    collector's sweeps of the older generations visit that heap again and again: 12% of a
    rebuild's CPU at 10,000 people. So what exists when it starts is frozen out of the
    collector's reach (``gc.freeze``), and the youngest generation is swept every
    :data:`REBUILD_GC_THRESHOLD` allocations. Cycles are still collected, less often. The
    settings are the process's: nested or concurrent rebuilds share one freeze, undone when
    the last ends. A server process that settled its heap (:func:`shared.heap.settle`) keeps
    it frozen: ``gc.unfreeze`` would undo the settling too, so there only the threshold moves."""
    global _collections_depth, _saved_threshold
    with _collections_lock:
        _collections_depth += 1
        if _collections_depth == 1:
            _saved_threshold = gc.get_threshold()
            if not heap.settled():
                gc.freeze()
            gc.set_threshold(REBUILD_GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        yield
    finally:
        with _collections_lock:
            _collections_depth -= 1
            if _collections_depth == 0:
                gc.set_threshold(*_saved_threshold)
                if not heap.settled():
                    gc.unfreeze()
