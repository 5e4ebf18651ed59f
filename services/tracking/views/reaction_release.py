"""Which reaction figures may be shown, against the release ledger.

A reaction item's measure is its answers, in the family of its instrument; the population is
the responses (their event ids: a response names no one) that answered it. Free text is one
more measure over every response counted. Two answers over responses differing by 1 to
``minimum - 1`` (the same survey on two days, or a cohort beside the programme pooling it)
would give those responses' answers away, so the later figure is withheld. The L1 mean pools
the items shown: it is checked on each of them and withheld whole if any is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.tracking.views.ledger import Releases, suppress, withheld

if TYPE_CHECKING:
    from services.tracking.views.reaction import Pool

ITEM_FIGURES = ("n", "mean", "sd", "distribution")


def release_report(pool: Pool, report: dict[str, Any], releases: Releases, minimum: int) -> None:
    """Withholds each item of ``report`` (and the free text) the ledger refuses."""
    family = f"reaction:{pool.instrument_id}"
    for item in report["items"]:
        if item["n"]["suppressed"]:
            continue
        answering = pool.answering(item["key"])
        reason = releases.admit(family, [f"item|{item['key']}"], answering, minimum)
        if reason is not None:
            suppress(item, ITEM_FIGURES, reason)
    if report["comments_shown"]:
        reason = releases.admit(family, ["comments"], pool.responses, minimum)
        if reason is not None:
            report["comments_shown"] = False
            for question in report["comments"]:
                question["texts"], question["reason"] = None, reason


def release_mean(pools: list[Pool], minimum: int, releases: Releases) -> dict[str, Any] | None:
    """The L1 mean withheld, or None when every item it pools may be shown."""
    for pool in pools:
        for item in pool.definition.get("dimensions") or []:
            answering = pool.answering(item["key"])
            if len(answering) < minimum:
                continue
            family = f"reaction:{pool.instrument_id}"
            reason = releases.admit(family, [f"item|{item['key']}"], answering, minimum)
            if reason is not None:
                return withheld(reason)
    return None
