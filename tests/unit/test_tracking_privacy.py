"""The privacy rules the tracking views share: differencing between filters and across calls,
and the Kaplan-Meier figures that only the few still followed are behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from services.tracking.replay import fresh_readmodels
from services.tracking.views import ledger
from services.tracking.views.ledger import Releases
from services.tracking.views.privacy import (
    DifferencingRefused,
    Policy,
    check_difference,
    check_narrowing,
    figure,
)
from services.tracking.views.reaction import Pool, _report
from services.tracking.views.survival import Observation, time_to_event
from shared.sql import Cursor

# Differencing against the same question with fewer filters -------------------------------------

PEOPLE = {
    # person: (department, profession)
    **{f"i{n}": ("Innovation", "economist") for n in range(6)},
    **{f"j{n}": ("Innovation", "lawyer") for n in range(3)},
    **{f"e{n}": ("Energy", "lawyer") for n in range(8)},
}


def population(filters: Mapping[str, Any]) -> set[str]:
    return {
        p
        for p, (department, profession) in PEOPLE.items()
        if filters.get("department", department) == department
        and filters.get("profession", profession) == profession
    }


def test_a_filter_leaving_out_few_of_the_unfiltered_group_names_that_filter() -> None:
    with pytest.raises(DifferencingRefused) as refused:
        check_difference(population({"profession": "economist"}) - {"i0"}, population({}), 20,
                         {"profession": "economist"})  # fmt: skip
    assert refused.value.field == "profession"
    assert "of the unfiltered group" in str(refused.value)


def test_two_filters_are_refused_when_one_alone_gives_nearly_the_same_people() -> None:
    # Innovation is 9 people; Innovation economists 6: three apart.
    filters = {"department": "Innovation", "profession": "economist"}
    with pytest.raises(DifferencingRefused) as refused:
        check_narrowing(filters, population, 5)
    assert refused.value.field == "profession"  # the filter that narrows Innovation
    assert "of the group with only department=Innovation" in str(refused.value)


def test_two_filters_are_answered_when_every_narrower_step_leaves_out_enough() -> None:
    # Energy lawyers are all 8 of Energy (none left out) but leave out 3 of the 11 lawyers:
    # refused, naming the department; Innovation lawyers leave out 6 of 9 and 8 of 11.
    with pytest.raises(DifferencingRefused) as refused:
        check_narrowing({"department": "Energy", "profession": "lawyer"}, population, 5)
    assert refused.value.field == "department"
    check_narrowing({"department": "Innovation", "profession": "lawyer"}, population, 5)
    check_narrowing({}, population, 5)


def test_one_filter_is_checked_against_the_unfiltered_group_only() -> None:
    check_narrowing({"department": "Innovation"}, population, 5)  # leaves out 8
    with pytest.raises(DifferencingRefused) as refused:
        check_narrowing({"department": "Innovation"}, population, 9)
    assert refused.value.field == "department"
    assert "of the unfiltered group" in str(refused.value)


# Differencing across calls ---------------------------------------------------------------------


@pytest.fixture
def cur(tmp_path: Path) -> Iterator[Cursor]:
    readmodels = fresh_readmodels(tmp_path / "views.sqlite")
    try:
        with readmodels.database.transaction() as cursor:
            yield cursor
    finally:
        readmodels.database.close()


def release(cur: Cursor, members: set[str]) -> str | None:
    """Releases ``members`` on one measure with a ledger read from and written to ``cur``."""
    releases = Releases(lambda family: ledger.load(cur, family))
    reason = releases.admit("mobility:org", ["first_move"], members, 5)
    releases.record(cur)
    return reason


SHARED = {f"p{n}" for n in range(10)}


def test_one_population_released_on_several_measures_and_another_are_each_recorded(
    cur: Cursor,
) -> None:
    releases = Releases(lambda family: ledger.load(cur, family))
    other = SHARED | {"a", "b", "c", "d", "e"}
    assert releases.admit("growth:org", ["mean", "sd", "n"], SHARED, 5) is None
    assert releases.admit("growth:org", ["mean"], other, 5) is None
    releases.record(cur)
    cur.execute("SELECT measure, population, members, size FROM tr_releases ORDER BY 1, 4")
    rows = [tuple(row) for row in cur.fetchall()]
    expected = []
    for measure, members in [("mean", SHARED), ("mean", other), ("n", SHARED), ("sd", SHARED)]:
        text = json.dumps(sorted(members))
        digest = hashlib.sha256(text.encode()).hexdigest()
        expected.append((measure, digest, text, len(members)))
    assert rows == expected
    # Read back, each measure holds its own population again.
    loaded = Counter((m, len(p)) for m, p in ledger.load(cur, "growth:org"))
    assert loaded == {("mean", 10): 1, ("mean", 15): 1, ("n", 10): 1, ("sd", 10): 1}


def test_overlapping_populations_that_each_hold_a_few_others_are_withheld(cur: Cursor) -> None:
    assert release(cur, SHARED | {"a"}) is None
    # Neither holds the other, but their difference is two people, a and b, told apart.
    reason = release(cur, SHARED | {"b"})
    assert reason is not None and "differs by fewer than 5" in reason


def test_nested_populations_differing_by_few_are_withheld(cur: Cursor) -> None:
    assert release(cur, SHARED) is None
    assert release(cur, SHARED - {"p0", "p1"}) is not None


def test_populations_differing_by_the_minimum_are_released_and_the_same_one_again(
    cur: Cursor,
) -> None:
    assert release(cur, SHARED) is None
    assert release(cur, SHARED - {f"p{n}" for n in range(5)}) is None
    assert release(cur, SHARED) is None  # nothing new in it
    cur.execute("SELECT COUNT(*) FROM tr_releases")
    assert cur.fetchone()[0] == 2


def test_every_part_but_one_against_the_whole_is_withheld(cur: Cursor) -> None:
    # Two departments of 6 released beside all 13: the 13th person would be the remainder.
    whole = {f"x{n}" for n in range(13)}
    first, second = {f"x{n}" for n in range(6)}, {f"x{n}" for n in range(6, 12)}
    assert release(cur, whole) is None
    assert release(cur, first) is None
    reason = release(cur, second)
    assert reason is not None and "single out" in reason
    assert ledger.pinned([whole, first]) == set()
    assert ledger.pinned([whole, first, second]) == {"x12"}


# Kaplan-Meier figures where few are still followed --------------------------------------------

VIEW_DAY = dt.date(2023, 1, 1)
EARLY = dt.date(2020, 1, 1)
LATE = VIEW_DAY - dt.timedelta(days=120)


def pooled() -> Counter[tuple[dt.date, Observation]]:
    """Six followed from 2020 (moves on days 30 and 200, four never), four from 120 days ago;
    counted by origin and observation, as the view passes them."""
    early = [Observation(30, True), Observation(200, True)]
    early += [Observation((VIEW_DAY - EARLY).days, False)] * 4
    late = [Observation(120, False)] * 4
    return Counter([(EARLY, o) for o in early] + [(LATE, o) for o in late])


def test_the_curve_has_no_step_with_fewer_events_than_the_minimum() -> None:
    got = time_to_event(pooled(), 10, VIEW_DAY, 5, (6, 12, 24))
    curve = got["curve"]
    # Two moves in all: no step of five, so only the origin, and the reason says why.
    assert [(p["days"], p["at_risk"]) for p in curve["value"]] == [(0, 10)]
    assert not curve["suppressed"] and curve["n"] == 10
    assert "shown to day 0" in curve["reason"]
    # With a minimum of 2 the moves of days 30 and 200 share one step, closed at the month
    # end after the second (1 August 2020, day 213), among the four of 2020 still followed.
    two = time_to_event(pooled(), 10, VIEW_DAY, 2, (6,))["curve"]["value"]
    assert [(p["days"], p["at_risk"], p["events"]) for p in two] == [(0, 10, 0), (213, 4, 2)]
    assert two[1]["survival"] == pytest.approx(0.9 * 4 / 5, abs=1e-4)


def test_an_estimate_from_fewer_than_the_minimum_at_risk_is_suppressed() -> None:
    got = time_to_event(pooled(), 10, VIEW_DAY, 5, (6, 12, 24))
    six = got["incidence"]["6"]  # day 182: five at risk
    assert (six["value"], six["n"], six["suppressed"]) == (0.1, 10, False)
    for months in ("12", "24"):  # only the four unmoved of 2020 are followed that far
        late = got["incidence"][months]
        assert late == {"value": None, "n": None, "suppressed": True, "reason": late["reason"]}
        assert "fewer than 5 people still followed" in late["reason"]
    lower = time_to_event(pooled(), 10, VIEW_DAY, 4, (24,))
    assert lower["incidence"]["24"]["value"] == pytest.approx(0.28)  # 1 - 9/10 * 4/5


def test_a_median_reached_among_few_is_suppressed_but_the_observed_shares_are_not() -> None:
    # Six followed the same 3 years: four move on days 10..40, S reaches 0.5 by the first
    # month end (day 31) with three at risk. The shares over all six followed six months stay.
    moves = [Observation(d, True) for d in (10, 20, 30, 40)]
    followed = Counter((EARLY, o) for o in moves + [Observation(1096, False)] * 2)
    got = time_to_event(followed, 6, VIEW_DAY, 5, (6,))
    assert got["median_days"]["suppressed"] and got["median_months"]["suppressed"]
    assert got["incidence"]["6"]["suppressed"]
    assert got["observed"]["6"] == {"value": 0.6667, "n": 6, "suppressed": False, "reason": None}
    assert [p["days"] for p in got["curve"]["value"]] == [0]
    shown = time_to_event(followed, 6, VIEW_DAY, 3, (6,))
    assert shown["median_days"]["value"] == 31 and shown["median_months"]["value"] == 1


def test_a_figure_with_nothing_to_compute_it_from_gives_its_reason() -> None:
    assert figure(None, 20, 5, "no one enrolled") == {
        "value": None,
        "n": 20,
        "suppressed": False,
        "reason": "no one enrolled",
    }
    assert figure(None, 3, 5, "no one enrolled")["suppressed"]
    assert figure(0.5, 20, 5, "unused")["reason"] is None


# Reaction answers on two days ------------------------------------------------------------------


def test_reaction_items_over_one_more_response_than_before_are_withheld() -> None:
    definition = {"dimensions": [{"key": "overall"}], "scale": {"min": 1, "max": 5, "step": 1}}
    releases = Releases()

    def report(responses: int) -> dict[str, Any]:
        pool = Pool("r1", "Reaction", definition, ["s1"], issued=10)
        for n in range(responses):
            pool.answers.append({"overall": 1 + n % 5})
            pool.comments.append({})
            pool.responses.append(f"event-{n}")
        return _report(pool, Policy(), releases)

    first = report(6)["items"][0]
    assert first["mean"]["value"] == pytest.approx(16 / 6, abs=1e-4)  # 1, 2, 3, 4, 5, 1
    # The next day one more response: the two means would give its answer away.
    later = report(7)["items"][0]
    assert later["mean"]["value"] is None and "secondary" in later["mean"]["reason"]
    assert later["distribution"]["value"] is None
    assert report(11)["items"][0]["mean"]["value"] is not None  # five more: shown again
