"""The participant timeline on the TEMPO pilot, against the scenario's own data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter
from typing import Any

import pytest

from services.scenario import assessment
from services.scenario import enrolment as scenario
from tests.api.helpers import Api, assert_problem, unknown_id
from tests.support.expected_timeline import Expected, dated_entries, undated_kinds
from tests.support.pilot import Pilot

UNDATED = ("registered", "attributes_recorded", "peer_group_joined", "peer_group_left")


def path(person_id: str) -> str:
    return f"/tracking/people/{person_id}/timeline"


def whole(pilot: Pilot, key: str, **query: Any) -> dict[str, Any]:
    # A coordinator: anyone's timeline, without who recorded it (auditors and hr_admin see it).
    return pilot.json(path(pilot.person(key)), "coordinator", limit=500, **query)  # type: ignore[no-any-return]


def assert_matches(entries: list[dict[str, Any]], expected: list[Expected]) -> None:
    got = [e for e in entries if e["kind"] not in UNDATED]
    assert [(e["on"], e["kind"]) for e in got] == [(x.on, x.kind) for x in expected]
    for entry, want in zip(got, expected, strict=True):
        shown = {name: entry["details"].get(name) for name in want.details}
        assert shown == want.details, (entry, want)
        if want.kind == "result_recorded" and "scores" not in want.details:
            assert "scores" not in entry["details"], entry


@pytest.mark.parametrize("key", ["P07", "P02", "P05", "P14", "P01"])
def test_the_timeline_holds_what_the_scenario_did_in_order(pilot: Pilot, key: str) -> None:
    view = whole(pilot, key)
    entries = view["entries"]
    assert view["person_id"] == pilot.person(key)
    assert view["erased"] is False
    assert_matches(entries, dated_entries(key))
    undated = [e for e in entries if e["kind"] in UNDATED]
    assert Counter(e["kind"] for e in undated) == undated_kinds(key)
    assert all(e["on"] == e["recorded_at"][:10] for e in undated)
    assert view["count"] == len(entries) == len(dated_entries(key)) + len(undated)
    order = [(e["on"], e["recorded_at"]) for e in entries]
    assert order == sorted(order)


def test_the_withdrawn_participant_stops_attending_and_leaves_the_peer_group(
    pilot: Pilot,
) -> None:
    entries = whole(pilot, scenario.WITHDRAWN)["entries"]
    kinds = [e["kind"] for e in entries]
    assert "completed" not in kinds
    withdrawn = kinds.index("withdrawn")
    assert all(e["kind"] != "attendance_recorded" for e in entries[withdrawn:])
    group = next(name for name, keys in scenario.PEER_GROUPS.items() if scenario.WITHDRAWN in keys)
    left = next(e for e in entries if e["kind"] == "peer_group_left")
    assert left["details"]["name"] == group
    assert left["cohort_id"] == pilot.cohort_id


def test_only_the_persons_own_ratings_show_scores(pilot: Pilot) -> None:
    results = [e for e in whole(pilot, "P03")["entries"] if e["kind"] == "result_recorded"]
    groups = Counter(e["details"]["rater_group"] for e in results)
    assert groups["self"] == 2 and groups["manager"] == 2 and groups["peer"] >= 6
    for entry in results:
        assert ("scores" in entry["details"]) is (entry["details"]["rater_group"] == "self")
        assert entry["cohort_id"] == pilot.cohort_id


def test_a_colleague_has_career_entries_but_no_cohort(pilot: Pilot) -> None:
    entries = whole(pilot, "C04")["entries"]
    assert_matches(entries, dated_entries_of_colleague("C04"))
    assert all(e["cohort_id"] is None for e in entries)


def dated_entries_of_colleague(key: str) -> list[Expected]:
    (move,) = (m for m in scenario.MOVES if m.key == key)
    start = move.start_date.isoformat()
    return [
        Expected(start, "career_move_recorded", {"kind": move.kind, "start_date": start}),
        Expected(start, "placement_changed", {"department": move.department, "unit": move.unit}),
    ]


def test_reaction_responses_never_appear(pilot: Pilot) -> None:
    for key in ("P01", "P02", "P03"):
        assert not [e for e in whole(pilot, key)["entries"] if "reaction" in e["kind"]]


# Roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "auditor"])
def test_hr_coordinators_and_auditors_read_anyones_timeline(pilot: Pilot, role: str) -> None:
    for key in ("P07", "C04"):
        response = pilot.get(path(pilot.person(key)), role)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["count"] > 0


def test_a_participant_reads_their_own_timeline_only(pilot: Pilot) -> None:
    own, other = pilot.person("P02"), pilot.person("P03")
    response = pilot.get(path(own), "participant", own, limit=500)
    assert response.status_code == 200
    assert response.get_json()["entries"] == whole(pilot, "P02")["entries"]
    assert_problem(pilot.get(path(other), "participant", own), 404)


def test_the_cohorts_coach_reads_its_participants_even_the_withdrawn(pilot: Pilot) -> None:
    for key in ("P07", "P02"):
        response = pilot.get(path(pilot.person(key)), "coach", scenario.COACH, limit=500)
        assert response.status_code == 200
        assert response.get_json()["entries"] == whole(pilot, key)["entries"]


def test_a_coach_is_told_other_people_do_not_exist(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot.person("P02")), "coach", "coach-elsewhere"), 404)
    # A colleague who never took part is in no cohort the pilot's coach coaches.
    assert_problem(pilot.get(path(pilot.person("C04")), "coach", scenario.COACH), 404)


def test_services_may_not_read_timelines_and_a_token_is_needed(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot.person("P02")), "service"), 403)
    assert_problem(pilot.client.get(path(pilot.person("P02"))), 401)


def test_an_unknown_person_is_not_found(pilot: Pilot) -> None:
    nobody = unknown_id()
    assert_problem(pilot.get(path(nobody)), 404)
    assert_problem(pilot.get(path(nobody), "participant", nobody), 404)


def test_a_coach_sees_only_the_cohorts_they_coach(api: Api) -> None:
    coached, other = api.cohort(name="Coached"), api.cohort(name="Other")
    person = api.person()
    for cohort_id in (coached, other):
        assert api.enrol(cohort_id, person).status_code == 201
    api.post(f"/enrolment/cohorts/{coached}/coaches", {"coach": "bea"}, "coordinator")
    api.embedded.tracking.projector.drain()

    everything = api.get(path(person), role="coordinator").get_json()["entries"]
    assert Counter(e["cohort_id"] for e in everything if e["kind"] == "enrolled") == {
        coached: 1,
        other: 1,
    }
    seen = api.get(path(person), role="coach", sub="bea").get_json()["entries"]
    assert seen == [e for e in everything if e["cohort_id"] in (None, coached)]
    assert_problem(api.get(path(person), role="coach", sub="cid"), 404)


def test_an_erased_persons_timeline_is_gone(api: Api) -> None:
    """More in test_tracking_erasure: every role, CSV, as_of before the erasure."""
    person = api.person()
    api.embedded.tracking.projector.drain()
    assert api.get(path(person)).get_json()["erased"] is False
    assert api.post(f"/enrolment/people/{person}/erasure", None).status_code in (200, 201)
    api.embedded.tracking.projector.drain()
    assert_problem(api.get(path(person)), 410)


def test_corrections_and_voids_follow_what_they_correct(api: Api) -> None:
    person = api.person()
    behaviour = api.created("/assessment/instruments", assessment.BEHAVIOUR)["id"]
    keys = [d["key"] for d in assessment.BEHAVIOUR["dimensions"]]
    scores = dict.fromkeys(keys, 3)
    recorded = {}
    for group in ("self", "peer"):
        body = {
            "person_id": person,
            "instrument_id": behaviour,
            "wave": "baseline",
            "rater_group": group,
            "rater_id": None if group == "self" else "rater-1",
            "administered_on": "2020-02-14",
            "scores": scores,
        }
        recorded[group] = api.created("/assessment/results", body)["id"]
    corrected = dict.fromkeys(keys, 4)
    for group in ("self", "peer"):
        fix = {"scores": corrected, "administered_on": "2020-02-15", "reason": "Typed wrong"}
        api.created(f"/assessment/results/{recorded[group]}/correction", fix)
    api.created(f"/assessment/results/{recorded['peer']}/void", {"reason": "Wrong rater"})
    api.embedded.tracking.projector.drain()

    entries = api.get(path(person)).get_json()["entries"]
    results = [
        (e["on"], e["kind"], e["details"]["rater_group"], e["details"].get("scores"))
        for e in entries
        if e["kind"].startswith("result_")
    ]
    void_day = next(e["on"] for e in entries if e["kind"] == "result_voided")
    assert results == [
        ("2020-02-14", "result_recorded", "self", scores),
        ("2020-02-14", "result_recorded", "peer", None),
        ("2020-02-15", "result_corrected", "self", corrected),
        ("2020-02-15", "result_corrected", "peer", None),
        (void_day, "result_voided", "peer", None),
    ]
    assert all(e["details"]["instrument"] == assessment.BEHAVIOUR["name"] for e in entries
               if e["kind"].startswith("result_"))  # fmt: skip


def test_an_attendance_correction_follows_the_record_with_the_session(api: Api) -> None:
    cohort_id, person = api.cohort(), api.person()
    body = {"person_id": person, "on": "2020-03-01"}
    assert api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", body).status_code == 201
    session = {
        "title": "Kick-off",
        "starts_at": "2020-03-04T09:00:00+02:00",
        "delivery": "virtual",
        "platform": "Skype",
        "facilitators": [{"kind": "coach"}],
    }
    session_id = api.created(f"/enrolment/cohorts/{cohort_id}/sessions", session)["id"]
    attendance = f"/enrolment/sessions/{session_id}/attendance"
    assert (
        api.post(attendance, {"records": [{"person_id": person, "status": "absent"}]}).status_code
        == 200
    )
    fix = {"records": [{"person_id": person, "status": "present"}], "reason": "Came late"}
    assert api.post(attendance, fix).status_code == 200
    api.embedded.tracking.projector.drain()

    entries = api.get(path(person)).get_json()["entries"]
    marks = [e for e in entries if e["kind"].startswith("attendance")]
    assert [(e["on"], e["kind"], e["details"]["status"]) for e in marks] == [
        ("2020-03-04", "attendance_recorded", "absent"),
        ("2020-03-04", "attendance_corrected", "present"),
    ]
    assert marks[1]["details"]["previous_status"] == "absent"
    assert marks[1]["details"]["reason"] == "Came late"
    for mark in marks:
        assert (mark["details"]["title"], mark["details"]["delivery"]) == ("Kick-off", "virtual")


def test_a_style_profile_correction_follows_the_profile(api: Api) -> None:
    person = api.person()
    style = api.created("/assessment/instruments", assessment.STYLE)["id"]
    body = {
        "person_id": person,
        "instrument_id": style,
        "wave": "custom",
        "wave_label": "March 2020",
        "administered_on": "2020-03-13",
        "primary": "analytical",
        "secondary": "driving",
        "scores": {"assertiveness": 40, "responsiveness": 60},
    }
    profile = api.created("/assessment/style-profiles", body)["id"]
    fix = {"primary": "amiable", "secondary": None, "scores": {}, "reason": "Mixed up"}
    api.created(f"/assessment/style-profiles/{profile}/correction", fix)
    api.embedded.tracking.projector.drain()

    entries = api.get(path(person)).get_json()["entries"]
    profiles = [e for e in entries if e["kind"].startswith("style_profile")]
    assert [(e["on"], e["kind"], e["details"]["primary"]) for e in profiles] == [
        ("2020-03-13", "style_profile_recorded", "analytical"),
        ("2020-03-13", "style_profile_corrected", "amiable"),
    ]
    assert profiles[0]["details"]["scores"] == body["scores"]


# as_of, CSV, pages, bad input ---------------------------------------------------------------


def test_as_of_shows_only_what_was_recorded_by_then(pilot: Pilot) -> None:
    entries = whole(pilot, "P07")["entries"]
    withdrawn = next(e for e in entries if e["kind"] == "withdrawn")
    as_of = withdrawn["recorded_at"]
    then = whole(pilot, "P07", as_of=as_of)
    assert then["as_of"] == dt.datetime.fromisoformat(as_of).isoformat()
    assert then["entries"] == [e for e in entries if e["recorded_at"] <= as_of]
    # The assessments were loaded after the enrolment side: none was known yet.
    kinds = {e["kind"] for e in then["entries"]}
    assert "withdrawn" in kinds and "result_recorded" not in kinds
    assert then["count"] < len(entries)


def test_as_of_before_registration_is_not_found(pilot: Pilot) -> None:
    entries = whole(pilot, "P07")["entries"]
    registered = next(e for e in entries if e["kind"] == "registered")
    before = dt.datetime.fromisoformat(registered["recorded_at"]) - dt.timedelta(microseconds=1)
    assert_problem(pilot.get(path(pilot.person("P07")), as_of=before.isoformat()), 404)


def test_the_csv_has_every_entry_with_its_details(pilot: Pilot) -> None:
    view = whole(pilot, "P02")
    response = pilot.get(path(pilot.person("P02")), format="csv", limit=5)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == view["count"]
    for row, entry in zip(rows, view["entries"], strict=True):
        assert (row["on"], row["recorded_at"], row["kind"]) == (
            entry["on"],
            entry["recorded_at"],
            entry["kind"],
        )
        assert row["cohort_id"] == (entry["cohort_id"] or "")
        # Plain "key: value; ..." text (a nested mapping in parentheses), never JSON.
        assert all(f"{key}: " in row["details"] for key in entry["details"])
        assert not row["details"].startswith("{") and '"' not in row["details"]


def test_pages_of_five_go_through_everything_once(pilot: Pilot) -> None:
    everything = whole(pilot, "P02")["entries"]
    seen: list[dict[str, Any]] = []
    after: int | None = 0
    pages = 0
    while after is not None:
        page = pilot.json(path(pilot.person("P02")), "coordinator", limit=5, after=after)
        assert page["count"] == len(everything)
        assert len(page["entries"]) <= 5
        seen += page["entries"]
        after = page["next_after"]
        pages += 1
    assert seen == everything
    assert pages == math.ceil(len(everything) / 5)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"after": -1}, "after"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2999-01-01T00:00:00+00:00"}, "as_of"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_arguments_are_named_in_a_422(pilot: Pilot, query: dict[str, Any], field: str) -> None:
    assert_problem(pilot.get(path(pilot.person("P02")), **query), 422, {field})


def test_a_malformed_person_id_is_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get("/tracking/people/not-a-uuid/timeline"), 404)
