"""Fixtures for unit tests: an enrolment application on a SQLite file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.enrolment.application import EnrolmentApplication
from shared.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, jwt_secret="s" * 32)


@pytest.fixture
def enrolment(settings: Settings) -> Iterator[EnrolmentApplication]:
    """A real event store (SQLite), so stored topics and encodings are exercised too."""
    application = EnrolmentApplication(settings.eventstore_env("enrolment"))
    yield application
    application.close()
