"""The growth headline: per rater group, one change baseline -> post pooled over dimensions.

Each person's (cohort run's) **own mean improvement** is taken over the instrument's dimensions
whose change to post is shown, with reverse-scored dimensions turned so that positive always
means better: the mean of ``post - baseline`` (``baseline - post`` when reverse-scored) over the
dimensions the person has both waves on. The headline is the mean of those person means, with
the 95% t-interval and the two-sided one-sample t-test against 0 over the people, so the
interval reflects how much people differ, not how much dimensions do (a mean of the
dimensions' means would count every person once per dimension as if independent).

**Multiplicity.** Every headline shown in one answer (all instruments and rater groups) is one
family: ``p_value`` is the unadjusted p-value, ``p_holm`` the Holm-adjusted one (:func:`holm`,
equal to ``statsmodels.stats.multitest.multipletests(method="holm")``), and the answer states
how many intervals it shows. The intervals themselves are unadjusted 95%.

**Privacy.** A headline over fewer than the minimum is suppressed; pooling cohorts, a cohort with
fewer than the minimum people is left out. Its people are checked against every dimension's
change to post in the answer (a difference of 1 to ``minimum - 1`` people would give their
improvement away: the dimensions' sums less the headline's) and against the release ledger on
its own measure (``headline:<dimensions>|<rater group>|post``, family ``growth:<instrument>``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from scipy import stats as scipy_stats

from services.tracking.views.growth_release import Unit, shown_cohorts
from services.tracking.views.ledger import Population, Releases, differs_reason, withheld
from services.tracking.views.privacy import cell
from services.tracking.views.ratings import BASELINE, POST
from services.tracking.views.stats import CONFIDENCE, Description, describe, mean, rounded

Counted = dict[tuple[str, str, str], dict[Unit, float]]
"""(dimension, rater group, wave) -> each unit's counted value."""

Improved = Callable[[Sequence[tuple[str, bool]], str], dict[Unit, float]]
"""(dimensions, rater group) -> :func:`person_improvements` over them."""
Keep = Callable[[Hashable, Callable[[], Any]], Any]
"""Keeps a computation's answer under its key (:meth:`.growth_rated.Rated.kept`)."""

FIGURES = ("mean_improvement", "sd", "ci_low", "ci_high", "t", "p_value", "p_holm")


def person_improvements(
    counted: Counted, dimensions: Sequence[tuple[str, bool]], group: str
) -> dict[Unit, float]:
    """Each unit's mean improvement to post over ``dimensions`` ((key, reverse-scored)) it has
    both waves on."""
    gains: dict[Unit, list[float]] = {}
    for key, reverse in dimensions:
        before = counted.get((key, group, BASELINE), {})
        after = counted.get((key, group, POST), {})
        for unit in set(before) & set(after):
            change = after[unit] - before[unit]
            gains.setdefault(unit, []).append(-change if reverse else change)
    return {unit: mean(values) for unit, values in gains.items()}


def headline(
    instrument_id: str,
    counted: Counted,
    dimensions: Sequence[tuple[str, bool]],
    changes: list[dict[str, Any]],
    group: str,
    releases: Releases,
    k: int,
    post_pairs: Mapping[tuple[str, str], Population],
    improved: Improved | None = None,
    keep: Keep | None = None,
) -> dict[str, Any]:
    """The headline of one rater group, over the dimensions whose change to post is shown.

    ``improved`` gives :func:`person_improvements` of ``counted``, and ``keep`` keeps what is
    read from every unit (the people, their description, the differencing check) under the
    headline's dimensions, group and minimum (both kept by whoever keeps the counted values,
    :class:`~.growth_rated.Rated`, so an organisation's warm request reads none of them).
    ``post_pairs`` gives each (dimension, rater group)'s shown pairs to post as members
    (``cohort:person``), as the growth plan made them (its release populations)."""
    to_post = [c for c in changes if c["rater_group"] == group and c["to"] == POST]
    shown = {c["dimension"] for c in to_post if c["improvement"]["value"] is not None}
    used = [(key, reverse) for key, reverse in dimensions if key in shown]
    key = (tuple(used), tuple(sorted(shown)), group, k)

    def kept(name: str, compute: Callable[[], Any]) -> Any:
        return compute() if keep is None else keep((name, *key), compute)

    def people() -> tuple[dict[Unit, float], int, Description]:
        gains = (
            person_improvements(counted, used, group) if improved is None else improved(used, group)
        )
        units = shown_cohorts(gains, k)
        return units, len({person for _, person in units}), describe(list(units.values()))

    units, n, d = kept("people", people)
    out: dict[str, Any] = {
        "rater_group": group,
        "dimensions": [key for key, _ in used],
        "people": cell(n, n, k),
    }
    if not used:
        reason = "no dimension's change to post is shown" if to_post else "no baseline and post"
        return {**out, **{f: _blank(reason) for f in FIGURES}}
    t = p = None
    if d.sd is not None and d.sd > 0 and d.mean is not None:
        t = d.mean / (d.sd / n**0.5)
        p = float(2 * scipy_stats.t.sf(abs(t), n - 1))
    few = "needs at least 2 people"
    values = {
        "mean_improvement": d.mean,
        "sd": d.sd,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "t": t,
        "p_value": p,
        "p_holm": None,
    }
    reasons = {f: few for f in FIGURES} | {"mean_improvement": "no pairs"}
    if d.sd == 0:
        same = "the improvements do not vary (SD 0)"
        reasons |= {"t": same, "p_value": same, "p_holm": same}
    out |= {
        f: _cell(significant(v) if f.startswith("p_") else rounded(v), n, k, reasons[f])
        for f, v in values.items()
    }
    if n >= k:
        members = kept("members", lambda: [f"{cohort}:{person}" for cohort, person in units])
        differs = kept("differs", lambda: _differs(members, to_post, post_pairs, k))
        refused = differs or releases.admit(
            f"growth:{instrument_id}",
            [f"headline:{','.join(out['dimensions'])}|{group}|{POST}"],
            members,
            k,
        )
        if refused is not None:
            out |= {f: withheld(refused) for f in FIGURES}
    return out


def _differs(
    members: Iterable[str],
    to_post: list[dict[str, Any]],
    post_pairs: Mapping[tuple[str, str], Population],
    k: int,
) -> str | None:
    """A reason when the headline's members differ from a shown dimension's pairs to post
    (``post_pairs``, as members) by 1 to k-1."""
    mine = set(members)
    for c in to_post:
        if c["improvement"]["value"] is None:
            continue
        if 0 < len(mine ^ post_pairs[(c["dimension"], c["rater_group"])]) < k:
            return differs_reason(k)
    return None


def significant(value: float | None) -> float | None:
    """A p-value to 4 significant digits (a tiny one stays distinguishable from 0)."""
    return None if value is None else float(f"{value:.4g}")


def _blank(reason: str) -> dict[str, Any]:
    return {"value": None, "n": None, "suppressed": False, "reason": reason}


def _cell(value: float | None, n: int, k: int, reason: str) -> dict[str, Any]:
    if n < k:
        return cell(None, n, k)
    if value is None:
        return {"value": None, "n": n, "suppressed": False, "reason": reason}
    return cell(value, n, k)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: the i-th smallest of m p-values times (m - i), made
    non-decreasing in that order and capped at 1. The same values as
    ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (the tests compare the
    two), written out because that function runs a full ``gc.collect()`` on every Holm call:
    about 0.4 s in a serving process, for arithmetic on a handful of numbers."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def adjust(instruments: list[dict[str, Any]]) -> dict[str, Any]:
    """Fills ``p_holm`` of every headline shown in the answer; says how many there are."""
    tested = [
        h for i in instruments for h in i["headline"].values() if h["p_value"]["value"] is not None
    ]
    if tested:
        for h, adjusted in zip(tested, holm([h["p_value"]["value"] for h in tested]), strict=True):
            h["p_holm"] = {**h["p_value"], "value": significant(float(adjusted))}
    shown = sum(
        h["ci_low"]["value"] is not None for i in instruments for h in i["headline"].values()
    )
    return {
        "intervals": shown,
        "tests": len(tested),
        "method": "holm",
        "confidence": CONFIDENCE,
        "scope": "every headline change (instrument x rater group) shown in this answer",
    }
