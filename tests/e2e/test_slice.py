"""The vertical slice end to end: HTTP command → store → relay → Kafka → projector → roster."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from services.runtime import Embedded, build_tracking
from shared.feeds import Feed, HttpFeed, OutboxFeed
from shared.settings import Settings
from tests.support.slice import Http, load_slice, roster_when, wait_for

Start = Callable[[Settings], Embedded]


def test_kafka_mode_from_command_to_roster(kafka_settings: Settings, start: Start) -> None:
    runtime = start(kafka_settings)
    http = Http(runtime.wsgi)
    loaded = load_slice(http, people=5)
    roster = wait_for(roster_when(http, loaded.cohort_id, 5), 60, "the roster through Kafka")
    assert [p["person_id"] for p in roster] == loaded.people
    assert {p["person_id"]: p["department"] for p in roster} == loaded.departments
    assert all(p["enrolled_at"] for p in roster)

    def enrolment_partitions() -> list[Any]:
        sources = http.get("/tracking/status")["sources"]
        return [s for s in sources if s["source"] == "enrolment"]

    # The projector's own thread refreshes the heads (a consumer is not thread safe); a lag
    # of zero alone would also show for a partition whose only record is not applied yet.
    def caught_up() -> list[Any] | None:
        partitions = enrolment_partitions()
        applied = sum(p["events_applied"] for p in partitions)
        return partitions if applied >= 12 and all(p["lag"] == 0 for p in partitions) else None

    partitions = wait_for(caught_up, 60, "every event applied and zero lag in /tracking/status")
    assert sum(p["events_applied"] for p in partitions) == 12
    # The relay counts a batch once its position is stored, which may be just after the
    # projector has applied it: wait for the count, then check nothing was published twice.
    relay = runtime.relays["enrolment"]
    wait_for(lambda: relay.stats.published >= 12, 30, "the relay to count its batch")
    assert relay.stats.published == 12


def test_embedded_mode_gives_the_same_roster(embedded_settings: Settings, start: Start) -> None:
    runtime = start(embedded_settings)
    assert not runtime.relays, "embedded mode needs no Kafka"
    http = Http(runtime.wsgi)
    loaded = load_slice(http, people=5)
    roster = wait_for(roster_when(http, loaded.cohort_id, 5), 10, "the embedded roster")
    assert [p["person_id"] for p in roster] == loaded.people
    assert {p["person_id"]: p["department"] for p in roster} == loaded.departments


@pytest.fixture
def served(kafka_settings: Settings, start: Start) -> Iterator[tuple[Embedded, str]]:
    """A Kafka-mode runtime that also answers real HTTP, for the pull feed."""
    runtime = start(kafka_settings)
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield runtime, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_kafka_http_and_in_process_feeds_build_identical_views(
    served: tuple[Embedded, str], tmp_path: Path
) -> None:
    runtime, base_url = served
    http = Http(runtime.wsgi)
    loaded = load_slice(http, people=6)
    via_kafka = wait_for(roster_when(http, loaded.cohort_id, 6), 60, "the Kafka roster")
    # The roster needs no ProgrammeDefined, which may be on a partition not applied yet.
    applied = lambda: runtime.tracking.readmodels.count("tr_applied_events")  # noqa: E731
    wait_for(lambda: applied() >= 2 + 2 * 6, 60, "every event of the slice applied")

    def project_with(feed: Feed, folder: str) -> tuple[list[Any], set[str]]:
        settings = Settings(data_dir=tmp_path / folder)  # a fresh SQLite read model
        tracking = build_tracking(settings, feed)
        try:
            tracking.projector.drain()
            with tracking.readmodels.database.transaction() as cur:
                cur.execute("SELECT event_id FROM tr_applied_events")
                ids = {row[0] for row in cur.fetchall()}
            return tracking.readmodels.roster(loaded.cohort_id).participants, ids
        finally:
            tracking.close()

    outboxes = {name: s.tracking_outbox for name, s in runtime.services.items()}
    in_process, in_process_ids = project_with(OutboxFeed(outboxes), "in-process")
    token = Http(runtime.wsgi, role="service").token
    over_http, http_ids = project_with(HttpFeed({"enrolment": base_url}, token), "http")
    with runtime.tracking.readmodels.database.transaction() as cur:
        cur.execute("SELECT event_id FROM tr_applied_events")
        kafka_ids = {row[0] for row in cur.fetchall()}

    assert via_kafka == in_process == over_http
    assert kafka_ids == in_process_ids == http_ids
    assert len(kafka_ids) == 2 + 2 * 6
