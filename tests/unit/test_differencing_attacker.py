"""A linear-algebra attacker against everything the growth and mobility views release.

Hypothesis generates people (cohort, department, when their results were recorded, their
values, when they moved) and a sequence of allowed queries: several callers, both cohorts and
the programme pooling them, department filters and ``as_of`` moments. Each answer is computed
by the views' own code with one release ledger shared by all queries, as the API shares it.
Every figure released with its count becomes a row of a linear system over the individual
values: a wave mean is a sum over its people, a paired change a sum of differences, a share of
movers a sum of indicators. A value is pinned down when its unit vector lies in the row space
of that system; the attacker looks for one with a least-squares solve per value, independent
of the ledger's own test.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tracking.views import growth
from services.tracking.views.ledger import Population, Releases
from services.tracking.views.mobility_outcomes import Move, group_figures
from services.tracking.views.mobility_release import release as release_mobility
from services.tracking.views.privacy import DifferencingRefused, check_difference
from services.tracking.views.ratings import Instrument, Rating

K = 3
"""The minimum: small, so that few generated people can still mount every attack."""
INSTRUMENT = Instrument("i1", "Self", "self_assessment", [{"key": "d"}], K)
ORIGIN = dt.date(2021, 1, 1)
VIEW_DAY = dt.date(2023, 1, 1)
Variable = tuple[str, str]
"""(who, what): a cohort run's value at a wave, or a person's moved-within-6-months."""


class Store:
    """The shared ledger, in memory: what ``tr_releases`` holds for every caller."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, Population]]] = defaultdict(list)

    def releases(self) -> Releases:
        return Releases(lambda family: list(self.rows[family]))

    def keep(self, releases: Releases) -> None:
        for family, measure, population in releases.new:
            self.rows[family].append((measure, population))
        releases.new = []


class Attacker:
    """Collects every released (sum, count) as a row over the individual values."""

    def __init__(self) -> None:
        self.rows: list[dict[Variable, float]] = []

    def add(self, row: dict[Variable, float]) -> None:
        if row:
            self.rows.append(row)

    def pinned(self) -> set[Variable]:
        variables = sorted({v for row in self.rows for v in row})
        if not variables:
            return set()
        index = {v: i for i, v in enumerate(variables)}
        a = np.zeros((len(self.rows), len(variables)))
        for r, row in enumerate(self.rows):
            for variable, coefficient in row.items():
                a[r, index[variable]] = coefficient
        found = set()
        for variable, i in index.items():
            # e_i in the row space of A <=> A^T x = e_i has an exact solution.
            target = np.zeros(len(variables))
            target[i] = 1.0
            x, *_ = np.linalg.lstsq(a.T, target, rcond=None)
            if np.allclose(a.T @ x, target, atol=1e-8):
                found.add(variable)
        return found


# The people and the queries ---------------------------------------------------------------------

person = st.tuples(
    st.sampled_from(["c1", "c2"]),  # cohort
    st.sampled_from(["A", "B"]),  # department
    st.integers(0, 3),  # when the baseline was recorded
    st.one_of(st.none(), st.integers(0, 3)),  # how much later the post result, if any
    st.integers(1, 5),  # baseline
    st.integers(1, 5),  # post
    st.one_of(st.none(), st.integers(1, 400)),  # days from the origin to a move
)
query = st.tuples(
    st.sampled_from(["alice", "bob", "carol"]),  # the caller: the ledger does not care
    st.sampled_from([("c1",), ("c2",), ("c1", "c2")]),  # a cohort, or the programme
    st.sampled_from([None, "A", "B"]),  # department filter
    st.integers(0, 7),  # as_of: results recorded by then
)
People = list[tuple[str, str, int, int | None, int, int, int | None]]


def ratings_at(people: People, scope: Iterable[str], moment: int) -> list[Rating]:
    found = []
    for n, (cohort, _, at, later, base, post, _) in enumerate(people):
        if cohort not in scope:
            continue
        if at <= moment:
            found.append(Rating(cohort, f"p{n}", "i1", "baseline", "self", {"d": base}))
        if later is not None and at + later <= moment:
            found.append(Rating(cohort, f"p{n}", "i1", "post", "self", {"d": post}))
    return found


def growth_answer(
    people: People, scope: tuple[str, ...], department: str | None, moment: int, store: Store
) -> dict[str, Any] | None:
    """The growth answer the API would give, or None where it refuses the filter (422)."""
    found = ratings_at(people, scope, moment)
    base = {r.person_id for r in found}
    if department is not None:
        found = [r for r in found if people[int(r.person_id[1:])][1] == department]
        try:
            check_difference({r.person_id for r in found}, base, K, {"department": department})
        except DifferencingRefused:
            return None
    releases = store.releases()
    answer = growth.instrument_growth(INSTRUMENT, found, releases)
    store.keep(releases)
    return answer


def growth_rows(answer: dict[str, Any], found: list[Rating]) -> list[dict[Variable, float]]:
    """Each shown wave mean and paired change as a row over (unit, wave) values."""
    units: dict[str, set[str]] = defaultdict(set)
    for r in found:
        units[r.wave].add(f"{r.cohort_id}:{r.person_id}")
    rows = []
    for c in answer["cells"]:
        if c["mean"]["value"] is not None:
            shown = pooled(units[c["wave"]])
            assert len(shown) == c["n"]["value"]
            rows.append({(u, c["wave"]): 1.0 for u in shown})
    for c in answer["changes"]:
        if c["mean_difference"]["value"] is not None:
            pairs = pooled(units["baseline"] & units[c["to"]])
            assert len(pairs) == c["pairs"]["value"]
            rows.append(
                {**{(u, "baseline"): -1.0 for u in pairs}, **{(u, c["to"]): 1.0 for u in pairs}}
            )
    return rows


def pooled(units: set[str]) -> set[str]:
    """The units a pooled cell sums: those of cohorts with at least K of them."""
    sizes: dict[str, int] = defaultdict(int)
    for unit in units:
        sizes[unit.split(":")[0]] += 1
    return {u for u in units if sizes[u.split(":")[0]] >= K}


def mobility_rows(
    people: People, scope: tuple[str, ...], department: str | None, store: Store
) -> list[dict[Variable, float]]:
    """The share moved within 6 months of the scope's people (the comparison-group shape: an
    organisation's people followed from one day, whichever cohort asks), as a row."""
    origins = {
        f"p{n}": ORIGIN
        for n, (cohort, dept, *_) in enumerate(people)
        if cohort in scope and department in (None, dept)
    }
    moves = {
        f"p{n}": [Move(ORIGIN + dt.timedelta(days=days), "job_rotation", "other_unit")]
        for n, (*_, days) in enumerate(people)
        if days is not None
    }
    figures = group_figures(origins, moves, VIEW_DAY, K)
    releases = store.releases()
    release_mobility("org", origins, VIEW_DAY, figures, releases, K)
    store.keep(releases)
    share = figures["first_move"]["observed"]["6"]
    if share["value"] is None:
        return []
    return [{(f"{p}@{ORIGIN}", "moved"): 1.0 for p in origins}]


def attack(people: People, queries: list[tuple[str, tuple[str, ...], str | None, int]]) -> set:
    store, attacker = Store(), Attacker()
    for _, scope, department, moment in queries:
        answer = growth_answer(people, scope, department, moment, store)
        if answer is None:
            continue
        found = ratings_at(people, scope, moment)
        if department is not None:
            found = [r for r in found if people[int(r.person_id[1:])][1] == department]
        for row in growth_rows(answer, found):
            attacker.add(row)
        for row in mobility_rows(people, scope, department, store):
            attacker.add(row)
    return attacker.pinned()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(person, min_size=K, max_size=14), st.lists(query, min_size=1, max_size=10))
def test_no_sequence_of_allowed_queries_pins_down_an_individual_value(
    people: People, queries: list[tuple[str, tuple[str, ...], str | None, int]]
) -> None:
    assert attack(people, queries) == set()


# The attacker itself can succeed --------------------------------------------------------------


class AdmitAll(Releases):
    """A ledger that lets everything through: what the views did before it."""

    def admit(self, family: str, measures: Iterable[str], members: Iterable[str], minimum: int):  # type: ignore[no-untyped-def]
        return None


def test_without_the_ledger_the_attacker_recovers_the_extra_baseline() -> None:
    # Baseline 4 people, post and pairs 3: the 4th baseline is baseline sum - (post - change).
    people: People = [("c1", "A", 0, 0, 1 + n, 3, None) for n in range(3)]
    people.append(("c1", "A", 0, None, 5, 1, None))
    found = ratings_at(people, ("c1",), 0)
    attacker = Attacker()
    for row in growth_rows(growth.instrument_growth(INSTRUMENT, found, AdmitAll()), found):
        attacker.add(row)
    assert ("c1:p3", "baseline") in attacker.pinned()
    # With the views' own within-answer check the baseline over 4 is withheld instead.
    guarded = Attacker()
    for row in growth_rows(growth.instrument_growth(INSTRUMENT, found, Releases()), found):
        guarded.add(row)
    assert guarded.pinned() == set()
