"""The headline statistics on small hand-made data: matching, the person-level headline,
Aalen-Johansen, Greenwood and the intervals' edge cases."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from scipy import stats

from services.tracking.views.attendance_interval import mode_interval
from services.tracking.views.did import did_interval
from services.tracking.views.headline import holm, person_improvements
from services.tracking.views.matching import balance, match
from services.tracking.views.mobility_stats import CAUSE, CENSORED, LEFT, Timed, aalen_johansen
from tests.support import expected_stats as expected

A, B = ("d1", "expert", "lawyer", "master"), ("d2", "manager", "economist", "doctor")


def test_matching_is_exact_up_to_three_each_without_replacement() -> None:
    participants = {"p1": A, "p2": A, "p3": B}
    candidates = {f"c{i}": A for i in range(5)} | {"c9": ("d1", "expert", "lawyer", None)}
    found = match("cohort", participants, candidates)
    assert set(found.controls) <= {f"c{i}" for i in range(5)}  # c9 differs in one attribute
    assert len(found.controls) == 5  # 5 candidates for 2 participants: 3 + 2, dealt in turns
    assert sorted(list(found.controls.values()).count(p) for p in ("p1", "p2")) == [2, 3]
    assert found.matched == ["p1", "p2"] and found.unmatched == 1  # p3 has no candidate


def test_matching_is_deterministic_and_independent_of_input_order() -> None:
    participants = {f"p{i}": A for i in range(4)}
    candidates = {f"c{i}": A for i in range(9)}
    first = match("cohort", participants, candidates)
    shuffled = list(candidates.items())
    random.Random(7).shuffle(shuffled)
    again = match("cohort", dict(reversed(participants.items())), dict(shuffled))
    assert first == again
    assert match("another cohort", participants, candidates).controls != first.controls


def test_a_participant_is_never_their_own_control() -> None:
    found = match("cohort", {"p1": A}, {"p1": A, "c1": A})
    assert found.controls == {"c1": "p1"}


def test_the_balance_table_pools_small_categories_and_suppresses_them() -> None:
    C = ("d3", "expert", "lawyer", "master")
    participants = {f"p{i}": A for i in range(5)} | {f"r{i}": C for i in range(6)} | {"q": B}
    rows = balance(participants, {f"c{i}": A for i in range(5)}, {"x": A, "y": B}, 5)
    department = [r for r in rows if r["attribute"] == "department"]
    # d2 (one person) alone would be a suppressed "other" worth 12 - 5 - 6: the smallest
    # category shown (d1) joins it, so "other" holds 6 and nothing is hidden.
    assert [r["category"] for r in department] == ["d3", "other"]
    assert department[0]["participants"]["share"]["value"] == pytest.approx(6 / 12, abs=1e-4)
    assert department[1]["participants"]["count"]["value"] == 6
    assert department[1]["comparison"]["share"]["value"] == 1.0


def test_the_balance_table_suppresses_a_pool_that_cannot_reach_the_minimum() -> None:
    participants = {f"p{i}": A for i in range(3)} | {"q": B}
    rows = balance(participants, {"c": A}, {"x": A, "y": B}, 5)
    department = [r for r in rows if r["attribute"] == "department"]
    assert [r["category"] for r in department] == ["other"]
    assert department[0]["participants"]["count"]["suppressed"]  # four people: not named


def test_the_headline_averages_each_persons_change_turning_reverse_scored() -> None:
    counted = {
        ("a", "self", "baseline"): {("c", "x"): 1.0, ("c", "y"): 2.0},
        ("a", "self", "post"): {("c", "x"): 2.0, ("c", "y"): 2.0},
        ("b", "self", "baseline"): {("c", "x"): 4.0},
        ("b", "self", "post"): {("c", "x"): 3.0},
    }
    gains = person_improvements(counted, [("a", False), ("b", True)], "self")
    assert gains == {("c", "x"): 1.0, ("c", "y"): 0.0}  # x: (1 + 1) / 2, y: only a


def test_aalen_johansen_adds_up_with_the_survivors() -> None:
    people = [Timed(1, CAUSE), Timed(2, LEFT), Timed(2, CENSORED), Timed(3, CAUSE), Timed(5, 0)]
    timed = Counter(people)  # counted by value, as the view passes them
    cause, left, at_risk = aalen_johansen(timed, 3) or (0, 0, 0)
    want = expected.aalen_johansen([(t.days, t.cause) for t in people], 3)
    assert (cause, left) == pytest.approx(want)
    assert (cause, left) == pytest.approx((1 / 5 + 0.8 * 0.75 * 1 / 2, 0.8 * 1 / 4))
    assert at_risk == 2
    assert aalen_johansen(timed, 6) is None  # beyond the follow-up


def test_the_did_interval_needs_two_units_and_is_the_t_interval() -> None:
    assert did_interval([]) is None
    one = did_interval([0.3])
    assert one is not None and one.low is None
    values = [0.1, 0.4, -0.2, 0.3]
    found = did_interval(values)
    assert found is not None
    low, high = stats.ttest_1samp(values, 0).confidence_interval()
    assert (found.low, found.high) == pytest.approx((low, high))


def test_the_attendance_interval_warns_below_three_sessions() -> None:
    taken = [("virtual", {f"p{i}": "present" for i in range(6)}) for _ in range(3)]
    taken += [("in_person", {f"p{i}": "absent" if i < 2 else "present" for i in range(6)})]
    rate = {"value": 1.0, "n": 6, "suppressed": False, "reason": None}
    by_delivery = {"virtual": {"rate": rate}, "in_person": {"rate": {**rate, "value": 0.6667}}}
    found = mode_interval(by_delivery, taken)
    low, high = expected.newcombe(18, 18, 4, 6)
    ci = found["virtual_minus_in_person_ci"]
    assert (ci["low"]["value"], ci["high"]["value"]) == pytest.approx((low, high), abs=1e-4)
    assert found["virtual_minus_in_person_warning"].startswith("in_person:")
    assert (
        mode_interval(by_delivery, taken[:3] * 2 + taken[3:] * 3)["virtual_minus_in_person_warning"]
        is None
    )


def test_holm_gives_what_statsmodels_multipletests_gives() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = random.Random(12)
    for size in (3, 20):  # each multipletests call runs a full gc.collect()
        p = [rng.random() ** 3 for _ in range(size)]
        assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
        assert holm(p) == pytest.approx(expected.holm(p))


def test_a_kept_headline_check_gives_what_a_fresh_one_gives() -> None:
    """What a headline reads from every unit (its people, the check that they differ from a
    shown dimension's pairs) is kept on the digest (``Rated.kept``) under the headline's
    dimensions, group and minimum."""
    from collections import Counter

    from services.tracking.views.growth_rated import Rated
    from services.tracking.views.growth_release import shown_cohorts
    from services.tracking.views.headline import headline
    from services.tracking.views.ledger import Releases
    from services.tracking.views.ratings import BASELINE, POST

    units = [("c", f"p{i}") for i in range(6)]
    counted = {  # d1 rated for five people, d2 for all six: the headline has six, d1 five
        ("d1", "peer", BASELINE): {u: 2.0 for u in units[:5]},
        ("d1", "peer", POST): {u: 3.0 + i for i, u in enumerate(units[:5])},
        ("d2", "peer", BASELINE): {u: 2.0 for u in units},
        ("d2", "peer", POST): {u: 2.5 + i for i, u in enumerate(units)},
    }
    changes = [
        {"rater_group": "peer", "to": POST, "dimension": d, "improvement": {"value": 1.0}}
        for d in ("d1", "d2")
    ]
    dimensions = [("d1", False), ("d2", False)]
    rated = Rated(frozenset({"peer"}), frozenset({BASELINE, POST}), frozenset(), counted, Counter())

    def post_pairs(k: int) -> dict[tuple[str, str], frozenset[str]]:
        """Each dimension's shown pairs to post as members, as the growth plan makes them."""
        found = {}
        for d, _ in dimensions:
            both = set(counted[d, "peer", BASELINE]) & set(counted[d, "peer", POST])
            shown = shown_cohorts(dict.fromkeys(both, 0.0), k)
            found[d, "peer"] = frozenset(f"{c}:{p}" for c, p in shown)
        return found

    def answer(k: int, kept: bool) -> dict[str, object]:
        extra = {"improved": rated.improvements, "keep": rated.kept} if kept else {}
        return headline(  # type: ignore[arg-type]
            "i", counted, dimensions, changes, "peer", Releases(), k, post_pairs(k), **extra
        )

    fresh = answer(5, kept=False)
    assert fresh["mean_improvement"]["value"] is None  # type: ignore[index]  # 6 against 5
    assert answer(5, kept=True) == fresh == answer(5, kept=True)
    assert answer(1, kept=True) == answer(1, kept=False)  # with a minimum of 1 nothing differs
    assert answer(1, kept=False)["mean_improvement"]["value"] is not None  # type: ignore[index]
    assert sum(name == "differs" for name, *_ in rated._kept) == 2  # one check per minimum
