"""Growth per cohort (or pooled cohorts), instrument, dimension, rater group and wave.

The population is the cohorts' participants (not withdrawn) with non-voided results of
behaviour and self-assessments recorded for those cohorts. For every instrument x dimension x
rater group x wave it gives n (people), mean, SD and the mean's 95% t-interval of the people's
rater-group values (:mod:`services.tracking.views.ratings`), and for baseline -> post and
baseline -> each follow-up the paired change (:func:`services.tracking.views.stats.paired_change`).
Every figure is a privacy cell, suppressed below the instrument's minimum group size; pooling
cohorts, a cohort with fewer people than that in a cell is left out of it. A cell whose people
differ by 1 to ``minimum - 1`` from those of another cell on the same wave values, in this
answer or released before by anyone, is withheld (secondary suppression,
:mod:`services.tracking.views.growth_release`).

``improvement`` is the mean difference with its sign flipped on reverse-scored dimensions, so
a positive improvement always means better; the other change figures (mean difference, its
interval, d_z, g_av) keep the raw direction, later minus baseline on the instrument's scale.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import fmean
from typing import Any

from services.tracking.views import memo as memos
from services.tracking.views.growth_parts import pooled_planned
from services.tracking.views.growth_plan import Planned, planned_values
from services.tracking.views.growth_population import Population
from services.tracking.views.growth_population import population as population
from services.tracking.views.growth_rated import Rated
from services.tracking.views.growth_release import Wanted, release
from services.tracking.views.headline import adjust, headline
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell
from services.tracking.views.ratings import (
    POST,
    Instrument,
    Rating,
    group_values,
)
from services.tracking.views.stats import rounded
from shared.sql import Cursor

GROWTH_TABLES = ("tr_cohorts", "tr_participation", "tr_instruments", "tr_results")
"""What a growth answer of whole cohorts is read from (:func:`population` without a
department)."""


def growth(
    pop: Population, instrument_id: str | None = None, releases: Releases | None = None
) -> dict[str, Any]:
    """Wave figures, paired changes and the summary per instrument of ``pop``.

    ``releases`` checks every cell against the release ledger; without it, only against the
    answer's other cells.
    """
    return released(planned(pop, instrument_id), releases or Releases())


def kept_growth(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """:func:`growth` of the cohorts' whole population, its figures kept in ``memo`` while
    the facts behind them hold (:mod:`.memo`), planned from the cohorts' parts kept apart
    (:mod:`.growth_parts`); the ledger is checked every time."""
    kept = memos.get(
        memo,
        cur,
        ("growth", tuple(cohort_ids), policy),
        lambda: pooled_planned(cur, cohort_ids, policy, memo),
        GROWTH_TABLES,
    )
    return released(kept, releases or Releases())


def planned(pop: Population, instrument_id: str | None = None) -> Planned:
    used = {r.instrument_id for r in pop.ratings} | ({instrument_id} if instrument_id else set())
    instruments = sorted(
        (i for i in pop.instruments.values() if i.instrument_id in used),
        key=lambda i: (i.name, i.instrument_id),
    )
    people = len(pop.members)
    answers, wanted, inputs = [], {}, {}
    for i in instruments:
        answer, wanted[i.instrument_id], inputs[i.instrument_id] = planned_instrument(
            i, pop.ratings
        )
        answers.append(answer)
    return Planned(
        {
            "people": cell(people, people, pop.minimum),
            "minimum": pop.minimum,
            "instruments": answers,
        },
        wanted,
        inputs,
    )


def released(kept: Planned, releases: Releases) -> dict[str, Any]:
    """A copy of a planned answer, its cells checked in order against ``releases``, with each
    instrument's summary over the changes shown, its headline per rater group (each checked
    against the ledger too) and how many intervals the answer shows."""
    answer = memos.unshared(kept.answer)
    for instrument in answer["instruments"]:
        k = instrument["minimum"]
        instrument_id = instrument["instrument_id"]
        release(instrument_id, instrument, kept.wanted[instrument_id], releases, k)
        changes, groups = instrument["changes"], instrument["rater_groups"]
        instrument["summary"] = _summary(changes, groups, k)
        rated, turned = kept.headline_inputs[instrument_id]
        post_pairs = {}  # each dimension and group's shown pairs to post, as planned
        for want in kept.wanted[instrument_id]:
            row = instrument[want.rows][want.index]
            if want.rows == "changes" and row["to"] == POST:
                post_pairs[row["dimension"], row["rater_group"]] = want.units
        instrument["headline"] = {
            group: headline(
                instrument_id,
                rated.counted,
                turned,
                changes,
                group,
                releases,
                k,
                improved=rated.improvements,
                keep=rated.kept,
                post_pairs=post_pairs,
            )
            for group in groups
        }
    answer["multiplicity"] = adjust(answer["instruments"])
    return answer


def growth_summary(
    cur: Cursor,
    cohort_ids: list[str],
    policy: Policy,
    releases: Releases | None = None,
    memo: Memo | None = None,
) -> dict[str, Any]:
    """Per instrument and rater group, the mean improvement baseline -> post over dimensions.

    Pools ``cohort_ids`` (a programme's cohorts). For the Kirkpatrick levels: the self group
    is self-assessed growth (L2), the other groups' behaviour change (L3).
    """
    view = kept_growth(cur, cohort_ids, policy, releases, memo)
    return {
        "cohort_ids": list(cohort_ids),
        "people": view["people"],
        "instruments": [
            {key: i[key] for key in ("instrument_id", "name", "kind", "minimum", "summary")}
            for i in view["instruments"]
        ],
    }


def instrument_growth(
    instrument: Instrument, found: Iterable[Rating], releases: Releases
) -> dict[str, Any]:
    """One instrument's answer, its cells checked against ``releases``."""
    answer, wanted, inputs = planned_instrument(instrument, found)
    kept = Planned(
        {"instruments": [answer]},
        {instrument.instrument_id: wanted},
        {instrument.instrument_id: inputs},
    )
    return released(kept, releases)["instruments"][0]  # type: ignore[no-any-return]


def planned_instrument(
    instrument: Instrument, found: Iterable[Rating]
) -> tuple[dict[str, Any], list[Wanted], tuple[Rated, list[tuple[str, bool]]]]:
    """One instrument's answer before secondary suppression (no summary or headline yet), its
    cells in release order, and what its headlines are computed from."""
    return planned_values(instrument, group_values(instrument, found))


def _summary(changes: list[dict[str, Any]], groups: list[str], k: int) -> dict[str, Any]:
    """Per rater group, the mean ``improvement`` baseline -> post over the dimensions shown."""
    summary = {}
    for group in groups:
        rows = [c for c in changes if c["rater_group"] == group and c["to"] == POST]
        shown = [c for c in rows if c["improvement"]["value"] is not None]
        if not shown:
            reason = next((c["improvement"]["reason"] for c in rows), None)
            summary[group] = {
                "value": None,
                "n": None,
                "suppressed": any(c["improvement"]["suppressed"] for c in rows) or not rows,
                "reason": reason or "no baseline and post pairs",
            }
            continue
        n = min(c["pairs"]["value"] for c in shown)
        figure = cell(rounded(fmean(c["improvement"]["value"] for c in shown)), n, k)
        if len(shown) < len(rows):
            figure["reason"] = f"over {len(shown)} of {len(rows)} dimensions; the rest suppressed"
        summary[group] = figure
    return summary


# CSV -------------------------------------------------------------------------------------------

COHORT_COLUMNS = [
    "row", "instrument_id", "instrument", "dimension", "dimension_label", "reverse_scored",
    "rater_group", "wave",
    "from", "to", "n", "mean", "sd", "ci_low", "ci_high", "mean_difference", "sd_difference",
    "d_z", "g_av", "improvement", "suppressed",
]  # fmt: skip


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per instrument x dimension x rater group x wave, then one per paired change."""
    rows: list[list[Any]] = []
    for i in view["instruments"]:
        reverse = {d["key"]: d["reverse_scored"] for d in i["dimensions"]}
        for c in i["cells"]:
            figures = {k: c[k]["value"] for k in ("n", "mean", "sd", "ci_low", "ci_high")}
            rows.append(_csv_row("wave", i, reverse, c, {**figures, "wave": c["wave"]}, c["n"]))
        for c in i["changes"]:
            names = ("mean_difference", "sd_difference", "ci_low", "ci_high", "d_z", "g_av")
            figures = {k: c[k]["value"] for k in (*names, "improvement")}
            figures.update({"n": c["pairs"]["value"], "from": c["from"], "to": c["to"]})
            rows.append(_csv_row("change", i, reverse, c, figures, c["pairs"]))
    return COHORT_COLUMNS, rows


def _csv_row(
    kind: str,
    instrument: dict[str, Any],
    reverse: dict[str, bool],
    row: dict[str, Any],
    figures: dict[str, Any],
    size: dict[str, Any],
) -> list[Any]:
    fixed = {
        "row": kind,
        "instrument_id": instrument["instrument_id"],
        "instrument": instrument["name"],
        "dimension": row["dimension"],
        "dimension_label": next(
            (d.get("label") for d in instrument["dimensions"] if d["key"] == row["dimension"]),
            None,
        ),
        "reverse_scored": reverse.get(row["dimension"], False),
        "rater_group": row["rater_group"],
        "suppressed": size["suppressed"],
    }
    merged = {**fixed, **figures}
    return [merged.get(column) for column in COHORT_COLUMNS]
