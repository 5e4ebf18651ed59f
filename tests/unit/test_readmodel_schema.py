"""Read models are disposable: an older layout is dropped and rebuilt from the logs."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.runtime import build_tracking, build_write_service
from services.tracking.readmodels import SCHEMA_VERSION, LayoutBehind, LayoutChanged, ReadModels
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


def test_an_api_only_process_refuses_an_older_layout_and_leaves_it_alone(tmp_path: Path) -> None:
    """Only a projecting process may drop tables an older projector may still be writing."""
    old_layout(tmp_path / "tracking.sqlite").close()
    models = ReadModels(Database(f"sqlite:///{tmp_path / 'tracking.sqlite'}"))
    with pytest.raises(LayoutBehind, match="layout 1; this release needs"):
        models.create(rebuild=False)
    assert models.positions() == {("enrolment", 0): 4}  # nothing dropped
    models.database.close()


def test_serve_tracking_without_projector_says_to_start_the_projector_first(
    tmp_path: Path,
) -> None:
    old_layout(tmp_path / "tracking.sqlite").close()
    result = CliRunner().invoke(
        main,
        ["serve", "tracking", "--no-projector", "--port", "0"],
        env={"POLKU_DATA_DIR": str(tmp_path), "POLKU_JWT_SECRET": "s" * 40},
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a click error, not an escaped exception
    assert "this release's" in result.output


def test_a_projector_stops_writing_once_a_newer_release_rebuilt_the_tables(
    tmp_path: Path,
) -> None:
    write = build_write_service(Settings(data_dir=tmp_path), "enrolment")
    write.application.define_programme("TEMPO", "TEM", meta())
    tracking = build_tracking(Settings(data_dir=tmp_path), OutboxFeed({"enrolment": write.outbox}))
    try:
        with tracking.readmodels.database.transaction() as cur:
            cur.execute("UPDATE tr_schema SET version = ?", (SCHEMA_VERSION + 1,))
        with pytest.raises(LayoutChanged, match="it stops applying events"):
            tracking.projector.run_once()
        assert tracking.readmodels.count("tr_applied_events") == 0
        assert tracking.readmodels.positions() == {}
    finally:
        tracking.close()
        write.close()


def test_layout_5_is_dropped_with_its_actor_table_and_people_are_kept_in_key_order(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'tracking.sqlite'}")
    with database.transaction() as cur:  # what layout 5 left: actors in a table of their own
        cur.execute("CREATE TABLE tr_schema (version INTEGER NOT NULL)")
        cur.execute("INSERT INTO tr_schema (version) VALUES (5)")
        cur.execute("CREATE TABLE tr_event_actors (event_id TEXT PRIMARY KEY, actor TEXT)")
    ReadModels(database).create()
    with database.transaction(write=False) as cur:
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        tables = dict(cur.fetchall())
    assert "tr_event_actors" not in tables
    assert "actor TEXT NOT NULL" in tables["tr_applied_events"]
    assert tables["tr_event_people"].endswith("WITHOUT ROWID")
    assert not tables["tr_applied_events"].endswith("WITHOUT ROWID")
    database.close()
