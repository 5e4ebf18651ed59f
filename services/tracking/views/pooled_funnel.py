"""The funnel of several cohorts pooled: a programme's, or the whole organisation's, by year.

**Population.** The cohorts of the scope (one programme, or every cohort tracking knows), narrowed
by the optional ``year``: the cohorts that *start* in that calendar year. A person counts once per
cohort they were invited to, waitlisted in or enrolled in (as in the cohort funnel), so someone in
two cohorts counts twice.

**Figures.** Per stage, the sum over the pooled cohorts of the people who ever reached it
(``declined``, ``waitlisted`` and ``withdrawn`` and ``completed``: who is there now), and the rates
of those sums (acceptance = accepted / invited, decline = declined / invited, completion =
completed / enrolled, withdrawal = withdrawn / enrolled). Attendance pools the held sessions of
the pooled cohorts that have records for at least the minimum: attended (present or partial) over
every record, overall and per delivery mode, and virtual minus in person.

**Disclosure control.** Every pooled figure is a sum of figures the cohort funnel already shows
to these roles: a cohort with fewer people than the minimum is left out of the pool (and listed
as withheld, without its size), and a session with fewer records than the minimum is left out of
the attendance, exactly as the cohort funnel leaves it out of its totals. So no scope, year or
``as_of``, and no difference between two of them, describes anyone a cohort funnel does not:
the differencing rules hold for the year filter by construction, and these sums need no entry in
the release ledger. A pooled cell is still suppressed below the minimum (``n`` = the people
behind it).
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from services.tracking.views import memo as memos
from services.tracking.views.cohorts import CHUNK, CohortFacts
from services.tracking.views.funnel import RATES, STAGES, _difference, _mode, _rate, _ratio
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy, cell, figure
from shared.errors import NotFoundError
from shared.sql import Cursor

WITHHELD = "fewer people than the minimum: its cohort funnel is suppressed, so it is not pooled"

_COLUMNS = "cohort_id, programme_id, name, capacity, start_date, end_date, status"


class NothingRecorded(NotFoundError):
    """Tracking knew no one by ``as_of``: there was no organisation to describe yet."""


def check_recorded(cur: Cursor) -> None:
    """Raises :class:`NothingRecorded` when the cursor's timeframe knows no person at all."""
    cur.execute("SELECT 1 FROM tr_people LIMIT 1")
    if cur.fetchone() is None:
        raise NothingRecorded("tracking knew no one (by as_of): nothing to describe", field="as_of")


def scope_cohorts(cur: Cursor, programme_id: str | None, year: int | None) -> list[CohortFacts]:
    """The cohorts of the programme (or of the organisation when None), starting in ``year``."""
    where, params = [], []
    if programme_id is not None:
        where.append("programme_id = ?")
        params.append(programme_id)
    if year is not None:
        where.append("start_date >= ? AND start_date < ?")
        params += [f"{year:04d}-01-01", f"{year + 1:04d}-01-01"]
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    cur.execute(
        f"SELECT {_COLUMNS} FROM tr_cohorts{clause} ORDER BY start_date, cohort_id", tuple(params)
    )
    return [CohortFacts(*row) for row in cur.fetchall()]


def _in_chunks(cur: Cursor, sql: str, ids: list[str]) -> list[tuple[Any, ...]]:
    """``sql`` (with ``{ids}`` where the id list goes) over ``ids`` a chunk at a time."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        cur.execute(sql.format(ids=", ".join("?" * len(chunk))), tuple(chunk))
        rows += cur.fetchall()
    return rows


def _stage_counts(cur: Cursor, ids: list[str]) -> dict[str, list[int]]:
    """Per cohort: people, then the count at each of :data:`STAGES`."""
    rows = _in_chunks(
        cur,
        "SELECT cohort_id, COUNT(*), COUNT(invited_on), COUNT(accepted_on),"
        " SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END),"
        " COUNT(waitlisted_on), COUNT(enrolled_at),"
        " SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END)"
        " FROM tr_participation WHERE cohort_id IN ({ids}) GROUP BY cohort_id",
        ids,
    )
    return {str(r[0]): [int(v or 0) for v in r[1:]] for r in rows}


def _attendance(cur: Cursor, ids: list[str], minimum: int) -> dict[str, Any]:
    rows = _in_chunks(
        cur,
        "SELECT a.session_id, s.delivery, a.person_id, a.status FROM tr_attendance a"
        " JOIN tr_sessions s ON s.session_id = a.session_id AND s.cohort_id = a.cohort_id"
        " WHERE a.cohort_id IN ({ids}) AND s.status <> 'cancelled'",
        ids,
    )
    sessions: dict[str, dict[str, str]] = defaultdict(dict)
    delivery: dict[str, str] = {}
    for session_id, mode, person_id, status in rows:
        sessions[session_id][person_id] = status
        delivery[session_id] = mode
    counted = [(delivery[s], taken) for s, taken in sessions.items() if len(taken) >= minimum]
    by_delivery = {
        mode: _mode([taken for d, taken in counted if d == mode], minimum)
        for mode in sorted({d for d, _ in counted})
    }
    everyone = {p for _, taken in counted for p in taken}
    every_status = [s for _, taken in counted for s in taken.values()]
    return {
        "sessions": len(counted),
        "overall": _rate(every_status, len(everyone), minimum),
        "by_delivery": by_delivery,
        "virtual_minus_in_person": _difference(by_delivery),
    }


def _figures(counts: list[int], minimum: int) -> dict[str, Any]:
    total, *stages = counts
    by_stage = dict(zip(STAGES, stages, strict=True))
    return {
        "people": cell(total, total, minimum),
        "stages": {stage: cell(n, total, minimum) for stage, n in by_stage.items()},
        "rates": {
            name: figure(_ratio(by_stage[p], by_stage[w]), total, minimum, f"no one {w}")
            for name, (p, w) in RATES.items()
        },
    }


FUNNEL_TABLES = ("tr_cohorts", "tr_participation", "tr_sessions", "tr_attendance")
"""What a pooled funnel is read from."""


def pooled_funnel(
    cur: Cursor, cohorts: list[CohortFacts], policy: Policy, memo: Memo | None = None
) -> dict[str, Any]:
    """The pooled funnel of ``cohorts``, with each cohort's own row (see the module's note),
    kept in ``memo`` while the facts behind it hold (:mod:`.memo`)."""
    return memos.unshared(
        memos.get(
            memo,
            cur,
            ("pooled funnel", tuple(cohorts), policy.minimum),
            partial(_pooled_funnel, cur, cohorts, policy.minimum),
            FUNNEL_TABLES,
        )
    )


def _pooled_funnel(cur: Cursor, cohorts: list[CohortFacts], minimum: int) -> dict[str, Any]:
    counts = _stage_counts(cur, [c.cohort_id for c in cohorts])
    empty = [0] * (len(STAGES) + 1)
    pooled = [c for c in cohorts if counts.get(c.cohort_id, empty)[0] >= minimum]
    columns = zip(empty, *(counts[c.cohort_id] for c in pooled), strict=True)
    totals = [sum(column) for column in columns]
    rows = []
    for c in cohorts:
        shown = c in pooled
        rows.append(
            {
                "cohort_id": c.cohort_id,
                "programme_id": c.programme_id,
                "name": c.name,
                "start_date": c.start_date,
                "end_date": c.end_date,
                "pooled": shown,
                "reason": None if shown else WITHHELD,
                **(_figures(counts.get(c.cohort_id, empty), minimum) if shown else {}),
            }
        )
    return {
        "cohorts": rows,
        **_figures(totals, minimum),
        "attendance": _attendance(cur, [c.cohort_id for c in pooled], minimum),
    }


CSV_COLUMNS = ["cohort_id", "name", "start_date", "end_date", "pooled", "people", *STAGES]


def csv_table(view: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per cohort (stage counts where pooled), then the pooled totals."""

    def counts(row: dict[str, Any]) -> list[Any]:
        if "people" not in row:
            return [None] * (len(STAGES) + 1)
        return [row["people"]["value"], *(row["stages"][s]["value"] for s in STAGES)]

    rows = [
        [r["cohort_id"], r["name"], r["start_date"], r["end_date"], r["pooled"], *counts(r)]
        for r in view["cohorts"]
    ]
    rows.append(["total", None, None, None, None, *counts(view)])
    return CSV_COLUMNS, rows
