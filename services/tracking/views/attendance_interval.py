"""The 95% interval of the virtual-minus-in-person attendance rate, and when to doubt it.

The rate of a delivery mode is attended (present or partial) over person-sessions recorded, in
the sessions shown (a session with records for fewer than the minimum is left out, as in the
totals). The difference of the two rates gets **Newcombe's hybrid score interval** (his method
10: the Wilson score intervals of each rate, combined), from
``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb", compare="diff")``.
Unlike the Wald interval it stays inside [-1, 1] and behaves near rates of 0 and 1, which
attendance often is.

It treats person-sessions as independent. They are not quite: the same people attend both modes,
and a session's circumstances (the day, a platform failure) move all its records together. With
few sessions in a mode the second effect dominates, so the answer warns when either mode has
fewer than :data:`FEW_SESSIONS` sessions: the interval then describes those sessions, not the
delivery mode. The interval is a function of the two modes' counts (``person_sessions`` and
``rate``), which are shown already, so it is shown wherever the difference is.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from statsmodels.stats.proportion import confint_proportions_2indep

from services.tracking.views.stats import CONFIDENCE

FEW_SESSIONS = 3
ATTENDED = ("present", "partial")


@lru_cache(maxsize=1024)
def newcombe(
    attended_a: int, total_a: int, attended_b: int, total_b: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of rate a - rate b (kept: statsmodels takes
    milliseconds a call, and a cohort's counts repeat across requests)."""
    low, high = confint_proportions_2indep(
        attended_a, total_a, attended_b, total_b,
        method="newcomb", compare="diff", alpha=1 - confidence,
    )  # fmt: skip
    return float(low), float(high)


def mode_interval(
    by_delivery: dict[str, dict[str, Any]], counted: list[tuple[str, dict[str, str]]]
) -> dict[str, Any]:
    """``virtual_minus_in_person_ci`` (low, high cells like the difference's) and a warning."""
    sessions = {
        mode: [taken for delivery, taken in counted if delivery == mode]
        for mode in ("virtual", "in_person")
    }
    few = [m for m, found in sessions.items() if len(found) < FEW_SESSIONS]
    warning = None
    if few:
        warning = (
            f"{' and '.join(few)}: fewer than {FEW_SESSIONS} sessions; the interval treats"
            " person-sessions as independent and describes these few sessions, not the mode"
        )
    virtual, in_person = by_delivery.get("virtual"), by_delivery.get("in_person")
    if not virtual or not in_person:
        blank = {"value": None, "n": None, "suppressed": False, "reason": "needs both modes"}
        return {"virtual_minus_in_person_ci": {"low": blank, "high": dict(blank)},
                "virtual_minus_in_person_warning": warning}  # fmt: skip
    rates = (virtual["rate"], in_person["rate"])
    if any(r["suppressed"] or r["value"] is None for r in rates):
        reason = next(r["reason"] for r in rates if r["suppressed"] or r["value"] is None)
        hidden = {"value": None, "n": None, "suppressed": True, "reason": reason}
        return {"virtual_minus_in_person_ci": {"low": hidden, "high": dict(hidden)},
                "virtual_minus_in_person_warning": warning}  # fmt: skip
    counts = []
    for mode in ("virtual", "in_person"):
        statuses = [s for taken in sessions[mode] for s in taken.values()]
        counts += [sum(s in ATTENDED for s in statuses), len(statuses)]
    low, high = newcombe(*counts)
    n = min(r["n"] for r in rates)
    return {
        "virtual_minus_in_person_ci": {
            "low": {"value": round(low, 4), "n": n, "suppressed": False, "reason": None},
            "high": {"value": round(high, 4), "n": n, "suppressed": False, "reason": None},
        },
        "virtual_minus_in_person_warning": warning,
    }
