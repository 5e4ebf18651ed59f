"""Read models are disposable: an older layout is dropped and rebuilt from the logs."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from services.runtime import build_tracking, build_write_service
from services.tracking.readmodels import SCHEMA_VERSION, ReadModels
from shared.feeds import OutboxFeed
from shared.settings import Settings
from shared.sql import Database
from tests.unit.factories import meta, person_fields


def old_layout(path: Path) -> Database:
    """What version 1 left behind: no tr_schema, tr_enrolments without a position."""
    database = Database(f"sqlite:///{path}")
    with database.transaction() as cur:
        cur.execute(
            "CREATE TABLE tr_positions (source TEXT NOT NULL, partition_no INTEGER NOT NULL,"
            " position BIGINT NOT NULL, last_event_position BIGINT, events_applied BIGINT"
            " NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (source, partition_no))"
        )
        cur.execute("INSERT INTO tr_positions VALUES ('enrolment', 0, 4, 4, 4, 'then')")
        cur.execute(
            "CREATE TABLE tr_enrolments (cohort_id TEXT NOT NULL, person_id TEXT NOT NULL,"
            " enrolled_at TEXT NOT NULL, PRIMARY KEY (cohort_id, person_id))"
        )
    return database


def test_an_unversioned_layout_is_dropped_and_rebuilt_from_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write = build_write_service(Settings(data_dir=tmp_path), "enrolment")
    app = write.application
    programme = app.define_programme("TEMPO", "TEM", meta()).id
    cohort = app.plan_cohort(
        programme, "2020", 5, dt.date(2020, 2, 1), dt.date(2020, 6, 1), meta()
    ).id
    person = app.register_person(person_fields(), meta()).id
    app.enrol(cohort, person, meta())
    old_layout(tmp_path / "tracking.sqlite").close()

    with caplog.at_level(logging.WARNING, logger="polku.readmodels"):
        tracking = build_tracking(
            Settings(data_dir=tmp_path), OutboxFeed({"enrolment": write.outbox})
        )
    try:
        assert "dropping them" in caplog.text
        assert tracking.readmodels.positions() == {}  # starts again from the beginning
        assert tracking.projector.drain() == 4
        page = tracking.readmodels.roster(str(cohort))
        assert [p["person_id"] for p in page.participants] == [str(person)]
        with tracking.readmodels.database.transaction(write=False) as cur:
            cur.execute("SELECT version FROM tr_schema")
            assert cur.fetchall() == [(SCHEMA_VERSION,)]
    finally:
        tracking.close()
        write.close()


def test_a_current_layout_keeps_its_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(f"sqlite:///{tmp_path / 'tracking.sqlite'}")
    models = ReadModels(database)
    models.create()
    with database.transaction() as cur:
        cur.execute(
            "INSERT INTO tr_positions (source, partition_no, position, events_applied,"
            " updated_at) VALUES ('enrolment', 0, 9, 9, 'now')"
        )
    with caplog.at_level(logging.WARNING, logger="polku.readmodels"):
        models.create()
    assert models.positions() == {("enrolment", 0): 9}
    assert "dropping" not in caplog.text
    database.close()
