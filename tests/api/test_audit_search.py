"""Auditors search a service's events (aggregate, person, type, actor, recorded period, with
their chain links) and see who recorded each entry of a person's timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from services.runtime import Embedded
from shared.audit.chain import link as chain_link
from tests.api.helpers import Api, assert_problem, build


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    runtime: Embedded = build(Path(tmp_path_factory.mktemp("search")))
    yield Api(runtime, Client(runtime.wsgi))
    runtime.close()


@pytest.fixture(scope="module")
def scene(api: Api) -> dict[str, str]:
    programme = api.programme("TEMPO")
    cohort = api.cohort(programme)
    person = api.person()
    other = api.person()
    api.post(f"/enrolment/cohorts/{cohort}/open", {}, sub="coord-7", role="coordinator")
    assert api.enrol(cohort, person).status_code == 201
    api.embedded.tracking.projector.drain()
    return {"programme": programme, "cohort": cohort, "person": person, "other": other}


def search(api: Api, role: str = "auditor", **query: Any) -> dict[str, Any]:
    response = api.get("/enrolment/audit/events", role=role, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_each_filter_narrows_the_events(api: Api, scene: dict[str, str]) -> None:
    everything = search(api)["events"]
    assert len(everything) == api.enrolment.head() or len(everything) >= 5
    person = search(api, person_id=scene["person"])["events"]
    assert person and all(
        scene["person"] in (e["subject"], e["data"].get("person_id")) for e in person
    )
    assert scene["other"] not in {e["subject"] for e in person}
    cohort = search(api, aggregate_id=scene["cohort"])["events"]
    assert cohort and {e["subject"] for e in cohort} == {scene["cohort"]}
    kind = cohort[0]["type"]
    assert {e["type"] for e in search(api, type=kind)["events"]} == {kind}
    by = search(api, actor="coordinator:coord-7")["events"]
    assert [e["actor"] for e in by] == ["coordinator:coord-7"]
    assert search(api, actor="coord-7")["events"] == by
    moment = by[0]["time"]
    since = search(api, **{"from": moment})["events"]
    until = search(api, to=moment)["events"]
    assert len(since) + len(until) == len(everything)
    assert since[0]["position"] == by[0]["position"]


def test_pages_and_a_bounded_scan(api: Api, scene: dict[str, str]) -> None:
    first = search(api, limit=2)
    assert len(first["events"]) == 2 and first["next_after"] == first["events"][-1]["position"]
    rest = search(api, after=first["next_after"], limit=1000)
    assert rest["next_after"] is None
    assert len(first["events"]) + len(rest["events"]) == len(search(api)["events"])
    scanned = search(api, scan=1, aggregate_id=scene["cohort"])
    assert scanned["next_after"] == 1  # one position read, nothing matched yet: continue there


def test_each_event_carries_its_chain_link(api: Api, scene: dict[str, str]) -> None:
    events = search(api)["events"]
    recorder = api.enrolment.recorder
    chain = {r.position: r for r in recorder.select_chain(0, 1000)}
    for event in events:
        row = chain[event["position"]]
        assert event["link"] == row.link.hex()
        previous = chain[event["position"] - 1].link if event["position"] > 1 else bytes(32)
        assert chain_link(previous, event["position"], row.row_hash) == row.link


def test_bad_filters_are_named_and_only_auditors_and_hr_search(api: Api) -> None:
    for query, field in (
        ({"person_id": "x"}, "person_id"),
        ({"from": "monday"}, "from"),
        ({"scan": "0"}, "scan"),
        ({"limit": "5000"}, "limit"),
        ({"after": str(2**63)}, "after"),
        ({"actor": "hr_admin:a\x00b"}, "actor"),
        ({"type": "polku.\x00"}, "type"),
    ):
        assert_problem(
            api.get("/enrolment/audit/events", role="auditor", query_string=query), 422, {field}
        )
    assert search(api, role="hr_admin")["events"]
    assert api.get("/enrolment/audit/events", role="coordinator").status_code == 403
    assert api.get("/assessment/audit/events", role="auditor").status_code == 200


def test_the_timeline_shows_who_recorded_each_entry_to_auditors_only(
    api: Api, scene: dict[str, str]
) -> None:
    path = f"/tracking/people/{scene['person']}/timeline"
    entries = api.get(path, role="auditor").get_json()["entries"]
    assert entries and all(e["recorded_by"] for e in entries)
    assert {e["recorded_by"] for e in entries} <= {"hr_admin:alice", "coordinator:coord-7"}
    assert all(
        "recorded_by" not in e for e in api.get(path, role="coordinator").get_json()["entries"]
    )
