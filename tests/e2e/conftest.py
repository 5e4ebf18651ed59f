"""Fixtures for end-to-end runs: settings per mode, and a started embedded runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.runtime import Embedded, build_embedded
from shared.settings import Settings
from tests.support.kafka_acls import Principals
from tests.support.slice import SECRET, production_settings


@pytest.fixture
def kafka_settings(
    tmp_path: Path, kafka_principals: Principals, fresh_postgres_url: str
) -> Settings:
    """The production shape: PostgreSQL stores and read models, Kafka between them."""
    return production_settings(tmp_path / "kafka-mode", fresh_postgres_url, kafka_principals)


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "embedded", jwt_secret=SECRET, poll_interval=0.05)


@pytest.fixture
def start() -> Iterator[Callable[[Settings], Embedded]]:
    """Builds and starts a runtime; everything started is closed after the test."""
    started: list[Embedded] = []

    def run(settings: Settings) -> Embedded:
        runtime = build_embedded(settings)
        started.append(runtime)
        runtime.start()
        return runtime

    yield run
    for runtime in reversed(started):
        runtime.close()
