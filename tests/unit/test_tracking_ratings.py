"""How growth reads results: wave order, and rater-group values under the rater minimums."""

from __future__ import annotations

from services.tracking.views.ratings import (
    Instrument,
    Rating,
    group_values,
    wave_key,
    wave_order,
)

INSTRUMENT = Instrument(
    "i-1",
    "Behaviour",
    "behaviour_assessment",
    [{"key": "a", "label": "A"}, {"key": "b", "label": "B", "reverse_scored": True}],
    5,
    {"self": 1, "peer": 3},
)


def rating(person: str, wave: str, group: str, **scores: float) -> Rating:
    return Rating("c-1", person, "i-1", wave, group, scores)


def test_waves_are_ordered_baseline_midpoint_post_follow_ups_then_custom() -> None:
    keys = [
        wave_key("custom", None, "spring check"),
        wave_key("follow_up", 12, None),
        wave_key("post", None, None),
        wave_key("follow_up", 6, None),
        wave_key("midpoint", None, None),
        wave_key("baseline", None, None),
        wave_key("custom", None, "autumn"),
    ]
    assert sorted(keys, key=wave_order) == [
        "baseline",
        "midpoint",
        "post",
        "follow_up_6",
        "follow_up_12",
        "custom:autumn",
        "custom:spring check",
    ]


def test_a_group_value_is_the_mean_of_its_raters_once_enough_scored() -> None:
    ratings = [
        rating("p", "baseline", "peer", a=2, b=4),
        rating("p", "baseline", "peer", a=3, b=5),
        rating("p", "baseline", "peer", a=5),  # a partial answer: no b
        rating("p", "baseline", "self", a=1, b=1),
    ]
    values = group_values(INSTRUMENT, ratings)
    peer = values[("c-1", "p", "baseline", "peer")]
    assert peer["a"].value == (2 + 3 + 5) / 3 and peer["a"].raters == 3
    assert peer["b"].value is None and peer["b"].raters == 2
    assert "fewer than the minimum of 3" in (peer["b"].reason("peer") or "")
    assert values[("c-1", "p", "baseline", "self")]["a"].value == 1


def test_a_group_without_a_minimum_needs_one_rater() -> None:
    values = group_values(INSTRUMENT, [rating("p", "post", "coach", a=4, b=2)])
    assert values[("c-1", "p", "post", "coach")]["a"].value == 4
    assert INSTRUMENT.rater_minimum("coach") == 1
    assert INSTRUMENT.rater_minimum("peer") == 3


def test_other_instruments_ratings_are_ignored() -> None:
    other = Rating("c-1", "p", "i-2", "post", "self", {"a": 1.0})
    assert group_values(INSTRUMENT, [other]) == {}
