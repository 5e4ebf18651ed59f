"""The example consumers' own logic: duplicates skipped by event id, versions chosen by schema.

``tests/e2e/test_examples.py`` runs both examples against real Kafka and a running Polku; this
checks, without them, what a redelivery and a failed batch do to the Kafka example's state.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


consumer = load("kafka_consumer")
EVENTS = [
    {"id": f"e{n}", "type": "fi.polku.enrolment.ProgrammeDefined", "dataschema": "x/1"}
    for n in range(3)
]


def test_a_redelivered_batch_is_skipped_by_event_id(tmp_path: Path) -> None:
    state = consumer.State(str(tmp_path / "state.sqlite"))
    handled: list[str] = []
    assert state.process(EVENTS, lambda e: handled.append(e["id"])) == (3, 0)
    assert state.process([*EVENTS, {**EVENTS[0]}], lambda e: handled.append(e["id"])) == (0, 4)
    assert handled == ["e0", "e1", "e2"]


def test_a_failed_batch_records_nothing_so_it_is_processed_again(tmp_path: Path) -> None:
    state = consumer.State(str(tmp_path / "state.sqlite"))

    def fails_on_the_second(event: dict[str, Any]) -> None:
        if event["id"] == "e1":
            raise RuntimeError("processing failed")

    with pytest.raises(RuntimeError):
        state.process(EVENTS, fails_on_the_second)
    assert state.process(EVENTS, lambda e: None) == (3, 0)


def test_a_consumer_reads_only_the_versions_it_asks_for() -> None:
    versions = consumer.wanted_versions(["fi.polku.enrolment.ProgrammeDefined=2"])
    v1, v2 = EVENTS[0], {**EVENTS[0], "dataschema": "http://h/enrolment/schemas/t/2"}
    assert [consumer.readable(e, versions) for e in (v1, v2)] == [False, True]
    other = {"type": "fi.polku.enrolment.CohortPlanned", "dataschema": "x/1"}
    assert consumer.readable(other, versions)
