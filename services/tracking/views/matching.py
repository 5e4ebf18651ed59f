"""The matched comparison group of a cohort, and its balance table.

Beside "all colleagues who never took part" (:mod:`.comparison_group`), a cohort's mobility is
compared with colleagues like its participants. **Exact matching** on four attributes at the
cohort's start: the department of the placement on the start date, and the role, profession
category and education level (tracking holds these as registered, not dated). A missing
attribute matches only a missing one. The candidates are the cohort's comparison group (with
the view's filters, if any), each followed from the same origin as in that group.

**Several controls per participant**: up to :data:`RATIO` (3), without replacement. Within a
stratum (one combination of the four attributes) the participants are exchangeable, so the
candidates are dealt out in turns, one to each participant per round, for up to three rounds:
with fewer than three per participant, some get one more than others, never two more.
**Ties are broken deterministically** and independently of the order ids were issued in:
participants and candidates are ordered by SHA-256 of ``cohort id:person id``. A participant
with no candidate in their stratum is unmatched and left out of the matched participants.

The matched comparison stands beside the whole comparison group: the participants' side is the
same (every participant, matched or not), only the comparison group changes; showing a
separate "matched participants" group would differ from the participants by the few unmatched
and be withheld by the release ledger. The controls are unweighted: each counts once. The
balance table shows how close that comes: per attribute and category, the count and share
among the participants, the matched controls and the whole comparison group, and the standardised
difference of the shares (``(p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)``, participants
minus each group; 0.1 is the usual threshold of concern). A category with fewer than the minimum
participants is pooled into ``other``, so the table never names a small group. If ``other`` is
then below the minimum, the smallest category shown joins it too (complementary suppression):
a suppressed ``other`` could otherwise be worked out as the total minus the categories shown.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.tracking.views.privacy import cell

RATIO = 3
"""Controls per participant, at most."""
ATTRIBUTES = ("department", "role", "profession", "education")
OTHER = "other"

Strata = Mapping[str, tuple[str | None, ...]]
"""Person id -> their (department, role, profession, education) at the cohort's start."""


@dataclass(frozen=True)
class Matched:
    controls: dict[str, str]
    """Control -> the participant they were matched to."""
    matched: list[str]
    """Participants with at least one control."""
    unmatched: int


def _order(cohort_id: str, person_id: str) -> str:
    return hashlib.sha256(f"{cohort_id}:{person_id}".encode()).hexdigest()


def match(cohort_id: str, participants: Strata, candidates: Strata, ratio: int = RATIO) -> Matched:
    """Exact matching with up to ``ratio`` controls each, without replacement (see above)."""
    wanting: dict[tuple[str | None, ...], list[str]] = defaultdict(list)
    for person, stratum in participants.items():
        wanting[stratum].append(person)
    pool: dict[tuple[str | None, ...], list[str]] = defaultdict(list)
    for person, stratum in candidates.items():  # only the strata some participant is in
        if stratum in wanting and person not in participants:
            pool[stratum].append(person)
    controls: dict[str, str] = {}
    for stratum, people in wanting.items():
        people.sort(key=lambda p: _order(cohort_id, p))
        found = sorted(pool.get(stratum, []), key=lambda p: _order(cohort_id, p))
        for i, control in enumerate(found[: ratio * len(people)]):
            controls[control] = people[i % len(people)]
    matched = sorted(set(controls.values()))
    return Matched(controls, matched, len(participants) - len(matched))


def _smd(p1: float, p2: float) -> float | None:
    pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
    if pooled == 0:
        return None if p1 != p2 else 0.0
    return (p1 - p2) / math.sqrt(pooled)


def balance(
    participants: Strata, controls: Strata, everyone: Strata, minimum: int
) -> list[dict[str, Any]]:
    """One row per attribute and category (small ones pooled into ``other``)."""
    rows = []
    # Each group's people counted by stratum once: the comparison group is most of the
    # organisation, its distinct strata a few thousand at most.
    by_stratum = {
        "participants": Counter(participants.values()),
        "matched": Counter(controls.values()),
        "comparison": Counter(everyone.values()),
    }
    for i, attribute in enumerate(ATTRIBUTES):
        ours = Counter(s[i] for s in participants.values())
        large = {c for c, n in ours.items() if n >= minimum}
        small = sum(n for c, n in ours.items() if c not in large)
        if 0 < small < minimum and large:
            # A suppressed "other" would be the participants' total minus the categories shown:
            # the smallest category shown joins it, so "other" reaches the minimum.
            large.remove(min(large, key=lambda c: (ours[c], str(c))))

        def folded(counted: Counter[Any], index: int = i, keep: set[Any] = large) -> Counter[Any]:
            found: Counter[Any] = Counter()
            for stratum, n in counted.items():
                found[stratum[index] if stratum[index] in keep else OTHER] += n
            return found

        groups = {g: folded(counted) for g, counted in by_stratum.items()}
        sizes = {g: len(s) for g, s in (("participants", participants), ("matched", controls),
                                        ("comparison", everyone))}  # fmt: skip
        categories = sorted(large, key=str) + ([OTHER] if groups["participants"][OTHER] else [])
        for category in categories:
            count = groups["participants"][category]
            row: dict[str, Any] = {"attribute": attribute, "category": category}
            shares = {}
            for g, counts in groups.items():
                share = counts[category] / sizes[g] if sizes[g] else None
                shares[g] = share
                row[g] = {
                    "count": cell(counts[category], count, minimum),
                    "share": cell(None if share is None else round(share, 4), count, minimum),
                }
            for g in ("matched", "comparison"):
                smd, mine, theirs = None, shares["participants"], shares[g]
                if mine is not None and theirs is not None:
                    smd = _smd(mine, theirs)
                row[f"smd_{g}"] = cell(None if smd is None else round(smd, 4), count, minimum)
            rows.append(row)
    return rows


def strata_of(
    people: list[str], departments: Mapping[str, str | None], known: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[str | None, ...]]:
    """Each person's (department at the start, role, profession, education)."""
    return {
        p: (
            departments.get(p),
            known.get(p, {}).get("role"),
            known.get(p, {}).get("profession"),
            known.get(p, {}).get("education"),
        )
        for p in people
    }
