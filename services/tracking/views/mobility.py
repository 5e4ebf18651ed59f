"""Mobility after a programme: first career moves, rotation and retention, against non-participants.

Each person is followed from an origin ``t0``, their cohort's end date, to the view date ``D``.
A person's first move is their earliest career move starting after ``t0`` and by ``D`` (any
kind; separately, the first job rotation); its time is the days since ``t0``. Who has not moved
by ``D`` is censored there. Leaving the state is followed the same way for retention (any other
move is not an exit: those people stay followed to ``D``).

The comparison group is everyone placed in the programme's organisation on ``t0`` (and not
gone from the state by then) who was never enrolled in any cohort, followed over the same
window, narrowed by the optional filters (department on ``t0``, profession, role). Filters
whose group differs from the group with fewer of them by 1 to ``minimum - 1`` people are
refused. A group whose people differ that little from a group released before, by anyone, for
any cohort of the organisation, has its outcomes withheld
(:mod:`services.tracking.views.mobility_release`). The placement someone was registered with
counts from the beginning: tracking knows no hiring date. Several cohorts can be pooled (a
programme): each participant's origin is their own cohort's end (the first, if in several); a
comparison person's is the end of the first cohort they qualify for.

The outcomes of each group are defined in :mod:`services.tracking.views.mobility_outcomes`.
"Within N months" means within N calendar months of ``t0``. The Kaplan-Meier figures use one
day count per horizon, from the earliest origin in the group (for one cohort: exactly ``t0`` + N
months); the observed shares count each person's own N months, and are given only once
everyone's N months have passed by ``D``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, cast

from services.tracking.views import memo as memos
from services.tracking.views import mobility_delta as delta
from services.tracking.views.cohorts import (
    CohortFacts,
    attributes,
    cohort,
    ever_enrolled,
    participants,
)
from services.tracking.views.comparison_group import Joined, folded
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.mobility_compare import compare
from services.tracking.views.mobility_matched import header, matching
from services.tracking.views.mobility_outcomes import (
    HORIZONS,
    STATS,
    Move,
    group_figures,
    moves_between,
)
from services.tracking.views.mobility_release import followed_from, release
from services.tracking.views.privacy import Policy, check_narrowing
from services.tracking.views.survival import horizon_days
from shared.sql import Cursor

FILTERS = ("department", "profession", "role")

Origins = dict[str, dt.date]
"""Person id -> the day they are followed from."""


@dataclass(frozen=True)
class Groups:
    """Who is compared: participants, the unfiltered comparison group, and the filtered one."""

    participants: Origins
    base: Origins
    comparison: Origins
    filters: dict[str, str]
    traits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per member of ``base``: what the filters match (department on t0, profession, role)."""
    organisation: str = ""
    """The programme's organisation: the release ledger's family for these figures."""
    key: Hashable = None
    """What names the comparison group while its tables hold: the end days with their
    organisations, and the filters (None: not kept)."""

    @property
    def end_days(self) -> frozenset[str]:
        """The end days a named group's members are followed from (none if not named)."""
        if self.key is None:
            return frozenset()
        ends = cast(tuple[tuple[tuple[str, Any], ...], Any], self.key)[0]
        return frozenset(day for day, _ in ends)

    def matching(self, filters: Mapping[str, Any]) -> set[str]:
        """The members of ``base`` that ``filters`` keep."""
        return {
            p
            for p in self.base
            if all(self.traits.get(p, {}).get(k) == v for k, v in filters.items())
        }


def groups(
    cur: Cursor,
    cohort_ids: list[str],
    filters: Mapping[str, str | None],
    memo: Memo | None = None,
) -> Groups:
    """The participants and comparison group of the cohorts (unknown cohorts raise 404).

    The organisation-wide parts (who qualifies on each end date, and their attributes) are
    kept in ``memo`` between requests while the facts behind them hold (:mod:`.memo`), and
    so is the whole answer for several cohorts (a programme's, the organisation's).
    """
    chosen = {k: v for k, v in filters.items() if k in FILTERS and v is not None}
    if len(cohort_ids) < 2:
        return _groups(cur, cohort_ids, chosen, memo)
    return memos.get(
        memo,
        cur,
        ("pooled groups", tuple(cohort_ids), tuple(sorted(chosen.items()))),
        partial(_groups, cur, cohort_ids, chosen, memo),
        (*COMPARED, "tr_cohorts", "tr_programmes"),
    )


def _groups(
    cur: Cursor, cohort_ids: list[str], chosen: dict[str, str], memo: Memo | None
) -> Groups:
    facts = _in_end_order(cur, cohort_ids)
    taking_part = _taking_part(cur, facts)
    organisations: list[str] = []
    ends: list[tuple[str, str | None]] = []
    for f in facts:
        cur.execute(
            "SELECT organisation FROM tr_programmes WHERE programme_id = ?", (f.programme_id,)
        )
        row = cur.fetchone()
        organisation = None if row is None else row[0]
        organisations.append(str(organisation).strip().casefold())
        ends.append((f.end_date, organisation))
    key = (tuple((day, folded(o)) for day, o in ends), tuple(sorted(chosen.items())))
    base, traits, comparison = memos.get(
        memo,
        cur,
        ("groups", key),
        partial(_compared, cur, ends, chosen, memo),
        COMPARED,
        partial(_compared_update, cur, ends, chosen, memo),
    )
    family = "|".join(sorted(set(organisations)))
    return Groups(taking_part, base, comparison, chosen, traits, family, key)


COMPARED = ("tr_placements", "tr_moves", "tr_participation", "tr_people")
"""What a comparison group is read from: placements, departures, the enrolled, attributes."""


def _compared(
    cur: Cursor, ends: list[tuple[str, str | None]], chosen: dict[str, str], memo: Memo | None
) -> tuple[Origins, Mapping[str, Mapping[str, Any]], Origins]:
    """The unfiltered comparison group, its members' traits, and the group ``chosen`` keeps."""
    joined = comparison_group(cur, ends, memo)
    base: Origins = {p: dt.date.fromisoformat(day) for p, (day, _) in joined.items()}
    known = known_attributes(cur, memo) if base else {}
    traits = {
        p: {**known.get(p, {}), "department": placed_in} for p, (_, placed_in) in joined.items()
    }
    found = Groups({}, base, {}, chosen, traits)
    kept = found.matching(chosen) if chosen else base.keys()
    return base, traits, {p: t0 for p, t0 in base.items() if p in kept}


def _compared_update(
    cur: Cursor,
    ends: list[tuple[str, str | None]],
    chosen: dict[str, str],
    memo: Memo | None,
    old: delta.Compared,
    changed: frozenset[str],
) -> delta.Compared:
    joined = comparison_group(cur, ends, memo)
    known = known_attributes(cur, memo) if joined else {}
    return delta.compared_update(joined, known, chosen, old, changed)


def known_attributes(cur: Cursor, memo: Memo | None) -> Mapping[str, Mapping[str, Any]]:
    """Everyone's attributes (:func:`.cohorts.attributes`), kept."""
    return memos.get(
        memo,
        cur,
        ("attributes",),
        partial(attributes, cur),
        ("tr_people",),
        partial(delta.attributes_update, cur),
    )


def comparison_group(
    cur: Cursor, ends: list[tuple[str, str | None]], memo: Memo | None = None
) -> Joined:
    """The comparison group of cohorts ending on ``ends`` (:func:`.comparison_over`), kept.

    Who qualifies by their placements and departures is kept apart from who was ever enrolled,
    so a new invitation or enrolment reads only the enrolled again, not every placement.
    """
    days = tuple((day, folded(o)) for day, o in ends)
    placed = memos.get(
        memo,
        cur,
        ("placed", days),
        partial(delta.placed, cur, ends),
        ("tr_placements", "tr_moves"),
        partial(delta.placed_update, cur, ends),
    )

    def not_enrolled() -> Joined:
        enrolled = ever_enrolled(cur)
        return {p: joined for p, joined in placed.joined.items() if p not in enrolled}

    return memos.get(
        memo,
        cur,
        ("comparison", days),
        not_enrolled,
        ("tr_placements", "tr_moves", "tr_participation"),
        partial(delta.not_enrolled_update, placed, cur),
    )


def _in_end_order(cur: Cursor, cohort_ids: list[str]) -> list[CohortFacts]:
    return sorted((cohort(cur, c) for c in cohort_ids), key=lambda f: (f.end_date, f.cohort_id))


def _taking_part(cur: Cursor, facts: list[CohortFacts]) -> Origins:
    """Each participant from the end of their first cohort of ``facts`` (in end order)."""
    taking_part: Origins = {}
    for f in facts:
        for person_id in participants(cur, f.cohort_id):
            taking_part.setdefault(person_id, dt.date.fromisoformat(f.end_date))
    return taking_part


def _minus(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Participants' figure minus the comparison group's, when both are shown."""
    for side, one in (("participants", a), ("comparison group", b)):
        if one["suppressed"]:
            return {**one, "reason": f"{side}: {one['reason']}"}
    for side, one in (("participants", a), ("comparison group", b)):
        if one["value"] is None:
            return {**one, "n": None, "reason": f"{side}: {one['reason']}"}
    value = round(a["value"] - b["value"], 4)
    return {"value": value, "n": min(a["n"], b["n"]), "suppressed": False, "reason": None}


def figures(
    cur: Cursor,
    chosen: Groups,
    minimum: int,
    view_day: dt.date,
    releases: Releases | None = None,
    memo: Memo | None = None,
    ours: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Participants, comparison group, and participants minus comparison.

    Each group's figures are checked against the release ledger (and each other) before the
    difference is taken: see :func:`~.mobility_release.release`. The participants' moves are
    read for them alone (or ``ours``, their figures already computed, is used); the comparison
    group's figures, which cost as much as the organisation, are kept in ``memo`` per group,
    view date and minimum (:mod:`.memo`).
    """
    releases = releases or Releases()
    own = ours is None
    our_followed = None
    if ours is None:
        ours, our_followed = _participant_figures(cur, chosen.participants, minimum, view_day, memo)
    named = chosen.key if chosen.key is not None else frozenset(chosen.comparison.items())
    key = ("comparison figures", named, view_day, minimum)
    kept = memos.get(
        memo,
        cur,
        key,
        partial(_comparison_figures, cur, chosen, minimum, view_day, memo),
        COMPARED,
    )
    theirs = memos.unshared(kept)  # the ledger may withhold a kept answer's cells in place
    release(
        chosen.organisation, chosen.participants, view_day, ours, releases, minimum, our_followed
    )
    followed = memos.get(
        memo,
        cur,
        ("followed", named, view_day),
        partial(followed_from, chosen.comparison, view_day),
        COMPARED,
        None
        if chosen.key is None
        else partial(
            delta.followed_update,
            chosen.comparison,
            chosen.end_days,
            view_day,
        ),
    )
    release(chosen.organisation, chosen.comparison, view_day, theirs, releases, minimum, followed)
    difference = {
        kind: {
            m: _minus(ours[kind]["incidence"][m], theirs[kind]["incidence"][m])
            for m in ours[kind]["incidence"]
        }
        for kind in ("first_move", "first_rotation")
    }
    difference["retention"] = {
        m: _minus(ours["retention"]["estimated"][m], theirs["retention"]["estimated"][m])
        for m in ours["retention"]["estimated"]
    }
    compared = compare(ours, theirs, difference, minimum)
    theirs.pop(STATS)
    if own:
        ours.pop(STATS)  # else the caller's, who may compare it again
    return {"participants": ours, "comparison": theirs, "difference": difference, **compared}


READ_ALL_FROM = 5_000
"""People from whom every move of the window is read in one query and theirs picked out, rather
than a query per 500 of them: a comparison group is most of an organisation."""


def _moves(cur: Cursor, origins: Origins, view_day: dt.date) -> dict[str, list[Move]]:
    """The moves of the people of ``origins`` after the earliest origin, by ``view_day``."""
    since = min(origins.values(), default=view_day)
    if since >= view_day:
        return {}
    if len(origins) < READ_ALL_FROM:
        return moves_between(cur, since, view_day, origins)
    found = moves_between(cur, since, view_day)
    return {person: moves for person, moves in found.items() if person in origins}


KEPT_FROM = 500
"""Participants from which their figures are kept (a programme's, the organisation's): a
cohort's are computed at once, and keeping them would push organisation-wide answers out."""


def _participant_figures(
    cur: Cursor, origins: Origins, minimum: int, view_day: dt.date, memo: Memo | None
) -> tuple[dict[str, Any], frozenset[str]]:
    """The participants' figures and followed population; many participants' are kept."""

    def compute() -> tuple[dict[str, Any], frozenset[str]]:
        found = group_figures(origins, _moves(cur, origins, view_day), view_day, minimum)
        return found, followed_from(origins, view_day)

    if len(origins) < KEPT_FROM:
        return compute()
    key = ("participant figures", frozenset(origins.items()), view_day, minimum)
    found, followed = memos.get(memo, cur, key, compute, ("tr_moves",))
    return memos.unshared(found), followed


def pooled_participants(
    cur: Cursor, chosen: Groups, cohort_ids: list[str], minimum: int, memo: Memo | None = None
) -> tuple[Groups, list[str]]:
    """``chosen`` with only the cohorts of at least ``minimum`` participants pooled (the
    pooled figure less the other cohorts' would describe a smaller cohort's people), and
    those cohorts."""

    def compute() -> tuple[Origins | None, list[str]]:
        pooled = [c for c in cohort_ids if len(participants(cur, c)) >= minimum]
        if len(pooled) == len(cohort_ids):
            return None, pooled
        return _taking_part(cur, _in_end_order(cur, pooled)), pooled

    key = ("pooled participants", tuple(cohort_ids), minimum)
    found = (
        compute()
        if len(cohort_ids) < 2
        else memos.get(memo, cur, key, compute, ("tr_cohorts", "tr_participation"))
    )
    origins, pooled = found
    return (chosen if origins is None else replace(chosen, participants=origins)), pooled


def _comparison_figures(
    cur: Cursor, chosen: Groups, minimum: int, view_day: dt.date, memo: Memo | None = None
) -> dict[str, Any]:
    """The comparison group's figures; a named group's moves are kept per view date, and
    brought up to date for the people an event changed (:mod:`.mobility_delta`)."""
    comparison = chosen.comparison
    if chosen.key is None:  # matched controls: their figures are kept whole
        return group_figures(comparison, _moves(cur, comparison, view_day), view_day, minimum)
    read = partial(_moves, cur)
    moves = memos.get(
        memo,
        cur,
        ("comparison moves", chosen.key, view_day),
        partial(delta.window, read, comparison, view_day),
        COMPARED,
        partial(delta.window_update, cur, read, comparison, view_day),
    ).moves
    return group_figures(comparison, moves, view_day, minimum)


def cohort_mobility(
    cur: Cursor,
    cohort_id: str,
    chosen: Groups,
    minimum: int,
    view_day: dt.date,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """The mobility view of one cohort for ``chosen`` (see :func:`groups`).

    Refuses filters whose comparison group differs by 1 to ``minimum - 1`` people from the
    group with fewer of the filters (see :func:`~.privacy.check_narrowing`).
    """
    check_narrowing(chosen.filters, chosen.matching, minimum)
    facts = cohort(cur, cohort_id)
    origin = dt.date.fromisoformat(facts.end_date)
    ours = group_figures(
        chosen.participants, _moves(cur, chosen.participants, view_day), view_day, minimum
    )
    found = figures(cur, chosen, minimum, view_day, releases, memo, ours)
    pairs = matching(
        cur,
        facts,
        list(chosen.participants),
        list(chosen.comparison),
        chosen.filters,
        minimum,
        memo,
    )
    controls = {c: chosen.comparison[c] for c in sorted(pairs.found.controls)}
    alike = figures(
        cur, replace(chosen, comparison=controls, key=None), minimum, view_day, releases, memo, ours
    )
    alike.pop("participants")  # the same as above: every participant, matched or not
    ours.pop(STATS)
    return {
        **facts.header(),
        "origin": facts.end_date,
        "view_date": view_day.isoformat(),
        "horizon_days": {str(m): horizon_days(origin, m) for m in HORIZONS},
        "filters": chosen.filters,
        **found,
        "matched": {
            **header(pairs.found, len(chosen.participants), minimum),
            "balance": pairs.table,
            **alike,
        },
    }


def mobility_summary(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    view_day: dt.date,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """Kirkpatrick L4: rotation within and retention at 24 months, against the comparison group.

    The comparison group is unfiltered; the cohorts are pooled, each person from their own
    cohort's end. A cohort with fewer participants than the minimum is left out of the pooled
    participants: the programme's figure less the other cohorts' would describe its people.
    """
    chosen, _ = pooled_participants(
        cur, groups(cur, cohort_ids, {}, memo), cohort_ids, policy.minimum, memo
    )
    result = figures(cur, chosen, policy.minimum, view_day, releases, memo)
    ours, theirs = result["participants"], result["comparison"]
    return {
        "people": {"participants": ours["people"], "comparison": theirs["people"]},
        "rotation_24_months": {
            "participants": ours["first_rotation"]["incidence"]["24"],
            "comparison": theirs["first_rotation"]["incidence"]["24"],
            "difference": result["difference"]["first_rotation"]["24"],
        },
        "retention_24_months": {
            "participants": ours["retention"]["estimated"]["24"],
            "comparison": theirs["retention"]["estimated"]["24"],
            "difference": result["difference"]["retention"]["24"],
        },
    }


CSV_COLUMNS = [
    "group", "kind", "days", "months", "survival", "ci_low", "ci_high", "at_risk", "events",
]  # fmt: skip


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per Kaplan-Meier point, participants then comparison, any move then rotation."""
    rows = []
    for group in ("participants", "comparison"):
        for kind in ("first_move", "first_rotation"):
            for point in view[group][kind]["curve"]["value"] or []:
                rows.append([group, kind, *(point[c] for c in CSV_COLUMNS[2:])])
    return CSV_COLUMNS, rows
