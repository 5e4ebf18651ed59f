"""A server process settles its start-up heap: frozen out of later full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from shared import heap
from shared.web.server import Built, Server, ServerOptions


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's own heap must stay collectable


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
