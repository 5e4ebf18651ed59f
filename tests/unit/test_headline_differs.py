"""The headline's differencing check on members, with the pairs the growth plan made, answers
as a check that works the pairs out again from the counted values (its form before the plan's
pairs were passed in)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.tracking.views.growth_release import Unit, shown_cohorts
from services.tracking.views.headline import _differs
from services.tracking.views.ledger import differs_reason
from services.tracking.views.ratings import BASELINE, POST

COHORTS = ("c1", "c2", "c3")


def recomputed(
    units: list[Unit],
    to_post: list[dict[str, Any]],
    counted: dict[tuple[str, str, str], dict[Unit, float]],
    k: int,
) -> str | None:
    mine = set(units)
    for c in to_post:
        if c["improvement"]["value"] is None:
            continue
        key = (c["dimension"], c["rater_group"])
        pairs = set(counted.get((*key, BASELINE), {})) & set(counted.get((*key, POST), {}))
        if 0 < len(mine ^ set(shown_cohorts(dict.fromkeys(pairs, 0.0), k))) < k:
            return differs_reason(k)
    return None


units = st.sets(st.tuples(st.sampled_from(COHORTS), st.sampled_from([f"p{i}" for i in range(9)])))


@given(
    st.lists(st.tuples(units, units, st.booleans()), min_size=1, max_size=3),
    units,
    st.integers(1, 5),
)
def test_both_checks_agree(
    dimensions: list[tuple[set[Unit], set[Unit], bool]], people: set[Unit], k: int
) -> None:
    counted: dict[tuple[str, str, str], dict[Unit, float]] = {}
    to_post: list[dict[str, Any]] = []
    post_pairs = {}
    for n, (baseline, post, shown) in enumerate(dimensions):
        key = f"d{n}"
        counted[key, "peer", BASELINE] = dict.fromkeys(baseline, 1.0)
        counted[key, "peer", POST] = dict.fromkeys(post, 2.0)
        value = 0.5 if shown else None
        to_post.append({"dimension": key, "rater_group": "peer", "improvement": {"value": value}})
        pairs = shown_cohorts(dict.fromkeys(baseline & post, 0.0), k)
        post_pairs[key, "peer"] = frozenset(f"{c}:{p}" for c, p in pairs)
    mine = list(shown_cohorts(dict.fromkeys(people, 0.0), k))
    members = [f"{c}:{p}" for c, p in mine]
    assert _differs(members, to_post, post_pairs, k) == recomputed(mine, to_post, counted, k)
