"""Organisation-wide computations kept between requests: a new event that changes a table they
read, or another moment, misses; any other event keeps them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.tracking import changes
from services.tracking.temporal import reading
from services.tracking.views import mobility
from services.tracking.views.memo import Memo
from tests.api.helpers import Api, cohort_body


def scene(api: Api) -> str:
    """A cohort of one participant and six colleagues who form the comparison group."""
    cohort_id = api.cohort(capacity=5)
    assert api.enrol(cohort_id, api.person()).status_code == 201
    for _ in range(6):
        api.person()
    api.embedded.tracking.projector.drain()
    return cohort_id


def comparison(api: Api, cohort_id: str, memo: Memo, as_of: dt.datetime | None = None) -> int:
    with reading(api.embedded.tracking.readmodels.database, as_of) as cur:
        return len(mobility.groups(cur, [cohort_id], {}, memo).base)


def test_a_kept_comparison_group_gives_way_to_a_new_event_and_keeps_as_of(api: Api) -> None:
    cohort_id = scene(api)
    memo = Memo()
    assert comparison(api, cohort_id, memo) == 6
    kept = len(memo)
    assert kept > 0  # the comparison group and the attributes are kept
    assert comparison(api, cohort_id, memo) == 6
    assert len(memo) == kept  # asked again at the same positions: nothing new computed
    before = dt.datetime.now(dt.UTC)
    api.person()
    api.embedded.tracking.projector.drain()
    assert comparison(api, cohort_id, memo) == 7
    assert comparison(api, cohort_id, memo, as_of=before) == 6
    assert comparison(api, cohort_id, None, as_of=before) == 6  # the same without a memo


def test_the_api_keeps_its_memo_per_application(api: Api) -> None:
    cohort_id = scene(api)
    first: dict[str, Any] = api.get(f"/tracking/cohorts/{cohort_id}/mobility").get_json()
    api.person()
    api.embedded.tracking.projector.drain()
    second: dict[str, Any] = api.get(
        f"/tracking/cohorts/{cohort_id}/mobility", sub="someone else"
    ).get_json()
    assert first["comparison"]["people"]["value"] == 6
    assert second["comparison"]["people"]["value"] == 7


def test_a_kept_answer_is_not_changed_by_what_a_request_does_with_it(api: Api) -> None:
    cohort_id = scene(api)
    memo, day = Memo(), dt.date(2024, 1, 1)
    with reading(api.embedded.tracking.readmodels.database) as cur:
        chosen = mobility.groups(cur, [cohort_id], {}, memo)
        first = mobility.figures(cur, chosen, 5, day, None, memo)
        shown = first["comparison"]["first_move"]["incidence"]["6"]
        first["comparison"]["first_move"]["incidence"]["6"] = "withheld by the ledger"
        again = mobility.figures(cur, chosen, 5, day, None, memo)
    assert again["comparison"]["first_move"]["incidence"]["6"] == shown
    assert shown["value"] == 0.0  # no one of the six moved


def test_who_left_the_state_and_came_back_joins_from_the_first_end_they_qualify_on(
    api: Api,
) -> None:
    """Two cohorts ending 2020-11-30 and 2021-05-31: one colleague left before the first end
    and came back before the second, another left between the two ends."""
    programme = api.programme()
    first = api.cohort(programme, capacity=5, name="First")
    second = str(
        api.created(
            "/enrolment/cohorts",
            cohort_body(programme, name="Second", start_date="2021-01-04", end_date="2021-05-31"),
        )["id"]
    )
    for cohort_id in (first, second):
        assert api.enrol(cohort_id, api.person()).status_code == 201
    stayer, returner, leaver = api.person(), api.person(), api.person()
    out = {"kind": "left_state", "organisation": "Private sector", "start_date": "2020-09-01"}
    back = {
        "kind": "new_post",
        "organisation": "TEM",
        "department": "Energy",
        "unit": "Grid",
        "start_date": "2021-02-01",
    }
    api.created(f"/enrolment/people/{returner}/career-moves", out)
    api.created(f"/enrolment/people/{returner}/career-moves", back)
    api.created(f"/enrolment/people/{leaver}/career-moves", {**out, "start_date": "2021-01-15"})
    api.embedded.tracking.projector.drain()
    with reading(api.embedded.tracking.readmodels.database) as cur:
        chosen = mobility.groups(cur, [first, second], {})
    assert chosen.base == {
        stayer: dt.date(2020, 11, 30),
        leaver: dt.date(2020, 11, 30),
        returner: dt.date(2021, 5, 31),
    }
    assert chosen.traits[returner]["department"] == "Energy"
    assert chosen.traits[stayer]["department"] == "Innovation"


def counters(api: Api, *tables: str) -> dict[str, int]:
    with api.embedded.tracking.readmodels.database.transaction(write=False) as cur:
        return dict(changes.counters(cur, tables))


def test_the_projector_raises_the_counters_of_the_tables_an_event_wrote(api: Api) -> None:
    scene(api)
    before = counters(api, "tr_people", "tr_placements", "tr_results", "tr_cohorts")
    api.person()
    api.embedded.tracking.projector.drain()
    after = counters(api, "tr_people", "tr_placements", "tr_results", "tr_cohorts")
    assert after["tr_people"] > before["tr_people"]
    assert after["tr_placements"] > before["tr_placements"]
    assert after["tr_results"] == before["tr_results"]
    assert after["tr_cohorts"] == before["tr_cohorts"]


def test_a_kept_comparison_group_outlives_events_that_do_not_change_what_it_read(
    api: Api,
) -> None:
    cohort_id = scene(api)
    memo = Memo()
    with reading(api.embedded.tracking.readmodels.database) as cur:
        kept = mobility.groups(cur, [cohort_id], {}, memo).base
    api.cohort(name="Another cohort")  # cohorts and programmes only
    api.embedded.tracking.projector.drain()
    with reading(api.embedded.tracking.readmodels.database) as cur:
        assert mobility.groups(cur, [cohort_id], {}, memo).base is kept
    kept_computations = len(memo)
    api.person()  # a person and a placement: the group changes
    api.embedded.tracking.projector.drain()
    with reading(api.embedded.tracking.readmodels.database) as cur:
        again = mobility.groups(cur, [cohort_id], {}, memo).base
    assert again is not kept
    assert len(again) == len(kept) + 1
    assert len(memo) == kept_computations  # the new answers replaced the old ones


def test_a_large_group_reads_every_move_once_and_gets_the_same_figures(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort_id = scene(api)
    mover = api.person()
    move = {"kind": "transfer", "organisation": "TEM", "department": "Energy",
            "unit": "Grid", "start_date": "2021-03-01"}  # fmt: skip
    api.created(f"/enrolment/people/{mover}/career-moves", move)
    api.embedded.tracking.projector.drain()
    day = dt.date(2024, 1, 1)
    with reading(api.embedded.tracking.readmodels.database) as cur:
        chosen = mobility.groups(cur, [cohort_id], {})
        by_chunks = mobility.figures(cur, chosen, 5, day)
        monkeypatch.setattr(mobility, "READ_ALL_FROM", 1)
        at_once = mobility.figures(cur, chosen, 5, day)
    assert at_once == by_chunks
    moved = by_chunks["comparison"]["scopes"]
    assert sum(c["value"] for c in moved.values() if c["value"]) == 1  # the mover's move
