"""An erased person's own views are gone; the cohort figures keep counting them.

A pilot of its own (the shared one is read-only) is loaded, its funnel and cohort growth are
read, and one participant with results is erased. Then their timeline and trajectory answer
410 to every role that could read them before, CSV and ``as_of`` a moment before the erasure
included, while another participant's views, the funnel and the cohort growth are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import SECRET, assert_problem, build, person_body
from tests.support.pilot import Pilot, load_pilot

ERASED, KEPT = "P03", "P04"


@pytest.fixture(scope="module")
def erased_pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The pilot with P03 erased, and what was read before and just before the erasure."""
    runtime = build(Path(tmp_path_factory.mktemp("erased-pilot")))
    try:
        pilot = load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
        before = {**read_all(pilot), "erased_growth": pilot.json(growth(pilot, ERASED))}
        entries = pilot.json(timeline(pilot, ERASED), limit=500)["entries"]
        erased = pilot.call("POST", f"/enrolment/people/{pilot.person(ERASED)}/erasure", None)
        assert erased["erased"] is True
        runtime.tracking.projector.drain()
        yield {"pilot": pilot, "before": before, "last_seen": entries[-1]["recorded_at"]}
    finally:
        runtime.close()


def timeline(pilot: Pilot, key: str) -> str:
    return f"/tracking/people/{pilot.person(key)}/timeline"


def growth(pilot: Pilot, key: str) -> str:
    return f"/tracking/people/{pilot.person(key)}/growth"


def read_all(pilot: Pilot) -> dict[str, Any]:
    return {
        "funnel": pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel"),
        "growth": pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/growth"),
        "kept_timeline": pilot.json(timeline(pilot, KEPT), limit=500),
        "kept_growth": pilot.json(growth(pilot, KEPT)),
    }


@pytest.mark.parametrize("view", [timeline, growth])
@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "auditor", "coach", "participant"])
def test_an_erased_persons_own_views_are_gone_for_every_role(
    erased_pilot: dict[str, Any], view: Any, role: str
) -> None:
    pilot: Pilot = erased_pilot["pilot"]
    sub = pilot.person(ERASED) if role == "participant" else None
    assert erased_pilot["before"]["erased_growth"]["instruments"]  # there was a history
    for query in ({}, {"format": "csv"}, {"as_of": erased_pilot["last_seen"]}):
        response = pilot.get(view(pilot, ERASED), role, sub=sub, **query)
        problem = assert_problem(response, 410)
        assert "erased" in problem["detail"]
        assert "instruments" not in problem and "entries" not in problem


def test_who_could_not_see_them_before_learns_nothing_new(erased_pilot: dict[str, Any]) -> None:
    pilot: Pilot = erased_pilot["pilot"]
    other = pilot.get(timeline(pilot, ERASED), "participant", sub=pilot.person(KEPT))
    assert_problem(other, 404)  # out of scope reads as no such person
    stranger = pilot.get(growth(pilot, ERASED), "coach", sub="coach-of-nothing")
    assert_problem(stranger, 404)


def test_everyone_else_and_the_cohort_figures_are_unchanged(erased_pilot: dict[str, Any]) -> None:
    pilot: Pilot = erased_pilot["pilot"]
    before = erased_pilot["before"]
    after = read_all(pilot)
    assert after["funnel"] == before["funnel"]  # the erased participant still counts
    assert after["growth"] == before["growth"]
    assert after["kept_timeline"] == before["kept_timeline"]
    assert after["kept_growth"] == before["kept_growth"]


def test_someone_registered_later_with_the_same_number_has_views_of_their_own(
    erased_pilot: dict[str, Any],
) -> None:
    pilot: Pilot = erased_pilot["pilot"]
    again = pilot.call("POST", "/enrolment/people", person_body(employee_number="P03-AGAIN"))
    pilot.runtime.tracking.projector.drain()
    fresh = pilot.json(f"/tracking/people/{again['id']}/timeline")
    assert [e["kind"] for e in fresh["entries"]] == ["registered"]
