"""A server process settles its start-up heap: frozen out of later full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from services.tracking.collector import fewer_collections
from shared import heap
from shared.web.server import Built, Server, ServerOptions


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    heap.unsettle()
    yield
    heap.unsettle()  # the test process's own heap must stay collectable


def test_settling_freezes_the_survivors_and_leaves_later_objects_collectable(
    unfrozen: None,
) -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the cyclic collector frees it

    kept = Node()
    frozen = heap.settle()
    assert frozen == gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # out of every generation it visits
    made_after = Node()
    assert any(o is made_after for o in gc.get_objects())
    del made_after
    assert gc.collect() >= 1  # a cycle made after settling is still collected


def test_a_server_worker_settles_its_heap_once_its_service_is_built(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled: list[str] = []
    built = Built(wsgi=lambda environ, start: [], close=lambda: settled.append("closed"))

    def build() -> Any:
        settled.append("built")
        return built

    monkeypatch.setattr(heap, "settle", lambda: settled.append("settled") or 0)
    options = ServerOptions(["127.0.0.1:0"], 1, 1, 30, 5.0, 10)
    server = Server(build, options)
    assert server.load() is built.wsgi
    assert settled == ["built", "settled"]


def test_a_catch_up_in_a_settled_process_leaves_its_heap_frozen(unfrozen: None) -> None:
    """``gc`` has one frozen set: a catch-up's collector pause must not unfreeze the settled
    start-up heap when it ends (nor when a worker settles while a catch-up runs)."""
    frozen = heap.settle()
    with fewer_collections():
        assert gc.get_freeze_count() > frozen // 2
    assert gc.get_freeze_count() > frozen // 2  # unfrozen, it would be 0

    gc.unfreeze()
    heap._settled = False  # type: ignore[attr-defined]
    with fewer_collections():  # a projector catching up while the worker builds ...
        again = heap.settle()  # ... and the worker settles meanwhile
    assert gc.get_freeze_count() > again // 2 > 0
