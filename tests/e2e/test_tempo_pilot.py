"""The whole TEMPO 2020 pilot in the production shape: PostgreSQL stores, the relays through a
real Kafka broker, the projector consuming it; and the same pilot embedded on SQLite.

Both runs load the enrolment and assessment scenarios through the HTTP APIs. Every event each
service's outbox holds must be on its topic exactly once, and tracking must show the same
roster in both modes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from werkzeug.test import Client

from services.runtime import Embedded
from services.scenario import assessment, enrolment
from services.scenario.organisation import MEMBERS, PARTICIPANTS
from shared import kafka
from shared.settings import WRITE_SERVICES, Settings
from tests.support.scenario import ClientCall
from tests.support.slice import SECRET, wait_for
from tests.support.topics import records_to_end

Start = Callable[[Settings], Embedded]


def load_pilot(runtime: Embedded) -> tuple[ClientCall, enrolment.Loaded]:
    call = ClientCall(Client(runtime.wsgi), SECRET)
    loaded = enrolment.load(call)
    assessment.load(call, loaded.cohort_id, loaded.people)
    return call, loaded


def outbox_events(call: ClientCall, service: str) -> list[dict[str, Any]]:
    events, after = [], 0
    while True:
        page = call("GET", f"/{service}/events?after={after}&limit=500")
        if not page["events"]:
            return events
        events += page["events"]
        if page["next_after"] is None:  # the head
            return events
        after = page["next_after"]


def topic_events(settings: Settings, service: str) -> list[dict[str, Any]]:
    topic = kafka.topic_of(service, settings.kafka_topic_prefix)
    return [json.loads(record.value) for record in records_to_end(settings, [topic])]


def roster_by_key(call: ClientCall, loaded: enrolment.Loaded) -> Counter[tuple[str, str]]:
    """The projected roster with ids turned back into scenario keys, comparable across runs."""
    key_of = {person_id: key for key, person_id in loaded.people.items()}

    def complete() -> dict[str, Any] | None:
        roster = call("GET", f"/tracking/cohorts/{loaded.cohort_id}/roster?limit=500")
        # A person's registration may be on another partition than the enrolment: wait for
        # every department too.
        complete = roster["count"] == len(PARTICIPANTS) and all(
            p["department"] for p in roster["participants"]
        )
        return roster if complete else None

    roster = wait_for(complete, 120, "the pilot's roster in tracking")
    return Counter((key_of[p["person_id"]], p["department"]) for p in roster["participants"])


def test_the_pilot_flows_through_kafka_as_it_does_embedded(
    kafka_settings: Settings, embedded_settings: Settings, start: Start
) -> None:
    production = start(kafka_settings)
    call, loaded = load_pilot(production)
    for service in WRITE_SERVICES:
        head = production.services[service].application.head()
        relay = production.relays[service]
        wait_for(lambda r=relay, h=head: r.positions.get("kafka") == h, 60, f"{service} relayed")
        held = outbox_events(call, service)
        on_topic = topic_events(kafka_settings, service)
        assert held, service
        assert sorted(e["id"] for e in on_topic) == sorted(e["id"] for e in held), service
        assert Counter(e["type"] for e in on_topic) == Counter(e["type"] for e in held)
        raw = json.dumps(on_topic)
        for member in MEMBERS.values():
            assert member.full_name not in raw and member.email not in raw
    kafka_roster = roster_by_key(call, loaded)
    assert sum(kafka_roster.values()) == len(PARTICIPANTS)
    assert set(kafka_roster) == {(m.key, m.department) for m in PARTICIPANTS}

    embedded = start(embedded_settings)
    embedded_call, embedded_loaded = load_pilot(embedded)
    assert roster_by_key(embedded_call, embedded_loaded) == kafka_roster
    for service in WRITE_SERVICES:
        kinds = Counter(e["type"] for e in outbox_events(embedded_call, service))
        assert kinds == Counter(e["type"] for e in outbox_events(call, service)), service
