"""Participants against a comparison group: the difference's 95% interval and the log-rank test.

Both are shown only where both groups' own figures are: a group withheld by primary or
secondary suppression (:mod:`.mobility_release`) withholds them too, so they pass through the
same rules as the figures they are computed from.

* The difference at 6, 12 and 24 months (incidence of a first move and a first rotation,
  retention) gets ``difference +- 1.96 * sqrt(var_p + var_c)`` from the two groups' Greenwood
  variances at the horizon (:mod:`.mobility_stats`), where both estimates are shown and both
  variances are defined.
* The log-rank test (``scipy.stats.logrank``, two-sided) compares the two groups' whole
  follow-up to the view date, on times coarsened to whole months since each person's origin:
  of a first move, a first rotation and leaving the state. ``statistic`` is SciPy's signed
  z-statistic (positive: the participants have the event sooner than expected).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from scipy import stats

from services.tracking.views.mobility_outcomes import HORIZONS, RETENTION_HORIZONS, STATS
from services.tracking.views.mobility_stats import normal_interval

KINDS = {"first_move": "first_move", "first_rotation": "first_rotation", "retention": "left_state"}
"""The difference's outcome -> the observations its variance is of."""


def _blank(reason: str, suppressed: bool = False) -> dict[str, Any]:
    return {"value": None, "n": None, "suppressed": suppressed, "reason": reason}


def _estimates(group: dict[str, Any], kind: str) -> dict[str, Any]:
    return group[kind]["estimated" if kind == "retention" else "incidence"]  # type: ignore[no-any-return]


def compare(
    ours: dict[str, Any],
    theirs: dict[str, Any],
    difference: dict[str, dict[str, Any]],
    minimum: int,
) -> dict[str, Any]:
    """``difference_interval`` and ``logrank`` from the groups' hidden statistics."""
    mine, other = ours[STATS], theirs[STATS]
    interval: dict[str, Any] = {}
    for kind, observed in KINDS.items():
        horizons = RETENTION_HORIZONS if kind == "retention" else HORIZONS
        interval[kind] = {}
        for m in (str(h) for h in horizons):
            shown = difference[kind][m]
            if shown["value"] is None:
                cells = _blank(shown["reason"], shown["suppressed"])
                interval[kind][m] = {"ci_low": cells, "ci_high": dict(cells)}
                continue
            v_p, v_c = mine["variances"][observed][m], other["variances"][observed][m]
            if v_p is None or v_c is None:
                cells = _blank("Greenwood's variance is undefined: everyone at risk moved")
                interval[kind][m] = {"ci_low": cells, "ci_high": dict(cells)}
                continue
            if v_p + v_c == 0:
                cells = _blank("no one in either group had the event by then: no variance")
                interval[kind][m] = {"ci_low": cells, "ci_high": dict(cells)}
                continue
            low, high = normal_interval(shown["value"], v_p + v_c)
            interval[kind][m] = {
                "ci_low": {**shown, "value": round(low, 4)},
                "ci_high": {**shown, "value": round(high, 4)},
            }
    return {
        "difference_interval": interval,
        "logrank": {
            kind: _logrank(ours, theirs, mine, other, kind, minimum)
            for kind in ("first_move", "first_rotation", "left_state")
        },
    }


def _shown(group: dict[str, Any]) -> dict[str, Any] | None:
    """The cell that withholds the group's outcomes, or None when they are shown."""
    curve = group["first_move"]["curve"]
    if group["followed"]["suppressed"]:
        return group["followed"]  # type: ignore[no-any-return]
    if curve["suppressed"] and str(curve["reason"]).startswith("secondary"):
        return curve  # type: ignore[no-any-return]
    return None


def _logrank(
    ours: dict[str, Any],
    theirs: dict[str, Any],
    mine: dict[str, Any],
    other: dict[str, Any],
    kind: str,
    minimum: int,
) -> dict[str, Any]:
    for side, group in (("participants", ours), ("comparison group", theirs)):
        hidden = _shown(group)
        if hidden is not None:
            return {
                "statistic": _blank(f"{side}: {hidden['reason']}", True),
                "p_value": _blank(f"{side}: {hidden['reason']}", True),
            }
    a, b = mine["months"][kind], other["months"][kind]
    n = min(ours["followed"]["value"] or 0, theirs["followed"]["value"] or 0)
    if not any(e for _, e, _ in a) and not any(e for _, e, _ in b):
        none = {"value": None, "n": n, "suppressed": False, "reason": "no events in either group"}
        return {"statistic": none, "p_value": dict(none)}
    statistic, p_value = logrank(_key(a), _key(b))
    shown = {"n": n, "suppressed": False, "reason": None}
    return {
        "statistic": {"value": round(statistic, 4), **shown},
        "p_value": {"value": float(f"{p_value:.4g}"), **shown},
    }


Table = tuple[tuple[int, int, int], ...]


def _key(table: list[list[int]]) -> Table:
    return tuple((m, e, c) for m, e, c in table)


@lru_cache(maxsize=512)
def logrank(a: Table, b: Table) -> tuple[float, float]:
    """``scipy.stats.logrank`` of two month tables, kept: SciPy takes milliseconds a call,
    and the comparison group's table repeats across requests."""
    result = stats.logrank(_censored(a), _censored(b))
    return float(result.statistic), float(result.pvalue)


def _censored(table: Table) -> stats.CensoredData:
    events = [month for month, e, _ in table for _ in range(e)]
    censored = [month for month, _, c in table for _ in range(c)]
    return stats.CensoredData(uncensored=events, right=censored)
