"""The start-up heap moved out of the cyclic garbage collector's reach, once per server process.

A process that has built its service holds several hundred thousand objects that live as long
as it does (modules, schemas, the applications, the Flask app): about 330,000 in the embedded
runtime. Every full collection visits them all again, and a request that triggers one waits
for it: 135-180 ms with that heap on the development machine, the slowest sample of a view's
p95. :func:`settle` collects once and then freezes what is left (``gc.freeze``), so later full
collections visit only what was made since: 32-35 ms after the same requests. Frozen objects
are still freed when their last reference goes; only a reference cycle among them would stay,
and the start-up heap's cycles (modules, classes, the app) stay for the process's life anyway.

Only a process's entry points call it (``polku serve``'s workers, ``polku up``): a test
process builds and closes many runtimes, whose cycles must stay collectable.
"""

from __future__ import annotations

import gc

_settled = False


def settle() -> int:
    """Collects, then freezes the surviving heap; returns how many objects are frozen."""
    global _settled
    gc.collect()
    gc.freeze()
    _settled = True
    return gc.get_freeze_count()


def settled() -> bool:
    """Whether this process froze its start-up heap: then nothing may unfreeze it (``gc``
    has one frozen set, and ``gc.unfreeze`` empties all of it)."""
    return _settled


def unsettle() -> None:
    """Makes the heap collectable again: for a process that ran an entry point in-process
    (a test invoking ``polku up``) and goes on building and closing runtimes."""
    global _settled
    gc.unfreeze()
    _settled = False
