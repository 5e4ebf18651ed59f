"""A rebuild keeps the garbage collector out of its way and gives the process its settings
back, nested, concurrent or failing."""

from __future__ import annotations

import gc
import threading

import pytest

from services.tracking.collector import REBUILD_GC_THRESHOLD, fewer_collections


def test_settings_are_changed_inside_and_restored_after_even_on_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold()[0] == REBUILD_GC_THRESHOLD
        assert gc.get_freeze_count() > 0
        with fewer_collections():  # nested: one freeze
            assert gc.get_threshold()[0] == REBUILD_GC_THRESHOLD
        assert gc.get_threshold()[0] == REBUILD_GC_THRESHOLD  # the outer one still runs
        raise RuntimeError("the feed failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_concurrent_rebuilds_restore_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with fewer_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold()[0] == REBUILD_GC_THRESHOLD  # the other rebuild still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
