"""The cohort list: every cohort tracking knows, filtered, a page at a time, with its headlines.

**Population.** The cohorts of the read models (at ``as_of``, ``on``), narrowed by programme, by
the calendar year they start in, by status (on ``on``: the status the cohort had then), by
funding source and by a text search over the cohort's and its programme's names (any case), in
start order. A coach sees only the cohorts they coach. ``funding_sources`` and ``years`` offer
the values the filters can take, over every cohort the caller may list.

**Size** is the number of people enrolled in the cohort (still enrolled or completed), a count
of people, never who they are: the figure the cohort's roster shows to the same roles.

**Headline figures** per cohort are the cohort funnel's own cells (:mod:`.funnel`), under its
rules: ``people`` (everyone invited, waitlisted or enrolled), ``enrolled``, ``completed`` and
``withdrawn``, the completion rate (completed / enrolled) and the overall attendance rate of the
held sessions with at least the minimum of records. Each is suppressed below the minimum
exactly as in the funnel, and being the same figure for the same population it releases nothing
the funnel does not, so it needs no entry in the release ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.tracking.views import funnel
from services.tracking.views.cohorts import CohortFacts
from services.tracking.views.privacy import Policy
from shared.sql import Cursor

STATUSES = ("planned", "open", "running", "completed", "cancelled")
HEADLINES = ("people", "enrolled", "completed", "withdrawn", "completion_rate", "attendance_rate")
CSV_COLUMNS = (
    "cohort_id", "programme_id", "programme", "name", "start_date", "end_date", "status",
    "funding_source", "capacity", "size", *HEADLINES,
)  # fmt: skip

_COLUMNS = "c.cohort_id, c.programme_id, c.name, c.capacity, c.start_date, c.end_date, c.status"


def matching(
    cur: Cursor,
    programme_id: str | None,
    year: int | None,
    status: str | None,
    funding_source: str | None = None,
    search: str | None = None,
) -> list[CohortFacts]:
    """The cohorts the filters pick, in start order."""
    where, params = [], []
    if programme_id is not None:
        where.append("c.programme_id = ?")
        params.append(programme_id)
    if year is not None:
        where.append("c.start_date >= ? AND c.start_date < ?")
        params += [f"{year:04d}-01-01", f"{year + 1:04d}-01-01"]
    if status is not None:
        where.append("c.status = ?")
        params.append(status)
    if funding_source is not None:
        where.append("c.funding_source = ?")
        params.append(funding_source)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    cur.execute(
        f"SELECT {_COLUMNS} FROM tr_cohorts c{clause} ORDER BY c.start_date, c.cohort_id",
        tuple(params),
    )
    found = [CohortFacts(*row) for row in cur.fetchall()]
    needle = (search or "").strip().casefold()
    if not needle:
        return found
    names = programme_names(cur, {c.programme_id for c in found})
    return [c for c in found if needle in f"{c.name} {names.get(c.programme_id, '')}".casefold()]


def facets(cur: Cursor, visible: Callable[[str], bool]) -> dict[str, list[Any]]:
    """The funding sources and start years of every cohort the caller may list."""
    cur.execute("SELECT cohort_id, funding_source, start_date FROM tr_cohorts")
    rows = [row for row in cur.fetchall() if visible(row[0])]
    return {
        "funding_sources": sorted({str(row[1]) for row in rows if row[1]}),
        "years": sorted({int(str(row[2])[:4]) for row in rows}),
    }


def _per_cohort(cur: Cursor, sql: str, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    cur.execute(sql.format(marks=marks), ids)
    return {str(row[0]): row[1] for row in cur.fetchall()}


def programme_names(cur: Cursor, ids: set[str]) -> dict[str, str]:
    """The names of the programmes ``ids`` (a page's: at most a page long)."""
    if not ids:
        return {}
    wanted = sorted(ids)
    marks = ", ".join("?" * len(wanted))
    cur.execute(
        f"SELECT programme_id, name FROM tr_programmes WHERE programme_id IN ({marks})", wanted
    )
    return {str(pid): str(name) for pid, name in cur.fetchall()}


def headlines(cur: Cursor, cohort_id: str, policy: Policy) -> dict[str, Any]:
    """The cohort's headline cells, taken from its funnel."""
    view = funnel.funnel(cur, cohort_id, policy, individual=False)
    stages = view["stages"]
    return {
        "people": view["people"],
        "enrolled": stages["enrolled"],
        "completed": stages["completed"],
        "withdrawn": stages["withdrawn"],
        "completion_rate": view["rates"]["completion"],
        "attendance_rate": view["attendance"]["overall"],
    }


def cohort_list(
    cur: Cursor,
    cohorts: list[CohortFacts],
    policy: Policy,
    after: int,
    limit: int,
    visible: Callable[[str], bool] = lambda _: True,
) -> dict[str, Any]:
    """One page of ``cohorts`` (those ``visible`` to the caller), each with its headlines."""
    shown = [c for c in cohorts if visible(c.cohort_id)]
    page = shown[after : after + limit]
    names = programme_names(cur, {c.programme_id for c in page})
    ids = [c.cohort_id for c in page]
    funding = _per_cohort(
        cur, "SELECT cohort_id, funding_source FROM tr_cohorts WHERE cohort_id IN ({marks})", ids
    )
    sizes = _per_cohort(
        cur,
        "SELECT cohort_id, COUNT(*) FROM tr_participation WHERE status IN ('enrolled',"
        " 'completed') AND cohort_id IN ({marks}) GROUP BY cohort_id",
        ids,
    )
    rows = [
        {
            **c.header(),
            "programme": names.get(c.programme_id),
            "funding_source": funding.get(c.cohort_id),
            "capacity": c.capacity,
            "size": int(sizes.get(c.cohort_id, 0)),
            **headlines(cur, c.cohort_id, policy),
        }
        for c in page
    ]
    more = len(shown) > after + limit
    return {
        "count": len(shown),
        "cohorts": rows,
        "next_after": after + limit if more else None,
        **facets(cur, visible),
    }


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per cohort of the page (the programme's and cohort's names beside their ids),
    each figure's value (empty: suppressed)."""
    rows = [
        [row[k]["value"] if k in HEADLINES else row[k] for k in CSV_COLUMNS]
        for row in view["cohorts"]
    ]
    return list(CSV_COLUMNS), rows
